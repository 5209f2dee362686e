"""The one write path: every writer (Graph Store, SPARQL Update, ``kg ingest``, a new
document) describes its change as a :class:`Change` and calls :func:`apply_write`.

::

    Change ──stage──▶ staging graphs ──SHACL gate──▶ commit (one transaction) ──▶ Receipt
                           │                 │ sh:Violation
                           └── dropped ◀─────┴──▶ ValidationFailed (store unchanged)

The receipt is also written, in the same transaction, to the provenance graph as a
``prov:Activity`` (see :mod:`kg.write.provenance`), so who wrote what, when, from which
source and with which checksum is queryable by SPARQL.

The "default graph" a client writes to (Graph Store ``?default``, an update's
templates without ``GRAPH``) is the named graph :data:`kg.iris.DEFAULT_GRAPH`; the
default graph queries see stays the union of every named graph (see :mod:`kg.write.update`
for how updates see it).

A SPARQL update is evaluated on an in-memory copy of the dataset and turned into
per-graph writes (add or replace), so it passes the same gate as everything else;
its cost grows with the size of the store, unlike the other changes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox
from rdflib import Graph

from kg.errors import InputError, Location, ProtectedGraphError, QueryError, StoreError, ValidationFailed
from kg.formats import RdfFormatInfo
from kg.iris import DEFAULT_GRAPH, PROVENANCE_GRAPH, activity_iri
from kg.rdfio import XML_PROLOG_BYTES, graph_to_triples, refuse_xml_entities
from kg.store import Store
from kg.store.embedded import STAGING_PREFIX, EmbeddedStore, GraphWrite, WriteMode
from kg.validation.render import render_text
from kg.write.gate import GateResult, check_write, project_shapes
from kg.write.provenance import activity_triples, last_shapes_checksum

__all__ = ["Change", "ChangeKind", "GraphReceipt", "Receipt", "SourceInfo", "apply_write", "syntax_error", "write_lock"]

_DEFAULT = ox.DefaultGraph()


class ChangeKind(str, Enum):
    """The kinds of change a writer can ask for."""

    REPLACE = "replace"  # graph G becomes the given triples
    ADD = "add"  # the triples join graph G
    DELETE = "delete"  # graph G goes
    UPDATE = "update"  # a SPARQL 1.1 Update
    DATASET = "dataset"  # quads: each graph they name gets them (added, or replaced)
    FILES = "files"  # RDF files (large): streamed into graph G, replacing it or added to it


@dataclass(frozen=True)
class Change:
    """What a writer wants done. Build one with the class methods."""

    kind: ChangeKind
    graph: str | None = None
    triples: tuple[ox.Triple, ...] = ()
    quads: tuple[ox.Quad, ...] = ()
    update: str | None = None
    using_graphs: tuple[str, ...] = ()
    using_named_graphs: tuple[str, ...] = ()
    base_iri: str | None = None
    files: tuple[Path, ...] = ()
    formats: tuple[RdfFormatInfo, ...] = ()
    #: what errors call each file (a request body's temporary file is "request body")
    labels: tuple[str, ...] = ()
    replace_graphs: bool = False
    #: a new graph may be loaded in place under a journal (the writer holds the store alone)
    in_place: bool = False

    @classmethod
    def replace(cls, graph: str | None, triples: Iterable[ox.Triple] | Graph) -> Change:
        """Graph ``graph`` (None: the default graph) becomes ``triples``."""
        return cls(ChangeKind.REPLACE, _graph_name(graph), _triples(triples))

    @classmethod
    def add(cls, graph: str | None, triples: Iterable[ox.Triple] | Graph) -> Change:
        """``triples`` join graph ``graph`` (None: the default graph)."""
        return cls(ChangeKind.ADD, _graph_name(graph), _triples(triples))

    @classmethod
    def delete(cls, graph: str | None) -> Change:
        """Graph ``graph`` (None: the default graph) goes."""
        return cls(ChangeKind.DELETE, _graph_name(graph))

    @classmethod
    def sparql_update(
        cls,
        update: str,
        *,
        using_graphs: Sequence[str] = (),
        using_named_graphs: Sequence[str] = (),
        base_iri: str | None = None,
    ) -> Change:
        """A SPARQL 1.1 Update, with the protocol's ``using-graph-uri``/``using-named-graph-uri``."""
        return cls(ChangeKind.UPDATE, update=update, using_graphs=tuple(using_graphs),
                   using_named_graphs=tuple(using_named_graphs), base_iri=base_iri)

    @classmethod
    def dataset(cls, quads: Iterable[ox.Quad], *, replace: bool = False) -> Change:
        """Quads of several graphs (default-graph quads go to the default graph)."""
        return cls(ChangeKind.DATASET, quads=tuple(quads), replace_graphs=replace)

    @classmethod
    def from_files(
        cls,
        graph: str | None,
        files: Sequence[tuple[Path, RdfFormatInfo]],
        *,
        add: bool = False,
        labels: Sequence[str] | None = None,
        base_iri: str | None = None,
        in_place: bool = False,
    ) -> Change:
        """RDF files streamed into graph ``graph`` (None: the default graph), replacing it or,
        with ``add``, joining it. Nothing is held in memory: for large ingests and bodies.

        ``in_place``: when the graph does not exist yet, load it where it will live, under a
        journal, instead of in a staging graph copied at commit — about half the work for
        large files, but readers of the same store would see it fill up, so only for a
        writer that holds the store alone (``kg ingest``)."""
        return cls(ChangeKind.FILES, _graph_name(graph), files=tuple(f for f, _ in files),
                   formats=tuple(fmt for _, fmt in files), replace_graphs=not add, base_iri=base_iri,
                   labels=tuple(labels) if labels is not None else tuple(str(f) for f, _ in files),
                   in_place=in_place)


@dataclass(frozen=True)
class SourceInfo:
    """Where a change came from: a name (file, request) and the sha256 of its bytes if known."""

    name: str
    sha256: str | None = None


@dataclass(frozen=True)
class GraphReceipt:
    """What a write did to one graph."""

    graph: str
    mode: str
    added: int
    removed: int


@dataclass
class Receipt:
    """What a committed write did, as returned to the writer and recorded as provenance."""

    iri: str
    agent: str
    source: str | None
    sha256: str
    started: datetime
    ended: datetime
    graphs: list[GraphReceipt]
    conforms: bool
    warnings: list[dict[str, Any]]
    focus_nodes: int
    whole_store: bool
    shapes_sha256: str = ""
    created: bool = field(default=False)

    @property
    def added(self) -> int:
        """Triples added, over every graph."""
        return sum(g.added for g in self.graphs)

    @property
    def removed(self) -> int:
        """Triples removed, over every graph."""
        return sum(g.removed for g in self.graphs)

    def to_json(self) -> dict[str, Any]:
        """The receipt as JSON (what the HTTP API returns)."""
        return {
            "receipt": self.iri,
            "agent": self.agent,
            "source": self.source,
            "sha256": self.sha256,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat(),
            "graphs": [g.__dict__ for g in self.graphs],
            "added": self.added,
            "removed": self.removed,
            "validation": {
                "conforms": self.conforms,
                "warnings": self.warnings,
                "focus_nodes": self.focus_nodes,
                "whole_store": self.whole_store,
                "shapes_sha256": self.shapes_sha256,
            },
        }


_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def write_lock(store: Store) -> threading.RLock:
    """The lock that serializes writers of one store in this process (pyoxigraph itself
    keeps a second process from opening an embedded store for writing; writers of a remote
    store in other processes are kept apart by the one-operation commit, last one wins)."""
    key = store.location
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.RLock())


def _graph_name(graph: str | None) -> str:
    name = str(DEFAULT_GRAPH) if graph is None else str(graph)
    if name == str(PROVENANCE_GRAPH) or name.startswith(STAGING_PREFIX):
        raise ProtectedGraphError(f"<{name}> is written by the store itself and cannot be changed by a client")
    return name


def _triples(triples: Iterable[ox.Triple] | Graph) -> tuple[ox.Triple, ...]:
    return tuple(graph_to_triples(triples)) if isinstance(triples, Graph) else tuple(triples)


def _canonical_sha256(triples: Iterable[ox.Triple | ox.Quad]) -> str:
    """sha256 of the canonical N-Quads of ``triples`` (blank nodes canonicalised, lines sorted)."""
    dataset = ox.Dataset(
        t if isinstance(t, ox.Quad) else ox.Quad(t.subject, t.predicate, t.object, _DEFAULT) for t in triples
    )
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    lines = sorted(str(q) + " .\n" for q in dataset)
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


class _HashingReader:
    """A binary reader that hashes what passes through and reports progress."""

    def __init__(self, raw: IO[bytes], progress: Callable[[int], None] | None) -> None:
        self.raw, self.progress, self.digest = raw, progress, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        if self.progress is not None and data:
            self.progress(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True


_POSITION = re.compile(r"(\d+):(\d+)")


def _stage_files(store: Store, change: Change, progress: Callable[[int], None] | None,
                 staged: list[str], *, into: str | None = None) -> str:
    """Stream every file into its own staging graph (or all into ``into``); the sha256 of all their bytes."""
    total = hashlib.sha256()
    for path, fmt, label in zip(change.files, change.formats, change.labels):
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", location=Location(label)) from None
        with handle:
            if fmt.name == "rdfxml":
                refuse_xml_entities(handle.read(XML_PROLOG_BYTES), label)
                handle.seek(0)
            reader = _HashingReader(handle, progress)
            name = into or store.new_staging_graph()
            if into is None:
                staged.append(name)
            try:
                store.stage_file(reader, fmt=fmt, base_iri=change.base_iri or path.resolve().as_uri(), into=name)
            except SyntaxError as exc:
                raise syntax_error(label, fmt, exc) from None
            except (ValueError, UnicodeDecodeError) as exc:
                raise InputError(f"{fmt.name}: {exc}", location=Location(label)) from None
            except OSError as exc:
                raise StoreError(f"staging {label} in the store failed: {exc}") from None
        total.update(reader.digest.digest())
    if len(change.files) == 1:
        return reader.digest.hexdigest()
    return total.hexdigest()


def syntax_error(where: str, fmt: RdfFormatInfo, exc: SyntaxError) -> InputError:
    """A parser error with the file (or request) and the line and column it names."""
    message = str(exc)
    match = _POSITION.search(message)
    if match:
        loc = Location(where, int(match.group(1)), int(match.group(2)))
    elif exc.lineno:
        loc = Location(where, exc.lineno, exc.offset)
    else:
        loc = Location(where)
    return InputError(f"{fmt.name} syntax error: {message}", location=loc)


def _plan(store: Store, change: Change, staged: list[str], loading: list[str],
          progress: Callable[[int], None] | None) -> tuple[list[GraphWrite], str | None]:
    """Stage ``change`` and say what the commit would do; also the source hash when known."""
    def stage(triples: Iterable[ox.Triple]) -> tuple[str, ...]:
        name = store.stage(triples)
        staged.append(name)
        return (name,)

    kind = change.kind
    if kind is ChangeKind.REPLACE:
        return [GraphWrite(change.graph or "", WriteMode.REPLACE, stage(change.triples))], None
    if kind is ChangeKind.ADD:
        return [GraphWrite(change.graph or "", WriteMode.ADD, stage(change.triples))], None
    if kind is ChangeKind.DELETE:
        return [GraphWrite(change.graph or "", WriteMode.DROP)], None
    if (kind is ChangeKind.FILES and change.in_place and isinstance(store, EmbeddedStore) and change.graph
            and not store.has_graph(change.graph)):
        store.begin_load(change.graph)
        loading.append(change.graph)
        digest = _stage_files(store, change, progress, staged, into=change.graph)
        return [GraphWrite(change.graph, WriteMode.LOADED, (change.graph,))], digest
    if kind is ChangeKind.FILES:
        digest = _stage_files(store, change, progress, staged)
        mode = WriteMode.REPLACE if change.replace_graphs else WriteMode.ADD
        return [GraphWrite(change.graph or "", mode, tuple(staged))], digest
    if kind is ChangeKind.DATASET:
        by_graph: dict[str, list[ox.Triple]] = {}
        for q in change.quads:
            name = str(DEFAULT_GRAPH) if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
            by_graph.setdefault(_graph_name(name), []).append(ox.Triple(q.subject, q.predicate, q.object))
        mode = WriteMode.REPLACE if change.replace_graphs else WriteMode.ADD
        return [GraphWrite(g, mode, stage(ts)) for g, ts in sorted(by_graph.items())], None
    from kg.write.update import plan_update

    return [GraphWrite(g, mode, stage(ts) if ts is not None else ()) for g, mode, ts in plan_update(store, change)], None


#: byte sequences without which a file of these formats has no blank node
_BLANK_MARKS = {"ntriples": (b"_:",), "turtle": (b"_:", b"[", b"("), "n3": (b"_:", b"[", b"(")}


def _may_hold_blank_nodes(change: Change) -> bool:
    """False when a byte scan proves the files have no blank node (cheaper than asking the store)."""
    for path, fmt in zip(change.files, change.formats):
        marks = _BLANK_MARKS.get(fmt.name)
        if marks is None:
            return True
        with path.open("rb") as handle:
            tail = b""
            while chunk := handle.read(1 << 22):
                window = tail + chunk
                if any(m in window for m in marks):
                    return True
                tail = chunk[-1:]
    return False


def _bulk_union(store: EmbeddedStore, change: Change) -> None:
    """Load the files of an in-place load into the default graph too (the union copy)."""
    for path, fmt in zip(change.files, change.formats):
        try:
            store.oxigraph.bulk_load(path=str(path), format=fmt.oxigraph,
                                     base_iri=change.base_iri or path.resolve().as_uri(), to_graph=_DEFAULT)
        except (OSError, SyntaxError, ValueError) as exc:
            raise StoreError(f"loading {path} into the union failed: {exc}") from None


def _counts(store: Store, w: GraphWrite) -> GraphReceipt:
    g = f"<{w.graph}>"
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


def _warnings(gate: GateResult) -> list[dict[str, Any]]:
    return [r.__dict__ for r in gate.report.results if r.severity != "Violation"]


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
    def stage_reached(name: str) -> None:
        if on_stage is not None:
            on_stage(name)

    if store.read_only:
        raise StoreError(f"the store at {store.location} is open read-only; writes need a writable store")
    with write_lock(store):
        started = datetime.now(UTC)
        staged: list[str] = []
        loading: list[str] = []
        union_touched = False
        try:
            stage_reached("staging")
            writes, source_digest = _plan(store, change, staged, loading, progress)
            stage_reached("validating")
            project_graph, project_sum = project_shapes()
            shapes_graph = project_graph if shapes is None else shapes
            shapes_sum = project_sum if shapes is None else _canonical_sha256(graph_to_triples(shapes))
            recorded = last_shapes_checksum(store)
            whole = recorded is not None and recorded != shapes_sum
            gate = check_write(store, writes, shapes=shapes_graph, whole=whole)
            if gate.report.failed():
                violations = sum(1 for r in gate.report.results if r.severity == "Violation")
                raise ValidationFailed(
                    f"the write would break the shapes ({violations} violations); nothing was written\n"
                    + render_text(gate.report),
                    report=gate.report,
                )
            graphs = [_counts(store, w) for w in writes]
            created = any(w.mode is WriteMode.LOADED or (w.mode is not WriteMode.DROP and not store.has_graph(w.graph))
                          for w in writes)
            if loading and isinstance(store, EmbeddedStore) and not (
                    _may_hold_blank_nodes(change) and store.has_blank_nodes(loading[0])):
                # no blank nodes: loading the files again gives the same triples, at bulk speed
                union_touched = True
                _bulk_union(store, change)
                writes = [dataclasses.replace(w, union_loaded=True) for w in writes]
            if source is not None and source.sha256:
                digest = source.sha256
            elif source_digest is not None:
                digest = source_digest
            else:
                digest = _canonical_sha256(t for w in writes for s in w.staged for t in store.graph_triples(s))
            receipt = Receipt(
                iri=str(activity_iri(f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:12]}")),
                agent=agent,
                source=source.name if source else None,
                sha256=digest,
                started=started,
                ended=datetime.now(UTC),
                graphs=graphs,
                conforms=gate.report.conforms,
                warnings=_warnings(gate),
                focus_nodes=gate.focus_nodes,
                whole_store=gate.whole_store,
                shapes_sha256=shapes_sum,
                created=created,
            )
            prov = store.stage(activity_triples(receipt))
            staged.append(prov)
            stage_reached("committing")
            store.commit(list(writes) + [GraphWrite(str(PROVENANCE_GRAPH), WriteMode.ADD, (prov,))])
            staged.clear()
            loading.clear()
            return receipt
        except SyntaxError as exc:  # an update or body the caller passed as text
            raise QueryError(f"SPARQL syntax error: {exc}") from None
        finally:
            if staged:
                try:
                    store.drop_staging(staged)
                except StoreError:
                    pass  # left behind they stay invisible; the error that ended the write is the one to report
            for graph in loading:
                store.abandon_load(graph, union_touched=union_touched)  # type: ignore[union-attr]
