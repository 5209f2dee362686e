"""The embedded store: pyoxigraph on disk, no server to install.

Writes that replace graphs go through one SPARQL update, which pyoxigraph applies
in a single transaction, so a reader never sees a half-built graph and a failed or
interrupted build leaves the store as it was.

The SPARQL default graph is the union of the named graphs. pyoxigraph's own union
mode returns a triple once per graph that holds it (a bag), where SPARQL says the
default graph is a set; so the store keeps the union materialised in its default
graph, recomputed in the same transaction as every write, and queries read that.
The materialised copy is derived data: dumps and listings show only named graphs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyoxigraph as ox
from rdflib import Graph, URIRef

from ..errors import QueryError, StoreError
from ..formats import QueryKind, RdfFormatInfo, output_format, output_formats, rdf_format_by_name
from ..namespaces import PREFIXES
from ..rdfio import quads_to_graph

__all__ = ["EmbeddedStore", "QueryOutcome"]

_UNION_TRIPLES = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
#: recomputes the materialised union (the default graph) from the named graphs
_REFRESH_UNION = "DROP SILENT DEFAULT ;\nINSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


@dataclass
class QueryOutcome:
    """The result of a query: its kind and pyoxigraph's result object."""

    kind: QueryKind
    result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples

    def serialize(self, output: IO[bytes], *, format_name: str) -> None:
        """Write the result in the named format; :class:`QueryError` if that format cannot hold it."""
        fmt = output_format(self.kind, format_name)
        if fmt is None:
            names = ", ".join(f.name for f in output_formats(self.kind))
            what = "CONSTRUCT/DESCRIBE" if self.kind is QueryKind.GRAPH else "SELECT/ASK"
            raise QueryError(f"format {format_name!r} cannot hold a {what} result; use one of: {names}")
        if isinstance(fmt, RdfFormatInfo):
            _serialize_rdf(self.result, output, fmt)  # type: ignore[arg-type]
        else:
            self.result.serialize(output, fmt.oxigraph)  # type: ignore[union-attr]


def _serialize_rdf(data: Iterable[ox.Triple] | Iterable[ox.Quad], output: IO[bytes], fmt: RdfFormatInfo) -> None:
    """Write triples or quads, with the project's prefixes where the format declares them."""
    if fmt.prefixes:
        ox.serialize(data, output, fmt.oxigraph, prefixes=PREFIXES)
    else:
        ox.serialize(data, output, fmt.oxigraph)


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
        self.path = path
        self.read_only = read_only
        try:
            if read_only:
                if not path.is_dir():
                    raise StoreError(f"no store at {path}; run 'kg build' first")
                self._store = ox.Store.read_only(str(path))
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(path))
        except OSError as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}") from None

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying pyoxigraph store, for callers that stream from it."""
        return self._store

    def replace_graphs(self, graphs: Mapping[URIRef, Graph]) -> None:
        """Replace each named graph by the given content, in one transaction."""
        parts: list[str] = []
        for name, graph in graphs.items():
            parts.append(f"DROP SILENT GRAPH <{name}>")
            body = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
            parts.append(f"INSERT DATA {{ GRAPH <{name}> {{\n{body}\n}} }}")
        parts.append(_REFRESH_UNION)
        try:
            self._store.update(" ;\n".join(parts))
            self._store.flush()
        except OSError as exc:
            raise StoreError(f"writing to the store at {self.path} failed, nothing was changed: {exc}") from None

    def named_graphs(self) -> list[str]:
        """The IRIs of the named graphs, sorted."""
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def is_empty(self) -> bool:
        """True when the store holds no quad."""
        return next(iter(self._store.quads_for_pattern(None, None, None, None)), None) is None

    def __len__(self) -> int:
        """Number of quads in the named graphs."""
        return sum(1 for q in self._named_quads())

    def _named_quads(self) -> Iterator[ox.Quad]:
        return (
            q for q in self._store.quads_for_pattern(None, None, None, None)
            if not isinstance(q.graph_name, ox.DefaultGraph)
        )

    def query(self, sparql: str, *, union_default_graph: bool = True) -> QueryOutcome:
        """Run a SPARQL query; the default graph is the union of all graphs unless told otherwise.

        Raises :class:`QueryError` with the parser's message for a query that does not parse.
        """
        try:
            if union_default_graph:
                result = self._store.query(sparql)
            else:
                result = self._store.query(sparql, default_graph=[])
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from None
        except (OSError, ValueError) as exc:
            raise QueryError(f"query failed: {exc}") from None
        return _outcome(result)

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
        ``base_iri`` resolves relative IRIs in the query (the protocol lets the service choose it)."""
        try:
            result = self._store.query(
                sparql,
                base_iri=base_iri,
                default_graph=[ox.NamedNode(g) for g in default_graphs or []] or None,
                named_graphs=[ox.NamedNode(g) for g in named_graphs or []] or None,
            )
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from None
        except (OSError, ValueError) as exc:
            raise QueryError(f"query failed: {exc}") from None
        return _outcome(result)

    def select(self, sparql: str) -> Iterator[ox.QuerySolution]:
        """Solutions of a SELECT query over the union graph."""
        outcome = self.query(sparql)
        if outcome.kind is not QueryKind.SOLUTIONS:
            raise QueryError("expected a SELECT query")
        return iter(outcome.result)  # type: ignore[arg-type]

    def dump(self, output: IO[bytes], *, format_name: str) -> None:
        """Write the whole dataset; formats without graphs get the union (each triple once)."""
        fmt = rdf_format_by_name(format_name)
        _serialize_rdf(self._named_quads() if fmt.datasets else self._store.query(_UNION_TRIPLES), output, fmt)  # type: ignore[arg-type]

    def union_graph(self) -> Graph:
        """Every triple of every named graph, as one rdflib graph."""
        return quads_to_graph(self._store.quads_for_pattern(None, None, None, ox.DefaultGraph()))

    def close(self) -> None:
        """Flush pending writes and release the store."""
        if not self.read_only:
            self._store.flush()
        del self._store
