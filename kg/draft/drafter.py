"""``kg draft``: a new document's text → a draft annotation file that ``kg add-document`` accepts.

The steps: read the text (empty, binary, non-UTF-8, not English or sentence-less input is a
clear error), read its metadata (title, author, date; sha256), split it into sentences, ask the
backend for claims, pass every claim through the gate (:mod:`kg.draft.gate`), give the claims
ids, and hand the draft to :mod:`kg.draft.writer`. The author is the gazetteer's actor of that
name, or a new one the draft declares; a text that names no author gets a declared "author of"
actor and says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timezone
from pathlib import Path

from kg.build.model import Entity
from kg.build.yamlfile import LineDict, load_yaml
from kg.draft.backends import Backend, Context
from kg.draft.backends.rules import RulesBackend
from kg.draft.gate import check_claim, check_draft
from kg.draft.gazetteer import Gazetteer
from kg.draft.metadata import read_metadata, slugify
from kg.draft.model import Draft, DraftEntity
from kg.draft.text import Span, is_english, read_text, sentences
from kg.draft.writer import draft_yaml, write_atomically
from kg.errors import InputError, KGError, Location
from kg.iris import Kind, is_slug

__all__ = ["DraftResult", "document_id", "draft_document", "given_metadata", "write_draft"]


class DraftResult:
    """A draft and its YAML text, ready to be written."""

    def __init__(self, draft: Draft, yaml_text: str) -> None:
        self.draft = draft
        self.yaml = yaml_text


def _takeaways(text: str, spans: list[Span]) -> tuple[Span, ...]:
    """The sentences of the bullet list under a "key takeaways" heading."""
    heading = re.search(r"(?im)^\s*key (?:takeaways|points)\s*:?\s*$", text)
    if heading is None:
        return ()
    block = re.match(r"(?:[ \t]*[-*•][^\n]*\n?)+", text[heading.end() + 1 :])
    if block is None:
        return ()
    lo, hi = heading.end() + 1, heading.end() + 1 + block.end()
    return tuple(s for s in spans if lo <= s.start < hi)


def _author(name: str | None, title: str | None, doc_slug: str, gazetteer: Gazetteer,
            entities: list[DraftEntity]) -> str:
    if name is not None:
        known = gazetteer.find(name)
        if known is not None and known.kind is Kind.ACTOR:
            return known.id
        ident = slugify(name)
        if ident in gazetteer.entities:
            ident = f"{ident}-{doc_slug}"
        entities.append(DraftEntity(ident, "actor", "Person", name, "The document's author, as its byline names them."))
        return ident
    ident = f"author-of-{doc_slug}"
    entities.append(DraftEntity(ident, "actor", "Person", f"The author of {title or doc_slug}",
                                "The text does not name its author."))
    return ident


def given_metadata(path: Path | None) -> LineDict:
    """The ``--meta`` file's mapping (title, author, datePublished, id); empty without one."""
    if path is None:
        return LineDict()
    data = load_yaml(path)
    if not isinstance(data, LineDict):
        raise InputError("metadata must be a mapping (title, author, datePublished)", location=Location(str(path)))
    return data


def document_id(path: Path, given: Mapping[str, object]) -> str:
    """The id the draft gives the document at ``path``: the given metadata's ``id``, else the
    file's stem, made a slug when it is not one. ``kg draft`` asks the store about every graph
    but this document's, so it must know the id before drafting."""
    ident = str(given.get("id") or path.stem)
    return ident if is_slug(ident) else slugify(ident)


def draft_document(path: Path, gazetteer: Gazetteer, *, backend: Backend | None = None, meta: Path | None = None,
                   known: Mapping[str, Entity] | None = None, other_claims: set[str] | None = None,
                   created: str | None = None) -> DraftResult:
    """Draft the annotations of the document at ``path``; raises :class:`InputError` for a
    text that cannot be drafted (what and why). ``known`` are the entities a store knows (for
    the SHACL gate; default: the gazetteer's)."""
    backend = backend or RulesBackend()
    text = read_text(path)
    where = Location(str(path))
    spans = sentences(text)
    if not any(len(s.of(text).split()) >= 4 for s in spans):
        raise InputError("the document has no sentences to draft claims from", location=where)
    if not is_english(text):
        raise InputError("the text does not read as English (the drafter reads English only); nothing drafted",
                         location=where)
    # the file is read once: a strict UTF-8 text encodes back to the very bytes it was read from
    found = read_metadata(text, text.encode("utf-8"))
    given = given_metadata(meta)
    doc_id = document_id(path, given)
    doc_slug = slugify(doc_id)
    entities: list[DraftEntity] = []
    title = str(given["title"]) if given.get("title") else found.title
    if given.get("author"):
        author = str(given["author"])
    else:
        author = _author(found.author, title, doc_slug, gazetteer, entities)
    date_text = str(given["datePublished"]) if given.get("datePublished") else found.date
    anchor = date.fromisoformat(date_text) if date_text and len(date_text) == 10 else None
    draft = Draft(doc_id, title or doc_id, author, date_text, found.sha256, backend.method, entities=entities)
    draft.not_found = [f for f in found.not_found if not (f.startswith("title") and title)
                       and not (f.startswith("author") and given.get("author"))
                       and not (f.startswith("date") and date_text)]
    context = Context(text, tuple(spans), gazetteer, author, anchor, _takeaways(text, spans), doc_slug)
    proposal = backend.propose(context)
    draft.entities.extend(e for e in proposal.entities if e.id not in {x.id for x in draft.entities})
    draft.dropped.extend(proposal.dropped)
    kinds = {i: e.kind for i, e in gazetteer.entities.items()}
    kinds.update({e.id: Kind(e.kind) for e in draft.entities})
    for claim in proposal.claims:
        problem = check_claim(claim, text, kinds)
        if problem is None:
            draft.claims.append(claim)
        else:
            draft.dropped.append(problem)
    if not draft.claims:
        draft.not_found.append("claims (no sentence gave one)")
    for number, claim in enumerate(draft.claims, start=1):
        words = "-".join(slugify(claim.quote).split("-")[:4])
        claim.id = f"{doc_slug}-{number:03d}-{words}"
    return _gated(draft, text, path, known, other_claims or set(), created, gazetteer)


def _gated(draft: Draft, text: str, path: Path, known: Mapping[str, Entity] | None, other_claims: set[str],
           created: str | None, gazetteer: Gazetteer) -> DraftResult:
    stamp = created or datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    entities = dict(known) if known is not None else {
        k.id: Entity(k.id, k.kind, k.type, k.label, (), None, None, Location("the gazetteer"))
        for k in gazetteer.entities.values()}
    for _ in range(3):
        yaml_text = draft_yaml(draft, text, created=stamp)
        refused, _graph = check_draft(yaml_text, path, entities, other_claims=other_claims)
        if not refused:
            return DraftResult(draft, yaml_text)
        if "*" in refused:
            break
        kept = []
        for claim in draft.claims:
            if claim.id not in refused:
                kept.append(claim)
            elif claim.asserts or claim.estimate is not None:
                draft.dropped.append(f"facts the shapes refuse were dropped from claim {claim.id}")
                claim.asserts, claim.estimate = [], None
                kept.append(claim)
            else:
                draft.dropped.append(f"claim {claim.id} was dropped: the shapes refuse it")
        draft.claims = kept
    raise KGError("the draft breaks the shapes in a way no claim explains (a bug in the drafter)")


def write_draft(result: DraftResult, output: Path) -> None:
    """Write the draft to ``output`` whole or not at all."""
    write_atomically(output, result.yaml)
