"""Validation of large N-Triples in predicate groups, each checked in memory by a process of its own.

Data too large to hold in memory went to an on-disk store: bulk-loaded (as long as the
load alone), compacted, then queried. But each compiled job reads a few predicates
(:func:`~kg.shacl.engine.job_predicates`): the jobs are packed into groups, each group's
triples — those of its predicates, with every ``rdf:type``, ``rdfs:subClassOf`` and
``rdfs:label`` triple, which targets, class tests and labels read — are picked from the
files by a forked process, loaded into an in-memory store (three times less CPU per
triple than the bulk loader) and checked there. At most one group per core runs at a
time; groups are sized so that those running fit the memory budget.

Whatever does not fit the scheme makes :func:`validate_in_groups` answer None, and the
caller validates the usual way: blank nodes (each load names them anew, so two groups
could not agree on one), a line whose predicate cannot be read off its text, a syntax
error (the usual loader names its file and line), a process that fails or dies.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox
from rdflib import Graph, Node, URIRef

from ..formats import rdf_format_for_path
from ..namespaces import RDF, RDFS
from ..rdfio import _written_together
from .engine import EngineReport, JobKey, job_predicates, report_of_parts, validate_part

__all__ = ["Group", "plan_groups", "predicate_shares", "validate_in_groups"]

T = TypeVar("T")

#: what every group holds: targets and class tests read types and the class hierarchy,
#: and reports name focus nodes by their labels
EVERY_GROUP = frozenset({str(RDF.type), str(RDFS.subClassOf), str(RDFS.label)})
#: how much of a file a process reads at a time
CHUNK_BYTES = 64 * 1024 * 1024
#: memory of an in-memory store per byte of the N-Triples it holds (measured: 614 MB → 2.1 GB)
MEMORY_PER_BYTE = 3.5
#: the formats whose lines can be picked by predicate
LINE_FORMATS = frozenset({"ntriples", "nquads"})
#: how far above an even share of the data a group may grow to hold fewer copies of a predicate
_SLACK = 1.15


@dataclass(frozen=True)
class Group:
    """Jobs checked together, and the predicates whose triples their store holds."""

    predicates: frozenset[str]
    jobs: tuple[JobKey, ...]
    #: the estimated share of the data's triples the group loads (with :data:`EVERY_GROUP`)
    share: float


def predicate_shares(files: Sequence[Path], *, samples: int = 256, lines: int = 64) -> dict[str, float]:
    """Each predicate's estimated share of the lines of N-Triples ``files``, read at
    ``samples`` places spread over each file (generated and dumped data is often
    written class by class, so the head of a file says little)."""
    counts: dict[str, int] = {}
    total = 0
    for path in files:
        size = path.stat().st_size
        with path.open("rb") as handle:
            for i in range(samples):
                handle.seek(size * i // samples)
                if i:
                    handle.readline()  # the rest of a line cut in the middle
                for _ in range(lines):
                    terms = handle.readline().split(None, 2)
                    if len(terms) > 1 and terms[1].startswith(b"<") and terms[1].endswith(b">"):
                        predicate = terms[1][1:-1].decode("utf-8", "replace")
                        counts[predicate] = counts.get(predicate, 0) + 1
                        total += 1
    return {p: n / total for p, n in counts.items()} if total else {}


def plan_groups(footprints: Mapping[JobKey, frozenset[str]], shares: Mapping[str, float], parts: int) -> list[Group]:
    """The jobs packed into at most ``parts`` groups of about even shares of the data,
    each job where it adds the least data (a predicate two groups read is loaded twice)."""

    def share(predicates: frozenset[str] | set[str]) -> float:
        return sum(shares.get(p, 0.0) for p in predicates if p not in EVERY_GROUP)

    everything = frozenset().union(*footprints.values()) if footprints else frozenset()
    cap = share(everything) / parts * _SLACK
    predicates: list[set[str]] = [set() for _ in range(parts)]
    jobs: list[list[JobKey]] = [[] for _ in range(parts)]
    for key, reads in sorted(footprints.items(), key=lambda item: (-share(item[1]), str(item[0][0]), item[0][1])):

        def cost(i: int) -> tuple[float, float]:
            grown = share(predicates[i] | reads)
            return (share(reads - predicates[i]) if grown <= cap else float("inf"), share(predicates[i]))

        chosen = min(range(parts), key=cost)
        predicates[chosen] |= reads
        jobs[chosen].append(key)
    common = sum(shares.get(p, 0.0) for p in EVERY_GROUP)
    return [
        Group(frozenset(p | EVERY_GROUP), tuple(j), share(p) + common)
        for p, j in zip(predicates, jobs)
        if j
    ]


def _sized_groups(footprints: Mapping[JobKey, frozenset[str]], files: Sequence[Path], processes: int, budget: int) -> list[Group] | None:
    """The fewest groups (a multiple of ``processes``, so the cores stay busy) whose
    stores, ``processes`` at a time, fit ``budget`` bytes; None if no such plan exists."""
    shares = predicate_shares(files)
    size = sum(p.stat().st_size for p in files)
    for parts in range(processes, 8 * processes + 1, processes):
        groups = plan_groups(footprints, shares, parts)
        largest = max((g.share for g in groups), default=0.0) * size * MEMORY_PER_BYTE + CHUNK_BYTES
        if processes * largest <= budget:
            return groups
    return None


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
            handle.readline()  # the line that began before ``start`` is another range's
        while handle.tell() < end:
            chunk = handle.read(min(CHUNK_BYTES, end - handle.tell()))
            if not chunk:
                return
            yield chunk + (b"" if chunk.endswith(b"\n") else handle.readline())


class _NotSplittable(Exception):
    """The data cannot be picked line by line: validate it the usual way."""


def _split_range(path: Path, start: int, end: int, groups: Sequence[Group], outputs: Sequence[Path]) -> None:
    """Write each group's lines of a byte range of ``path`` to its output file (one pass
    for every group: a line goes to each group whose predicates hold its predicate)."""
    wanted: dict[bytes, list[int]] = {}
    for index, group in enumerate(groups):
        for predicate in group.predicates:
            wanted.setdefault(f"<{predicate}>".encode(), []).append(index)
    handles = [out.open("wb") for out in outputs]
    try:
        for chunk in _pieces(path, start, end):
            if b"_:" in chunk:
                raise _NotSplittable("blank nodes: each load names them anew")
            if b"\\u" in chunk or b"\\U" in chunk or b"<<" in chunk or _written_together(chunk):
                raise _NotSplittable("a line's predicate cannot be read off by whitespace")
            kept: list[list[bytes]] = [[] for _ in groups]
            for line in chunk.splitlines(keepends=True):
                terms = line.split(None, 2)
                if len(terms) > 1:
                    for index in wanted.get(terms[1], ()):
                        kept[index].append(line)
            for handle, lines in zip(handles, kept):
                handle.write(b"".join(lines))
    finally:
        for handle in handles:
            handle.close()


def _labels(store: ox.Store, nodes: set[Node]) -> dict[Node, Node]:
    from ..rdfio import to_rdflib_term

    found: dict[Node, Node] = {}
    label = ox.NamedNode(str(RDFS.label))
    for node in nodes:
        if isinstance(node, URIRef):
            quad = next(iter(store.quads_for_pattern(ox.NamedNode(str(node)), label, None, ox.DefaultGraph())), None)
            if quad is not None:
                found[node] = to_rdflib_term(quad.object)
    return found


def _check_group(group: Group, inputs: Sequence[tuple[Path, str]], shapes: Graph, planned: frozenset[JobKey]) -> tuple[list, dict[Node, Node]]:
    """Load a group's lines (``inputs``: each written file, with the base IRI of the file it
    came from) into an in-memory store and run its jobs: the rows, and the labels of their
    focus nodes."""
    store = ox.Store()
    for path, base in inputs:
        fmt = rdf_format_for_path(path)
        assert fmt is not None
        store.load(path=str(path), format=fmt.oxigraph, base_iri=base, to_graph=ox.DefaultGraph())
    rows = validate_part(store, shapes, group.jobs, planned)
    return rows, _labels(store, {row.focus for row in rows})


def _task_main(sending: Connection, task: Callable[[], T]) -> None:
    try:
        sending.send(("ok", task()))
    except BaseException as exc:  # noqa: BLE001 - reported; the caller validates the usual way
        sending.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        sending.close()


def _in_processes(tasks: Sequence[Callable[[], T]], processes: int) -> list[T] | None:
    """Each task's answer, run in forked processes, at most ``processes`` at a time (a
    process per task: memory an in-memory store took goes back to the system with it);
    None as soon as one fails or dies (the others are stopped)."""
    context = multiprocessing.get_context("fork")
    waiting = list(enumerate(tasks))
    running: dict[Connection, tuple[int, multiprocessing.process.BaseProcess]] = {}
    answers: dict[int, T] = {}
    try:
        while waiting or running:
            while waiting and len(running) < processes:
                index, task = waiting.pop(0)
                receiving, sending = context.Pipe(duplex=False)
                process = context.Process(target=_task_main, args=(sending, task), daemon=True)
                process.start()
                sending.close()
                running[receiving] = (index, process)
            for ready in wait(list(running)):
                assert isinstance(ready, Connection)
                index, process = running.pop(ready)
                try:
                    status, answer = ready.recv()
                except (EOFError, OSError):
                    status, answer = "died", None
                ready.close()
                process.join()
                if status != "ok":
                    return None
                answers[index] = answer
    finally:
        for _, process in running.values():
            process.kill()
            process.join()
    return [answers[i] for i in range(len(tasks))]


def validate_in_groups(
    files: Sequence[Path], shapes: Graph, *, processes: int, budget: int
) -> tuple[EngineReport, dict[Node, Node]] | None:
    """A whole validation of N-Triples or N-Quads ``files`` in predicate groups, with the
    labels of the reported focus nodes; None when it cannot be done so (see the module).

    Two rounds of processes: each splits a byte range of a file into one file per group
    (one pass over the data for every group), then each loads and checks a group."""
    if processes < 2 or not files or not all(p.is_file() and p.stat().st_size for p in files):
        return None
    formats = [rdf_format_for_path(p) for p in files]
    if any(f is None or f.name not in LINE_FORMATS for f in formats):
        return None
    footprints = job_predicates(shapes)
    if not footprints:
        return None
    groups = _sized_groups(footprints, files, processes, budget)
    if groups is None:
        return None
    with tempfile.TemporaryDirectory(prefix="kg-groups-") as tmp:
        splits: list[Callable[[], None]] = []
        inputs: list[list[tuple[Path, str]]] = [[] for _ in groups]
        for n, (path, fmt) in enumerate(zip(files, formats)):
            assert fmt is not None
            for r, (start, end) in enumerate(_ranges(path, processes)):
                outputs = [Path(tmp) / f"group{g}-file{n}-range{r}.{fmt.extension}" for g in range(len(groups))]
                for g, out in enumerate(outputs):
                    inputs[g].append((out, path.resolve().as_uri()))
                splits.append(partial(_split_range, path, start, end, groups, outputs))
        if _in_processes(splits, processes) is None:
            return None
        planned = frozenset(footprints)
        checked = _in_processes([partial(_check_group, g, i, shapes, planned) for g, i in zip(groups, inputs)], processes)
    if checked is None:
        return None
    rows = [row for found, _ in checked for row in found]
    labels = {node: label for _, named in checked for node, label in named.items()}
    return report_of_parts(shapes, rows), labels
