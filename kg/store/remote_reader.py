"""Pattern access to a remote store for the SHACL gate: a local mirror filled on demand.

The gate (:mod:`kg.write.gate`) walks the neighbourhood of what a write changes, asking for
the triples with a given subject or object, graph by graph. Over HTTP every such
question would be a round trip, and a walk asks thousands. The reader answers them
from a local in-memory pyoxigraph store instead, which it fills in batches; the gate
announces the nodes of each step of its walk (:meth:`RemoteReader.prefetch`), so a step
costs a few requests, not one per node. The mirror keeps the server's union graph as
its default graph, as the embedded store does, and these graphs as named graphs:

- the staging graphs of the write and the graphs it replaces or drops, read whole
  (N-Triples from a CONSTRUCT, which servers write several times faster than SPARQL
  results);
- for the walk, the union's triples about a batch of nodes (as subject, or as object),
  one CONSTRUCT per batch;
- for the question "which other graph still holds this triple", every graph's triples
  about a batch of subjects, one SELECT per batch (it needs the graph names).

A graph the store does not list (its catalogue) is empty here, whatever the server
holds under its name. Blank nodes are named in a query the way the server's dialect
says (Virtuoso: ``<nodeID://b123>``); on a server with no such way, the first question
about a blank node loads every graph the write can see into the mirror, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING

import pyoxigraph as ox

if TYPE_CHECKING:
    from kg.store.remote import RemoteStore

__all__ = ["RemoteReader"]

#: nodes per query (a FILTER … IN list, or UNION branches for the every-graph read)
_BATCH = 200
_DEFAULT = ox.DefaultGraph()
_SUBJECT, _OBJECT, _EVERY_GRAPH = "subject", "object", "every graph"


class RemoteReader:
    """What the gate reads: ``quads_for_pattern`` and ``query`` as on a pyoxigraph store."""

    def __init__(self, store: RemoteStore) -> None:
        self.store = store
        self.local = ox.Store()
        self._done: dict[str, set[object]] = {_SUBJECT: set(), _OBJECT: set(), _EVERY_GRAPH: set()}
        self._graphs: set[object] = set()
        self._everything = False
        self._dataset_cache: dict[str, list[str]] | None = None

    def _dataset(self) -> dict[str, list[str]]:
        """The store's graphs, the staging graphs of writes under way, and the union (read as a named graph)."""
        if self._dataset_cache is None:
            store = self.store
            self._dataset_cache = {
                "default-graph-uri": [store.union],
                "named-graph-uri": [*store.write_path_graphs(), store.union],
            }
        return self._dataset_cache

    def _graph(self, name: ox.NamedNode) -> ox.NamedNode | ox.DefaultGraph:
        return _DEFAULT if name.value == self.store.union else name

    def _reference(self, node: object) -> str | None:
        """``node`` as a SPARQL term naming it on the server; None when the server has no way."""
        if isinstance(node, ox.BlankNode):
            return self.store.dialect.blank_node_reference(node.value)
        return str(node)

    def prefetch(self, nodes: Iterable[object], *, as_objects: bool = True, every_graph: bool = False) -> None:
        """Bring the union's triples about ``nodes`` (as subject, and unless told otherwise as
        object) into the mirror; with ``every_graph``, every graph's triples about them as subject."""
        wanted = [n for n in nodes if not isinstance(n, ox.Literal)]
        if every_graph:
            self._fetch(wanted, _EVERY_GRAPH)
            return
        self._fetch(wanted, _SUBJECT)
        if as_objects:
            self._fetch(wanted, _OBJECT)

    def outside_union(self, graphs: Sequence[ox.NamedNode]) -> Iterator[ox.Triple]:
        """The triples of ``graphs`` that the union does not hold: read in batches, their
        subjects' union triples brought into the mirror, each looked up there."""
        for graph in graphs:
            quads = self.quads_for_pattern(None, None, None, graph)
            while batch := list(islice(quads, 10_000)):
                self.prefetch({q.subject for q in batch}, as_objects=False)
                for q in batch:
                    if next(iter(self.local.quads_for_pattern(q.subject, q.predicate, q.object, _DEFAULT)), None) is None:
                        yield ox.Triple(q.subject, q.predicate, q.object)

    def _fetch(self, nodes: list[object], role: str) -> None:
        done = self._done[role]
        todo = list(dict.fromkeys(n for n in nodes if n not in done))
        if self._everything or not todo:
            return
        if any(self._reference(n) is None for n in todo):
            self._load_everything()
            return
        for start in range(0, len(todo), _BATCH):
            batch = todo[start:start + _BATCH]
            self.local.extend(self._every_graph(batch) if role == _EVERY_GRAPH else self._union(batch, role))
            done.update(batch)

    def _union(self, batch: list[object], role: str) -> list[ox.Quad]:
        """The union's triples with a node of ``batch`` as subject (or object): named nodes
        through one CONSTRUCT with ``FILTER … IN`` (fast), blank nodes through a triple
        pattern each (a server's blank node reference matches in a pattern, not in IN)."""
        store = self.store
        doing = "reading around a write"
        dataset = {"default-graph-uri": [store.union]}
        named = [n for n in batch if not isinstance(n, ox.BlankNode)]
        blank = [n for n in batch if isinstance(n, ox.BlankNode)]
        triples: list[ox.Triple] = []
        if named:
            var = "?s" if role == _SUBJECT else "?o"
            where = f"?s ?p ?o FILTER ({var} IN ({', '.join(str(n) for n in named)}))"
            found, more = store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}", doing=doing, dataset=dataset)
            if more:  # more than a page: read it in sorted pages instead
                rows = store.rows(f"SELECT ?s ?p ?o WHERE {{ {where} }}", "ORDER BY ?s ?p ?o", doing=doing,
                                  dataset=dataset)
                found = [ox.Triple(r["s"], r["p"], r["o"]) for r in rows]
            triples += found
        if blank:
            pattern = "{ref} ?x ?y" if role == _SUBJECT else "?x ?y {ref}"
            blocks = [f"{{ {pattern.format(ref=self._reference(n))} BIND({i} AS ?i) }}" for i, n in enumerate(blank)]
            query = "SELECT ?i ?x ?y WHERE { " + " UNION ".join(blocks) + " }"
            for row in store.rows(query, "ORDER BY ?i ?x ?y", doing=doing, dataset=dataset):
                node = blank[int(row["i"].value)]
                triples.append(ox.Triple(node, row["x"], row["y"]) if role == _SUBJECT
                               else ox.Triple(row["x"], row["y"], node))
        return [ox.Quad(t.subject, t.predicate, t.object, _DEFAULT) for t in triples]

    def _every_graph(self, batch: list[object]) -> list[ox.Quad]:
        """Every graph's triples (the union's as the default graph) with a node of ``batch`` as subject."""
        blocks = [f"{{ GRAPH ?g {{ {self._reference(node)} ?x ?y }} BIND({i} AS ?i) }}" for i, node in enumerate(batch)]
        query = "SELECT ?i ?g ?x ?y WHERE { " + " UNION ".join(blocks) + " }"
        quads = []
        for row in self.store.rows(query, "ORDER BY ?i ?g ?x ?y", doing="reading around a write", dataset=self._dataset()):
            node, graph = batch[int(row["i"].value)], self._graph(row["g"])
            quads.append(ox.Quad(node, row["x"], row["y"], graph))  # type: ignore[arg-type]
        return quads

    def _fetch_graph(self, graph: ox.NamedNode | ox.DefaultGraph) -> None:
        if self._everything or graph in self._graphs:
            return
        name = self.store.union if isinstance(graph, ox.DefaultGraph) else graph.value
        self._graphs.add(graph)
        if name not in self._dataset()["named-graph-uri"]:
            return  # a graph this store does not list is empty, whatever the server holds under its name
        self.local.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in self.store.whole_graph(name))

    def _load_everything(self) -> None:
        for name in self._dataset()["named-graph-uri"]:
            self._fetch_graph(self._graph(ox.NamedNode(name)))
        self._everything = True

    def quads_for_pattern(self, s: object = None, p: object = None, o: object = None,
                          g: object = None) -> Iterator[ox.Quad]:
        """The quads matching the pattern (``g`` None: every graph, the union as the default graph)."""
        if isinstance(g, ox.NamedNode):
            self._fetch_graph(g)
        elif g is None and s is not None:
            self._fetch([s], _EVERY_GRAPH)
        elif g is None:
            self._load_everything()
        elif s is not None:
            self._fetch([s], _SUBJECT)
        elif o is not None:
            self._fetch([o], _OBJECT)
        else:
            self._fetch_graph(_DEFAULT)
        return self.local.quads_for_pattern(s, p, o, g)  # type: ignore[arg-type]

    def query(self, sparql: str) -> list[ox.QuerySolution] | bool:
        """A query on the server over the graphs the write can see (the union as the default graph)."""
        return self.store.internal_query(sparql, doing="checking a write")

