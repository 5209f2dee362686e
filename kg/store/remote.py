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

Writes are all-or-nothing without HTTP transactions: new content goes into fresh
staging graphs (invisible to queries, since they are not in the catalogue), then one
single SPARQL operation — a ``DELETE … INSERT … WHERE`` — swaps every target graph,
the catalogue and the union at once. A server runs one operation in one transaction
(an update *request* of several operations is not atomic on Virtuoso), so a failure
or a crash before or during it leaves the targets as they were. The staging graphs
are dropped afterwards, also when anything failed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef

from ..config import Settings
from ..errors import QueryError, StoreError
from ..formats import QueryKind, rdf_format_by_name
from ..iris import graph_iri
from ..namespaces import RDF, SD
from ..rdfio import quads_to_graph, to_oxigraph_term
from ..sparql_guard import significant_tokens
from .dialects import Dialect, detect_dialect, dialect_named
from .embedded import QueryOutcome, _serialize_rdf
from .http import Answer, HttpClient

__all__ = ["RemoteStore", "query_kind"]

_RESULTS_JSON = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"
_FORMS = {"SELECT": QueryKind.SOLUTIONS, "ASK": QueryKind.BOOLEAN, "CONSTRUCT": QueryKind.GRAPH,
          "DESCRIBE": QueryKind.GRAPH}


def query_kind(sparql: str) -> tuple[QueryKind, bool]:
    """The kind of result a query gives, and whether it names its own dataset (FROM / FROM NAMED).

    Raises :class:`QueryError` when the text is no SELECT, ASK, CONSTRUCT or DESCRIBE query.
    """
    tokens = significant_tokens(sparql)
    words = [value.upper() for kind, value in tokens if kind == "word"]
    form = next((w for w in words if w in _FORMS), None)
    if form is None:
        raise QueryError("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")
    return _FORMS[form], "FROM" in words


def _chunks(graph: Graph, size: int) -> Iterator[bytes]:
    """N-Triples of ``graph`` in pieces of at most ``size`` triples; every triple with a blank
    node goes into one piece, so each blank node stays one node on the server."""
    with_bnodes: list[ox.Triple] = []
    piece: list[ox.Triple] = []
    for s, p, o in graph:
        triple = ox.Triple(to_oxigraph_term(s), to_oxigraph_term(p), to_oxigraph_term(o))  # type: ignore[arg-type]
        if isinstance(s, BNode) or isinstance(o, BNode):
            with_bnodes.append(triple)
            continue
        piece.append(triple)
        if len(piece) >= size:
            yield ox.serialize(piece, format=ox.RdfFormat.N_TRIPLES)
            piece = []
    for rest in (piece, with_bnodes):
        if rest:
            yield ox.serialize(rest, format=ox.RdfFormat.N_TRIPLES)


def _rows_of(rows: Iterable[tuple[str, str]]) -> str:
    """Rows of a VALUES block of IRIs."""
    return " ".join("(" + " ".join(f"<{x}>" for x in row) + ")" for row in rows)


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
                    dialect: Dialect | None, accept: str = _RESULTS_JSON) -> Answer:
        form: dict[str, Any] = {"query": sparql, **{k: v for k, v in dataset.items() if v}}
        if dialect is not None and dialect.timeout_parameter:
            form[dialect.timeout_parameter] = str(int(self.query_timeout * 1000))
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
        accept = _NTRIPLES if kind is QueryKind.GRAPH else _RESULTS_JSON
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

    def _rows(self, sparql: str, *, doing: str) -> Iterator[ox.QuerySolution]:
        """Every solution of an internal SELECT (already ordered), page by page; a page the
        server cuts at its cap shrinks the pages that follow instead of losing rows."""
        offset = 0
        while True:
            asked = self.chunk
            answer = self._send_query(f"{sparql} LIMIT {asked} OFFSET {offset}", {}, doing=doing, dialect=self.dialect)
            try:
                rows = list(ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON))  # type: ignore[arg-type]
            except (SyntaxError, ValueError) as exc:
                raise StoreError(f"the SPARQL server at {self.url} answered something that is not "
                                 f"SPARQL JSON results while {doing}: {exc}") from None
            finally:
                answer.close()
            yield from rows
            offset += len(rows)
            cap = self._capped(answer)
            if cap is not None:
                self.chunk = max(1, min(self.chunk, cap))
            if not rows or (cap is None and len(rows) < asked):
                return

    def _triples(self, graph: str) -> Iterator[ox.Triple]:
        query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} ORDER BY ?s ?p ?o"
        for row in self._rows(query, doing=f"reading the graph <{graph}>"):
            yield ox.Triple(row["s"], row["p"], row["o"])  # type: ignore[arg-type]

    def named_graphs(self) -> list[str]:
        """The IRIs of the named graphs this store manages, sorted."""
        query = (f"SELECT ?g WHERE {{ GRAPH <{self.catalogue}> {{ ?g a <{SD.NamedGraph}> }} }} ORDER BY ?g")
        return sorted(row["g"].value for row in self._rows(query, doing="listing the graphs"))  # type: ignore[union-attr]

    def is_empty(self) -> bool:
        """True when the store manages no graph with a triple in it."""
        return not self.named_graphs()

    def graph(self, iri: str) -> Graph:
        """Every triple of one named graph (empty when the store has no such graph)."""
        return quads_to_graph(self._triples(iri))

    def dump(self, output: IO[bytes], *, format_name: str) -> None:
        """Write the whole dataset; formats without graphs get the union (each triple once)."""
        fmt = rdf_format_by_name(format_name)
        data: Iterable[ox.Triple] | Iterable[ox.Quad]
        if fmt.datasets:
            data = (ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g))
                    for g in self.named_graphs() for t in self._triples(g))
        else:
            data = self._triples(self.union)
        _serialize_rdf(data, output, fmt)

    def union_graph(self) -> Graph:
        """Every triple of every named graph, as one rdflib graph."""
        return quads_to_graph(self._triples(self.union))

    # --- writing -----------------------------------------------------------------------------

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

    def _swap(self, replaced: Mapping[str, str | None], added: Mapping[str, str]) -> None:
        """One operation: each target in ``replaced`` gets its staging graph's content (None:
        deleted), each target in ``added`` gets its staging graph's content added; the
        catalogue and the union follow."""
        targets = sorted({*replaced, *added})
        filled = [t for t in targets if replaced.get(t) or t in added]
        copies = [(s, t) for t, s in [*replaced.items(), *added.items()] if s]
        kept = ", ".join(f"<{g}>" for g in sorted(replaced)) or f"<{self._nothing}>"
        listed = f"BIND(<{RDF.type}> AS ?p) BIND(<{SD.NamedGraph}> AS ?o)"
        blocks = [
            # what goes: the old content of the replaced graphs, the union, the targets' catalogue entries
            f"{{ VALUES ?dg {{ <{self.union}> {' '.join(f'<{t}>' for t in replaced)} }} GRAPH ?dg {{ ?ds ?dp ?do }} }}",
            f"{{ VALUES ?ds {{ {' '.join(f'<{t}>' for t in targets)} }} BIND(<{self.catalogue}> AS ?dg) "
            f"BIND(<{RDF.type}> AS ?dp) BIND(<{SD.NamedGraph}> AS ?do) }}",
            # what comes: the union of the graphs kept as they are, ...
            f"{{ GRAPH <{self.catalogue}> {{ ?og a <{SD.NamedGraph}> }} FILTER(?og NOT IN ({kept})) "
            f"GRAPH ?og {{ ?s ?p ?o }} BIND(<{self.union}> AS ?ig) }}",
        ]
        if filled:  # ... the catalogue entries of the graphs that have content, ...
            blocks.append(f"{{ VALUES ?s {{ {' '.join(f'<{t}>' for t in filled)} }} "
                          f"BIND(<{self.catalogue}> AS ?ig) {listed} }}")
        if copies:  # ... and the staged content, into its target and into the union
            blocks.append(f"{{ VALUES (?src ?ig) {{ {_rows_of(copies)} {_rows_of((s, self.union) for s, _ in copies)} }} "
                          "GRAPH ?src { ?s ?p ?o } }")
        self.update(
            "DELETE { GRAPH ?dg { ?ds ?dp ?do } }\nINSERT { GRAPH ?ig { ?s ?p ?o } }\nWHERE {\n  "
            + "\n  UNION ".join(blocks) + "\n}",
            doing="replacing the graphs",
        )

    def _drop(self, graphs: Iterable[str]) -> None:
        names = list(graphs)
        if names:
            self.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in names), doing="dropping staging graphs")

    def _write(self, replace: Mapping[str, Graph], add: Mapping[str, Graph]) -> None:
        """Stage the new content, swap it in with one operation, drop the staging graphs."""
        if not replace and not any(len(g) for g in add.values()):
            return
        token = uuid.uuid4().hex
        staging: list[str] = []

        def stage(graph: Graph) -> str:
            iri = str(graph_iri(f"kg-staging-{token}-{len(staging)}"))
            staging.append(iri)  # before the first upload, so a failed upload is cleaned up too
            for piece in _chunks(graph, self.chunk):
                self._upload(iri, piece)
            return iri

        try:
            replaced = {t: stage(g) if len(g) else None for t, g in replace.items()}
            added = {t: stage(g) for t, g in add.items() if len(g)}
            self._swap(replaced, added)
        finally:
            try:
                self._drop(staging)
            except StoreError:
                pass  # staging graphs are not in the catalogue: left behind, they stay invisible

    def replace_graphs(self, graphs: Mapping[URIRef, Graph]) -> None:
        """Replace each named graph by the given content (an empty graph deletes it), all at once."""
        self._write({str(k): v for k, v in graphs.items()}, {})

    def put_graph(self, iri: str, graph: Graph) -> None:
        """Graph Store PUT: the graph's content becomes ``graph``."""
        self._write({iri: graph}, {})

    def post_graph(self, iri: str, graph: Graph) -> None:
        """Graph Store POST: ``graph`` is added to the graph (created when new)."""
        self._write({}, {iri: graph})

    def delete_graph(self, iri: str) -> bool:
        """Graph Store DELETE: remove the graph; False when the store had no such graph."""
        if iri not in self.named_graphs():
            return False
        self._write({iri: Graph()}, {})
        return True

    def close(self) -> None:
        """Release the connections."""
        self.http.close()
