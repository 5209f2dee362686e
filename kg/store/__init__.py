"""The store interface, and the function that opens the one the settings name.

``EmbeddedStore`` (pyoxigraph on disk) is the default; ``RemoteStore`` is any SPARQL 1.1
server reached over HTTP. The interface is what every caller relies on, so either can
stand in for the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Protocol

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg.config import Settings
from kg.formats import RdfFormatInfo
from kg.store.embedded import EmbeddedStore, GraphWrite, LocalReader, QueryOutcome, WriteMode
from kg.store.remote import RemoteStore
from kg.store.remote_reader import RemoteReader

__all__ = ["EmbeddedStore", "GraphWrite", "QueryOutcome", "RemoteStore", "Store", "WriteMode", "open_store"]


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

    def dump(self, output: IO[bytes], *, format_name: str) -> None:
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

    def reader(self) -> LocalReader | RemoteReader:
        """Pattern access (``quads_for_pattern``, ``query``, ``prefetch``) to every graph,
        staging graphs included, for the SHACL gate."""

    def close(self) -> None:
        """Release the store."""


def open_store(settings: Settings, *, read_only: bool | None = None) -> EmbeddedStore | RemoteStore:
    """The store ``settings.store`` names: a directory for the embedded store, an
    ``http(s)`` URL for a remote SPARQL endpoint (checked to answer before it is returned).

    ``read_only`` opens an embedded store another process (a running server) may hold
    open; a remote server arbitrates its own readers and writers.
    """
    if settings.store_is_remote:
        return RemoteStore(settings)
    return EmbeddedStore(Path(settings.store), read_only=settings.read_only if read_only is None else read_only)
