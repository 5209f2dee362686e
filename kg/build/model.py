"""What the curated annotations say, as plain data: entities, claims, the facts they assert
with their qualifiers, and estimates.

:mod:`kg.build.annotations` reads the YAML into these (every quote placed at its offsets,
every id resolved); :mod:`kg.build.rdfize` turns them into RDF. They hold no behaviour, so
either side can change without the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kg.build.corpus import Document
from kg.errors import Location
from kg.iris import Kind

__all__ = ["Annotations", "Assertion", "Claim", "DocumentAnnotations", "DraftInfo", "Entity", "Estimate"]


@dataclass(frozen=True)
class Entity:
    """An actor, place, meeting or proposal: identity only."""

    id: str
    kind: Kind
    type: str
    label: str
    alt: tuple[str, ...]
    wikidata: str | None
    note: str | None
    location: Location


@dataclass(frozen=True)
class Assertion:
    """One fact a claim supports: subject and object are entity ids, or the object a literal.

    The qualifiers are what the claim's sentence puts on the fact, so that a researcher never
    reads a former, announced, hypothetical, conditional or hedged fact as a plain one:
    ``time`` (a key of :data:`~kg.build.vocabulary.TIME_STATUSES`), the text's own ``hedges``,
    ``conditions`` and ``time_words`` (each verbatim from the quote), and the dates it gives.
    """

    subject: str
    predicate: str
    object: str
    literal: bool
    location: Location
    time: str = "current"
    time_words: str | None = None
    hedges: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    date: str | None = None
    start: str | None = None
    end: str | None = None

    @property
    def plain(self) -> bool:
        """Whether the fact is also published as a plain triple: stated as holding when
        written, without a condition (DESIGN.md's qualification rule)."""
        return self.time == "current" and not self.conditions


@dataclass(frozen=True)
class Estimate:
    """A numeric estimate: a value or a range, in a unit, at a date, from sources."""

    measure: str
    value: int | float | None
    min: int | float | None
    max: int | float | None
    unit: str
    date: str | None
    sources: tuple[str, ...]
    #: the text's words that date the estimate ("early 2025"), kept because the date cannot say "early"
    date_words: str | None = None


@dataclass(frozen=True)
class Claim:
    """Something a claimant asserts in a document, anchored at ``[start, end)`` of its text."""

    id: str
    document: str
    kind: str
    claimant: str
    quote: str
    start: int
    end: int
    hedges: tuple[str, ...]
    about: tuple[str, ...]
    asserts: tuple[Assertion, ...]
    estimate: Estimate | None
    cameo: str | None
    corroborates: tuple[str, ...]
    contradicts: tuple[str, ...]
    location: Location


@dataclass(frozen=True)
class DraftInfo:
    """How an annotation file was drafted by a program rather than curated: the tool, its
    version and method (rules, a spaCy pipeline, a chat model), and when. The document's graph
    says so, so a researcher can tell drafted facts from curated ones."""

    tool: str
    version: str
    method: str
    created: str | None = None


@dataclass(frozen=True)
class DocumentAnnotations:
    """What one document says: its claims and the entities it mentions; ``draft`` when a
    program drafted them (the file's ``draft:`` block), ``None`` when curated."""

    document: Document
    claims: tuple[Claim, ...]
    mentions: frozenset[str]
    file: Path
    draft: DraftInfo | None = None


@dataclass
class Annotations:
    """The whole curated corpus: entities by id and annotations by document id."""

    entities: dict[str, Entity] = field(default_factory=dict)
    documents: dict[str, DocumentAnnotations] = field(default_factory=dict)
