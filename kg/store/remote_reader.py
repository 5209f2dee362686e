"""Pattern access to a remote store for the SHACL gate: a local mirror filled on demand.

The gate (:mod:`kg.gate`) walks the neighbourhood of what a write changes, asking for
the triples with a given subject or object, graph by graph. Over HTTP every such
question would be a round trip, and a walk asks thousands. The reader answers them
from a local in-memory pyoxigraph store instead, which it fills in batches: every quad
about a set of nodes (as subject, or as object) in every graph the write can see —
the store's graphs, the staging graphs of the writes under way, and the union graph,
which the mirror keeps as its default graph, as the embedded store does — comes in one
paged query per batch of nodes. The gate announces the nodes of each step of its walk
(:meth:`RemoteReader.prefetch`), so a step costs a few requests, not one per node.

Blank nodes are named in a query the way the server's dialect says (Virtuoso:
``<nodeID://b123>``). On a server with no such way, the first question about a blank
node loads every graph the write can see into the mirror, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import pyoxigraph as ox

if TYPE_CHECKING:
    from .remote import RemoteStore

__all__ = ["RemoteReader"]

#: nodes per query: each is one UNION branch, so the query text stays small
_BATCH = 64
_DEFAULT = ox.DefaultGraph()
_Node = ox.NamedNode | ox.BlankNode | ox.Literal


class RemoteReader:
    """What the gate reads: ``quads_for_pattern`` and ``query`` as on a pyoxigraph store."""

    def __init__(self, store: RemoteStore) -> None:
        self.store = store
        self.local = ox.Store()
        self._subjects: set[object] = set()
        self._objects: set[object] = set()
        self._graphs: set[object] = set()
        self._everything = False
        self._dataset_cache: dict[str, list[str]] | None = None

    def _dataset(self) -> dict[str, list[str]]:
        """The store's graphs, the staging graphs of writes under way, and the union (read as a named graph)."""
        if self._dataset_cache is None:
            store = self.store
            self._dataset_cache = {
                "default-graph-uri": [store.union],
                "named-graph-uri": [*store.named_graphs(), *sorted(store._staging), store.union],
            }
        return self._dataset_cache

    def _graph(self, name: ox.NamedNode) -> ox.NamedNode | ox.DefaultGraph:
        return _DEFAULT if name.value == self.store.union else name

    def _reference(self, node: object) -> str | None:
        """``node`` as a SPARQL term naming it on the server; None when the server has no way."""
        if isinstance(node, ox.BlankNode):
            return self.store.dialect.blank_node_reference(node.value)
        return str(node)

    def prefetch(self, nodes: Iterable[object]) -> None:
        """Bring every quad about ``nodes`` (as subject and as object) into the mirror."""
        wanted = [n for n in nodes if not isinstance(n, ox.Literal)]
        self._fetch(wanted, as_subject=True)
        self._fetch(wanted, as_subject=False)

    def _fetch(self, nodes: list[object], *, as_subject: bool) -> None:
        done = self._subjects if as_subject else self._objects
        todo = list(dict.fromkeys(n for n in nodes if n not in done))
        if self._everything or not todo:
            return
        if any(self._reference(n) is None for n in todo):
            self._load_everything()
            return
        for start in range(0, len(todo), _BATCH):
            batch = todo[start:start + _BATCH]
            blocks = []
            for i, node in enumerate(batch):
                pattern = f"{self._reference(node)} ?x ?y" if as_subject else f"?x ?y {self._reference(node)}"
                blocks.append(f"{{ GRAPH ?g {{ {pattern} }} BIND({i} AS ?i) }}")
            query = "SELECT ?i ?g ?x ?y WHERE { " + " UNION ".join(blocks) + " } ORDER BY ?i ?g ?x ?y"
            quads = []
            for row in self.store._rows(query, doing="reading around a write", dataset=self._dataset()):
                node, graph = batch[int(row["i"].value)], self._graph(row["g"])  # type: ignore[union-attr, arg-type]
                if as_subject:
                    quads.append(ox.Quad(node, row["x"], row["y"], graph))  # type: ignore[arg-type]
                else:
                    quads.append(ox.Quad(row["x"], row["y"], node, graph))  # type: ignore[arg-type]
            self.local.extend(quads)
            done.update(batch)

    def _fetch_graph(self, graph: ox.NamedNode | ox.DefaultGraph) -> None:
        if self._everything or graph in self._graphs:
            return
        name = self.store.union if isinstance(graph, ox.DefaultGraph) else graph.value
        self.local.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in self.store.graph_triples(name))
        self._graphs.add(graph)

    def _load_everything(self) -> None:
        for name in self._dataset()["named-graph-uri"]:
            self._fetch_graph(self._graph(ox.NamedNode(name)))
        self._everything = True

    def quads_for_pattern(self, s: object = None, p: object = None, o: object = None,
                          g: object = None) -> Iterator[ox.Quad]:
        """The quads matching the pattern (``g`` None: every graph, the union as the default graph)."""
        if s is not None:
            self._fetch([s], as_subject=True)
        elif o is not None:
            self._fetch([o], as_subject=False)
        elif g is None:
            self._load_everything()
        else:
            self._fetch_graph(g)  # type: ignore[arg-type]
        return self.local.quads_for_pattern(s, p, o, g)  # type: ignore[arg-type]

    def query(self, sparql: str) -> list[ox.QuerySolution] | bool:
        """A query on the server over the graphs the write can see (the union as the default graph)."""
        return self.store.internal_query(sparql, doing="checking a write")
