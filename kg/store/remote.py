"""A remote SPARQL 1.1 store: Virtuoso, Fuseki, GraphDB, QLever… over HTTP.

It answers the same interface as :class:`~kg.store.EmbeddedStore`, with the same
answers: results come back as pyoxigraph objects parsed from the server's response,
so :class:`~kg.store.QueryOutcome` serialises them the same way.

The remote store shares its server with other data, so it keeps two graphs of its own:

- a **catalogue** graph listing the named graphs it manages (``<g> a sd:NamedGraph``),
  which every query names as its named graphs, so system graphs stay out of sight;
- a **union** graph holding the set union of those graphs, which every query names as
  its default graph (as the embedded store materialises its default graph), because
  a server's own union is a bag, or includes graphs that are not ours.

Writes are all-or-nothing without HTTP transactions, and take the same two steps as
on the embedded store (:func:`kg.write.apply.apply_write` drives both): :meth:`RemoteStore.stage`
uploads new content into fresh staging graphs (invisible to queries, since they are not in
the catalogue; the SHACL gate reads them through :class:`~kg.store.remote_reader.RemoteReader`),
then :meth:`RemoteStore.commit` sends one single SPARQL operation — a
``DELETE … INSERT … WHERE``, see :func:`swap_update` — that moves the staged content into
every target graph and keeps the catalogue and the union in step. A server runs one
operation in one transaction (an update *request* of several operations is not atomic on
Virtuoso), so a failure or a crash before or during it leaves the targets as they were.
The staging graphs are dropped afterwards, also when anything failed.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg.config import Settings
from kg.errors import ProtectedGraphError, QueryError, StoreError
from kg.formats import QueryKind, RdfFormatInfo, rdf_format_by_name
from kg.iris import graph_iri, staging_graph
from kg.namespaces import SD
from kg.rdfio import graph_to_triples, quads_to_graph
from kg.store.base import STAGING_PREFIX, BinaryWriter, GraphWrite, QueryOutcome, WriteMode, serialize_rdf
from kg.store.dialects import Dialect, detect_dialect, dialect_named
from kg.store.http import Answer, HttpClient
from kg.store.remote_reader import RemoteReader
from kg.store.remote_text import chunks, named_in_text, query_kind, swap_update

__all__ = ["RemoteStore", "query_kind", "swap_update"]

_RESULTS_JSON = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"
class RemoteStore:
    """A SPARQL 1.1 server (Query, Update and, where it has one, Graph Store protocol).

    >>> store = RemoteStore(load_settings(store="http://127.0.0.1:8890/sparql"))  # doctest: +SKIP
    >>> store.named_graphs()                                                       # doctest: +SKIP
    ['https://w3id.org/negotiation-kg/id/graph/000_08f43cbfc8a050d9', …]
    """

    def __init__(self, settings: Settings) -> None:
        self.url = settings.store
        self.update_url = settings.update_url or settings.store
        self.query_timeout = settings.query_timeout
        self.union = settings.remote_union_graph or str(graph_iri("kg-union"))
        self.catalogue = settings.remote_catalogue_graph or str(graph_iri("kg-catalogue"))
        self._nothing = str(graph_iri("kg-nothing"))
        self.read_only = settings.read_only
        self._staging: set[str] = set()
        self._row_cap_known = False
        self.http = HttpClient(settings)
        self.dialect = self._probe(settings.remote_dialect)
        self.graph_store_url = settings.graph_store_url or self.dialect.graph_store_url(self.url)
        self.max_rows = settings.remote_max_rows or self.dialect.max_rows
        limit = self.max_rows - 1 if self.max_rows else settings.remote_chunk_triples
        self.chunk = max(1, min(settings.remote_chunk_triples, limit))

    def _probe(self, configured: str) -> Dialect:
        """Check the server answers SPARQL; the configured dialect, or the one its Server header names."""
        answer = self._send_query("ASK {}", {}, doing="checking it is a SPARQL endpoint", dialect=None)
        try:
            ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)
        except (SyntaxError, ValueError) as exc:
            raise StoreError(f"the server at {self.url} does not answer as a SPARQL endpoint: "
                             f"its answer to ASK {{}} is not SPARQL JSON results ({exc})") from None
        finally:
            answer.close()
        if configured == "auto":
            return detect_dialect(answer.headers.get("server"))
        return dialect_named(configured)

    # --- reading -----------------------------------------------------------------------------

    def _send_query(self, sparql: str, dataset: Mapping[str, list[str]], *, doing: str,
                    dialect: Dialect | None, accept: str | None = None) -> Answer:
        form: dict[str, Any] = {"query": sparql, **{k: v for k, v in dataset.items() if v}}
        if dialect is not None and dialect.timeout_parameter:
            form[dialect.timeout_parameter] = str(int(self.query_timeout * 1000))
        accept = accept or _RESULTS_JSON
        line_filter = dialect.fix_results_line if dialect is not None and accept == _RESULTS_JSON else None
        answer = self.http.send("POST", self.url, doing=doing, data=form, headers={"Accept": accept},
                                line_filter=line_filter)
        if dialect is not None and dialect.partial_state_header:
            if answer.headers.get(dialect.partial_state_header, "").upper() == "S1TAT":
                answer.close()
                raise StoreError(f"the SPARQL server at {self.url} ran out of its time limit while {doing} "
                                 f"and answered with partial results ({dialect.partial_state_header}: S1TAT)")
        return answer

    def _dataset(self, default_graphs: list[str] | None, named_graphs: list[str] | None) -> dict[str, list[str]]:
        return {
            "default-graph-uri": default_graphs or [self.union],
            "named-graph-uri": named_graphs or self.named_graphs() or [self._nothing],
        }

    def query(self, sparql: str, *, union_default_graph: bool = True) -> QueryOutcome:
        """Run a SPARQL query; the default graph is the union of this store's graphs unless told otherwise."""
        return self.query_dataset(sparql, default_graphs=None if union_default_graph else [self._nothing])

    def query_dataset(
        self,
        sparql: str,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        base_iri: str | None = None,
    ) -> QueryOutcome:
        """Run a query over the dataset a SPARQL Protocol request names; without one, this
        store's graphs (a query's own FROM / FROM NAMED is then left to the server)."""
        kind, own_dataset = query_kind(sparql)
        given = bool(default_graphs or named_graphs)
        dataset = {} if own_dataset and not given else self._dataset(default_graphs, named_graphs)
        text = f"BASE <{base_iri}>\n{sparql}" if base_iri else sparql
        accept = _NTRIPLES if kind is QueryKind.GRAPH else None
        answer = self._send_query(text, dataset, doing="running a query", dialect=self.dialect, accept=accept)
        return QueryOutcome(kind, self._parse(kind, answer))

    def _parse(self, kind: QueryKind, answer: Answer) -> Any:
        """The answer as pyoxigraph results, read once to check it (and count it) before it is handed out."""
        def read() -> Any:
            answer.body.seek(0)
            if kind is QueryKind.GRAPH:
                return (q.triple for q in ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES))
            return ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)

        try:
            first = read()
            count = 0 if isinstance(first, ox.QueryBoolean) else sum(1 for _ in first)
        except (SyntaxError, ValueError) as exc:
            answer.close()
            what = "RDF (N-Triples)" if kind is QueryKind.GRAPH else "SPARQL JSON results"
            raise StoreError(f"the SPARQL server at {self.url} answered something that is not {what}: {exc}") from None
        if self._capped(answer) is not None or (kind is QueryKind.GRAPH and self.max_rows and count >= self.max_rows):
            answer.close()
            raise StoreError(
                f"the SPARQL server at {self.url} cut the result short at {count} rows (its row cap, "
                "ResultSetMaxRows on Virtuoso); page the query with ORDER BY, LIMIT and OFFSET, or raise "
                "the server's cap and the remote_max_rows setting")
        result = read()
        return list(result) if kind is QueryKind.GRAPH else result

    def _capped(self, answer: Answer) -> int | None:
        """The row cap a SELECT answer says it was cut at (Virtuoso sends the header only then),
        remembered as the cap for CONSTRUCT answers, which carry no such header."""
        value = answer.headers.get(self.dialect.max_rows_header) if self.dialect.max_rows_header else None
        if value is None or not value.strip().isdigit():
            return None
        self.max_rows = int(value)
        return self.max_rows

    def _rows(self, sparql: str, *, doing: str, dataset: Mapping[str, list[str]] | None = None) -> Iterator[ox.QuerySolution]:
        """Every solution of an internal SELECT (already ordered), page by page; a page the
        server cuts at its cap shrinks the pages that follow instead of losing rows."""
        offset = 0
        while True:
            asked = self.chunk
            answer = self._send_query(self.dialect.page(sparql, asked, offset), dataset or {}, doing=doing,
                                      dialect=self.dialect)
            rows = self._read_results(answer, doing=doing)
            if not isinstance(rows, list):
                raise StoreError(f"the SPARQL server at {self.url} answered a SELECT with a boolean while {doing}")
            yield from rows
            offset += len(rows)
            cap = self._capped(answer)
            if cap is not None:
                self.chunk = max(1, min(self.chunk, cap))
            if not rows or (cap is None and len(rows) < asked):
                return

    def rows(self, select: str, order: str, *, doing: str,
             dataset: Mapping[str, list[str]] | None = None) -> list[ox.QuerySolution]:
        """Every solution of an internal ``select`` expected to be small: one request without
        sorting; only an answer that reaches a page is read again, sorted by ``order``
        (``ORDER BY …``) in pages (sorting is what costs on a server such as Virtuoso)."""
        answer = self._send_query(f"{select} LIMIT {self.chunk}", dataset or {}, doing=doing, dialect=self.dialect)
        rows = self._read_results(answer, doing=doing)
        if isinstance(rows, list) and len(rows) < self.chunk and self._capped(answer) is None:
            return rows
        return list(self._rows(f"{select} {order}", doing=doing, dataset=dataset))

    def construct(self, sparql: str, *, doing: str, dataset: Mapping[str, list[str]] | None = None,
                  offset: int = 0) -> tuple[list[ox.Triple], bool]:
        """The triples of an internal CONSTRUCT, read as N-Triples (servers write that several
        times faster than SPARQL results): one page of them from ``offset``, and whether the
        page is full (so more may follow)."""
        self._learn_row_cap()
        answer = self._send_query(f"{sparql} LIMIT {self.chunk} OFFSET {offset}", dataset or {}, doing=doing,
                                  dialect=self.dialect, accept=_NTRIPLES)
        try:
            triples = [q.triple for q in ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES)]
        except (SyntaxError, ValueError) as exc:
            raise StoreError(f"the SPARQL server at {self.url} answered something that is not "
                             f"N-Triples while {doing}: {exc}") from None
        finally:
            answer.close()
        return triples, len(triples) >= self.chunk

    def _learn_row_cap(self) -> None:
        """Ask once for a page of rows that exist for sure (two VALUES lists crossed): a server
        that hands out fewer, or says it cut them, has a row cap below the page size, which a
        CONSTRUCT answer (no header) would not show. Pages shrink below that cap."""
        if self._row_cap_known:
            return
        self._row_cap_known = True
        side = " ".join(str(i) for i in range(math.isqrt(self.chunk) + 1))
        answer = self._send_query(f"SELECT ?a ?b WHERE {{ VALUES ?a {{ {side} }} VALUES ?b {{ {side} }} }} LIMIT {self.chunk}",
                                  {}, doing="checking the server's row cap", dialect=self.dialect)
        rows = self._read_results(answer, doing="checking the server's row cap")
        got = len(rows) if isinstance(rows, list) else 0
        cap = self._capped(answer) or (got if got < self.chunk else None)
        if cap is not None:
            self.chunk = max(1, min(self.chunk, cap - 1))

    def whole_graph(self, graph: str) -> set[ox.Triple]:
        """Every triple of ``graph``, held in memory: read as N-Triples (CONSTRUCT; a server
        writes that faster than SPARQL results) in unsorted pages, checked against the
        graph's size (pages of an unsorted query are not guaranteed to be stable, so a short
        count means reading it again sorted, page by page)."""
        doing = f"reading the graph <{graph}>"
        counted = self._read_results(self._send_query(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", {}, doing=doing, dialect=self.dialect),
            doing=doing)
        size = int(counted[0]["n"].value) if isinstance(counted, list) and counted else 0
        seen: set[ox.Triple] = set()
        while len(seen) < size:
            page, _ = self.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
                                     doing=doing, offset=len(seen))
            before = len(seen)
            seen.update(page)
            if not page or len(seen) - before < len(page):
                break  # a triple seen twice, or the graph shrank: the pages were not stable
        if len(seen) == size:
            return seen
        return set(self._triples(graph))

    def _triples(self, graph: str) -> Iterator[ox.Triple]:
        query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} ORDER BY ?s ?p ?o"
        for row in self._rows(query, doing=f"reading the graph <{graph}>"):
            yield ox.Triple(row["s"], row["p"], row["o"])

    def named_graphs(self) -> list[str]:
        """The IRIs of the named graphs this store manages, sorted."""
        query = (f"SELECT ?g WHERE {{ GRAPH <{self.catalogue}> {{ ?g a <{SD.NamedGraph}> }} }} ORDER BY ?g")
        return sorted(row["g"].value for row in self._rows(query, doing="listing the graphs"))

    def is_empty(self) -> bool:
        """True when the store manages no graph (its catalogue lists none)."""
        return not self.named_graphs()

    def graph(self, iri: str) -> Graph:
        """Every triple of one named graph (empty when the server has no such graph)."""
        return quads_to_graph(self.whole_graph(iri))

    def dump(self, output: BinaryWriter, *, format_name: str) -> None:
        """Write the whole dataset; formats without graphs get the union (each triple once)."""
        fmt = rdf_format_by_name(format_name)
        data: Iterable[ox.Triple] | Iterable[ox.Quad]
        if fmt.datasets:
            data = (ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g))
                    for g in self.named_graphs() for t in self._triples(g))
        else:
            data = self._triples(self.union)
        serialize_rdf(data, output, fmt)

    def union_graph(self) -> Graph:
        """Every triple of every named graph, as one rdflib graph."""
        return quads_to_graph(self.whole_graph(self.union))

    # --- writing: stage, then commit (the same two steps as the embedded store) ---------------

    @property
    def location(self) -> str:
        """Where the store is, for messages and for the lock that serializes writers in a process."""
        return self.url

    def update(self, sparql: str, *, doing: str = "running an update") -> None:
        """Send one SPARQL Update request as it is (form POST to the update endpoint).

        Several operations in one request are not atomic on every server (Virtuoso applies
        the ones before a failing one); the graph writes below never rely on it.
        """
        self.http.send("POST", self.update_url, doing=doing, data={"update": sparql}).close()

    def _upload(self, graph: str, ntriples: bytes) -> None:
        doing = f"uploading into <{graph}>"
        if self.graph_store_url:
            self.http.send("POST", self.graph_store_url, doing=doing, params={"graph": graph}, content=ntriples,
                           headers={"Content-Type": _NTRIPLES}).close()
        else:
            self.update(f"INSERT DATA {{ GRAPH <{graph}> {{\n{ntriples.decode('utf-8')}\n}} }}", doing=doing)

    def new_staging_graph(self) -> str:
        """A fresh staging graph IRI (nothing is written); remembered until it is dropped, so
        that the write path's own queries can read it."""
        name = str(staging_graph(uuid.uuid4().hex))
        self._staging.add(name)
        return name

    def stage(self, triples: Iterable[ox.Triple]) -> str:
        """Upload ``triples`` into a new staging graph, in pieces; its IRI. Staging graphs are
        not in the catalogue, so no query of this store sees them until :meth:`commit`."""
        name = self.new_staging_graph()
        try:
            for piece in chunks(triples, self.chunk):
                self._upload(name, piece)
        except BaseException:
            self._drop_quietly([name])  # the caller never learns its name: clean up here
            raise
        return name

    def stage_file(self, source: IO[bytes] | bytes, *, fmt: RdfFormatInfo, base_iri: str | None,
                   into: str | None = None) -> str:
        """Parse ``source`` here, as it streams, and upload it in pieces into a staging graph
        (``into``, or a new one). ``SyntaxError`` from the parser is left to the caller."""
        name = into or self.new_staging_graph()
        try:
            quads = ox.parse(source, format=fmt.oxigraph, base_iri=base_iri)
            for piece in chunks((q.triple for q in quads), self.chunk):
                self._upload(name, piece)
        except BaseException:
            if into is None:
                self._drop_quietly([name])
            raise
        return name

    def commit(self, writes: Sequence[GraphWrite]) -> None:
        """Apply staged writes with one SPARQL operation (see the module docstring), then drop
        their staging graphs (a separate request: if it fails they stay, invisible)."""
        if writes:
            self._refuse_foreign(writes)
            self.update(swap_update(writes, catalogue=self.catalogue, union=self.union), doing="replacing the graphs")
            self._drop_quietly([s for w in writes for s in w.staged])

    def _refuse_foreign(self, writes: Sequence[GraphWrite]) -> None:
        """Refuse writes to this store's own bookkeeping graphs, and additions to a graph the
        catalogue does not list while the server holds triples under its IRI (another
        application's or another deployment's data: adding would mix it into this store
        unchecked, and replacing it is only done when asked to)."""
        for w in writes:
            if w.graph in (self.union, self.catalogue, self._nothing):
                raise ProtectedGraphError(f"<{w.graph}> is written by the store itself and cannot be changed by a client")
        added = {w.graph for w in writes if w.mode is WriteMode.ADD} - set(self.named_graphs())
        for graph in sorted(added):
            if self.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"):
                raise ProtectedGraphError(
                    f"the server at {self.url} holds triples in <{graph}> that this store does not list "
                    "(another application's, or another deployment's on the same server); nothing was written. "
                    "Replace the graph instead, or drop it on the server first")

    def staging_graphs(self) -> list[str]:
        """The staging graphs on the server with a triple in them (writes under way, or leftovers)."""
        query = (f'SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER (STRSTARTS(STR(?g), "{STAGING_PREFIX}")) }} '
                 "ORDER BY ?g")
        return [row["g"].value for row in self._rows(query, doing="listing staging graphs")]

    def drop_staging(self, names: Iterable[str] | None = None) -> None:
        """Drop staging graphs: the given ones, or every one this store's writers left on the
        server (a killed writer's leftovers; they are invisible but take space)."""
        targets = list(names) if names is not None else self.staging_graphs()
        for start in range(0, len(targets), 100):
            batch = targets[start:start + 100]
            self.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in batch), doing="dropping staging graphs")
        self._staging.difference_update(targets)

    def has_graph(self, name: str) -> bool:
        """True when this store manages the named graph (it is in the catalogue)."""
        answer = self._send_query(f"ASK {{ GRAPH <{self.catalogue}> {{ <{name}> a <{SD.NamedGraph}> }} }}", {},
                                  doing="looking up a graph", dialect=self.dialect)
        return bool(self._read_results(answer, doing="looking up a graph"))

    def graph_triples(self, name: str) -> Iterator[ox.Triple]:
        """The triples of one named graph (staging graphs too), read whole (see :meth:`whole_graph`)."""
        return iter(self.whole_graph(name))

    def named_quads(self) -> Iterator[ox.Quad]:
        """Every quad of every named graph this store manages."""
        for g in self.named_graphs():
            node = ox.NamedNode(g)
            for t in self._triples(g):
                yield ox.Quad(t.subject, t.predicate, t.object, node)

    def write_path_graphs(self) -> list[str]:
        """The graphs a write under way can see: this store's graphs and the staging graphs of
        the writes this instance has under way (other writers' staging graphs are not data)."""
        return [*self.named_graphs(), *sorted(self._staging)]

    def internal_query(self, sparql: str, *, doing: str) -> list[ox.QuerySolution] | bool:
        """A query of the write path, read whole: the default graph is the union, the named
        graphs are this store's graphs and the staging graphs of writes under way."""
        # every graph the text names is listed too: Virtuoso answers FILTER NOT EXISTS { GRAPH <g> … }
        # wrongly (as if it matched) when <g> is outside the request's named graphs
        named = {*self.write_path_graphs(), *named_in_text(sparql)}
        dataset = {"default-graph-uri": [self.union], "named-graph-uri": sorted(named) or [self._nothing]}
        return self._read_results(self._send_query(sparql, dataset, doing=doing, dialect=self.dialect), doing=doing)

    def _read_results(self, answer: Answer, *, doing: str) -> list[ox.QuerySolution] | bool:
        """The whole answer to an internal SELECT or ASK; the answer is closed."""
        try:
            result = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)
            return bool(result) if isinstance(result, ox.QueryBoolean) else list(result)
        except (SyntaxError, ValueError) as exc:
            raise StoreError(f"the SPARQL server at {self.url} answered something that is not "
                             f"SPARQL results while {doing}: {exc}") from None
        finally:
            answer.close()

    def count(self, sparql: str) -> int:
        """The ``?n`` of a one-row SELECT (for counts), staging graphs visible."""
        answer = self.internal_query(sparql, doing="counting")
        if isinstance(answer, bool):  # an ASK: iterating it failed here before too
            raise TypeError("count() takes a SELECT query, not an ASK")
        row = next(iter(answer), None)
        value = row["n"] if row is not None else None
        return int(value.value) if value is not None else 0

    def select_all(self, select: str, order: str) -> list[ox.QuerySolution]:
        """Every solution of ``select`` over this store's dataset, however many: read in pages
        sorted by ``order`` (``ORDER BY …``) when one answer would reach the server's row cap."""
        return self.rows(select, order, doing="running a query", dataset=self._dataset(None, None))

    def select(self, sparql: str) -> Iterator[ox.QuerySolution]:
        """Solutions of a SELECT query over the union graph."""
        outcome = self.query(sparql)
        if outcome.kind is not QueryKind.SOLUTIONS:
            raise QueryError("expected a SELECT query")
        return iter(outcome.result)  # type: ignore[arg-type]

    def reader(self) -> RemoteReader:
        """Pattern access to the dataset as a write would leave it, for the SHACL gate."""
        return RemoteReader(self)

    def in_place_loader(self) -> None:
        """None: every write is staged on the server and committed in one operation."""
        return None

    def differ(self) -> None:
        """None: graphs are replaced whole on the server (one operation, see the module docstring)."""
        return None

    def validation_store(self) -> None:
        """None: the data lives on the server; validation reads :meth:`union_graph`."""
        return None

    def replace_graphs(self, graphs: Mapping[URIRef, Graph]) -> None:
        """Replace each named graph by the given content (an empty graph deletes it), all at once."""
        staged: list[str] = []
        try:
            writes = []
            for name, g in graphs.items():
                if len(g):
                    staged.append(self.stage(graph_to_triples(g)))
                    writes.append(GraphWrite(str(name), WriteMode.REPLACE, (staged[-1],)))
                else:
                    writes.append(GraphWrite(str(name), WriteMode.DROP))
            self.commit(writes)
        except BaseException:
            self._drop_quietly(staged)
            raise

    def _drop_quietly(self, staged: list[str]) -> None:
        try:
            self.drop_staging(staged)
        except StoreError:
            pass  # staging graphs are not in the catalogue: left behind, they stay invisible

    def close(self) -> None:
        """Release the connections."""
        self.http.close()
