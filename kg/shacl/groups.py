"""Validation of large N-Triples in predicate groups, each checked in memory by a process of its own.

Data too large to hold in memory went to an on-disk store: bulk-loaded (as long as the
load alone), compacted, then queried. But each compiled job reads a few predicates
(:func:`~kg.shacl.engine.job_predicates`). Two processes split the files into one file
per predicate, in one pass; the jobs are packed into groups of about even size; then a
process per group loads the files of its predicates — with every ``rdfs:subClassOf``
and ``rdfs:label`` triple, which class tests and labels read, and the ``rdf:type``
triples of the classes its jobs read (type triples are split by class, and a class
is read with its subclasses) — into an in-memory store (three times less CPU per
triple than the bulk loader) and runs its jobs there. At most one group per core runs
at a time; groups are sized so that those running fit the memory budget, and a job
goes where what it reads adds least (jobs of one class share its type triples).

Whatever does not fit the scheme makes :func:`validate_in_groups` answer None, and the
caller validates the usual way: blank nodes (each load names them anew, so two groups
could not agree on one), a line whose predicate cannot be read off by spaces, integer
subtypes (literals kept as written), a job that may read any predicate, a shape left to
pyshacl, a syntax error (the usual loader names its file and line), a process that fails
or dies.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox
from rdflib import Graph, Node

from ..formats import RdfFormatInfo, rdf_format_for_path
from ..namespaces import RDF, RDFS
from ..rdfio import load_in_graph, store_label
from .engine import EngineReport, JobKey, job_reads, report_of_parts, validate_part
from .footprint import Reads
from .literals import may_hold_rewritten
from .parallel import ForkedTasks

__all__ = ["Group", "plan_groups", "validate_in_groups"]

#: what every group holds: the class hierarchy (which the compiled queries list a class's
#: subclasses from), the labels reports name focus nodes by, and the type triples not
#: split by class (an object that is not one plain IRI, classes past :data:`CLASS_FILES`)
EVERY_GROUP = frozenset({str(RDF.type), str(RDFS.subClassOf), str(RDFS.label)})
#: how many classes get a file of their type triples per byte range
CLASS_FILES = 100
#: a job's checks take about this share of the time loading what it reads takes, and
#: :data:`JOB_WEIGHT` of loading the whole data more (at 10M on two cores: 32 s to load
#: the data in groups; each job about 5 s per whole data its triples make, and 0.1 s)
CHECK_WEIGHT = 0.15
JOB_WEIGHT = 0.003
#: how much of a file a process reads at a time
CHUNK_BYTES = 64 * 1024 * 1024
#: memory of an in-memory store per byte of the N-Triples it holds (measured: 614 MB → 2.1 GB)
MEMORY_PER_BYTE = 3.5
#: how many predicates get files of their own per byte range (each an open file while splitting)
PREDICATE_FILES = 200
#: the formats whose lines can be picked by predicate
LINE_FORMATS = frozenset({"ntriples", "nquads"})


@dataclass(frozen=True)
class Group:
    """Jobs checked together, and the predicates whose triples their store holds."""

    predicates: frozenset[str]
    jobs: tuple[JobKey, ...]
    #: the estimated share of the data's triples the group loads (with :data:`EVERY_GROUP`)
    share: float
    #: the estimated time it takes, in times of loading the whole data (see :data:`CHECK_WEIGHT`)
    time: float = 0.0


def type_key(klass: str) -> str:
    """The name of the file of the type triples of ``klass`` (a space: in no IRI)."""
    return f"{RDF.type} {klass}"


def _shared(key: str) -> bool:
    """Whether several groups may load ``key``'s file: those every group loads, and the
    type triples of a class (which the jobs of many groups may read)."""
    return key in EVERY_GROUP or key.startswith(_TYPE_PREFIX)


_TYPE_PREFIX = type_key("")


def plan_groups(
    footprints: Mapping[JobKey, frozenset[str]], shares: Mapping[str, float], parts: int, *, cores: int = 2, limit: float = float("inf")
) -> list[Group]:
    """The jobs packed into at most ``parts`` groups, checked ``cores`` at a time, the
    ``cores`` largest holding at most ``limit`` of the data together (memory).

    Jobs that read a common predicate (other than those several groups may load: see
    :func:`_shared`) stay in one group, so no predicate is loaded twice. These clusters go
    largest first to the group that holds least once they are added; then single
    clusters move to another group while that brings the largest groups under ``limit``
    or shortens the run (:func:`_makespan` of the groups' estimated times, then their
    sum): a cluster reading the type triples of a class costs a group that holds them
    already nothing more to load."""

    def share(predicates: frozenset[str] | set[str]) -> float:
        return sum(shares.get(p, 0.0) for p in predicates if p not in EVERY_GROUP)

    # clusters: jobs joined through the data predicates they read (union-find on predicates)
    parent: dict[str, str] = {}

    def root(p: str) -> str:
        while parent.setdefault(p, p) != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    linked = {key: sorted(p for p in reads if p in shares and not _shared(p)) for key, reads in footprints.items()}
    for own in linked.values():
        for p in own[1:]:
            parent[root(p)] = root(own[0])
    found: dict[str | None, tuple[set[str], list[JobKey]]] = {}
    for key, reads in footprints.items():
        cluster = found.setdefault(root(linked[key][0]) if linked[key] else None, (set(), []))
        cluster[0].update(reads)
        cluster[1].append(key)
    clusters = sorted(found.values(), key=lambda c: (-share(c[0]), str(sorted(c[0]))))
    # what checking a cluster's jobs adds to loading what it reads
    checking = [sum(CHECK_WEIGHT * share(footprints[key]) + JOB_WEIGHT for key in keys) for _, keys in clusters]
    # every group loads these, and the lines of predicates that did not get a file of their own
    common = sum(shares.get(p, 0.0) for p in EVERY_GROUP | {OTHER})

    def held(plan: list[int], group: int) -> set[str]:
        return set().union(*(clusters[c][0] for c, g in enumerate(plan) if g == group))

    def time(plan: list[int], group: int) -> float:
        return share(held(plan, group)) + common + sum(checking[c] for c, g in enumerate(plan) if g == group)

    place: list[int] = []
    for reads, _ in clusters:
        place.append(min(range(parts), key=lambda i: (share(held(place, i) | reads), share(held(place, i)), i)))

    def cost(plan: list[int]) -> tuple[float, float, float]:
        used = [i for i in range(parts) if i in plan]
        loads = sorted(share(held(plan, i)) + common for i in used)
        times = [time(plan, i) for i in used]
        return max(0.0, sum(loads[-cores:]) - limit), _makespan(times, cores), sum(times)

    best = cost(place)
    for _ in range(len(clusters) * parts):  # each move shortens the run: a bound, never reached in practice
        moves = [(cost(plan), plan) for c in range(len(clusters)) for i in range(parts) if i != place[c] for plan in [place[:c] + [i] + place[c + 1 :]]]
        found_cost, found_plan = min(moves, default=(best, place))
        if found_cost >= best:
            break
        best, place = found_cost, found_plan
    groups = []
    for i in range(parts):
        members = [clusters[c] for c, g in enumerate(place) if g == i]
        if members:
            predicates = held(place, i)
            jobs = tuple(key for _, keys in members for key in keys)
            groups.append(Group(frozenset(predicates | EVERY_GROUP), jobs, share(predicates) + common, time(place, i)))
    return groups


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

    def closure(classes: frozenset[str]) -> set[str]:
        found, todo = set(classes), list(classes)
        while todo:
            for sub in below.get(todo.pop(), ()):
                if sub not in found:
                    found.add(sub)
                    todo.append(sub)
        return found

    return {
        key: one.predicates | (typed if one.classes is None else {type_key(c) for c in closure(one.classes)} & typed)
        for key, one in reads.items()
    }


def _sized_groups(
    footprints: Mapping[JobKey, frozenset[str]], sizes: Mapping[str, int], total: int, processes: int, budget: int
) -> list[Group] | None:
    """The fewest groups (a multiple of ``processes``, so the cores stay busy) whose
    stores, ``processes`` at a time, fit ``budget`` bytes, from each predicate's bytes in
    the data (``sizes``; ``total``: all of them); None if no such plan exists."""
    shares = {p: n / total for p, n in sizes.items()} if total else {}
    limit = budget / (total * MEMORY_PER_BYTE) if total else float("inf")
    for parts in range(processes, 8 * processes + 1, processes):
        groups = plan_groups(footprints, shares, parts, cores=processes, limit=limit)
        # the stores of the largest groups, which may run at the same time
        if sum(sorted((g.share for g in groups), reverse=True)[:processes]) <= limit:
            return groups
    return None


class _NotSplittable(Exception):
    """The data cannot be picked line by line: validate it the usual way."""


def _ranges(path: Path, parts: int) -> list[tuple[int, int]]:
    """``parts`` byte ranges covering the file: a line belongs to the range it starts in."""
    size = path.stat().st_size
    return [(size * i // parts, size * (i + 1) // parts) for i in range(parts)]


def _pieces(path: Path, start: int, end: int) -> Iterator[bytes]:
    """The lines starting in ``[start, end)``, in pieces of about :data:`CHUNK_BYTES`."""
    with path.open("rb") as handle:
        handle.seek(start)
        if start:
            handle.seek(start - 1)
            _rest_of_line(handle)  # the line that began before ``start`` is another range's
        while handle.tell() < end:
            chunk = handle.read(min(CHUNK_BYTES, end - handle.tell()))
            if not chunk:
                return
            yield chunk + (b"" if chunk.endswith(b"\n") else _rest_of_line(handle))


def _rest_of_line(handle: BinaryIO) -> bytes:
    """Up to the next line feed, within :data:`CHUNK_BYTES` (lines ended by a carriage
    return alone, or longer than that, are not split here)."""
    rest = handle.readline(CHUNK_BYTES)
    if rest and not rest.endswith(b"\n") and handle.read(1):
        raise _NotSplittable("lines not ended by a line feed, or longer than a chunk")
    return rest


def _iri_token(token: bytes) -> bool:
    """Whether ``token`` is one IRI written plainly (no escapes, nothing written against it)."""
    return token[:1] == b"<" and token[-1:] == b">" and token.count(b"<") == 1 and token.count(b">") == 1 and b"\\" not in token


#: the key of the lines whose predicates did not get a file of their own
OTHER = ""
#: its key among the split's tokens (a space: never part of a token split on spaces)
_OTHER_KEY = b" "


#: the type predicate as the split reads it, and the start of its lines' keys by class
_TYPE_TOKEN = f"<{RDF.type}>".encode()
_CLASS_KEY = _TYPE_TOKEN + b" "


def _split_range(path: Path, start: int, end: int, folder: Path, prefix: str, suffix: str) -> dict[str, tuple[Path, int]]:
    """Write the lines of a byte range of ``path`` to one file per predicate in ``folder``:
    each predicate's file and its bytes. Past :data:`PREDICATE_FILES` predicates, the lines
    of the others share one file (key :data:`OTHER`), which every group loads. Type
    triples go to one file per class (:func:`type_key`) when the object is one plain IRI,
    for up to :data:`CLASS_FILES` classes; the others to the file of ``rdf:type``.

    Lines are split on single spaces. A line whose first two tokens are not plain IRIs
    (tabs, terms written together, escapes) raises :class:`_NotSplittable` unless it is
    blank or a comment; so do blank nodes (each load names them anew), quoted triples and
    integer subtypes (their literals must be kept as written). Past its first two tokens a
    line is not looked at (but for a type triple's object): pyoxigraph parses each line
    whole when a group loads or parses the file (every file is read by some group), and
    refuses what is wrong (one triple per line, a relative IRI...), which sends the data
    the usual way."""
    buckets: dict[bytes, list[bytes]] = {}
    files: dict[bytes, tuple[str, Path]] = {}
    handles: dict[bytes, BinaryIO] = {}
    by_class: list[bytes] = []  # stands for the type predicate among the buckets: look at the object
    counts = {"predicates": 0, "classes": 0}

    def bucket(key: bytes, name: str, kind: str, limit: int, overflow: bytes, overflow_name: str) -> list[bytes]:
        """The lines of a new key: a file of its own while ``kind`` has fewer than ``limit``."""
        if counts[kind] >= limit:
            key, name = overflow, overflow_name
        elif key not in files:
            counts[kind] += 1
        if key not in files:
            files[key] = (name, folder / f"{prefix}-{len(files)}.{suffix}")
            buckets[key] = []
        return buckets[key]

    try:
        for chunk in _pieces(path, start, end):
            # a one-byte search first: a chunk without "_" is read at memory speed
            if b"_" in chunk and b"_:" in chunk or b"<<" in chunk:
                raise _NotSplittable("blank nodes or quoted triples")
            if may_hold_rewritten(chunk, full_iris=True):
                raise _NotSplittable("an integer subtype: literals must be kept as written")
            for line in chunk.splitlines(keepends=True):
                terms = line.split(b" ", 2)
                # the subject is one IRI followed by a space (not a tab, not the predicate
                # written against it, no leading space): the second token is the predicate
                plain = len(terms) > 2 and terms[0].find(b">") + 1 == len(terms[0]) > 2
                found = buckets.get(terms[1]) if plain else None
                if found is None:
                    if len(terms) > 2 and _iri_token(terms[0]) and _iri_token(terms[1]):
                        if terms[1] == _TYPE_TOKEN:
                            found = buckets[terms[1]] = by_class
                        else:
                            name = terms[1][1:-1].decode("utf-8", "replace")
                            found = buckets[terms[1]] = bucket(terms[1], name, "predicates", PREDICATE_FILES, _OTHER_KEY, OTHER)
                    elif line.strip() and not line.lstrip().startswith(b"#"):
                        raise _NotSplittable("a line's predicate cannot be read off by spaces")
                    else:
                        continue
                if found is by_class:
                    klass = terms[2].split(b" ", 1)[0]
                    found = buckets.get(_CLASS_KEY + klass)
                    if found is None:
                        plain_class = _iri_token(klass)
                        name = type_key(klass[1:-1].decode("utf-8", "replace")) if plain_class else str(RDF.type)
                        limit = CLASS_FILES if plain_class else 0
                        found = buckets[_CLASS_KEY + klass] = bucket(_CLASS_KEY + klass, name, "classes", limit, _TYPE_TOKEN, str(RDF.type))
                found.append(line)
            for key, (_, out) in files.items():
                lines = buckets[key]
                if lines:
                    if key not in handles:
                        handles[key] = out.open("wb")
                    handles[key].write(b"".join(lines))
                    lines.clear()
    finally:
        for handle in handles.values():
            handle.close()
    return {name: (out, out.stat().st_size) for key, (name, out) in files.items() if key in handles}


def _blank(path: Path) -> bool:
    """Whether the file holds nothing but whitespace (the usual loader says it is empty)."""
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            if chunk.strip():
                return False
    return True


#: a file the split wrote, with the format and base IRI of the file its lines came from
_Written = tuple[Path, RdfFormatInfo, str]


def _subclass_pairs(files: Sequence[_Written]) -> list[tuple[str, str]] | None:
    """The (subclass, class) pairs of IRIs in the ``rdfs:subClassOf`` files; None on a
    syntax error (the usual loader names its file and line)."""
    pairs: list[tuple[str, str]] = []
    try:
        for path, fmt, base in files:
            for quad in ox.parse(path=str(path), format=fmt.oxigraph, base_iri=base):
                if isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.NamedNode):
                    pairs.append((quad.subject.value, quad.object.value))
    except SyntaxError:
        return None
    return pairs


def _check_group(
    group: Group, inputs: Sequence[_Written], unread: Sequence[_Written], shapes: Graph, planned: frozenset[JobKey]
) -> tuple[list, dict[Node, Node]]:
    """Load a group's lines (``inputs``) into an in-memory store and run its jobs: the
    rows, and the labels of their focus nodes. ``unread``: files no group loads, parsed
    here only to find any syntax error."""
    for path, fmt, base in unread:
        for _ in ox.parse(path=str(path), format=fmt.oxigraph, base_iri=base):
            pass
    store = ox.Store()
    for path, fmt, base in inputs:
        load_in_graph(store, path, fmt, base, in_memory=True)
    rows = validate_part(store, shapes, group.jobs, planned)
    return rows, {node: label for node in {row.focus for row in rows} if (label := store_label(store, node)) is not None}


def validate_in_groups(
    files: Sequence[Path], shapes: Graph, *, processes: int, budget: int
) -> tuple[EngineReport, dict[Node, Node]] | None:
    """A whole validation of N-Triples or N-Quads ``files`` in predicate groups, with the
    labels of the reported focus nodes; None when it cannot be done so (see the module).

    Two rounds of processes: each of the first splits a byte range of a file into one
    file per predicate (while this process works out what each query reads), then each of
    the second loads a group's predicates and runs its queries."""
    if processes < 2 or not files or not all(p.is_file() and not _blank(p) for p in files):
        return None
    formats = [rdf_format_for_path(p) for p in files]
    if any(f is None or f.name not in LINE_FORMATS for f in formats):
        return None
    with tempfile.TemporaryDirectory(prefix="kg-groups-") as tmp:
        splits: list[Callable[[], dict[str, tuple[Path, int]]]] = []
        sources: list[tuple[RdfFormatInfo, str]] = []  # of each split: the format and base IRI
        for n, (path, fmt) in enumerate(zip(files, formats)):
            assert fmt is not None
            for r, (start, end) in enumerate(_ranges(path, processes)):
                splits.append(partial(_split_range, path, start, end, Path(tmp), f"file{n}-range{r}", fmt.extension))
                sources.append((fmt, path.resolve().as_uri()))
        splitting = ForkedTasks(splits, processes)
        reads: dict[JobKey, Reads] | None = None
        try:
            reads = job_reads(shapes)
        finally:
            if not reads:  # none to group by, or an error: stop splitting
                splitting.stop()
        if not reads:
            return None
        written = splitting.answers()
        if written is None:
            return None
        sizes: dict[str, int] = {}
        for found in written:
            for name, (_, size) in found.items():
                sizes[name] = sizes.get(name, 0) + size
        files_of = [(name, (out, fmt, base)) for found, (fmt, base) in zip(written, sources) for name, (out, _) in found.items()]
        hierarchy = _subclass_pairs([one for name, one in files_of if name == str(RDFS.subClassOf)])
        if hierarchy is None:
            return None
        footprints = footprints_of(reads, sizes, hierarchy)
        groups = _sized_groups(footprints, sizes, sum(sizes.values()), processes, budget)
        if groups is None:
            return None
        planned = frozenset(footprints)
        ordered = sorted(groups, key=lambda g: -g.time)  # the longest first: the last to end is short
        loaded = frozenset().union(*(g.predicates for g in groups)) | {OTHER}
        unread = [one for name, one in files_of if name not in loaded]
        checks = []
        for group in ordered:
            inputs = [one for name, one in files_of if name in group.predicates or name == OTHER]
            checks.append(partial(_check_group, group, inputs, unread if group is ordered[-1] else [], shapes, planned))
        checked = ForkedTasks(checks, processes).answers()
    if checked is None:
        return None
    rows = [row for found, _ in checked for row in found]
    labels = {node: label for _, named in checked for node, label in named.items()}
    return report_of_parts(shapes, rows), labels
