"""The store seam: what every store offers, and the types both stores share.

:class:`Store` is the protocol the build, the CLI, the write path and the server rely on;
:class:`~kg.store.embedded.EmbeddedStore` (pyoxigraph on disk) and
:class:`~kg.store.remote.RemoteStore` (any SPARQL 1.1 server) implement it, so either can
stand in for the other. What only one of them can do is declared here as an optional
capability (:meth:`Store.in_place_loader`, :meth:`Store.validation_store`) that answers
None where it is missing, so callers ask the store instead of testing its class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO, Any, Protocol, cast

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg.errors import QueryError
from kg.formats import QueryKind, RdfFormatInfo, output_format, output_formats
from kg.iris import check_iri, staging_graph
from kg.namespaces import PREFIXES

__all__ = [
    "READ_FROM",
    "SOURCES_GRAPH",
    "STAGING_PREFIX",
    "BinaryWriter",
    "GraphWrite",
    "Differ",
    "InPlaceLoader",
    "PatternReader",
    "QueryOutcome",
    "Store",
    "WriteMode",
    "iri_ref",
    "serialize_rdf",
]

#: the IRIs of staging graphs start with this (see :func:`kg.iris.staging_graph`)
STAGING_PREFIX = str(staging_graph(""))
#: where an embedded store records which files each graph was read from (:meth:`Differ.source_record`):
#: under the staging prefix, so no query, listing or dump shows it; kept by every commit
SOURCES_GRAPH = STAGING_PREFIX + "sources"
#: the predicate of a graph's record there: ``<graph> <…#readFrom> "record"``
READ_FROM = SOURCES_GRAPH + "#readFrom"


class WriteMode(str, Enum):
    """What a commit does to one graph."""

    REPLACE = "replace"  # the graph becomes its staged content (an empty graph if none)
    ADD = "add"  # the staged triples join the graph
    DROP = "drop"  # the graph goes
    LOADED = "create"  # the graph did not exist and was loaded in place (journaled); the union follows


@dataclass(frozen=True)
class GraphWrite:
    """One graph's part of a commit: the graph, the mode, and its staging graphs."""

    graph: str
    mode: WriteMode
    #: graphs holding the new content (for LOADED: the graph itself)
    staged: tuple[str, ...] = ()
    #: LOADED only: the union copy is already in the default graph (bulk loaded)
    union_loaded: bool = False
    #: a difference (REPLACE or ADD only): ``staged`` holds just the triples the graph gains,
    #: ``removed`` the graphs holding the triples it loses; the commit touches nothing else
    diff: bool = False
    removed: tuple[str, ...] = ()
    #: the graph will hold exactly the triples of these files: their record
    #: (:func:`kg.write.records.files_record`), kept for the next replace; None for any
    #: other write, which forgets the graph's record
    record: str | None = None


def iri_ref(value: str) -> str:
    """``value`` as a SPARQL IRI reference (``<…>``); :class:`~kg.errors.InputError` for text
    that is no IRI (:func:`kg.iris.check_iri`), which could otherwise end the ``<…>`` early."""
    return f"<{check_iri(value)}>"


class PatternReader(Protocol):
    """Pattern access to every graph of a store, staging graphs included: what the SHACL gate reads."""

    @property
    def quads_for_pattern(self) -> Callable[..., Iterator[ox.Quad]]:
        """The quads matching a pattern (subject, predicate, object, graph; None: any term)."""

    @property
    def query(self) -> Callable[..., Any]:
        """A SPARQL query over the reader's dataset (pyoxigraph's ``Store.query`` signature)."""

    def prefetch(self, nodes: Iterable[object], *, as_objects: bool = True, every_graph: bool = False) -> None:
        """Fetch what a walk from ``nodes`` will ask for, in few round trips (nothing to do locally)."""

    def outside_union(self, graphs: Sequence[ox.NamedNode]) -> Iterator[ox.Triple]:
        """The triples of ``graphs`` (staging graphs) that the union does not hold yet."""


class InPlaceLoader(Protocol):
    """A store that can load a new graph where it will live, under a journal (about half the
    work of staging for large files), for a writer that holds the store alone."""

    def begin_load(self, graph: str) -> None:
        """Journal ``graph`` (which must not exist) as being loaded in place."""

    def abandon_load(self, graph: str, *, union_touched: bool) -> None:
        """Undo a journaled load that will not be committed."""

    def has_blank_nodes(self, graph: str) -> bool:
        """True when a triple of ``graph`` has a blank node."""

    def load_union(self, path: Path, fmt: RdfFormatInfo, *, base_iri: str) -> None:
        """Load a file into the union (default graph) too, at bulk speed."""


class Differ(Protocol):
    """A store that can tell what a write changes in a graph, in the store itself (so a write
    costs what it changes, not what the graph holds)."""

    def contains(self, triple: ox.Triple, graph: str) -> bool:
        """True when ``graph`` holds ``triple`` (as the store encodes it)."""

    def diff_staged(self, graph: str, staged: Sequence[str], *, replace: bool) -> tuple[str, str | None]:
        """Staging graphs holding what ``graph`` would gain from the ``staged`` graphs and, when
        it is replaced by them, what it would lose (None when it only gains)."""

    def source_record(self, graph: str) -> str | None:
        """The record of the files ``graph`` holds exactly the triples of, if the last write
        to it was a load or replace from files (:attr:`GraphWrite.record`); else None."""


class BinaryWriter(Protocol):
    """Where results are written: a binary file, or anything with its ``write`` and ``flush``
    (pyoxigraph calls only these)."""

    def write(self, data: bytes, /) -> int:
        """Write ``data``; the number of bytes written."""

    def flush(self) -> None:
        """Pass on what is buffered."""


@dataclass
class QueryOutcome:
    """The result of a query: its kind and pyoxigraph's result object."""

    kind: QueryKind
    result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples

    def solutions(self) -> Iterator[ox.QuerySolution]:
        """The rows of a SELECT result (a :class:`TypeError` for any other kind: a caller bug)."""
        if self.kind is not QueryKind.SOLUTIONS or isinstance(self.result, ox.QueryBoolean):
            raise TypeError(f"a {self.kind.value} result has no solutions")
        # a remote store's solutions are parsed from its answer, rows of the same kind
        return cast(Iterator[ox.QuerySolution], iter(self.result))

    def serialize(self, output: BinaryWriter, *, format_name: str) -> None:
        """Write the result in the named format; :class:`QueryError` if that format cannot hold it."""
        fmt = output_format(self.kind, format_name)
        if fmt is None:
            names = ", ".join(f.name for f in output_formats(self.kind))
            what = "CONSTRUCT/DESCRIBE" if self.kind is QueryKind.GRAPH else "SELECT/ASK"
            raise QueryError(f"format {format_name!r} cannot hold a {what} result; use one of: {names}")
        # the kind decides the format: RDF formats for graph results (triples), result formats otherwise
        result = self.result
        if isinstance(fmt, RdfFormatInfo):
            if isinstance(result, (ox.QuerySolutions, ox.QueryBoolean)):
                raise TypeError(f"a {self.kind.value} outcome holds no triples")
            serialize_rdf(result, output, fmt)
        elif isinstance(result, ox.QueryTriples):
            raise TypeError(f"a {self.kind.value} outcome holds triples")
        else:
            result.serialize(_io(output), fmt.oxigraph)


def _io(output: BinaryWriter) -> IO[bytes]:
    # cast: pyoxigraph writes to any object with write() and flush(); its stub asks for IO[bytes]
    return cast(IO[bytes], output)


def serialize_rdf(data: Iterable[ox.Triple] | Iterable[ox.Quad], output: BinaryWriter, fmt: RdfFormatInfo) -> None:
    """Write triples or quads, with the project's prefixes where the format declares them."""
    if fmt.prefixes:
        ox.serialize(data, _io(output), fmt.oxigraph, prefixes=PREFIXES)
    else:
        ox.serialize(data, _io(output), fmt.oxigraph)


class Store(Protocol):
    """What the build, the CLI, the write path and the server need from a store."""

    #: writes are refused (the store was opened for reading only)
    read_only: bool

    @property
    def location(self) -> str:
        """Where the store is (a directory or a URL)."""

    def replace_graphs(self, graphs: Mapping[URIRef, Graph]) -> None:
        """Replace each named graph by the given content, all in one transaction."""

    def named_graphs(self) -> list[str]:
        """The IRIs of the named graphs, sorted."""

    def is_empty(self) -> bool:
        """True when the store holds no quad."""

    def query(self, sparql: str, *, union_default_graph: bool = True) -> QueryOutcome:
        """Run a SPARQL query."""

    def query_dataset(
        self,
        sparql: str,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        base_iri: str | None = None,
    ) -> QueryOutcome:
        """Run a query over the dataset a SPARQL Protocol request names."""

    def dump(self, output: BinaryWriter, *, format_name: str) -> None:
        """Write the whole dataset to ``output``."""

    def union_graph(self) -> Graph:
        """Every triple of every graph, as one rdflib graph (for validation)."""

    def named_quads(self) -> Iterator[ox.Quad]:
        """Every quad of the named graphs."""

    def select(self, sparql: str) -> Iterator[ox.QuerySolution]:
        """Solutions of a SELECT query over the union graph."""

    def select_all(self, select: str, order: str) -> list[ox.QuerySolution]:
        """Every solution of ``select``, in pages sorted by ``order`` where a server caps answers."""

    # writing: every write goes through kg.write.apply.apply_write, which uses these

    def new_staging_graph(self) -> str:
        """A fresh staging graph IRI."""

    def stage(self, triples: Iterable[ox.Triple]) -> str:
        """Put triples in a new staging graph (invisible until committed); its IRI."""

    def stage_file(self, source: IO[bytes] | bytes, *, fmt: RdfFormatInfo, base_iri: str | None,
                   into: str | None = None) -> str:
        """Parse RDF into a staging graph (``into``, or a new one) as it streams; its IRI."""

    def commit(self, writes: Sequence[GraphWrite]) -> None:
        """Apply staged writes (replace, add, drop) in one transaction, the union included."""

    def staging_graphs(self) -> list[str]:
        """The staging graphs the store holds (writes under way, or a killed writer's leftovers)."""

    def drop_staging(self, names: Iterable[str] | None = None) -> None:
        """Drop staging graphs: the given ones, or every one."""

    def has_graph(self, name: str) -> bool:
        """True when the named graph exists."""

    def graph_triples(self, name: str) -> Iterator[ox.Triple]:
        """The triples of one named graph."""

    def count(self, sparql: str) -> int:
        """The ``?n`` of a one-row SELECT, staging graphs visible (for receipts)."""

    def reader(self) -> PatternReader:
        """Pattern access (``quads_for_pattern``, ``query``, ``prefetch``) to every graph,
        staging graphs included, for the SHACL gate."""

    def close(self) -> None:
        """Release the store."""

    # optional capabilities: None where the store has none

    def in_place_loader(self) -> InPlaceLoader | None:
        """The store itself when it can load a new graph in place (:class:`InPlaceLoader`)."""

    def differ(self) -> Differ | None:
        """The store itself when it can compute a write's difference in place (:class:`Differ`);
        then writes are committed as differences."""

    def validation_store(self) -> ox.Store | None:
        """The pyoxigraph store whose default graph is the union, to validate in place
        without a copy; None when the data lives elsewhere (then :meth:`union_graph`)."""
