"""The embedded store: pyoxigraph on disk, no server to install.

Writes that replace graphs go through one SPARQL update, which pyoxigraph applies
in a single transaction, so a reader never sees a half-built graph and a failed or
interrupted build leaves the store as it was.

The SPARQL default graph is the union of the named graphs. pyoxigraph's own union
mode returns a triple once per graph that holds it (a bag), where SPARQL says the
default graph is a set; so the store keeps the union materialised in its default
graph and queries read that. The materialised copy is derived data: dumps and
listings show only named graphs.

Every write has two steps (:meth:`EmbeddedStore.stage`, :meth:`EmbeddedStore.commit`):

1. the new content of each graph is *staged* in a staging graph of its own
   (``…/id/graph/staging-…``), by ``extend`` or, for large files, ``bulk_load``;
   staging graphs are not part of the union, listings or dumps, so nothing staged is
   visible as data, and a writer killed while staging leaves only staging graphs,
   which the next writable open drops (``kg ingest`` of a new graph, holding the
   store alone, loads it in place instead, under a journal: see :mod:`kg.store.journal`);
2. one SPARQL update — one pyoxigraph transaction — moves the staged triples into
   their graphs and keeps the union up to date *incrementally*: triples of a replaced
   or dropped graph leave the default graph only when no other graph still holds
   them; staged triples enter it. The staging graphs go in the same transaction.

Blank nodes keep their identity through staging (``extend`` and ``bulk_load`` store
them as given), so added triples can point at blank nodes already in a graph.

Readers never open the live directory: a store opened read-only is the newest *view*, a
checkpoint of the committed state that the writer publishes when it opens the store and
after every commit (:mod:`kg.store.views`). What a writer has staged, or is loading in
place, or left behind when it was killed, is therefore in no reader's view, whatever
process the reader runs in; and a reader's open cannot race with the writer's compactions.
Within the writer's own process, queries name the committed graphs as their dataset, so a
``GRAPH ?g`` pattern never meets a staging graph either (:meth:`EmbeddedStore.query`).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg.errors import QueryError, StoreBusyError, StoreError, StoreUnavailableError
from kg.formats import QueryKind, RdfFormatInfo, rdf_format_by_name
from kg.iris import staging_graph
from kg.rdfio import graph_to_triples, quads_to_graph
from kg.sparql.explain import explain
from kg.sparql.lexer import declares_dataset
from kg.store import journal
from kg.store.base import READ_FROM, SOURCES_GRAPH, STAGING_PREFIX, BinaryWriter, GraphWrite, QueryOutcome, WriteMode, iri_ref, serialize_rdf
from kg.store.local_reader import LocalReader
from kg.store.union import commit_update
from kg.store.views import ViewLease, finish_removals, newest_view, open_view, publish_view

__all__ = ["EmbeddedStore", "LocalReader", "lock_holder"]

_UNION_TRIPLES = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
_DEFAULT = ox.DefaultGraph()
_LOG = logging.getLogger(__name__)

def lock_holder(path: Path) -> int | None:
    """The process holding the write lock of the store at ``path``, when the system says
    (Linux lists POSIX locks in ``/proc/locks`` by device and inode); None otherwise.

    pyoxigraph's own message ("IO error: While lock file: …/LOCK: Resource temporarily
    unavailable") names a file, not who holds it, and the person who has to act needs the latter.
    """
    try:
        found = (path / "LOCK").stat()
        wanted = f"{os.major(found.st_dev):02x}:{os.minor(found.st_dev):02x}:{found.st_ino}"
        with open("/proc/locks", encoding="ascii") as locks:
            for line in locks:
                fields = line.split()
                # "1: POSIX  ADVISORY  WRITE 12345 fe:00:2180417 0 EOF" (blocked waiters have "->")
                if len(fields) >= 6 and "->" not in fields[1] and fields[5] == wanted:
                    return int(fields[4])
    except (OSError, ValueError):
        return None
    return None


def _outcome(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> QueryOutcome:
    if isinstance(result, ox.QueryBoolean):
        return QueryOutcome(QueryKind.BOOLEAN, result)
    if isinstance(result, ox.QueryTriples):
        return QueryOutcome(QueryKind.GRAPH, result)
    return QueryOutcome(QueryKind.SOLUTIONS, result)


class EmbeddedStore:
    """A pyoxigraph store in a directory.

    >>> import tempfile
    >>> store = EmbeddedStore(Path(tempfile.mkdtemp()) / "store")
    >>> store.is_empty()
    True
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """Open the store at ``path``: for writing (created if missing; a killed writer's
        leftovers are undone and the committed state published for readers), or read-only,
        which opens the newest committed view (:mod:`kg.store.views`); a store that no
        writer of this version has opened yet has no view, and is read as it is on disk."""
        self.path = path
        self.read_only = read_only
        self._lease: ViewLease | None = None
        #: a writer's newest published view (it alone publishes them: it holds the lock)
        self._published: str | None = None
        #: a reader's answer of :meth:`_visible`, computed once (its view does not change)
        self._reader_visible: tuple[list[ox.NamedNode | ox.BlankNode] | None] | None = None
        try:
            if read_only:
                if not path.is_dir():
                    raise StoreUnavailableError(f"no store at {path}; run 'kg build' first")
                opened = open_view(path)
                if opened is None:
                    self._store = ox.Store.read_only(str(path))
                else:
                    self._store, self._lease = opened
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(path))
        except OSError as exc:
            if "lock" in str(exc).lower():
                holder = lock_holder(path)
                by = f" (process {holder})" if holder is not None else ""
                raise StoreBusyError(f"the store at {path} is held for writing by another process{by}",
                                     holder=holder) from None
            raise StoreUnavailableError(f"cannot open the store at {path}: {exc}") from None
        if not read_only:
            journal.recover(self._store)
            self.drop_staging()
            try:
                self._published = publish_view(self._store, self.path).name
            except OSError as exc:
                raise StoreError(f"cannot publish the committed state of {path} for readers: {exc}") from None

    @property
    def location(self) -> str:
        """Where the store is, for messages and for the lock that serializes writers in a process."""
        return str(self.path.resolve())

    @property
    def version(self) -> str:
        """Which committed state this handle reads, as a name that changes with every commit:
        its view's (a reader's never changes; a writer's moves with each commit it publishes),
        for caches of the store's content such as the search index."""
        if self._lease is not None:
            return self._lease.path.name
        if self._published is not None:
            return self._published
        if self.read_only:  # read as it was on disk when opened (no writer had published a view): fixed
            return "unpublished"
        newest = newest_view(self.path)
        return newest.name if newest is not None else "unpublished"

    def reader(self) -> LocalReader:
        """Pattern access to every graph, staging graphs included, for the SHACL gate."""
        return LocalReader(self._store)

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying pyoxigraph store, for callers that stream from it."""
        return self._store

    def in_place_loader(self) -> EmbeddedStore:
        """This store: it can load a new graph in place, under a journal."""
        return self

    def validation_store(self) -> ox.Store:
        """The pyoxigraph store itself: its default graph is the union."""
        return self._store

    def differ(self) -> EmbeddedStore:
        """This store: it computes a write's difference in place, and commits it as one."""
        return self

    def contains(self, triple: ox.Triple, graph: str) -> bool:
        """True when ``graph`` holds ``triple`` (literals compared as the store encodes them)."""
        return ox.Quad(triple.subject, triple.predicate, triple.object, ox.NamedNode(graph)) in self._store

    def diff_staged(self, graph: str, staged: Sequence[str], *, replace: bool) -> tuple[str, str | None]:
        """Staging graphs of what ``graph`` gains from ``staged`` and, for a replace, what it
        loses; both computed by the store with ``MINUS`` (a hash join: several times faster than
        ``FILTER NOT EXISTS``, which looks each triple up), in one transaction as large as the
        difference."""
        added = self.new_staging_graph()
        lost = self.new_staging_graph() if replace else None
        g = iri_ref(graph)
        sources = " ".join(iri_ref(x) for x in staged)
        ops = [f"CREATE SILENT GRAPH {iri_ref(added)}",
               f"INSERT {{ GRAPH {iri_ref(added)} {{ ?s ?p ?o }} }} WHERE {{ {{ VALUES ?x {{ {sources} }} "
               f"GRAPH ?x {{ ?s ?p ?o }} }} MINUS {{ GRAPH {g} {{ ?s ?p ?o }} }} }}"]
        if lost is not None:
            ops += [f"CREATE SILENT GRAPH {iri_ref(lost)}",
                    f"INSERT {{ GRAPH {iri_ref(lost)} {{ ?s ?p ?o }} }} WHERE {{ {{ GRAPH {g} {{ ?s ?p ?o }} }} "
                    f"MINUS {{ VALUES ?x {{ {sources} }} GRAPH ?x {{ ?s ?p ?o }} }} }}"]
        try:
            self._store.update(" ;\n".join(ops))
        except OSError as exc:
            raise StoreError(f"comparing a write with <{graph}> in the store at {self.path} failed: {exc}") from None
        return added, lost

    def replace_graphs(self, graphs: Mapping[URIRef, Graph]) -> None:
        """Replace each named graph by the given content, in one transaction; an empty
        graph removes the named graph (as the remote store does)."""
        writes = [
            GraphWrite(str(name), WriteMode.REPLACE, (self.stage(graph_to_triples(g)),))
            if len(g)
            else GraphWrite(str(name), WriteMode.DROP, ())
            for name, g in graphs.items()
        ]
        self.commit(writes)

    # -- writing: stage, then commit ------------------------------------------------------------

    def new_staging_graph(self) -> str:
        """A fresh staging graph IRI (nothing is written)."""
        return str(staging_graph(uuid.uuid4().hex))

    def stage(self, triples: Iterable[ox.Triple]) -> str:
        """Put ``triples`` in a new staging graph and return its IRI (invisible until committed)."""
        name = self.new_staging_graph()
        node = ox.NamedNode(name)
        try:
            self._store.add_graph(node)
            self._store.extend(ox.Quad(t.subject, t.predicate, t.object, node) for t in triples)
        except OSError as exc:
            self.drop_staging([name])
            raise StoreError(f"staging a write in the store at {self.path} failed: {exc}") from None
        except BaseException:  # the triples' source failed (a file that does not parse): nothing stays
            self.drop_staging([name])
            raise
        return name

    def stage_file(self, source: IO[bytes] | bytes, *, fmt: RdfFormatInfo, base_iri: str | None,
                   into: str | None = None) -> str:
        """Parse ``source`` straight into a staging graph (``into``, or a new one) with
        ``bulk_load`` (large files: nothing held in memory). ``SyntaxError`` from the parser
        is left to the caller, which knows the file name."""
        name = into or self.new_staging_graph()
        node = ox.NamedNode(name)
        self._store.add_graph(node)
        self._store.bulk_load(source, format=fmt.oxigraph, base_iri=base_iri, to_graph=node)
        return name

    def commit(self, writes: Sequence[GraphWrite]) -> None:
        """Apply ``writes`` (their staged content) in one transaction, the union included,
        then publish the new state for readers.

        Raises :class:`StoreError` only when the transaction failed, so nothing changed:
        once it is through the write is committed (pyoxigraph has logged it), and a flush
        or a view that then fails is logged, not raised — a caller told "failed" would undo
        staging that no longer exists, or write again. Readers then keep the state before
        the write until the next commit or writable open publishes it.

        A graph bulk-loaded in place is compacted (see :meth:`_publish`) before this transaction:
        after it, the transaction's writes overlap every table file the loader left, and the
        compaction rewrites them all (1M triples: 2.4 s, against 0.1-0.9 s before).
        """
        if not writes:
            return
        loaded = any(w.mode is WriteMode.LOADED for w in writes)
        journaled = journal.pending(self._store) if loaded else []
        if loaded:
            self._compact()
        try:
            self._store.update(commit_update(writes, journaled=journaled))
        except OSError as exc:
            raise StoreError(f"writing to the store at {self.path} failed, nothing was changed: {exc}") from None
        self._publish()

    def _publish(self) -> None:
        """Flush, and publish the committed state as the view readers open (see :mod:`kg.store.views`)."""
        try:
            self._store.flush()
            self._published = publish_view(self._store, self.path).name
        except OSError as exc:
            _LOG.warning("the store at %s is committed but its readers still see the state before: "
                         "publishing the view failed: %s", self.path, exc)

    def _compact(self) -> None:
        """After a bulk load: the loader leaves many unsorted table files, which the writer's
        background compaction rewrites only later, in whichever process next opens the store for
        writing (a ``kg serve``, whose readers keep the view taken before until the next write).
        Compacted before the commit, readers get sorted files from the start: at 10M triples raw
        queries took 1.8-13 times the CPU without (``bench/tenm_bench.py``; at 1M no difference).
        A kill meanwhile leaves the load journaled: undone at the next open."""
        try:
            self._store.flush()
            self._store.optimize()
        except OSError as exc:  # the data is the same; readers get it uncompacted
            _LOG.warning("compacting the store at %s after a bulk load failed: %s", self.path, exc)

    # -- large ingests: loading a new graph in place, under a journal -----------------------------

    def begin_load(self, graph: str) -> None:
        """Journal ``graph`` (which must not exist) as being loaded in place (:mod:`kg.store.journal`).

        Only for a writer that holds the store alone (``kg ingest``): readers in other processes
        never see the graph before the commit, but queries in this one would see it fill up."""
        journal.begin(self._store, graph)

    def abandon_load(self, graph: str, *, union_touched: bool) -> None:
        """Undo a journaled load that will not be committed (refused or failed); never one
        already committed."""
        journal.abandon(self._store, graph, union_touched=union_touched)

    def load_union(self, path: Path, fmt: RdfFormatInfo, *, base_iri: str) -> None:
        """Bulk-load a file of an in-place load into the default graph too (the union copy)."""
        try:
            self._store.bulk_load(path=str(path), format=fmt.oxigraph, base_iri=base_iri, to_graph=_DEFAULT)
        except (OSError, SyntaxError, ValueError) as exc:
            raise StoreError(f"loading {path} into the union failed: {exc}") from None

    def has_blank_nodes(self, graph: str) -> bool:
        """True when a triple of ``graph`` has a blank node."""
        ask = f"ASK {{ GRAPH {iri_ref(graph)} {{ ?s ?p ?o FILTER (isBlank(?s) || isBlank(?o)) }} }}"
        return bool(self._store.query(ask))

    def staging_graphs(self) -> list[str]:
        """The staging graphs in the store (writes under way, or leftovers of a killed writer);
        not the graphs' records (:meth:`source_record`), which commits keep."""
        return sorted(g.value for g in self._store.named_graphs()
                      if isinstance(g, ox.NamedNode) and g.value.startswith(STAGING_PREFIX) and g.value != SOURCES_GRAPH)

    def source_record(self, graph: str) -> str | None:
        """The record of the files ``graph`` was last loaded or replaced from, when no write
        touched it since (kept by :func:`kg.store.union.commit_update`)."""
        found = next(iter(self._store.quads_for_pattern(
            ox.NamedNode(graph), ox.NamedNode(READ_FROM), None, ox.NamedNode(SOURCES_GRAPH))), None)
        return found.object.value if found is not None and isinstance(found.object, ox.Literal) else None

    def drop_staging(self, names: Iterable[str] | None = None) -> None:
        """Drop staging graphs: the given ones, or every one (leftovers of a killed writer)."""
        targets = list(names) if names is not None else self.staging_graphs()
        if targets:
            self._store.update(" ;\n".join(f"DROP SILENT GRAPH {iri_ref(t)}" for t in targets))
            self._store.flush()

    def has_graph(self, name: str) -> bool:
        """True when the named graph exists (it may be empty); never for a staging graph, nor
        for one being loaded in place (it exists once committed)."""
        return (not name.startswith(STAGING_PREFIX) and self._store.contains_named_graph(ox.NamedNode(name))
                and name not in self._loading())

    def graph_triples(self, name: str) -> Iterator[ox.Triple]:
        """The triples of one named graph."""
        for q in self._store.quads_for_pattern(None, None, None, ox.NamedNode(name)):
            yield ox.Triple(q.subject, q.predicate, q.object)

    def count(self, sparql: str) -> int:
        """The ``?n`` of a one-row SELECT (for counts)."""
        row = next(iter(self._store.query(sparql)), None)  # type: ignore[arg-type]
        value = row["n"] if row is not None else None
        return int(value.value) if value is not None else 0

    def named_graphs(self) -> list[str]:
        """The IRIs of the named graphs, sorted (staging graphs are not data and are left out,
        nor is a graph being loaded in place)."""
        hidden = self._hidden()
        return sorted(g.value for g in self._store.named_graphs()
                      if isinstance(g, ox.NamedNode) and not hidden(g.value))

    def _loading(self) -> frozenset[str]:
        """The graphs being loaded in place (journaled, :mod:`kg.store.journal`): committed by no
        write yet, so hidden from this process's readers. A reader's view holds none."""
        return frozenset() if self.read_only else frozenset(journal.pending(self._store))

    def _hidden(self) -> Callable[[str], bool]:
        """Whether a graph is no data to show: a staging graph, or one being loaded in place."""
        loading = self._loading()
        return lambda name: name.startswith(STAGING_PREFIX) or name in loading

    def is_empty(self) -> bool:
        """True when the store holds no quad."""
        return next(iter(self._store.quads_for_pattern(None, None, None, None)), None) is None

    def __len__(self) -> int:
        """Number of quads in the named graphs."""
        return sum(1 for q in self.named_quads())

    def named_quads(self) -> Iterator[ox.Quad]:
        """Every quad of the named graphs (staging graphs are not data, nor a graph being loaded)."""
        hidden = self._hidden()
        return (
            q for q in self._store.quads_for_pattern(None, None, None, None)
            if isinstance(q.graph_name, ox.NamedNode) and not hidden(q.graph_name.value)
        )

    def query(self, sparql: str, *, union_default_graph: bool = True) -> QueryOutcome:
        """Run a SPARQL query; the default graph is the union of all graphs unless told otherwise.
        Staging graphs are never among the named graphs (:meth:`_visible`).

        Raises :class:`QueryError` with the parser's message for a query that does not parse.
        """
        options: dict[str, Any] = {} if union_default_graph else {"default_graph": []}
        return self._run(sparql, options, names_dataset=declares_dataset(sparql))

    def query_dataset(
        self,
        sparql: str,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        base_iri: str | None = None,
    ) -> QueryOutcome:
        """Run a query over the RDF dataset a request names (SPARQL Protocol
        ``default-graph-uri`` / ``named-graph-uri``); without them, the union default graph.
        ``base_iri`` resolves relative IRIs in the query (the protocol lets the service choose it).
        Staging graphs are left out of the graphs a request names, and never among the named graphs."""
        options: dict[str, Any] = {"base_iri": base_iri}
        if default_graphs or named_graphs:
            hidden = self._hidden()
            if default_graphs:
                options["default_graph"] = [ox.NamedNode(g) for g in default_graphs if not hidden(g)]
            if named_graphs:
                options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs if not hidden(g)]
        return self._run(sparql, options, names_dataset=bool(named_graphs) or declares_dataset(sparql))

    def _run(self, sparql: str, options: dict[str, Any], *, names_dataset: bool) -> QueryOutcome:
        """Run a query with ``options``; unless the query or the request names its own
        graphs, its named graphs are the committed ones."""
        if not names_dataset and "named_graphs" not in options:
            visible = self._visible()
            if visible is not None:
                options["named_graphs"] = visible
        try:
            result = self._store.query(sparql, **options)
        except SyntaxError as exc:
            raise QueryError(explain(sparql, exc)) from None
        except ValueError as exc:
            raise QueryError(f"query failed: {exc}") from None
        except OSError as exc:
            # not the query's fault: a read-only view whose files a compaction removed, a full disk…
            raise StoreError(f"reading the store at {self.path} failed: {exc}") from None
        return _outcome(result)

    def _visible(self) -> list[ox.NamedNode | ox.BlankNode] | None:
        """The named graphs a query may see, or None for "all of them".

        pyoxigraph gives ``GRAPH ?g`` every graph it holds, staging graphs included, so a
        writer's own queries (the server's pages, its service description) name the
        committed graphs explicitly, listed afresh each time because writes come and go.
        A reader's view is fixed and normally holds no staging graph; if it does (the empty
        journal of an older version), the list is computed once."""
        if self.read_only and self._reader_visible is not None:
            return self._reader_visible[0]
        every = list(self._store.named_graphs())
        hidden = self._hidden()
        graphs = [g for g in every if not (isinstance(g, ox.NamedNode) and hidden(g.value))]
        if self.read_only:
            self._reader_visible = (None if len(graphs) == len(every) else graphs,)
            return self._reader_visible[0]
        return graphs

    def select(self, sparql: str) -> Iterator[ox.QuerySolution]:
        """Solutions of a SELECT query over the union graph."""
        outcome = self.query(sparql)
        if outcome.kind is not QueryKind.SOLUTIONS:
            raise QueryError("expected a SELECT query")
        return iter(outcome.result)  # type: ignore[arg-type]

    def select_all(self, select: str, order: str) -> list[ox.QuerySolution]:
        """Every solution of ``select`` sorted by ``order`` (the embedded store has no row cap)."""
        return list(self.select(f"{select} {order}"))

    def dump(self, output: BinaryWriter, *, format_name: str) -> None:
        """Write the whole dataset; formats without graphs get the union (each triple once)."""
        fmt = rdf_format_by_name(format_name)
        serialize_rdf(self.named_quads() if fmt.datasets else self._store.query(_UNION_TRIPLES), output, fmt)  # type: ignore[arg-type]

    def union_graph(self) -> Graph:
        """Every triple of every named graph, as one rdflib graph."""
        return quads_to_graph(self._store.quads_for_pattern(None, None, None, ox.DefaultGraph()))

    def close(self) -> None:
        """Flush pending writes and release the store (and, for a reader, its view)."""
        if not self.read_only:
            self._store.flush()
        del self._store
        if self._lease is not None:
            self._lease.release()
        finish_removals(self.path)
