"""A draft as plain data: the claims a drafter proposes, the entities it needs, the metadata.

The fields follow the annotation format of ``data/annotations/`` (README there), so
:mod:`kg.draft.writer` writes them out key for key and ``kg add-document`` reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DraftClaim", "DraftEntity", "DraftFact", "DraftEstimate", "Draft"]


@dataclass
class DraftFact:
    """``[subject, predicate, object]`` with what its sentence puts on it (verbatim words)."""

    subject: str
    predicate: str
    object: str
    time: str = "current"
    time_words: str | None = None
    hedges: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    date: str | None = None


@dataclass
class DraftEstimate:
    """A number with its unit the text gives: a value or a range, its date, its source."""

    measure: str
    unit: str
    value: int | float | None = None
    min: int | float | None = None
    max: int | float | None = None
    date: str | None = None
    date_words: str | None = None
    sources: list[str] = field(default_factory=list)


@dataclass
class DraftClaim:
    """A proposed claim: its quote is ``text[start:end]`` exactly."""

    kind: str
    claimant: str
    start: int
    end: int
    quote: str
    hedges: list[str] = field(default_factory=list)
    about: list[str] = field(default_factory=list)
    asserts: list[DraftFact] = field(default_factory=list)
    estimate: DraftEstimate | None = None
    id: str = ""


@dataclass
class DraftEntity:
    """An entity the store does not know yet that the draft needs (a new actor or proposal)."""

    id: str
    kind: str
    type: str
    label: str
    note: str | None = None


@dataclass
class Draft:
    """Everything a drafter proposes for one document."""

    document: str
    title: str | None
    author: str | None
    date: str | None
    sha256: str
    method: str
    claims: list[DraftClaim] = field(default_factory=list)
    entities: list[DraftEntity] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    language: str = "en"
