"""Which jobs of a whole validation are checked together, on a store holding what they read.

:mod:`kg.shacl.scale.groups` splits large N-Triples into one file per predicate (and type
triples into one file per class); each job reads a few of these files
(:func:`footprints_of`). This module packs the jobs into groups (:func:`sized_groups`):
each group is loaded into an in-memory store of its own by one process, at most one
group per core at a time, so the groups that run together must fit the memory budget,
and the run is as short as the groups are even. Files of predicates are loaded by one
group; the files of a class's type triples, and :data:`EVERY_GROUP`, by each group
whose jobs read them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from kg.namespaces import RDF, RDFS
from kg.shacl.plan import JobKey
from kg.shacl.scale.footprint import Reads
from kg.walks import reachable

__all__ = ["EVERY_GROUP", "OTHER", "Group", "footprints_of", "plan_groups", "sized_groups", "type_key"]

#: what a plan costs: memory over the limit, the estimated run, the sum of the groups' times
Cost = tuple[float, float, float]

#: what every group holds: the class hierarchy (which the compiled queries list a class's
#: subclasses from), the labels reports name focus nodes by, and the type triples not
#: split by class (an object that is not one plain IRI, classes past ``CLASS_FILES``)
EVERY_GROUP = frozenset({str(RDF.type), str(RDFS.subClassOf), str(RDFS.label)})
#: the most groups per process a plan may have
MAX_GROUPS = 8
#: a job's checks take about this share of the time loading what it reads takes, and
#: :data:`JOB_WEIGHT` of loading the whole data more (at 10M on two cores: 32 s to load
#: the data in groups; each job about 5 s per whole data its triples make, and 0.1 s)
CHECK_WEIGHT = 0.15
JOB_WEIGHT = 0.003
#: memory of an in-memory store per byte of the N-Triples it holds (measured: 614 MB → 2.1 GB)
MEMORY_PER_BYTE = 3.5
#: the key of the lines whose predicates did not get a file of their own
OTHER = ""


@dataclass(frozen=True)
class Group:
    """Jobs checked together, and the predicates whose triples their store holds."""

    predicates: frozenset[str]
    jobs: tuple[JobKey, ...]
    #: the estimated share of the data's triples the group loads (with :data:`EVERY_GROUP`)
    share: float
    #: the estimated time it takes, in times of loading the whole data (see :data:`CHECK_WEIGHT`)
    time: float


def type_key(klass: str) -> str:
    """The name of the file of the type triples of ``klass`` (a space: in no IRI)."""
    return f"{RDF.type} {klass}"


_TYPE_PREFIX = type_key("")


def _shared(key: str) -> bool:
    """Whether several groups may load ``key``'s file: those every group loads, and the
    type triples of a class (which the jobs of many groups may read)."""
    return key in EVERY_GROUP or key.startswith(_TYPE_PREFIX)


def plan_groups(
    footprints: Mapping[JobKey, frozenset[str]], shares: Mapping[str, float], parts: int, *, cores: int = 2, limit: float = float("inf")
) -> list[Group]:
    """The jobs packed into at most ``parts`` groups, checked ``cores`` at a time, the
    ``cores`` largest holding at most ``limit`` of the data together (memory).

    Jobs that read a common predicate (other than those several groups may load: see
    :func:`_shared`) stay in one group, so no predicate is loaded twice. These clusters go
    largest first where they add least, or where they make the run shortest so far (both
    are tried); then a cluster moves to another group, or two clusters of two groups swap,
    while that brings the largest groups under ``limit`` or shortens the run
    (:func:`_makespan` of the groups' estimated times, then their sum): a cluster reading
    the type triples of a class costs a group that holds them already nothing more to load."""
    weights = {p: 0.0 if p in EVERY_GROUP else share for p, share in shares.items()}
    clusters = _clusters(footprints, weights)
    # what checking a cluster's jobs adds to loading what it reads
    checking = [sum(CHECK_WEIGHT * sum(weights.get(p, 0.0) for p in footprints[key]) + JOB_WEIGHT for key in keys) for _, keys in clusters]
    # every group loads these, and the lines of predicates that did not get a file of their own
    common = sum(shares.get(p, 0.0) for p in EVERY_GROUP | {OTHER})

    def cost(packing: _Packing) -> Cost:
        used = [i for i in range(parts) if packing.size[i]]
        top = sorted(packing.load[i] + common for i in used)[-cores:]
        spans = [packing.load[i] + packing.work[i] + common for i in used]
        return max(0.0, sum(top) - limit), _makespan(spans, cores), sum(spans)

    # two ways to start (where a cluster adds least, where it makes the run shortest so far),
    # each improved as far as single moves and swaps go; the better one is kept
    packings = []
    for start in ("load", "run"):
        packing = _Packing([reads for reads, _ in clusters], checking, weights, parts)
        for c in range(len(clusters)):
            if start == "load":
                packing.put(c, min(range(parts), key=lambda g: (packing.load[g] + packing.gain(c, g), packing.load[g], g)))
            else:
                packing.put(c, min(range(parts), key=lambda g: (packing.added(c, g, cost), packing.load[g], g)))
        packings.append((packing.improve(cost), start, packing))
    _, _, best = min(packings)
    groups = []
    for g in range(parts):
        members = [clusters[c] for c in range(len(clusters)) if best.place[c] == g]
        if members:
            predicates = set().union(*(reads for reads, _ in members))
            jobs = tuple(key for _, keys in members for key in keys)
            groups.append(Group(frozenset(predicates | EVERY_GROUP), jobs, best.load[g] + common, best.load[g] + best.work[g] + common))
    return groups


def _clusters(footprints: Mapping[JobKey, frozenset[str]], weights: Mapping[str, float]) -> list[tuple[set[str], list[JobKey]]]:
    """The jobs joined through the data predicates they read (union-find on predicates;
    what several groups may load joins nothing), largest first."""
    parent: dict[str, str] = {}

    def root(p: str) -> str:
        while parent.setdefault(p, p) != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    linked = {key: sorted(p for p in reads if p in weights and not _shared(p)) for key, reads in footprints.items()}
    for own in linked.values():
        for p in own[1:]:
            parent[root(p)] = root(own[0])
    found: dict[str | None, tuple[set[str], list[JobKey]]] = {}
    for key, reads in footprints.items():
        cluster = found.setdefault(root(linked[key][0]) if linked[key] else None, (set(), []))
        cluster[0].update(reads)
        cluster[1].append(key)
    return sorted(found.values(), key=lambda c: (-sum(weights.get(p, 0.0) for p in c[0]), str(sorted(c[0]))))


class _Packing:
    """Clusters placed in groups, each group's keys counted, so that moving a cluster is
    costed in the size of what it reads, not of what the groups hold."""

    def __init__(self, reads: list[set[str]], checking: list[float], weights: Mapping[str, float], parts: int) -> None:
        self.reads, self.checking, self.weights = reads, checking, weights
        self.place = [-1] * len(reads)
        self.held: list[Counter[str]] = [Counter() for _ in range(parts)]
        self.load = [0.0] * parts  # the share of the data each group loads
        self.work = [0.0] * parts  # what checking its jobs adds
        self.size = [0] * parts  # its clusters

    def gain(self, c: int, g: int) -> float:
        """What group ``g`` would load more with cluster ``c``."""
        return sum(self.weights.get(p, 0.0) for p in self.reads[c] if not self.held[g][p])

    def loss(self, c: int) -> float:
        """What cluster ``c``'s group would load less without it."""
        held = self.held[self.place[c]]
        return sum(self.weights.get(p, 0.0) for p in self.reads[c] if held[p] == 1)

    def put(self, c: int, g: int) -> None:
        self.load[g] += self.gain(c, g)
        self.held[g].update(self.reads[c])
        self.work[g] += self.checking[c]
        self.size[g] += 1
        self.place[c] = g

    def take(self, c: int) -> None:
        g = self.place[c]
        self.load[g] -= self.loss(c)
        self.held[g].subtract(self.reads[c])
        self.work[g] -= self.checking[c]
        self.size[g] -= 1

    def added(self, c: int, g: int, cost: Callable[[_Packing], Cost]) -> Cost:
        """``cost`` of the packing with cluster ``c`` (not placed yet) in group ``g``."""
        self.put(c, g)
        try:
            return cost(self)
        finally:
            self.take(c)
            self.place[c] = -1

    def changed(self, changes: Sequence[tuple[int, int]], cost: Callable[[_Packing], Cost]) -> Cost:
        """``cost`` of the packing with each (cluster, group) of ``changes`` made; the
        packing is left as it was."""
        before = [(c, self.place[c]) for c, _ in changes]
        self._make(changes)
        try:
            return cost(self)
        finally:
            self._make(before)

    def _make(self, changes: Sequence[tuple[int, int]]) -> None:
        for c, _ in changes:
            self.take(c)
        for c, g in changes:
            self.put(c, g)

    def improve(self, cost: Callable[[_Packing], Cost]) -> Cost:
        """Move a cluster to another group, or swap two clusters of two groups, while that
        lowers ``cost``; the cost reached."""
        best = cost(self)
        count, parts = len(self.reads), len(self.load)
        for _ in range(count * parts):  # each step lowers the cost: a bound, never reached in practice
            steps = [[(c, g)] for c in range(count) for g in range(parts) if g != self.place[c]]
            steps += [[(a, self.place[b]), (b, self.place[a])] for a in range(count) for b in range(a + 1, count) if self.place[a] != self.place[b]]
            found, step = best, None
            for changes in steps:
                trial = self.changed(changes, cost)
                if trial < found:
                    found, step = trial, changes
            if step is None:
                break
            best = found
            self._make(step)
        return best


def _makespan(loads: Sequence[float], cores: int) -> float:
    """When the last of these loads ends, given largest first to the least busy of ``cores``."""
    busy = [0.0] * cores
    for load in sorted(loads, reverse=True):
        busy[busy.index(min(busy))] += load
    return max(busy)


def footprints_of(reads: Mapping[JobKey, Reads], names: Collection[str], subclass_of: Iterable[tuple[str, str]]) -> dict[JobKey, frozenset[str]]:
    """The files each job reads, by name (``names``: those the split wrote): its
    predicates, and the type files of the classes it reads with their subclasses in the
    data (``subclass_of``: its (subclass, class) pairs), or of every class."""
    below: dict[str, set[str]] = {}
    for sub, sup in subclass_of:
        below.setdefault(sup, set()).add(sub)
    typed = {name for name in names if name.startswith(_TYPE_PREFIX)}

    def subclasses(klass: str) -> Iterable[str]:
        return below.get(klass, ())

    return {
        key: one.predicates | (typed if one.classes is None else {type_key(c) for c in reachable(one.classes, subclasses)} & typed)
        for key, one in reads.items()
    }


def sized_groups(
    footprints: Mapping[JobKey, frozenset[str]], sizes: Mapping[str, int], total: int, processes: int, budget: int
) -> list[Group] | None:
    """The fewest groups (a multiple of ``processes``, so the cores stay busy) whose
    stores, ``processes`` at a time, fit ``budget`` bytes, from each predicate's bytes in
    the data (``sizes``; ``total``: all of them); None if no such plan exists. (Letting
    the estimated times pick among more and smaller groups was measured slower at 10M:
    the estimates are not that exact, and each group loads the shared type triples again.)"""
    shares = {p: n / total for p, n in sizes.items()} if total else {}
    limit = budget / (total * MEMORY_PER_BYTE) if total else float("inf")
    for parts in range(processes, MAX_GROUPS * processes + 1, processes):
        groups = plan_groups(footprints, shares, parts, cores=processes, limit=limit)
        # the stores of the largest groups, which may run at the same time
        if sum(sorted((g.share for g in groups), reverse=True)[:processes]) <= limit:
            return groups
    return None
