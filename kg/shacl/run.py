"""Where a validation's jobs run: on the store here, in worker processes, or shared with a twin.

pyoxigraph keeps the GIL while it evaluates a query, so the jobs planned by
:mod:`kg.shacl.plan` spread over cores only in processes: worker processes that open an
on-disk store read-only, or, when asked for (:attr:`StoreLayout.twin`), a twin process
holding its own copy of an in-memory store. Whatever else the store holds that the plan
must know of (the shapes graph, a native copy of the data) is said by a
:class:`StoreLayout`. Shapes the engine does not compile go to pyshacl on an rdflib copy
of the data, and every row ends in one report (:mod:`kg.shacl.results`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Node

from kg.namespaces import SH
from kg.shacl.model import Shape, ShapesGraph
from kg.shacl.patterns import Unsupported
from kg.shacl.plan import Job, JobKey, Planner
from kg.shacl.results import ENGINE_PYSHACL, EngineReport, Row, conclude, merge_pyshacl, write_rows
from kg.shacl.scale.parallel import GraphQuery, Solutions, Twin, map_select, select, worker_pool

__all__ = ["StoreLayout", "twin_plan", "validate_oxigraph", "validate_part"]

#: the least time to wait for a twin's answers once this process has done its share (s)
_TWIN_PATIENCE = 5.0


@dataclass(frozen=True)
class StoreLayout:
    """How a validation store holds what the engine reads, beyond the data in its default graph."""

    #: the directory of an on-disk store nobody writes meanwhile: worker processes open it
    path: Path | None = None
    #: how many worker processes evaluate the queries (with ``path``)
    processes: int = 1
    #: the graph holding the shapes (what ``$shapesGraph`` means in a SPARQL constraint)
    shapes_graph: str | None = None
    #: typed literals are under private datatypes (:func:`kg.shacl.literals.protect`)
    exact_literals: bool = False
    #: with exact literals: a copy of the data loaded as is, which SPARQL constraints
    #: (written against ordinary literals) read
    native_graph: str | None = None
    #: a process holding its own copy of this in-memory store, sharing the queries
    #: (:func:`twin_plan` plans them there)
    twin: Twin | None = None


def _plan(store: ox.Store, shapes: ShapesGraph, focus: Collection[Node] | None, layout: StoreLayout) -> tuple[EngineReport, list[Job], list[Shape]]:
    """:meth:`~kg.shacl.plan.Planner.plan` for a store laid out as ``layout`` says."""
    planner = Planner(
        store, shapes, focus, shapes_graph_name=layout.shapes_graph, exact=layout.exact_literals, native_graph=layout.native_graph
    )
    return planner.plan()


def validate_oxigraph(
    store: ox.Store,
    shapes_graph: Graph,
    *,
    focus: Collection[Node] | None = None,
    rdflib_data: Callable[[], Graph] | None = None,
    layout: StoreLayout | None = None,
) -> EngineReport:
    """Validate the store's default graph against ``shapes_graph``.

    ``focus`` limits validation to those focus nodes (the incremental check of a change);
    ``rdflib_data`` gives the data as an rdflib graph for the shapes pyshacl must check
    (called only when there is such a shape); ``layout`` says what else the store holds.
    """
    shapes = ShapesGraph(shapes_graph)
    layout = layout or StoreLayout()
    if layout.exact_literals and layout.native_graph is None and any(True for _ in shapes_graph.subjects(SH.select, None)):
        raise ValueError("exact literals with SPARQL constraints need a native_graph")
    report, jobs, fallback = _plan(store, shapes, focus, layout)
    rows = _run_jobs(store, jobs, layout)
    write_rows(report, shapes, rows)
    if fallback:
        if rdflib_data is None:
            raise Unsupported("shapes need pyshacl but no rdflib copy of the data was given")
        for shape in fallback:
            report.engines[shape.node] = ENGINE_PYSHACL
        merge_pyshacl(report, shapes, fallback, rdflib_data(), focus)
    return conclude(report)


def twin_plan(shapes_graph: Graph, layout: StoreLayout) -> Callable[[ox.Store], list[GraphQuery]]:
    """The queries a :class:`~kg.shacl.scale.parallel.Twin` shares with this process once it has
    built its copy of the store: those of a whole validation, planned as this process
    plans them (the same data and shapes give the same queries; answers are matched by
    their text, so a twin that planned otherwise only costs time)."""

    def plan(store: ox.Store) -> list[GraphQuery]:
        _, jobs, _ = _plan(store, ShapesGraph(shapes_graph), None, layout)
        return [(j.query, j.default_graph) for j in jobs if j.query is not None]

    return plan


def validate_part(store: ox.Store, shapes_graph: Graph, keys: Collection[JobKey], planned: Collection[JobKey]) -> list[Row]:
    """The result rows of the jobs ``keys`` names, over ``store`` (which holds at least
    what they read, :func:`~kg.shacl.plan.job_reads`): one part of a whole validation whose
    parts are checked on different stores (:mod:`kg.shacl.scale.groups`). Raises
    :class:`Unsupported` when this store plans a shape otherwise than ``planned`` (every
    job of the whole validation) says: the parts could not be matched."""
    shapes = ShapesGraph(shapes_graph)
    planner = Planner(store, shapes, None)
    wanted = set(keys)
    rows: list[Row] = []
    for shape in shapes.targeted():
        mine = sorted(i for node, i in wanted if node == shape.node)
        if not mine or not planner.has_focus_nodes(shape):
            continue
        jobs = planner.jobs(shape)
        if len(jobs) != sum(1 for node, _ in planned if node == shape.node):
            raise Unsupported(f"shape {shape.node} is planned otherwise on this data")
        for index in mine:
            job = jobs[index]
            rows.extend(job.rows(select(store, job.query, job.default_graph) if job.query is not None else []))
    return rows


def _run_jobs(store: ox.Store, jobs: list[Job], layout: StoreLayout) -> list[Row]:
    """Evaluate the jobs' queries here, in worker processes over an on-disk store, or
    shared with the in-memory store's twin (each process takes the next query left).

    Workers forked from this process after an in-memory store is loaded were measured to
    copy most of it (reading it writes to its pages) for no gain in time on two shared
    cores; a twin loads its own copy at the same time as this process instead."""
    remote = [j for j in jobs if j.query is not None]
    rows: list[Row] = []
    if layout.path is not None and layout.processes > 1 and len(jobs) > layout.processes and remote:
        with worker_pool(layout.path, layout.processes) as pool:
            for job, solutions in zip(remote, map_select(pool, [(j.query, j.default_graph) for j in remote if j.query])):
                rows.extend(job.rows(solutions))
    elif layout.twin is not None and remote:
        keys = [(j.query or "", j.default_graph) for j in remote]
        answered: dict[GraphQuery, Solutions] = {}
        started = time.monotonic()
        while (taken := layout.twin.claim()) < len(keys):
            answered[keys[taken]] = select(store, *keys[taken])
        if any(key not in answered for key in keys):
            # the twin began its share when this process did: waiting as long again is plenty
            theirs = layout.twin.answers(timeout=max(_TWIN_PATIENCE, time.monotonic() - started))
            answered.update((key, found) for key, found in theirs.items() if _same_blank_nodes(store, found))
        for job, key in zip(remote, keys):
            if key not in answered:  # the twin failed, or planned differently: evaluate here
                answered[key] = select(store, *key)
            rows.extend(job.rows(answered[key]))
    else:
        for job in remote:
            rows.extend(job.rows(select(store, job.query or "", job.default_graph)))
    for job in jobs:
        if job.query is None:
            rows.extend(job.rows([]))
    return rows


def _same_blank_nodes(store: ox.Store, solutions: Solutions) -> bool:
    """Whether every blank node in a twin's solutions is one this store holds too.

    The twin parsed the same files, and forked from this process it draws the same blank
    node identifiers; nothing in pyoxigraph promises that, so an answer naming a blank
    node this store does not know is evaluated again here."""
    def held(node: ox.BlankNode) -> bool:
        found = chain(store.quads_for_pattern(node, None, None), store.quads_for_pattern(None, None, node))
        return next(found, None) is not None

    return all(held(term) for solution in solutions for term in solution.values() if isinstance(term, ox.BlankNode))
