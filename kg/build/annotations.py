"""Read the curated annotations and anchor every quote in its document.

The result is plain data (:mod:`kg.build.model`: entities, claims with character offsets)
that :mod:`kg.build.rdfize` turns into RDF. Every problem is a :class:`BuildError` that names
``file:line``, what was looked for and why it failed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from kg.build.corpus import DATE_PATTERN, Document
from kg.build.drafted import draft_info
from kg.build.fields import location_of, require_mapping, str_field, str_list_field
from kg.build.model import Annotations, Assertion, Claim, DocumentAnnotations, Entity, Estimate
from kg.build.vocabulary import CLAIM_KINDS, DEFAULT_TYPE, ENTITY_TYPES, PREDICATES, TIME_STATUSES
from kg.build.yamlfile import LineDict, LineList, load_yaml
from kg.errors import BuildError, Location
from kg.iris import Kind, is_slug

__all__ = [
    "load_annotations",
    "load_document_annotations",
    "load_gazetteer",
    "find_quote",
    "normalised",
    "raise_all",
    "local_entities",
    "resolve_mentions",
    "claim_nodes",
    "ENTITIES_FILE",
    "DOC_KEYS",
    "Resolver",
    "add_entities",
]

ENTITIES_FILE = "entities.yaml"
_SECTIONS = {"actors": Kind.ACTOR, "places": Kind.PLACE, "meetings": Kind.MEETING, "proposals": Kind.PROPOSAL}
_ENTITY_KEYS = {"id", "kind", "type", "label", "alt", "wikidata", "note"}
_CLAIM_KEYS = {
    "id", "kind", "claimant", "quote", "occurrence", "hedge", "about", "asserts",
    "estimate", "cameo", "corroborates", "contradicts",
}
_ESTIMATE_KEYS = {"measure", "value", "min", "max", "unit", "date", "source", "date-words"}
#: the keys of an assertion written as a mapping: the fact and what its sentence puts on it
_ASSERTION_KEYS = {"fact", "time", "time-words", "hedge", "condition", "date", "start", "end"}
#: the top-level keys of an annotation file; ``draft`` and ``metadata``: what ``kg draft`` adds
#: (:mod:`kg.build.drafted`)
DOC_KEYS = {"document", "entities", "mentions", "claims", "draft", "metadata"}
_QID = re.compile(r"^Q[1-9][0-9]*$")
_CAMEO = re.compile(r"^[0-9]{2,4}$")


# --------------------------------------------------------------------------- helpers


def _verbatim(words: Iterable[str], quote: str, where: Location, what: str) -> None:
    """Every qualifier is the text's own words: it must occur in the claim's quote, so that a
    reader who follows the evidence finds it there."""
    for word in words:
        if word not in quote:
            raise BuildError(f"{what} {word!r} is not in the claim's quote (copy the text's own words)", location=where)


def _date(node: LineDict, key: str, file: Path, what: str, where: Location) -> str | None:
    value = str_field(node, key, file, what, required=False)
    if value is not None and not DATE_PATTERN.match(value):
        raise BuildError(f"{what}: {key} {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD", location=where)
    return value


def normalised(text: str) -> str:
    """``text`` with curly quotes, dashes, no-break spaces and runs of whitespace made plain:
    how a quote that misses only by its typography is recognised (:func:`find_quote`), and how
    the scorer compares names."""
    table = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-", "\u00a0": " "})
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text).translate(table))


def find_quote(text: str, quote: str, occurrence: int | None) -> tuple[int, int] | str:
    """The ``(start, end)`` code-point offsets of ``quote`` in ``text``, or why it cannot be placed."""
    starts: list[int] = []
    i = text.find(quote)
    while i != -1:
        starts.append(i)
        i = text.find(quote, i + 1)
    if not starts:
        hint = ""
        if normalised(quote) in normalised(text):
            hint = " (it matches once quotes, dashes and spaces are normalised: copy the document's own characters)"
        return f"quote not found in the document{hint}: {quote!r}"
    if occurrence is None:
        if len(starts) > 1:
            return (
                f"quote occurs {len(starts)} times (at offsets {starts}); add 'occurrence: N' to pick one: {quote!r}"
            )
        occurrence = 1
    if not 1 <= occurrence <= len(starts):
        return f"occurrence {occurrence} asked, but the quote occurs {len(starts)} time(s): {quote!r}"
    start = starts[occurrence - 1]
    return start, start + len(quote)


# --------------------------------------------------------------------------- entities


def _entity(node: Any, file: Path, kind: Kind | None, parent: Any) -> Entity:
    node = require_mapping(node, file, "an entity", _ENTITY_KEYS, parent)
    where = location_of(file, node)
    ident = str_field(node, "id", file, "an entity")
    if not is_slug(ident):
        raise BuildError(f"entity id {ident!r} is not a slug (lower-case letters, digits, '-')", location=where)
    if kind is None:
        kind_word = str_field(node, "kind", file, f"entity {ident!r}")
        try:
            kind = Kind(kind_word)
        except ValueError:
            raise BuildError(
                f"entity {ident!r}: kind {kind_word!r} is not one of actor, place, meeting, proposal", location=where
            ) from None
    type_word = str_field(node, "type", file, f"entity {ident!r}", required=kind not in DEFAULT_TYPE) or DEFAULT_TYPE[kind]
    if type_word not in ENTITY_TYPES or ENTITY_TYPES[type_word][0] != kind:
        allowed = sorted(t for t, (k, _) in ENTITY_TYPES.items() if k == kind)
        raise BuildError(f"entity {ident!r}: type {type_word!r} is not a {kind.value} type {allowed}", location=where)
    wikidata = str_field(node, "wikidata", file, f"entity {ident!r}", required=False)
    if wikidata is not None and not _QID.match(wikidata):
        raise BuildError(f"entity {ident!r}: wikidata {wikidata!r} is not a QID like Q7747", location=where)
    label = str_field(node, "label", file, f"entity {ident!r}")
    return Entity(
        id=ident,
        kind=kind,
        type=type_word,
        label=label,
        alt=str_list_field(node, "alt", file, f"entity {ident!r}"),
        wikidata=wikidata,
        note=str_field(node, "note", file, f"entity {ident!r}", required=False),
        location=where,
    )


def add_entities(into: dict[str, Entity], entities: Iterable[Entity]) -> None:
    """Add ``entities`` to ``into``; an id declared twice must mean the same entity."""
    for entity in entities:
        known = into.get(entity.id)
        if known is not None and (known.kind, known.type, known.label) != (entity.kind, entity.type, entity.label):
            raise BuildError(
                f"entity {entity.id!r} is declared again with a different kind, type or label "
                f"(first at {known.location})",
                location=entity.location,
            )
        into.setdefault(entity.id, entity)


def load_gazetteer(file: Path) -> list[Entity]:
    """The entities of a gazetteer file such as ``entities.yaml`` (identity only: no facts)."""
    data = load_yaml(file)
    data = require_mapping(data, file, "the entities file", set(_SECTIONS))
    out: list[Entity] = []
    for section, kind in _SECTIONS.items():
        items = data.get(section) or LineList()
        if not isinstance(items, list):
            raise BuildError(f"'{section}' must be a list", location=location_of(file, data))
        out.extend(_entity(item, file, kind, items) for item in items)
    return out




# --------------------------------------------------------------------------- claims


class Resolver:
    """Checks ids against the entities and the annotation vocabulary."""

    def __init__(self, entities: dict[str, Entity], file: Path) -> None:
        self.entities = entities
        self.file = file

    def entity(self, ident: str, where: Location, *, kinds: Iterable[Kind] | None = None, role: str) -> Entity:
        entity = self.entities.get(ident)
        if entity is None:
            raise BuildError(f"{role}: unknown entity {ident!r} (declare it in {ENTITIES_FILE})", location=where)
        allowed = tuple(kinds) if kinds is not None else None
        if allowed and entity.kind not in allowed:
            names = " or ".join(k.value for k in allowed)
            raise BuildError(f"{role}: {ident!r} is a {entity.kind.value}, expected {names}", location=where)
        return entity

    def assertion(self, node: Any, parent: LineDict, quote: str) -> Assertion:
        """``[subject, predicate, object]``, or a mapping with that list under ``fact`` and the
        qualifiers its sentence puts on it (``time``, ``time-words``, ``hedge``, ``condition``,
        ``date``, ``start``, ``end``); the words must be the quote's own."""
        if isinstance(node, LineDict):
            node = require_mapping(node, self.file, "an assertion", _ASSERTION_KEYS, parent)
            where = location_of(self.file, node, parent)
            fact = self.fact(node.get("fact"), where)
            what = f"assertion {list(node.get('fact'))}"
            time = str_field(node, "time", self.file, what, required=False) or "current"
            if time not in TIME_STATUSES:
                raise BuildError(f"{what}: time {time!r} is not one of {sorted(TIME_STATUSES)}", location=where)
            time_words = str_field(node, "time-words", self.file, what, required=False)
            hedges = str_list_field(node, "hedge", self.file, what)
            conditions = str_list_field(node, "condition", self.file, what)
            _verbatim(hedges, quote, where, f"{what}: hedge")
            _verbatim(conditions, quote, where, f"{what}: condition")
            _verbatim([time_words] if time_words else [], quote, where, f"{what}: time-words")
            end = _date(node, "end", self.file, what, where)
            if end is not None and time == "current":
                raise BuildError(f"{what}: a fact that holds when written has no end date (time: former?)", location=where)
            return Assertion(
                fact.subject, fact.predicate, fact.object, fact.literal, where,
                time=time,
                time_words=time_words,
                hedges=hedges,
                conditions=conditions,
                date=_date(node, "date", self.file, what, where),
                start=_date(node, "start", self.file, what, where),
                end=end,
            )
        return self.fact(node, location_of(self.file, node, parent))

    def fact(self, node: Any, where: Location) -> Assertion:
        """The bare fact ``[subject, predicate, object]``, checked against the vocabulary."""
        if not isinstance(node, list) or len(node) != 3:
            raise BuildError(f"an assertion must be [subject, predicate, object], found {node!r}", location=where)
        subject, predicate, obj = (str(x) for x in node)
        pred = PREDICATES.get(predicate)
        if pred is None:
            raise BuildError(f"unknown predicate {predicate!r}; known: {sorted(PREDICATES)}", location=where)
        subj = self.entity(subject, where, kinds=[pred.subject], role=f"subject of {predicate}")
        if pred.subject_types and subj.type not in pred.subject_types:
            raise BuildError(
                f"subject of {predicate}: {subject!r} is a {subj.type}, expected {sorted(pred.subject_types)}",
                location=where,
            )
        if pred.obj == "date":
            if not DATE_PATTERN.match(obj):
                raise BuildError(f"{predicate}: {obj!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)", location=where)
            return Assertion(subject, predicate, obj, True, where)
        if pred.obj == "string":
            return Assertion(subject, predicate, obj, True, where)
        assert isinstance(pred.obj, Kind)
        target = self.entity(obj, where, kinds=[pred.obj], role=f"object of {predicate}")
        if pred.object_types and target.type not in pred.object_types:
            raise BuildError(
                f"object of {predicate}: {obj!r} is a {target.type}, expected {sorted(pred.object_types)}",
                location=where,
            )
        return Assertion(subject, predicate, obj, False, where)

    def estimate(self, node: Any, parent: LineDict, quote: str) -> Estimate:
        node = require_mapping(node, self.file, "an estimate", _ESTIMATE_KEYS, parent)
        where = location_of(self.file, node)
        numbers: dict[str, int | float | None] = {}
        for key in ("value", "min", "max"):
            value = node.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise BuildError(f"estimate: '{key}' must be a number, found {value!r}", location=where)
            numbers[key] = value
        if numbers["value"] is None and numbers["min"] is None and numbers["max"] is None:
            raise BuildError("estimate needs 'value', or 'min' and/or 'max'", location=where)
        if numbers["value"] is not None and (numbers["min"] is not None or numbers["max"] is not None):
            raise BuildError("estimate: give either 'value' or a range ('min'/'max'), not both", location=where)
        lo, hi = numbers["min"], numbers["max"]
        if lo is not None and hi is not None and lo > hi:
            raise BuildError(f"estimate: min {lo} is greater than max {hi}", location=where)
        date = str_field(node, "date", self.file, "an estimate", required=False)
        if date is not None and not DATE_PATTERN.match(date):
            raise BuildError(f"estimate: date {date!r} is not YYYY, YYYY-MM or YYYY-MM-DD", location=where)
        measure = str_field(node, "measure", self.file, "an estimate")
        unit = str_field(node, "unit", self.file, "an estimate")
        sources = str_list_field(node, "source", self.file, "an estimate")
        for source in sources:
            self.entity(source, where, kinds=[Kind.ACTOR], role="estimate source")
        date_words = str_field(node, "date-words", self.file, "an estimate", required=False)
        _verbatim([date_words] if date_words else [], quote, where, "estimate: date-words")
        return Estimate(measure, numbers["value"], lo, hi, unit, date, sources, date_words)

    def claim(self, node: Any, parent: Any, document: Document) -> Claim:
        node = require_mapping(node, self.file, "a claim", _CLAIM_KEYS, parent)
        where = location_of(self.file, node)
        ident = str_field(node, "id", self.file, "a claim")
        if not is_slug(ident):
            raise BuildError(f"claim id {ident!r} is not a slug (lower-case letters, digits, '-')", location=where)
        what = f"claim {ident!r}"
        kind = str_field(node, "kind", self.file, what)
        if kind not in CLAIM_KINDS:
            raise BuildError(f"{what}: kind {kind!r} is not one of {sorted(CLAIM_KINDS)}", location=where)
        claimant = str_field(node, "claimant", self.file, what)
        self.entity(claimant, where, kinds=[Kind.ACTOR], role=f"{what}: claimant")
        quote = node.get("quote")
        if not isinstance(quote, str) or not quote.strip():
            raise BuildError(f"{what}: 'quote' must be a non-empty string", location=where)
        occurrence = node.get("occurrence")
        if occurrence is not None and (not isinstance(occurrence, int) or isinstance(occurrence, bool)):
            raise BuildError(f"{what}: 'occurrence' must be a whole number", location=where)
        placed = find_quote(document.text, quote, occurrence)
        if isinstance(placed, str):
            raise BuildError(f"{what}: {placed} (in {document.path.name})", location=where)
        about = str_list_field(node, "about", self.file, what)
        for target in about:
            self.entity(target, where, role=f"{what}: about")
        asserts_node = node.get("asserts", [])
        if not isinstance(asserts_node, list):
            raise BuildError(f"{what}: 'asserts' must be a list of [subject, predicate, object]", location=where)
        cameo = str_field(node, "cameo", self.file, what, required=False)
        if cameo is not None and not _CAMEO.match(cameo):
            raise BuildError(f"{what}: cameo {cameo!r} is not a CAMEO code (2–4 digits)", location=where)
        estimate = node.get("estimate")
        hedges = str_list_field(node, "hedge", self.file, what)
        _verbatim(hedges, quote, where, f"{what}: hedge")
        return Claim(
            id=ident,
            document=document.id,
            kind=kind,
            claimant=claimant,
            quote=quote,
            start=placed[0],
            end=placed[1],
            hedges=hedges,
            about=about,
            asserts=tuple(self.assertion(a, node, quote) for a in asserts_node),
            estimate=self.estimate(estimate, node, quote) if estimate is not None else None,
            cameo=cameo,
            corroborates=str_list_field(node, "corroborates", self.file, what),
            contradicts=str_list_field(node, "contradicts", self.file, what),
            location=where,
        )


def local_entities(data: LineDict, file: Path) -> list[Entity]:
    """The entities an annotation file's own ``entities:`` block declares (the build and the
    scorer read this block, and the file's mentions and claims below, the same way)."""
    local = data.get("entities") or []
    if not isinstance(local, list):
        raise BuildError("'entities' must be a list", location=location_of(file, data))
    return [_entity(item, file, None, local) for item in local]


def resolve_mentions(resolver: Resolver, data: LineDict, file: Path) -> tuple[tuple[str, ...], list[BuildError]]:
    """The file's ``mentions:`` and the problems resolving them (collected, not raised, so that
    one run lists every problem)."""
    mentions = str_list_field(data, "mentions", file, "mentions")
    problems: list[BuildError] = []
    for mention in mentions:
        try:
            resolver.entity(mention, location_of(file, data.get("mentions"), data), role="mentions")
        except BuildError as exc:
            problems.append(exc)
    return mentions, problems


def claim_nodes(data: LineDict, file: Path) -> list[Any]:
    """The file's ``claims:`` list, unread."""
    claims_node = data.get("claims") or []
    if not isinstance(claims_node, list):
        raise BuildError("'claims' must be a list", location=location_of(file, data))
    return claims_node


def _document_file(file: Path, documents: dict[str, Document], entities: dict[str, Entity],
                   data: LineDict | None = None) -> DocumentAnnotations:
    data = require_mapping(load_yaml(file) if data is None else data, file, "an annotation file", DOC_KEYS)
    doc_id = str_field(data, "document", file, "an annotation file")
    if doc_id not in documents:
        raise BuildError(
            f"document {doc_id!r} is not in the corpus (known: {sorted(documents)})", location=location_of(file, data)
        )
    document = documents[doc_id]
    add_entities(entities, local_entities(data, file))
    resolver = Resolver(entities, file)
    mentions, problems = resolve_mentions(resolver, data, file)
    claims_node = claim_nodes(data, file)
    claims = []
    for node in claims_node:  # every claim is checked, so one run lists every problem
        try:
            claims.append(resolver.claim(node, claims_node, document))
        except BuildError as exc:
            problems.append(exc)
    raise_all(problems)
    return DocumentAnnotations(document=document, claims=tuple(claims), mentions=frozenset(mentions), file=file,
                               draft=draft_info(data.get("draft"), file))


def raise_all(problems: list[BuildError]) -> None:
    """Raise the one problem found, or one :class:`BuildError` listing them all (each with its
    ``file:line``), so that a curator fixes a file in one pass rather than one error per run."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        listed = "\n".join(f"  {p}" for p in problems)
        raise BuildError(f"{len(problems)} problems in the annotations:\n{listed}")


def load_annotations(annotations_dir: Path, documents: Iterable[Document]) -> Annotations:
    """Read ``entities.yaml`` and one ``<document-id>.yaml`` per document; check everything.

    Raises :class:`BuildError` with ``file:line``: every problem of the first file that has
    any (each claim is checked), else the first problem across files.
    """
    by_id = {d.id: d for d in documents}
    result = Annotations()
    gazetteer = annotations_dir / ENTITIES_FILE
    if gazetteer.is_file():
        add_entities(result.entities, load_gazetteer(gazetteer))
    for doc_id, document in by_id.items():
        file = annotations_dir / f"{doc_id}.yaml"
        if not file.is_file():
            raise BuildError(f"no annotation file for document {doc_id}", location=Location(str(file)))
        result.documents[doc_id] = _document_file(file, by_id, result.entities)
    for extra in sorted(annotations_dir.glob("*.yaml")):
        if extra.name != ENTITIES_FILE and extra.stem not in by_id:
            raise BuildError(f"annotation file for unknown document {extra.stem!r}", location=Location(str(extra)))
    _check_claims_across(result)
    for document in by_id.values():
        _check_author(document, result.entities)
    return result


def load_document_annotations(
    file: Path,
    document: Document,
    entities: Mapping[str, Entity],
    *,
    other_claims: Collection[str] = (),
    data: LineDict | None = None,
) -> Annotations:
    """The annotations of one document added on its own, checked against what exists already.

    ``entities`` are the entities known elsewhere (the file may declare more in its own
    ``entities:`` list); ``other_claims`` are the claim ids of the other documents: a
    claim may refer to them (``corroborates``/``contradicts``) but not reuse one.
    ``data``: the file already read (a draft's ``metadata:`` block was looked up in it).
    Raises :class:`BuildError` listing every problem of the file's claims, each with ``file:line``.
    """
    result = Annotations(entities=dict(entities))
    result.documents[document.id] = _document_file(file, {document.id: document}, result.entities, data)
    raise_all([BuildError(f"claim id {claim.id!r} is already used by another document", location=claim.location)
               for claim in result.documents[document.id].claims if claim.id in other_claims])
    _check_claims_across(result, known=other_claims)
    _check_author(document, result.entities)
    return result


def _check_author(document: Document, entities: Mapping[str, Entity]) -> None:
    if document.author is not None and document.author not in entities:
        raise BuildError(
            f"author {document.author!r} is not a declared actor", location=Location(str(document.meta_path))
        )


def _check_claims_across(result: Annotations, *, known: Collection[str] = ()) -> None:
    seen: dict[str, Claim] = {}
    for doc in result.documents.values():
        for claim in doc.claims:
            if claim.id in seen:
                raise BuildError(
                    f"claim id {claim.id!r} is used twice (first at {seen[claim.id].location})",
                    location=claim.location,
                )
            seen[claim.id] = claim
    for claim in seen.values():
        for other in (*claim.corroborates, *claim.contradicts):
            if other not in seen and other not in known:
                raise BuildError(f"claim {claim.id!r} refers to unknown claim {other!r}", location=claim.location)
            if other == claim.id:
                raise BuildError(f"claim {claim.id!r} refers to itself", location=claim.location)
