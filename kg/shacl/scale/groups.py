"""Validation of large N-Triples in predicate groups, each checked in memory by a process of its own.

Data too large to hold in memory went to an on-disk store: bulk-loaded (as long as the
load alone), compacted, then queried. But each compiled job reads a few predicates
(:func:`~kg.shacl.plan.job_reads`). Two processes split the files into one file per
predicate, and the type triples into one file per class, in one pass; the jobs are
packed into groups (:mod:`kg.shacl.scale.packing`); then a process per group loads the files
its jobs read — with every ``rdfs:subClassOf`` and ``rdfs:label`` triple, which class
tests and reports read, and the type triples of the classes its jobs read with their
subclasses — into an in-memory store (three times less CPU per triple than the bulk
loader) and runs its jobs there. At most one group per core runs at a time.

Whatever does not fit the scheme makes :func:`validate_in_groups` answer None, and the
caller validates the usual way: blank nodes (each load names them anew, so two groups
could not agree on one), a line whose predicate cannot be read off by spaces, integer
subtypes (literals kept as written), a job that may read any predicate, a shape left to
pyshacl, a syntax error (the usual loader names its file and line), a process that fails
or dies.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox
from rdflib import Graph, Node

from kg.formats import RdfFormatInfo, rdf_format_for_path
from kg.namespaces import RDF, RDFS
from kg.rdfio import store_label
from kg.shacl.literals import may_hold_rewritten
from kg.shacl.loading import load_in_graph
from kg.shacl.plan import JobKey, job_reads
from kg.shacl.results import EngineReport, report_of_parts
from kg.shacl.run import validate_part
from kg.shacl.scale.footprint import Reads
from kg.shacl.scale.linefiles import byte_ranges, line_pieces, plain_iri
from kg.shacl.scale.packing import OTHER, Group, footprints_of, sized_groups, type_key
from kg.shacl.scale.parallel import ForkedTasks, TaskFailed

__all__ = ["validate_in_groups"]

#: how many classes get a file of their type triples per byte range
CLASS_FILES = 100


#: how many predicates get files of their own per byte range (each an open file while splitting)
PREDICATE_FILES = 200
#: the formats whose lines can be picked by predicate
LINE_FORMATS = frozenset({"ntriples", "nquads"})


class _NotSplittable(Exception):
    """The data cannot be picked line by line: validate it the usual way."""


#: its key among the split's tokens (a space: never part of a token split on spaces)
_OTHER_KEY = b" "


#: the type predicate as the split reads it, and the start of its lines' keys by class
_TYPE_TOKEN = f"<{RDF.type}>".encode()
_CLASS_KEY = _TYPE_TOKEN + b" "
#: the key of the type lines not split by class (not the predicate's token, which stands
#: for "look at the object" among the buckets)
_TYPES_KEY = _CLASS_KEY + b" "


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
    predicate_files = class_files = 0

    def bucket(key: bytes, name: str) -> list[bytes]:
        """The lines of ``key``, whose file is ``name`` (made on first use)."""
        if key not in files:
            files[key] = (name, folder / f"{prefix}-{len(files)}.{suffix}")
            buckets[key] = []
        return buckets[key]

    try:
        for chunk in line_pieces(path, start, end):
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
                    if len(terms) > 2 and plain_iri(terms[0]) and plain_iri(terms[1]):
                        if terms[1] == _TYPE_TOKEN:
                            found = by_class
                        elif predicate_files < PREDICATE_FILES:
                            predicate_files += 1
                            found = bucket(terms[1], terms[1][1:-1].decode("utf-8", "replace"))
                        else:
                            found = bucket(_OTHER_KEY, OTHER)
                        buckets[terms[1]] = found
                    elif line.strip() and not line.lstrip().startswith(b"#"):
                        raise _NotSplittable("a line's predicate cannot be read off by spaces")
                    else:
                        continue
                if found is by_class:
                    klass = terms[2].split(b" ", 1)[0]
                    found = buckets.get(_CLASS_KEY + klass)
                    if found is None:
                        if plain_iri(klass) and class_files < CLASS_FILES:
                            class_files += 1
                            found = bucket(_CLASS_KEY + klass, type_key(klass[1:-1].decode("utf-8", "replace")))
                        else:
                            found = bucket(_TYPES_KEY, str(RDF.type))
                        buckets[_CLASS_KEY + klass] = found
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
) -> tuple[list[Any], dict[Node, Node]]:
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
    the second loads a group's files and runs its queries (while this process writes the
    report of the groups that ended)."""
    if processes < 2 or not files or not all(p.is_file() and not _blank(p) for p in files):
        return None
    formats = [rdf_format_for_path(p) for p in files]
    if any(f is None or f.name not in LINE_FORMATS for f in formats):
        return None
    folder = _Folder(Path(tempfile.mkdtemp(prefix="kg-groups-")))
    try:
        checks = _planned_checks(files, [f for f in formats if f is not None], shapes, folder.path, processes, budget)
        if checks is None:
            return None
        labels: dict[Node, Node] = {}

        def parts() -> Iterator[list[Any]]:
            try:
                for _, answer in ForkedTasks(checks, processes).each():
                    rows, named = answer
                    labels.update(named)
                    yield rows
            finally:
                folder.remove()  # while the report of the last group is written

        try:
            return report_of_parts(shapes, parts()), labels
        except TaskFailed:
            return None
    finally:
        folder.remove()
        folder.wait()


class _Folder:
    """A temporary folder removed by a thread of its own (1 GB of split files take a
    few tenths of a second to remove, which the report being written can hide)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread = threading.Thread(target=shutil.rmtree, args=(path,), kwargs={"ignore_errors": True})
        self._lock = threading.Lock()

    def remove(self) -> None:
        """Start removing it (once)."""
        with self._lock:
            if self._thread.ident is None:
                self._thread.start()

    def wait(self) -> None:
        """Wait until it is gone."""
        self._thread.join()


def _planned_checks(
    files: Sequence[Path], formats: Sequence[RdfFormatInfo], shapes: Graph, folder: Path, processes: int, budget: int
) -> list[Callable[[], tuple[list[Any], dict[Node, Node]]]] | None:
    """Split ``files`` into ``folder`` and plan the groups: a task per group, the longest
    first; None when the data or the shapes do not fit the scheme."""
    splits: list[Callable[[], dict[str, tuple[Path, int]]]] = []
    sources: list[tuple[RdfFormatInfo, str]] = []  # of each split: the format and base IRI
    for n, (path, fmt) in enumerate(zip(files, formats)):
        for r, (start, end) in enumerate(byte_ranges(path, processes)):
            splits.append(partial(_split_range, path, start, end, folder, f"file{n}-range{r}", fmt.extension))
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
    written: list[dict[str, tuple[Path, int]]] | None = splitting.answers()
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
    groups = sized_groups(footprints, sizes, sum(sizes.values()), processes, budget)
    if groups is None:
        return None
    planned = frozenset(footprints)
    ordered = sorted(groups, key=lambda g: -g.time)  # the longest first: the last to end is short
    loaded = frozenset().union(*(g.predicates for g in groups)) | {OTHER}
    unread = [one for name, one in files_of if name not in loaded]
    checks: list[Callable[[], tuple[list[Any], dict[Node, Node]]]] = []
    for group in ordered:
        inputs = [one for name, one in files_of if name in group.predicates or name == OTHER]
        checks.append(partial(_check_group, group, inputs, unread if group is ordered[-1] else [], shapes, planned))
    return checks
