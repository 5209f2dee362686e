"""The state a write would produce, read without committing it: the union of the named graphs,
minus what replaced or dropped graphs held that no other graph holds, minus what a write of a
difference removes, plus the staged triples. The SHACL gate (:mod:`kg.write.gate`) reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

import pyoxigraph as ox

from kg.store import Store
from kg.store.base import GraphWrite, WriteMode

__all__ = ["PostState"]

_DEFAULT = ox.DefaultGraph()


@dataclass
class PostState:
    """The union as it would be after ``writes``, read from the store and the staging graphs.

    A write of a difference (``GraphWrite.diff``) stages only what its graph gains and, in
    ``removed``, what it loses: only those triples are looked at again, so a small change to a
    large graph reads little."""

    store: Store
    writes: list[GraphWrite]
    gone: set[str] = field(init=False)
    staged: list[ox.NamedNode] = field(init=False)

    def __post_init__(self) -> None:
        #: pattern access to every graph, staging graphs included (on a remote store: a mirror)
        self.reader = self.store.reader()
        self.gone = {w.graph for w in self.writes if not w.diff and w.mode in (WriteMode.REPLACE, WriteMode.DROP)}
        self.staged = [ox.NamedNode(s) for w in self.writes for s in w.staged]
        #: graph -> the staging graphs of the triples it loses (writes of a difference)
        self.losing = {w.graph: [ox.NamedNode(r) for r in w.removed] for w in self.writes if w.diff and w.removed}
        self._lost = [r for rs in self.losing.values() for r in rs]
        self._excluded = self.gone | {s.value for s in self.staged} | {r.value for r in self._lost}

    @property
    def loses(self) -> bool:
        """True when the write takes triples out of some graph."""
        return bool(self.gone or self._lost)

    def _in(self, t: ox.Quad | ox.Triple, graphs: list[ox.NamedNode]) -> bool:
        return any(next(iter(self.reader.quads_for_pattern(t.subject, t.predicate, t.object, g)), None) is not None
                   for g in graphs)

    def _survives(self, t: ox.Quad) -> bool:
        """True when some committed graph still holds ``t`` after the write."""
        if not self.gone and not (self._lost and self._in(t, self._lost)):
            return True
        for q in self.reader.quads_for_pattern(t.subject, t.predicate, t.object, None):
            g = q.graph_name
            if not isinstance(g, ox.NamedNode) or g.value in self._excluded:
                continue
            if g.value in self.losing and self._in(t, self.losing[g.value]):
                continue
            return True
        return False

    def triples(self, s: object = None, o: object = None) -> Iterator[ox.Triple]:
        """Triples of the new state with subject ``s`` and/or object ``o``."""
        seen: set[ox.Triple] = set()
        ox_store = self.reader
        for q in ox_store.quads_for_pattern(s, None, o, _DEFAULT):
            if self._survives(q):
                t = ox.Triple(q.subject, q.predicate, q.object)
                seen.add(t)
                yield t
        for g in self.staged:
            for q in ox_store.quads_for_pattern(s, None, o, g):
                t = ox.Triple(q.subject, q.predicate, q.object)
                if t not in seen:
                    seen.add(t)
                    yield t

    def removed(self) -> Iterator[ox.Triple]:
        """Triples the write takes out of the union."""
        ox_store = self.reader
        staged = self.staged
        sources = [ox.NamedNode(name) for name in self.gone] + self._lost
        for source in sources:
            quads = iter(ox_store.quads_for_pattern(None, None, None, source))
            while batch := list(islice(quads, 10_000)):
                ox_store.prefetch({q.subject for q in batch}, every_graph=True)  # where else each triple is held
                for q in batch:
                    if self._survives(q) or self._in(q, staged):
                        continue
                    yield ox.Triple(q.subject, q.predicate, q.object)

    def added(self) -> Iterator[ox.Triple]:
        """The staged triples."""
        for g in self.staged:
            for q in self.reader.quads_for_pattern(None, None, None, g):
                yield ox.Triple(q.subject, q.predicate, q.object)

    def entering(self) -> Iterator[ox.Triple]:
        """The staged triples the union does not hold yet: only they change it (one it holds is
        in the union before the write and after). Every staged triple once a write's union copy
        is in already, for then the union cannot tell."""
        if any(w.union_loaded for w in self.writes):
            yield from self.added()
            return
        yield from self.reader.outside_union(self.staged)
