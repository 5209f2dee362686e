"""Read a draft and its gold for scoring, with the build's own reader, claim by claim.

The build refuses a file as soon as one quote cannot be placed; the scorer must instead
*count* such quotes, and score everything else the draft proposes. So each claim goes through
the build's claim reader on its own (:class:`kg.build.annotations.Resolver`): every id,
predicate, qualifier and date is checked exactly as ``kg build`` checks it. A quote that
:func:`~kg.build.annotations.find_quote` cannot place in the document (absent, or found
several times without ``occurrence``, or not at the stated occurrence) is recorded as
*unplaced*; its claim is still read (against its own quote) so that its claimant and facts
are scored, but it has no span and finds no gold claim.

Claims that refer to claims of other documents (``corroborates``/``contradicts``) are read
without looking those up: cross-document links are not scored.

Anything that is not annotation YAML, or names what the gazetteer and the file's own
``entities:`` block do not declare, is an :class:`~kg.errors.InputError` (exit 2) at
``file:line``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.build.annotations import (
    DOC_KEYS,
    ENTITIES_FILE,
    Resolver,
    add_entities,
    claim_nodes,
    find_quote,
    load_gazetteer,
    local_entities,
    raise_all,
    resolve_mentions,
)
from kg.build.corpus import Document, read_document, sha256_hex
from kg.build.drafted import draft_info
from kg.build.fields import location_of, require_mapping, str_field
from kg.build.model import Claim, Entity
from kg.build.yamlfile import LineDict, line_of, load_yaml
from kg.errors import BuildError, InputError, Location
from kg.iris import Kind

__all__ = [
    "ReadAnnotations",
    "Unplaced",
    "as_input_errors",
    "corpus_entities",
    "document_of",
    "load_annotation_file",
    "gazetteer_of",
    "read_annotations",
]

@dataclass(frozen=True)
class Unplaced:
    """A claim whose quote is not in the document at its stated occurrence."""

    claim: str
    location: Location
    problem: str


@dataclass(frozen=True)
class ReadAnnotations:
    """One annotation file as the scorer sees it.

    ``claims`` holds every claim read, placed or not; ``unplaced`` names those whose quote
    could not be placed (their ``start``/``end`` mean nothing). ``entities`` are the
    gazetteer's and the file's own; ``declared`` the ids the file adds to the gazetteer.
    """

    file: Path
    document: Document
    claims: tuple[Claim, ...]
    unplaced: tuple[Unplaced, ...]
    entities: Mapping[str, Entity]
    declared: frozenset[str]
    mentions: frozenset[str]
    #: the corpus the file was read with (its gazetteer, and the documents its text may come from)
    corpus: Path | None = None

    def placed(self) -> tuple[Claim, ...]:
        """The claims whose quote is in the document at their offsets."""
        missing = {u.claim for u in self.unplaced}
        return tuple(c for c in self.claims if c.id not in missing)


@contextmanager
def as_input_errors() -> Iterator[None]:
    """A file the build cannot read is unusable *input* to the scorer: exit 2, same message."""
    try:
        yield
    except BuildError as exc:
        raise InputError(exc.message, location=exc.location) from None


def gazetteer_of(annotations_dir: Path) -> dict[str, Entity]:
    """The entities of ``annotations_dir/entities.yaml`` (none when there is no such file)."""
    file = annotations_dir / ENTITIES_FILE
    out: dict[str, Entity] = {}
    if file.is_file():
        with as_input_errors():
            add_entities(out, load_gazetteer(file))
    return out


def load_annotation_file(file: Path) -> LineDict:
    """The top mapping of an annotation file (its lines kept), or an :class:`InputError`."""
    if not file.is_file():
        raise InputError("no such annotation file", location=Location(str(file)))
    with as_input_errors():
        return require_mapping(load_yaml(file), file, "an annotation file", DOC_KEYS)


def document_of(gold: Path, *, corpus: Path, text: Path | None = None, data: LineDict | None = None) -> Document:
    """The document ``gold`` annotates: ``text`` when given, else ``documents/<id>.txt`` of the
    corpus (fixity checked, as the build reads it). ``data``: the file already loaded."""
    data = load_annotation_file(gold) if data is None else data
    with as_input_errors():
        doc_id = str_field(data, "document", gold, "an annotation file")
    where = Location(str(gold), line_of(data, 1))
    if text is None:
        path = corpus / "documents" / f"{doc_id}.txt"
        if not path.is_file():
            raise InputError(
                f"document {doc_id!r} is not in the corpus ({corpus / 'documents'}); give its text with --text FILE",
                location=where,
            )
        with as_input_errors():
            return read_document(path)
    try:
        raw = text.read_bytes()
        body = raw.decode("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the document text: {exc.strerror}", location=Location(str(text))) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"document is not UTF-8 (byte {exc.start})", location=Location(str(text))) from None
    return Document(doc_id, text, text, body, sha256_hex(raw), doc_id, None, None, "en")


class _Resolving(Resolver):
    """The build's resolver, which also looks an id up in the entities other documents declare
    (``elsewhere``, read the first time an id is unknown): a drafter that knows the store's
    entities may name them without declaring them, as ``kg add-document`` allows."""

    def __init__(self, entities: dict[str, Entity], file: Path,
                 elsewhere: Callable[[], Mapping[str, Entity]] | None) -> None:
        super().__init__(entities, file)
        self._elsewhere = elsewhere

    def entity(self, ident: str, where: Location, *, kinds: Iterable[Kind] | None = None, role: str) -> Entity:
        """The entity ``ident`` (see :meth:`kg.build.annotations.Resolver.entity`)."""
        if ident not in self.entities and self._elsewhere is not None:
            more, self._elsewhere = self._elsewhere(), None
            for key, entity in more.items():
                self.entities.setdefault(key, entity)
        return super().entity(ident, where, kinds=kinds, role=role)


def corpus_entities(annotations_dir: Path, *, skip: Path) -> dict[str, Entity]:
    """The entities the annotation files of ``annotations_dir`` (but ``skip``) declare themselves."""
    out: dict[str, Entity] = {}
    for file in sorted(annotations_dir.glob("*.yaml")):
        if file.name == ENTITIES_FILE or file.resolve() == skip.resolve():
            continue
        data = load_annotation_file(file)
        with as_input_errors():
            for entity in local_entities(data, file):
                out.setdefault(entity.id, entity)
    return out


def _read_claim(resolver: _Resolving, node: Any, parent: list[Any], document: Document) -> tuple[Claim, Unplaced | None]:
    """One claim by the build's reader; an unplaceable quote is read against itself and reported."""
    quote, occurrence = (node.get("quote"), node.get("occurrence")) if isinstance(node, LineDict) else (None, None)
    if isinstance(quote, str) and quote.strip() and (occurrence is None or type(occurrence) is int):
        placed = find_quote(document.text, quote, occurrence)
        if isinstance(placed, str):
            alone = LineDict({k: v for k, v in node.items() if k != "occurrence"})
            alone.line = node.line
            claim = resolver.claim(alone, parent, dataclasses.replace(document, text=quote))
            return claim, Unplaced(claim.id, claim.location, placed)
    return resolver.claim(node, parent, document), None


def read_annotations(file: Path, document: Document, gazetteer: Mapping[str, Entity], *,
                     data: LineDict | None = None,
                     elsewhere: Callable[[], Mapping[str, Entity]] | None = None) -> ReadAnnotations:
    """Read ``file`` (annotations of ``document``; ``data``: the file already loaded) claim by
    claim, as described above. ``elsewhere``: the entities other documents declare, asked for
    the first time the file names an id that neither the gazetteer nor the file declares.

    Raises :class:`~kg.errors.InputError` (``file:line``) for anything the build would refuse
    other than an unplaced quote, and when ``file`` annotates another document.
    """
    data = load_annotation_file(file) if data is None else data
    with as_input_errors():
        doc_id = str_field(data, "document", file, "an annotation file")
        if doc_id != document.id:
            raise InputError(
                f"annotates document {doc_id!r}, but the document scored is {document.id!r}",
                location=location_of(file, data),
            )
        draft_info(data.get("draft"), file)  # a draft: block the build refuses is refused here too
        entities = dict(gazetteer)
        declared = local_entities(data, file)
        add_entities(entities, declared)
        resolver = _Resolving(entities, file, elsewhere)
        mentions, problems = resolve_mentions(resolver, data, file)
        claims_node = claim_nodes(data, file)
        claims: list[Claim] = []
        unplaced: list[Unplaced] = []
        for node in claims_node:  # every claim is read, so one run lists every problem
            try:
                claim, missing = _read_claim(resolver, node, claims_node, document)
            except BuildError as exc:
                problems.append(exc)
                continue
            claims.append(claim)
            if missing is not None:
                unplaced.append(missing)
        raise_all(problems)
    return ReadAnnotations(file, document, tuple(claims), tuple(unplaced), entities,
                           frozenset(e.id for e in declared if e.id not in gazetteer), frozenset(mentions))
