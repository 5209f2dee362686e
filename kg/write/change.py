"""What a writer wants done: one small variant per kind of change.

Every writer (Graph Store, SPARQL Update, ``kg ingest``, ``kg add-document``) describes its
change as one of these and hands it to :func:`kg.write.apply.apply_write`. Each variant holds
only what its kind needs, so a change cannot carry fields that mean nothing for it; the
class methods of :class:`Change` build them with the graph name checked (``None`` is the
default graph a client writes to, :data:`kg.iris.DEFAULT_GRAPH`; the provenance and staging
graphs are refused).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kg.config import Settings
from kg.errors import ProtectedGraphError
from kg.formats import RdfFormatInfo
from kg.iris import DEFAULT_GRAPH, PROVENANCE_GRAPH, check_iri
from kg.rdfio import graph_to_triples
from kg.store.base import STAGING_PREFIX

__all__ = [
    "AddTriples",
    "Change",
    "DatasetChange",
    "DropGraph",
    "FilesChange",
    "ReplaceGraph",
    "SourceFile",
    "SparqlUpdate",
    "graph_name",
    "is_protected",
]


def graph_name(graph: str | None) -> str:
    """The graph a client names (None: the default graph), refusing text that is no IRI
    (:func:`kg.iris.check_iri`) and the store's own graphs."""
    name = str(DEFAULT_GRAPH) if graph is None else check_iri(str(graph), what="graph")
    if is_protected(name):
        raise ProtectedGraphError(f"<{name}> is written by the store itself and cannot be changed by a client")
    return name


def is_protected(name: str) -> bool:
    """True for the graphs only the store itself writes: the receipts and the staging graphs."""
    return name == str(PROVENANCE_GRAPH) or name.startswith(STAGING_PREFIX)


def _triples(triples: Iterable[ox.Triple] | Graph) -> tuple[ox.Triple, ...]:
    return tuple(graph_to_triples(triples)) if isinstance(triples, Graph) else tuple(triples)


class Change:
    """The base of every change; build one with the class methods."""

    __slots__ = ()

    @staticmethod
    def replace(graph: str | None, triples: Iterable[ox.Triple] | Graph) -> ReplaceGraph:
        """Graph ``graph`` (None: the default graph) becomes ``triples``."""
        return ReplaceGraph(graph_name(graph), _triples(triples))

    @staticmethod
    def add(graph: str | None, triples: Iterable[ox.Triple] | Graph) -> AddTriples:
        """``triples`` join graph ``graph`` (None: the default graph)."""
        return AddTriples(graph_name(graph), _triples(triples))

    @staticmethod
    def delete(graph: str | None) -> DropGraph:
        """Graph ``graph`` (None: the default graph) goes."""
        return DropGraph(graph_name(graph))

    @staticmethod
    def sparql_update(update: str, *, using_graphs: Sequence[str] = (), using_named_graphs: Sequence[str] = (),
                      base_iri: str | None = None) -> SparqlUpdate:
        """A SPARQL 1.1 Update, with the protocol's ``using-graph-uri``/``using-named-graph-uri``."""
        return SparqlUpdate(update, tuple(using_graphs), tuple(using_named_graphs), base_iri)

    @staticmethod
    def dataset(quads: Iterable[ox.Quad], *, replace: bool = False) -> DatasetChange:
        """Quads of several graphs (default-graph quads go to the default graph), added to
        their graphs or, with ``replace``, replacing them."""
        return DatasetChange(tuple(quads), replace_graphs=replace)

    @staticmethod
    def from_files(graph: str | None, files: Sequence[tuple[Path, RdfFormatInfo]], *, add: bool = False,
                   labels: Sequence[str] | None = None, base_iri: str | None = None,
                   in_place: bool = False, shared: bool = False,
                   max_nesting: int = Settings.max_nesting) -> FilesChange:
        """RDF files streamed into graph ``graph`` (None: the default graph), replacing it or,
        with ``add``, joining it. Nothing is held in memory: for large ingests and bodies.

        ``labels``: what errors call each file (a request body's temporary file is "request
        body"). ``in_place``: when the graph does not exist yet, load it where it will live,
        under a journal, instead of in a staging graph copied at commit (300k triples: 7 s
        against 40 s); queries never list a journaled graph, so nobody sees it fill up.
        ``shared``: readers share the writer's store handle (a server), so the union copy of
        such a graph is made by the commit; a writer alone (``kg ingest``) bulk-loads it in
        place too, before the gate. ``max_nesting``: the deepest nesting
        the files may have (setting ``max_nesting``; :func:`kg.rdfguard.screen_rdf` reads each
        file before its parser does)."""
        names = list(labels) if labels is not None else [str(path) for path, _ in files]
        sources = tuple(SourceFile(path, fmt, label) for (path, fmt), label in zip(files, names, strict=True))
        return FilesChange(graph_name(graph), sources, replace_graph=not add, base_iri=base_iri, in_place=in_place,
                           shared=shared, max_nesting=max_nesting)


@dataclass(frozen=True, slots=True)
class ReplaceGraph(Change):
    """A graph becomes the given triples."""

    graph: str
    triples: tuple[ox.Triple, ...]


@dataclass(frozen=True, slots=True)
class AddTriples(Change):
    """Triples join a graph."""

    graph: str
    triples: tuple[ox.Triple, ...]


@dataclass(frozen=True, slots=True)
class DropGraph(Change):
    """A graph goes."""

    graph: str


@dataclass(frozen=True, slots=True)
class SparqlUpdate(Change):
    """A SPARQL 1.1 Update (see :mod:`kg.write.update` for how it becomes per-graph writes)."""

    update: str
    using_graphs: tuple[str, ...] = ()
    using_named_graphs: tuple[str, ...] = ()
    base_iri: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetChange(Change):
    """Quads: each graph they name gets its triples (added, or replacing it)."""

    quads: tuple[ox.Quad, ...]
    #: each graph named becomes its quads' triples (otherwise they join it)
    replace_graphs: bool = False


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One RDF file of a :class:`FilesChange`: where it is, its format, what errors call it."""

    path: Path
    format: RdfFormatInfo
    label: str


@dataclass(frozen=True, slots=True)
class FilesChange(Change):
    """RDF files streamed into one graph, replacing it or joining it."""

    graph: str
    files: tuple[SourceFile, ...]
    #: the graph becomes the files' triples (otherwise they join it)
    replace_graph: bool = True
    base_iri: str | None = None
    #: a new graph may be loaded in place under a journal
    in_place: bool = False
    #: readers share the writer's handle: the union copy of a graph loaded in place waits for the commit
    shared: bool = False
    #: the deepest nesting the files may have (setting ``max_nesting``), checked before parsing
    max_nesting: int = Settings.max_nesting

    def base_for(self, source: SourceFile) -> str:
        """The base IRI ``source`` is read against: the change's, else the file's own URL."""
        return self.base_iri or source.path.resolve().as_uri()
