"""The pieces every score is made of: counts that say what they count, the mapping of a draft's
entities onto the gold's, and the alignment of drafted claims with gold claims by their spans.

Each measure is an :class:`Overlap` (precision, recall and F1 of a drafted set against a gold
set) or a :class:`Share` (how many of a set of gold items the draft got right). A ratio
whose denominator is 0 is ``None`` ("n/a"): nothing to measure is not a perfect score.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from kg.build.annotations import normalised
from kg.build.model import Claim, Entity

__all__ = ["OVERLAP_NEEDED", "Alignment", "EntityMap", "Overlap", "Pair", "Share", "align", "overlap", "share"]

#: a gold claim is found by a drafted quote that covers at least this share of its characters
OVERLAP_NEEDED = 0.5


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Overlap:
    """A drafted set against a gold set: ``matched`` gold items are found in the draft, and
    ``drafted_matched`` drafted items find one (the same number for sets compared by equality;
    it differs for claims, where one drafted quote may find several gold claims)."""

    gold: int
    drafted: int
    matched: int
    drafted_matched: int | None = None

    @property
    def precision(self) -> float | None:
        """Drafted items that match / drafted."""
        return _ratio(self.matched if self.drafted_matched is None else self.drafted_matched, self.drafted)

    @property
    def recall(self) -> float | None:
        """Gold items found / gold."""
        return _ratio(self.matched, self.gold)

    @property
    def f1(self) -> float | None:
        """The harmonic mean of precision and recall: 0 when nothing matched or one side is
        empty, ``None`` only when both are."""
        p, r = self.precision, self.recall
        if p is None and r is None:
            return None
        if p is None or r is None or p + r == 0:
            return 0.0
        return 2 * p * r / (p + r)

    def to_json(self) -> dict[str, int | float | None]:
        """``gold``, ``drafted``, ``matched``, ``drafted_matched``, ``precision``, ``recall``, ``f1``."""
        return {"gold": self.gold, "drafted": self.drafted, "matched": self.matched,
                "drafted_matched": self.matched if self.drafted_matched is None else self.drafted_matched,
                "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass(frozen=True)
class Share:
    """``hits`` of ``total`` gold items the draft got right."""

    total: int
    hits: int

    @property
    def rate(self) -> float | None:
        """Hits / total."""
        return _ratio(self.hits, self.total)

    def to_json(self) -> dict[str, int | float | None]:
        """``total``, ``hits``, ``rate``."""
        return {"total": self.total, "hits": self.hits, "rate": self.rate}

    def __add__(self, other: Share) -> Share:
        return Share(self.total + other.total, self.hits + other.hits)


def overlap(gold: Collection[object], drafted: Collection[object]) -> Overlap:
    """The overlap of two sets."""
    return Overlap(len(gold), len(drafted), len(set(gold) & set(drafted)))


def share(results: Iterable[bool]) -> Share:
    """The share of true results."""
    flags = list(results)
    return Share(len(flags), sum(flags))


def _name(text: str) -> str:
    """A label or alias as compared: case, compatibility forms, curly quotes, dashes and spacing
    do not count."""
    return normalised(unicodedata.normalize("NFKC", text)).strip().casefold()


class EntityMap:
    """The draft's entity ids as the gold's: an id the gold knows stays itself; a drafted new
    entity becomes the gold entity of the same kind whose label or an alias equals its label or
    an alias (case and spacing aside; a label-to-label match first, then the first id); anything
    else stays a draft id, which no gold item holds."""

    def __init__(self, draft: Mapping[str, Entity], gold: Mapping[str, Entity]) -> None:
        by_name: dict[tuple[object, str], set[str]] = {}
        for entity in gold.values():
            for name in (entity.label, *entity.alt):
                by_name.setdefault((entity.kind, _name(name)), set()).add(entity.id)
        #: drafted ids read as another gold id
        self.renamed: dict[str, str] = {}
        unmapped = []
        for ident, entity in sorted(draft.items()):
            if ident in gold and gold[ident].kind == entity.kind:
                continue
            found: set[str] = set()
            for name in (entity.label, *entity.alt):
                found |= by_name.get((entity.kind, _name(name)), set())
            if found:
                by_label = sorted(g for g in found if _name(gold[g].label) == _name(entity.label))
                self.renamed[ident] = (by_label or sorted(found))[0]
            else:
                unmapped.append(ident)
        #: drafted ids that name no gold entity
        self.unmapped: tuple[str, ...] = tuple(unmapped)

    def __call__(self, ident: str) -> str:
        return self.renamed.get(ident, ident)


@dataclass(frozen=True)
class Pair:
    """A gold claim and the drafted claim that finds it best."""

    gold: Claim
    draft: Claim


@dataclass(frozen=True)
class Alignment:
    """The found gold claims, each with its best drafted claim, and how many drafted claims
    find at least one gold claim."""

    pairs: tuple[Pair, ...]
    finding: int


def _shared(a: Claim, b: Claim) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def align(gold: Sequence[Claim], drafted: Sequence[Claim], *, claimant: Callable[[str], str]) -> Alignment:
    """Which gold claims the drafted claims find.

    A drafted claim *finds* a gold claim when its span shares at least :data:`OVERLAP_NEEDED`
    of the gold quote's characters (code points of the document text); one drafted quote may
    find several gold claims (a sentence finds the clauses the curators cut it into). A found
    gold claim is paired with the drafted claim that finds it best: the larger share of their
    union (so a sentence goes with the sentence, a clause with the clause), then the same
    claimant (``claimant`` maps a drafted id to the gold's), then the same claim id, then
    document order.
    """
    best: dict[int, tuple[tuple[float, bool, bool, int], int]] = {}
    finding: set[int] = set()
    for gi, g in enumerate(gold):
        for di, d in enumerate(drafted):
            shared = _shared(g, d)
            if shared and shared >= OVERLAP_NEEDED * (g.end - g.start):
                finding.add(di)
                union = (g.end - g.start) + (d.end - d.start) - shared
                key = (-shared / union, claimant(d.claimant) != g.claimant, d.id != g.id, di)
                if gi not in best or key < best[gi][0]:
                    best[gi] = (key, di)
    return Alignment(tuple(Pair(gold[gi], drafted[di]) for gi, (_, di) in sorted(best.items())), len(finding))
