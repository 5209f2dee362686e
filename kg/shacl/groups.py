"""Validation of large N-Triples in predicate groups, each checked in memory by a process of its own.

Data too large to hold in memory went to an on-disk store: bulk-loaded (as long as the
load alone), compacted, then queried. But each compiled job reads a few predicates
(:func:`~kg.shacl.engine.job_predicates`). Two processes split the files into one file
per predicate, in one pass; the jobs are packed into groups of about even size; then a
process per group loads the files of its predicates — with every ``rdf:type``,
``rdfs:subClassOf`` and ``rdfs:label`` triple, which targets, class tests and labels
read — into an in-memory store (three times less CPU per triple than the bulk loader)
and runs its jobs there. At most one group per core runs at a time; groups are sized so
that those running fit the memory budget.

Whatever does not fit the scheme makes :func:`validate_in_groups` answer None, and the
caller validates the usual way: blank nodes (each load names them anew, so two groups
could not agree on one), a line whose predicate cannot be read off by spaces, integer
subtypes (literals kept as written), a job that may read any predicate, a shape left to
pyshacl, a syntax error (the usual loader names its file and line), a process that fails
or dies.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox
from rdflib import Graph, Node

from ..formats import RdfFormatInfo, rdf_format_for_path
from ..namespaces import RDF, RDFS
from ..rdfio import load_in_graph, store_label
from .engine import EngineReport, JobKey, job_predicates, report_of_parts, validate_part
from .literals import may_hold_rewritten
from .parallel import ForkedTasks

__all__ = ["Group", "plan_groups", "validate_in_groups"]

#: what every group holds: targets and class tests read types and the class hierarchy,
#: and reports name focus nodes by their labels
EVERY_GROUP = frozenset({str(RDF.type), str(RDFS.subClassOf), str(RDFS.label)})
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


def plan_groups(footprints: Mapping[JobKey, frozenset[str]], shares: Mapping[str, float], parts: int) -> list[Group]:
    """The jobs packed into at most ``parts`` groups of about even shares of the data.

    Jobs that read a common predicate (other than those every group holds) stay in one
    group, so no predicate is loaded twice; these clusters go largest first to the group
    holding least so far."""

    def share(predicates: frozenset[str] | set[str]) -> float:
        return sum(shares.get(p, 0.0) for p in predicates if p not in EVERY_GROUP)

    # clusters: jobs joined through the data predicates they read (union-find on predicates)
    parent: dict[str, str] = {}

    def root(p: str) -> str:
        while parent.setdefault(p, p) != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    linked = {key: sorted(p for p in reads if p in shares and p not in EVERY_GROUP) for key, reads in footprints.items()}
    for reads in linked.values():
        for p in reads[1:]:
            parent[root(p)] = root(reads[0])
    clusters: dict[str | None, tuple[set[str], list[JobKey]]] = {}
    for key, reads in footprints.items():
        found = clusters.setdefault(root(linked[key][0]) if linked[key] else None, (set(), []))
        found[0].update(reads)
        found[1].append(key)
    predicates: list[set[str]] = [set() for _ in range(parts)]
    jobs: list[list[JobKey]] = [[] for _ in range(parts)]
    for reads, keys in sorted(clusters.values(), key=lambda c: (-share(c[0]), str(sorted(c[0])))):
        chosen = min(range(parts), key=lambda i: (share(predicates[i]), i))
        predicates[chosen] |= reads
        jobs[chosen].extend(keys)
    # every group loads these, and the lines of predicates that did not get a file of their own
    common = sum(shares.get(p, 0.0) for p in EVERY_GROUP | {OTHER})
    return [Group(frozenset(p | EVERY_GROUP), tuple(j), share(p) + common) for p, j in zip(predicates, jobs) if j]


def _sized_groups(
    footprints: Mapping[JobKey, frozenset[str]], sizes: Mapping[str, int], total: int, processes: int, budget: int
) -> list[Group] | None:
    """The fewest groups (a multiple of ``processes``, so the cores stay busy) whose
    stores, ``processes`` at a time, fit ``budget`` bytes, from each predicate's bytes in
    the data (``sizes``; ``total``: all of them); None if no such plan exists."""
    shares = {p: n / total for p, n in sizes.items()} if total else {}
    for parts in range(processes, 8 * processes + 1, processes):
        groups = plan_groups(footprints, shares, parts)
        # the stores of the largest groups, which may run at the same time
        largest = sum(sorted((g.share for g in groups), reverse=True)[:processes]) * total * MEMORY_PER_BYTE
        if largest <= budget:
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


def _split_range(path: Path, start: int, end: int, folder: Path, prefix: str, suffix: str) -> dict[str, tuple[Path, int]]:
    """Write the lines of a byte range of ``path`` to one file per predicate in ``folder``:
    each predicate's file and its bytes. Past :data:`PREDICATE_FILES` predicates, the lines
    of the others share one file (key :data:`OTHER`), which every group loads.

    Lines are split on single spaces. A line whose first two tokens are not plain IRIs
    (tabs, terms written together, escapes) raises :class:`_NotSplittable` unless it is
    blank or a comment; so do blank nodes (each load names them anew), quoted triples and
    integer subtypes (their literals must be kept as written). Past its first two tokens a
    line is not looked at: pyoxigraph parses each line whole when a group loads or parses
    the file (every file is read by some group), and refuses what is wrong (one triple per
    line, a relative IRI...), which sends the data the usual way."""
    buckets: dict[bytes, list[bytes]] = {}
    files: dict[bytes, tuple[str, Path]] = {}
    handles: dict[bytes, BinaryIO] = {}
    try:
        for chunk in _pieces(path, start, end):
            if b"_:" in chunk or b"<<" in chunk:
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
                        key = terms[1] if len(files) < PREDICATE_FILES else _OTHER_KEY
                        if key not in files:
                            name = terms[1][1:-1].decode("utf-8", "replace") if key != _OTHER_KEY else OTHER
                            files[key] = (name, folder / f"{prefix}-{len(files)}.{suffix}")
                            buckets[key] = []
                        found = buckets[terms[1]] = buckets[key]
                    elif line.strip() and not line.lstrip().startswith(b"#"):
                        raise _NotSplittable("a line's predicate cannot be read off by spaces")
                    else:
                        continue
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
        footprints: dict[JobKey, frozenset[str]] | None = None
        try:
            footprints = job_predicates(shapes)
        finally:
            if not footprints:  # none to group by, or an error: stop splitting
                splitting.stop()
        if not footprints:
            return None
        written = splitting.answers()
        if written is None:
            return None
        sizes: dict[str, int] = {}
        for found in written:
            for name, (_, size) in found.items():
                sizes[name] = sizes.get(name, 0) + size
        groups = _sized_groups(footprints, sizes, sum(sizes.values()), processes, budget)
        if groups is None:
            return None
        planned = frozenset(footprints)
        ordered = sorted(groups, key=lambda g: -g.share)  # the largest first: the last to end is small
        files_of = [(name, (out, fmt, base)) for found, (fmt, base) in zip(written, sources) for name, (out, _) in found.items()]
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
