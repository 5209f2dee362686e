"""Files compared with the graph they replace or join, as they stream: only the difference is staged.

Staging a file to compare it with its graph in the store would cost a bulk load of the whole
file and, once compared, the deletion of the staging graph (a transaction as large as the
file). Reading the file and asking the store whether its graph holds each triple costs a
fraction of that, so a replace by what the graph already holds stages nothing:

* each triple of the files that the graph does not hold is staged as *gained*;
* for a replace, the triples of the graph the files do not hold are *lost*. The held triples
  are counted by their hash (a machine word each, not the triples): when the files hold as
  many distinct hashes of the graph's triples as the graph has triples, every triple of the
  graph is held — a collision can only make the count smaller, so this is exact — and the
  graph is not read at all. Otherwise the files are read again into a store in memory and
  each triple of the graph looked up there (exact, and only when something is lost).

Triples are told apart as the store encodes them: typed literals are canonicalised by the
store (``"0.50"^^xsd:decimal`` is stored as ``"0.5"``), so a held typed literal is counted by
its stored form, and the store in memory encodes as the one on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO

import pyoxigraph as ox

from kg.errors import InputError, Location
from kg.rdfguard import TRIPLE_TERMS, screen_rdf
from kg.store.base import Differ, GraphWrite, Store, WriteMode
from kg.write.change import FilesChange, SourceFile

__all__ = ["diff_files"]

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


class _Canonical:
    """Objects as the store encodes them: a typed literal's canonical form, found once per
    distinct literal by storing it in a small store in memory (the same encoder)."""

    def __init__(self) -> None:
        self.known: dict[ox.Literal, ox.Literal] = {}
        self.scratch = ox.Store()
        self.node = ox.NamedNode("urn:x-kg:canonical")

    def __call__(self, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        if not isinstance(o, ox.Literal) or o.datatype.value in (_XSD_STRING, _LANG_STRING):
            return o
        found = self.known.get(o)
        if found is None:
            quad = ox.Quad(self.node, self.node, o, self.node)
            self.scratch.add(quad)
            stored = next(iter(self.scratch.quads_for_pattern(self.node, self.node, None, self.node))).object
            self.scratch.remove(ox.Quad(self.node, self.node, stored, self.node))
            found = self.known[o] = stored  # type: ignore[assignment]
        return found if found is not None else o


def diff_files(store: Store, differ: Differ, change: FilesChange, reader: Callable[[IO[bytes]], IO[bytes]],
               stage: Callable[[Iterator[ox.Triple]], str], current: list[SourceFile]) -> GraphWrite:
    """``change`` (files into an existing graph) as the difference it makes to its graph; the
    gained and lost triples staged with ``stage``. ``reader`` wraps each open file (hashing
    and progress); ``current`` gets each file as it is read. ``SyntaxError`` from the parser
    is left to the caller, which finds the file last in ``current``."""
    graph = ox.NamedNode(change.graph)
    oxstore = store.validation_store()
    assert oxstore is not None
    replace = change.replace_graph
    keys: set[int] = set()
    canonical = _Canonical()

    def gained() -> Iterator[ox.Triple]:
        for source in change.files:
            current.append(source)
            with source.path.open("rb") as handle:
                # by path: a file without openers is cleared at memchr speed (kg.rdfguard)
                screen_rdf(source.path, source.format, source.label, max_nesting=change.max_nesting)
                parsed = ox.parse(reader(handle), format=source.format.oxigraph,
                                  base_iri=change.base_for(source))
                for q in parsed:
                    if isinstance(q.subject, ox.Triple) or isinstance(q.object, ox.Triple):
                        raise InputError(TRIPLE_TERMS, location=Location(source.label))
                    quad = ox.Quad(q.subject, q.predicate, q.object, graph)
                    if quad not in oxstore:
                        yield ox.Triple(q.subject, q.predicate, q.object)
                        continue
                    if not replace:
                        continue
                    keys.add(hash(ox.Triple(q.subject, q.predicate, canonical(q.object))))

    added = stage(gained())
    write = GraphWrite(change.graph, WriteMode.REPLACE if replace else WriteMode.ADD, (added,), diff=True)
    if not replace:
        return write
    size = store.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{change.graph}> {{ ?s ?p ?o }} }}")
    if size == len(keys):
        return write
    keys.clear()
    files = _in_memory(change)
    lost = [q.triple for q in oxstore.quads_for_pattern(None, None, None, graph)
            if ox.Quad(q.subject, q.predicate, q.object) not in files]
    return GraphWrite(write.graph, write.mode, write.staged, diff=True, removed=(stage(iter(lost)),))


def _in_memory(change: FilesChange) -> ox.Store:
    """The files' triples in a store in memory, encoded as the store on disk encodes them, in
    its default graph (a dataset's graph names set aside, as when it goes into one graph)."""
    files = ox.Store()
    for source in change.files:
        base = change.base_for(source)
        if source.format.datasets:
            files.extend(ox.Quad(q.subject, q.predicate, q.object)
                         for q in ox.parse(path=str(source.path), format=source.format.oxigraph, base_iri=base))
        else:
            files.bulk_load(path=str(source.path), format=source.format.oxigraph, base_iri=base)
    return files

