"""The one write path: every writer (Graph Store, SPARQL Update, ``kg ingest``, a new
document) describes its change (:mod:`kg.write.change`) and calls :func:`apply_write`,
which runs five named steps under the store's write lock::

    change ──stage──▶ staging graphs ──gate──▶ count ──▶ receipt ──commit (one transaction)──▶ Receipt
                           │             │ sh:Violation
                           └─ dropped ◀──┴──▶ ValidationFailed (store unchanged)

1. **stage** (:mod:`kg.write.staging`): the new content goes into staging graphs nobody sees;
2. **gate** (:mod:`kg.write.gate`): the state the write would produce is validated for the
   nodes it touches (the whole store when the shapes changed since the last write); a first
   load of files is validated from the files before step 1 when that is exact and pays
   (:mod:`kg.write.firstload`), so a refused one loads nothing;
3. **count**: what each graph gains and loses, for the receipt;
4. **receipt** (:mod:`kg.write.provenance`): who, when, from what, with which checksum;
5. **commit**: the writes and the receipt's ``prov:Activity`` in one transaction.

The "default graph" a client writes to (Graph Store ``?default``, an update's templates
without ``GRAPH``) is the named graph :data:`kg.iris.DEFAULT_GRAPH`; the default graph
queries see stays the union of every named graph (see :mod:`kg.write.update` for how
updates see it).

A write costs what it changes: on the embedded store a replace or an addition is staged as
the difference it makes to its graph (:func:`kg.write.staging.as_difference`), a SPARQL
update as the quads it deletes and inserts (:mod:`kg.write.update_direct`), and the gate,
the counts and the commit read only those. Replacing a graph by what it already holds
commits nothing but the receipt (+0 −0).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pyoxigraph as ox
from rdflib import Graph

from kg.errors import QueryError, StoreError, ValidationFailed
from kg.iris import PROVENANCE_GRAPH, activity_iri
from kg.rdfio import graph_to_triples
from kg.store.base import GraphWrite, InPlaceLoader, Store, WriteMode
from kg.validation.render import render_text
from kg.write.change import Change, FilesChange
from kg.write.firstload import is_first_load, validate_first
from kg.write.gate import GateResult, check_write, project_shapes
from kg.write.provenance import GraphReceipt, Receipt, SourceInfo, activity_triples, last_shapes_checksum
from kg.write.records import may_hold_blank_nodes
from kg.write.staging import Staged, canonical_sha256, stage_change

__all__ = ["apply_write", "write_lock"]

_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def write_lock(store: Store) -> threading.RLock:
    """The lock that serializes writers of one store in this process (pyoxigraph itself
    keeps a second process from opening an embedded store for writing; writers of a remote
    store in other processes are kept apart by the one-operation commit, last one wins)."""
    key = store.location
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.RLock())


def apply_write(
    store: Store,
    change: Change,
    *,
    agent: str,
    source: SourceInfo | None,
    shapes: Graph | None = None,
    progress: Callable[[int], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> Receipt:
    """Validate the state ``change`` would produce and, if no ``sh:Violation``, commit it
    with its receipt in one transaction.

    Raises :class:`~kg.errors.ValidationFailed` (with the report) when the shapes are
    broken, :class:`~kg.errors.InputError` for input that cannot be read (file:line:col),
    :class:`~kg.errors.ProtectedGraphError` for the provenance graph; in every case the
    store is left exactly as it was. ``progress`` is called with byte counts while files
    stream in; ``on_stage`` with "staging", "validating" and "committing" as the write
    moves on. ``shapes`` replaces the project's shapes (for tests and benchmarks).
    """
    def reached(step: str) -> None:
        if on_stage is not None:
            on_stage(step)

    if store.read_only:
        raise StoreError(f"the store at {store.location} is open read-only; writes need a writable store")
    with write_lock(store):
        started = datetime.now(UTC)
        staged = Staged()
        union_touched = False
        try:
            shapes_graph, shapes_sum = _shapes(shapes)
            # a first load of files validated before it loads: refused, it loads nothing
            checked = validate_first(store, change, shapes_graph, starting=lambda: reached("validating"))
            if checked is not None:
                _refuse_if_broken(checked)
            reached("staging")
            alongside = _union_alongside(store, change)
            union_touched = alongside is not None
            writes = stage_change(store, change, staged, progress, alongside=alongside, screened=checked is not None)
            # into a store that holds nothing else, the union copy goes in before the gate, which
            # then validates the store's default graph where it is (undoing it there costs nothing)
            if not union_touched and _holds_nothing_else(store, staged) and _union_by_bulk_load(store, change, staged):
                union_touched = True
            if union_touched:
                writes = [dataclasses.replace(w, union_loaded=True) for w in writes]
            if checked is None:
                reached("validating")
            gate = _gate(store, writes, shapes_graph, shapes_sum, checked)
            if not union_touched and _union_by_bulk_load(store, change, staged):
                union_touched = True
                writes = [dataclasses.replace(w, union_loaded=True) for w in writes]
            elif not union_touched and _union_holds_it(store, staged):
                writes = [dataclasses.replace(w, union_loaded=True) for w in writes]
            graphs = [_count(store, w) for w in writes]
            receipt = Receipt(
                iri=str(activity_iri(f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:12]}")),
                agent=agent,
                source=source.name if source else None,
                sha256=_source_digest(store, source, staged, writes),
                started=started,
                ended=datetime.now(UTC),
                graphs=graphs,
                conforms=gate.report.conforms,
                warnings=_warnings(gate),
                focus_nodes=gate.focus_nodes,
                whole_store=gate.whole_store,
                shapes_sha256=shapes_sum,
            )
            reached("committing")
            _commit(store, writes, receipt, staged)
            return receipt
        except SyntaxError as exc:  # an update or body the caller passed as text
            raise QueryError(f"SPARQL syntax error: {exc}") from None
        finally:
            _undo(store, staged, union_touched=union_touched)


def _shapes(shapes: Graph | None) -> tuple[Graph, str]:
    """The shapes a write is checked against (the project's unless given), and their sha256."""
    project_graph, project_sum = project_shapes()
    if shapes is None:
        return project_graph, project_sum
    return shapes, canonical_sha256(graph_to_triples(shapes))


def _gate(store: Store, writes: list[GraphWrite], shapes: Graph, shapes_sum: str,
          checked: GateResult | None = None) -> GateResult:
    """Step 2: validate the state ``writes`` would produce; raise :class:`ValidationFailed` on a
    violation. The whole store is checked when the shapes changed since the last write.
    ``checked``: the verdict already reached on a first load's files
    (:func:`kg.write.firstload.validate_first`), taken when the write is that load."""
    if checked is not None and len(writes) == 1 and writes[0].mode is WriteMode.LOADED:
        return checked
    recorded = last_shapes_checksum(store)
    gate = check_write(store, writes, shapes=shapes, whole=recorded is not None and recorded != shapes_sum)
    _refuse_if_broken(gate)
    return gate


def _refuse_if_broken(gate: GateResult) -> None:
    """Raise :class:`ValidationFailed` with the report when the gate found a violation."""
    if gate.report.failed():
        violations = sum(1 for r in gate.report.results if r.severity == "Violation")
        raise ValidationFailed(
            f"the write would break the shapes ({violations} violations); nothing was written\n"
            + render_text(gate.report),
            report=gate.report,
        )


def _count(store: Store, w: GraphWrite) -> GraphReceipt:
    """Step 3: what the write does to one graph (triples added and removed). A graph that does
    not exist yet is reported as ``create``, whatever the writer asked (a first ``kg
    add-document`` replaces nothing)."""
    g = f"<{w.graph}>"
    if w.diff:  # what the graph gains and loses is staged as it is: count it
        added, removed = (sum(_size(store, x) for x in staged) for staged in (w.staged, w.removed))
        mode = w.mode.value if store.has_graph(w.graph) else WriteMode.LOADED.value
        return GraphReceipt(w.graph, mode, added, removed)
    if w.mode in (WriteMode.REPLACE, WriteMode.ADD) and not store.has_graph(w.graph):
        added = store.count(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ VALUES ?x {{ {' '.join(f'<{s}>' for s in w.staged)} }} "
            f"GRAPH ?x {{ ?s ?p ?o }} }} }}"
        ) if w.staged else 0
        return GraphReceipt(w.graph, WriteMode.LOADED.value, added, 0)
    if w.mode is WriteMode.LOADED:
        return GraphReceipt(w.graph, w.mode.value, store.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }}"), 0)
    if w.mode is WriteMode.DROP:
        removed = store.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }}")
        return GraphReceipt(w.graph, w.mode.value, 0, removed)
    values = " ".join(f"<{s}>" for s in w.staged)
    added = store.count(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ VALUES ?x {{ {values} }} "
        f"GRAPH ?x {{ ?s ?p ?o }} FILTER NOT EXISTS {{ GRAPH {g} {{ ?s ?p ?o }} }} }} }}"
    ) if w.staged else 0
    removed = 0
    if w.mode is WriteMode.REPLACE:
        keep = f"FILTER NOT EXISTS {{ VALUES ?x {{ {values} }} GRAPH ?x {{ ?s ?p ?o }} }}" if w.staged else ""
        removed = store.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {g} {{ ?s ?p ?o }} {keep} }}")
    return GraphReceipt(w.graph, w.mode.value, added, removed)


def _holds_nothing_else(store: Store, staged: Staged) -> bool:
    """True when the graphs being loaded in place are all the store holds, receipts aside."""
    return bool(staged.loading) and set(store.named_graphs()) <= {*staged.loading, str(PROVENANCE_GRAPH)}


def _size(store: Store, graph: str) -> int:
    return store.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")


def _union_alongside(store: Store, change: Change) -> Callable[[], None] | None:
    """The union copy of a first load, to run beside it: for files loaded in place as a new
    graph into a store that holds nothing but receipts, when a byte scan proves they have no
    blank node (two loads of a file name its anonymous blank nodes anew). Two bulk loads at
    once take about half the time of one after the other on two cores (``bench/README.md``)."""
    loader = store.in_place_loader()
    if loader is None or not is_first_load(change, store) or change.shared or may_hold_blank_nodes(change):
        return None
    return functools.partial(_load_union, loader, change)


def _union_by_bulk_load(store: Store, change: Change, staged: Staged) -> bool:
    """For a graph loaded in place without blank nodes: load its files into the union too, at
    bulk speed (the same triples as copying them at commit). True when it did. Never when
    readers share the handle: their queries read the union."""
    loader = store.in_place_loader()
    if not staged.loading or loader is None or not isinstance(change, FilesChange) or change.shared:
        return False
    if may_hold_blank_nodes(change) and loader.has_blank_nodes(staged.loading[0]):
        return False
    _load_union(loader, change)
    return True


def _load_union(loader: InPlaceLoader, change: FilesChange) -> None:
    """The files' triples into the union, at bulk speed, each read against its own base."""
    for source in change.files:
        loader.load_union(source.path, source.format, base_iri=change.base_for(source))


def _union_holds_it(store: Store, staged: Staged) -> bool:
    """True when the union holds every triple of the graphs loaded in place already (a Graph
    Store ``POST`` of triples another graph holds): their union copy is in, and the commit
    copies nothing (300k triples: 1.5 s to tell, against 7 s of copying what is there). An
    answer at the first triple the union lacks."""
    if not staged.loading:
        return False
    lacking = store.reader().outside_union([ox.NamedNode(g) for g in staged.loading])
    return next(iter(lacking), None) is None


def _source_digest(store: Store, source: SourceInfo | None, staged: Staged, writes: list[GraphWrite]) -> str:
    """The sha256 the receipt records: the caller's, else the files' bytes, else the canonical
    N-Quads of what was staged."""
    if source is not None and source.sha256:
        return source.sha256
    if staged.digest is not None:
        return staged.digest
    return canonical_sha256(t for w in writes for s in w.staged for t in store.graph_triples(s))


def _warnings(gate: GateResult) -> list[dict[str, Any]]:
    return [r.__dict__ for r in gate.report.results if r.severity != "Violation"]


def _commit(store: Store, writes: list[GraphWrite], receipt: Receipt, staged: Staged) -> None:
    """Step 5: the writes and the receipt's provenance record, in one transaction."""
    prov = store.stage(activity_triples(receipt))
    staged.graphs.append(prov)
    store.commit([*writes, GraphWrite(str(PROVENANCE_GRAPH), WriteMode.ADD, (prov,))])
    staged.graphs.clear()
    staged.loading.clear()


def _undo(store: Store, staged: Staged, *, union_touched: bool) -> None:
    """Drop what a write that did not commit left staged (nothing after a commit)."""
    if staged.graphs:
        try:
            store.drop_staging(staged.graphs)
        except StoreError:
            pass  # left behind they stay invisible; the error that ended the write is the one to report
    loader = store.in_place_loader()
    for graph in staged.loading:
        if loader is not None:
            loader.abandon_load(graph, union_touched=union_touched)
