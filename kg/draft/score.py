"""``kg score``: how close a draft comes to the curated annotations of the same document.

Both files are in the annotation format (``data/annotations/README.md``); the draft may also
declare entities the gold does not know (its ``entities:`` block) and carry its metadata under
``draft:``. The measures, in layers, each named by its key in :meth:`ScoreReport.to_json`:

``claims``
    Claim evidence. A gold claim is *found* when a drafted quote covers at least half
    (:data:`~kg.draft.measures.OVERLAP_NEEDED`) of the gold quote's characters, both placed in
    the document text; one drafted quote may find several gold claims
    (:func:`~kg.draft.measures.align`). Recall = found / gold claims (``matched``), precision =
    drafted claims that find one (``drafted_matched``) / drafted claims. Each found gold claim is
    paired with the drafted claim that finds it best, for the measures below.
``claimants``
    Of the found claims, those whose drafted claimant is the gold's (drafted new entities are
    mapped onto the gold's by label and aliases: :class:`~kg.draft.measures.EntityMap`).
``entities``
    ``document``: the set of entities the document names (``mentions``, claimants, ``about``,
    the entities of every fact, estimate sources), drafted against gold. Per found claim, its
    entity set (``about``, fact subjects and objects, estimate sources; not the claimant):
    ``claims_strict`` counts found claims whose set equals the gold's, ``claims_partial``
    compares the (claim, entity) pairs.
``stances`` and ``facts``
    The facts asserted, as ``(subject, predicate, object)`` triples after mapping entities:
    ``stances`` only ``proposedBy``/``supportedBy``/``opposedBy``, ``facts`` every predicate.
    Their ``qualifiers``: for triples in both, whether the time statuses, hedge words and
    conditions the claims put on the triple are the same sets (and ``all`` three).
``hedges``
    The gold's hedge words on found claims and on facts in both, kept by the draft (on the
    claim that found it, or on the same triple).
``quotes``
    Drafted quotes placed verbatim in the document at their stated occurrence; ``not_verbatim``
    must be 0 (such a claim finds no gold claim, but its claimant and facts are still scored).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.build.model import Claim, Entity
from kg.draft.measures import OVERLAP_NEEDED, EntityMap, Overlap, Share, align, overlap, share
from kg.draft.reading import (
    ReadAnnotations,
    Unplaced,
    corpus_entities,
    document_of,
    load_annotation_file,
    gazetteer_of,
    read_annotations,
)
from kg.errors import InputError
from kg.resources import default_corpus_dir

__all__ = ["STANCES", "FactScore", "ScoreReport", "read_gold", "score_annotations", "score_draft"]

#: the predicates of a party's stance on a proposal
STANCES = frozenset({"proposedBy", "supportedBy", "opposedBy"})

_Triple = tuple[str, str, str]
_Qualifiers = tuple[frozenset[str], frozenset[str], frozenset[str]]


@dataclass(frozen=True)
class FactScore:
    """Asserted facts as triples, and whether the qualifiers on the triples in both agree."""

    triples: Overlap
    time: Share
    hedge: Share
    condition: Share
    all: Share

    def to_json(self) -> dict[str, Any]:
        """The :class:`Overlap` keys, and ``qualifiers``: ``time``, ``hedge``, ``condition``, ``all``."""
        return {**self.triples.to_json(), "qualifiers": {
            "time": self.time.to_json(), "hedge": self.hedge.to_json(),
            "condition": self.condition.to_json(), "all": self.all.to_json()}}


@dataclass(frozen=True)
class ScoreReport:
    """Every measure of one draft against its gold (see the module's docstring)."""

    document: str
    draft: str
    gold: str
    claims: Overlap
    claimants: Share
    entities_document: Overlap
    entities_strict: Share
    entities_partial: Overlap
    stances: FactScore
    facts: FactScore
    hedges_claims: Share
    hedges_facts: Share
    quotes: Share
    not_verbatim: tuple[Unplaced, ...]
    renamed: dict[str, str] = field(default_factory=dict)
    unmapped: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data; the keys are stable (README, "Scoring a draft")."""
        hedges = self.hedges_claims + self.hedges_facts
        quotes = self.quotes
        return {
            "document": self.document,
            "draft": self.draft,
            "gold": self.gold,
            "overlap_needed": OVERLAP_NEEDED,
            "claims": self.claims.to_json(),
            "claimants": self.claimants.to_json(),
            "entities": {"document": self.entities_document.to_json(),
                         "claims_strict": self.entities_strict.to_json(),
                         "claims_partial": self.entities_partial.to_json()},
            "stances": self.stances.to_json(),
            "facts": self.facts.to_json(),
            "hedges": {**hedges.to_json(), "claims": self.hedges_claims.to_json(),
                       "facts": self.hedges_facts.to_json()},
            "quotes": {**quotes.to_json(), "not_verbatim": quotes.total - quotes.hits,
                       "problems": [{"claim": u.claim, "file": u.location.file, "line": u.location.line,
                                     "problem": u.problem} for u in self.not_verbatim]},
            "entity_map": {"renamed": dict(sorted(self.renamed.items())), "unmapped": list(self.unmapped)},
        }

    def measures(self) -> dict[str, float | None]:
        """Every ratio by its dotted JSON path (``claims.recall``, ``stances.qualifiers.hedge.rate``):
        the names ``kg score --fail-under`` takes."""
        out: dict[str, float | None] = {}

        def walk(prefix: str, node: dict[str, Any]) -> None:
            for key, value in node.items():
                if isinstance(value, dict):
                    walk(f"{prefix}{key}.", value)
                elif key in ("precision", "recall", "f1", "rate"):
                    out[prefix + key] = value

        walk("", self.to_json())
        return out


# --------------------------------------------------------------------------- measures


def _claim_entities(claim: Claim, to_gold: Callable[[str], str]) -> frozenset[str]:
    """What a claim names besides its claimant: ``about``, fact entities, estimate sources."""
    names = set(claim.about)
    for fact in claim.asserts:
        names.add(fact.subject)
        if not fact.literal:
            names.add(fact.object)
    if claim.estimate is not None:
        names.update(claim.estimate.sources)
    return frozenset(to_gold(n) for n in names)


def _document_entities(read: ReadAnnotations, to_gold: Callable[[str], str]) -> frozenset[str]:
    out = {to_gold(m) for m in read.mentions}
    for claim in read.claims:
        out.add(to_gold(claim.claimant))
        out |= _claim_entities(claim, to_gold)
    return frozenset(out)


def _facts(claims: Iterable[Claim], to_gold: Callable[[str], str]) -> dict[_Triple, _Qualifiers]:
    """Each triple asserted, with the union of the time statuses, hedges and conditions put on it."""
    out: dict[_Triple, tuple[set[str], set[str], set[str]]] = {}
    for claim in claims:
        for fact in claim.asserts:
            triple = (to_gold(fact.subject), fact.predicate, fact.object if fact.literal else to_gold(fact.object))
            times, hedges, conditions = out.setdefault(triple, (set(), set(), set()))
            times.add(fact.time)
            hedges.update(h.strip() for h in fact.hedges)
            conditions.update(c.strip() for c in fact.conditions)
    return {t: (frozenset(a), frozenset(b), frozenset(c)) for t, (a, b, c) in out.items()}


def _fact_score(gold: dict[_Triple, _Qualifiers], drafted: dict[_Triple, _Qualifiers]) -> FactScore:
    both = sorted(set(gold) & set(drafted))
    same = [tuple(g == d for g, d in zip(gold[t], drafted[t], strict=True)) for t in both]
    return FactScore(overlap(gold.keys(), drafted.keys()), share(s[0] for s in same), share(s[1] for s in same),
                     share(s[2] for s in same), share(all(s) for s in same))


def score_annotations(draft: ReadAnnotations, gold: ReadAnnotations) -> ScoreReport:
    """Score ``draft`` against ``gold`` (both read for the same document)."""
    to_gold = EntityMap(draft.entities, gold.entities)
    same: Callable[[str], str] = str  # gold ids are already the gold's
    found = align(gold.claims, draft.placed(), claimant=to_gold)
    pairs = found.pairs
    used = _document_entities(draft, same) | draft.declared  # what the draft names or declares
    gold_facts = _facts(gold.claims, same)
    draft_facts = _facts(draft.claims, to_gold)
    pair_entities = [(_claim_entities(p.gold, same), _claim_entities(p.draft, to_gold)) for p in pairs]
    fact_hedges = [(h, h in draft_facts[t][1]) for t in set(gold_facts) & set(draft_facts) for h in gold_facts[t][1]]
    return ScoreReport(
        document=gold.document.id,
        draft=str(draft.file),
        gold=str(gold.file),
        claims=Overlap(len(gold.claims), len(draft.claims), len(pairs), found.finding),
        claimants=share(to_gold(p.draft.claimant) == p.gold.claimant for p in pairs),
        entities_document=overlap(_document_entities(gold, same), _document_entities(draft, to_gold)),
        entities_strict=share(g == d for g, d in pair_entities),
        entities_partial=Overlap(sum(len(g) for g, _ in pair_entities), sum(len(d) for _, d in pair_entities),
                                 sum(len(g & d) for g, d in pair_entities)),
        stances=_fact_score({t: q for t, q in gold_facts.items() if t[1] in STANCES},
                            {t: q for t, q in draft_facts.items() if t[1] in STANCES}),
        facts=_fact_score(gold_facts, draft_facts),
        hedges_claims=share(h.strip() in {x.strip() for x in p.draft.hedges} for p in pairs for h in p.gold.hedges),
        hedges_facts=share(kept for _, kept in fact_hedges),
        quotes=Share(len(draft.claims), len(draft.claims) - len(draft.unplaced)),
        not_verbatim=draft.unplaced,
        renamed={d: g for d, g in to_gold.renamed.items() if d in used},
        unmapped=tuple(d for d in to_gold.unmapped if d in used),
    )


def read_gold(gold: Path, *, corpus: Path | None = None, text: Path | None = None) -> ReadAnnotations:
    """The gold file ``gold``, read once to score many drafts against it (:func:`score_draft`).

    The document's text is ``text`` when given, else ``documents/<id>.txt`` of ``corpus``
    (default: the bundled corpus), ``<id>`` being the gold's ``document:``; the gazetteer is
    the corpus's ``annotations/entities.yaml``. Raises :class:`~kg.errors.InputError`
    (``file:line``) for a missing or unreadable file, one that is not annotation YAML, a
    document whose text cannot be found, and a gold quote that is not in the text.
    """
    corpus = corpus if corpus is not None else default_corpus_dir()
    data = load_annotation_file(gold)
    document = document_of(gold, corpus=corpus, text=text, data=data)
    read = dataclasses.replace(read_annotations(gold, document, gazetteer_of(corpus / "annotations"), data=data),
                               corpus=corpus)
    if read.unplaced:
        first = read.unplaced[0]
        raise InputError(f"the gold's quotes must all be in the document; claim {first.claim!r}: {first.problem}",
                         location=first.location)
    return read


def score_draft(draft: Path, gold: Path | ReadAnnotations, *, corpus: Path | None = None,
                text: Path | None = None) -> ScoreReport:
    """Score the draft file ``draft`` against ``gold``: a gold file (read by :func:`read_gold`
    with ``corpus`` and ``text``) or a gold already read.

    The draft is read against the gazetteer the gold was read with. Raises
    :class:`~kg.errors.InputError` (``file:line``) as :func:`read_gold` does, and for a draft
    that is missing, not annotation YAML, or of another document.

    >>> from kg.resources import default_corpus_dir
    >>> gold = default_corpus_dir() / "annotations" / "000_08f43cbfc8a050d9.yaml"
    >>> score_draft(gold, gold).claims.recall
    1.0
    """
    drafted = load_annotation_file(draft)  # an unreadable draft is named before the gold is read
    read = gold if isinstance(gold, ReadAnnotations) else read_gold(gold, corpus=corpus, text=text)
    gazetteer = {ident: entity for ident, entity in read.entities.items() if ident not in read.declared}

    def elsewhere() -> dict[str, Entity]:
        """What the gold and the corpus's other documents declare (a store built from the corpus
        knows them): ids a draft may name without declaring them."""
        out = {ident: read.entities[ident] for ident in read.declared}
        if read.corpus is not None:
            for ident, entity in corpus_entities(read.corpus / "annotations", skip=read.file).items():
                out.setdefault(ident, entity)
        return out

    return score_annotations(read_annotations(draft, read.document, gazetteer, data=drafted, elsewhere=elsewhere),
                             read)
