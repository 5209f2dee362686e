"""Which nodes a write can affect, and which of them the shapes target: the gate's walks.

A triple can change the verdict on a focus node only if a shape, read from that node, can
reach it: forwards along its paths, and backwards only through the predicates of inverse
paths and of SPARQL constraints (:func:`kg.shacl.incremental.backward_predicates`; when those
cannot be told, through every edge). So the gate looks for focus nodes among the nodes that
can read the triples a write adds or removes (:func:`readers`), and validates them on what
they can read (:func:`region`); class nodes (objects of ``rdf:type``) are not walked through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg.namespaces import OWL, RDF, RDFS, SH
from kg.shacl.incremental import backward_predicates, reach
from kg.walks import reachable
from kg.write.poststate import PostState

__all__ = ["ShapeReach", "Targets", "anything_targeted", "apart_and_untargeted", "is_focus", "readers", "region",
           "seeds"]

_TYPE = ox.NamedNode(str(RDF.type))
_SUBCLASS = ox.NamedNode(str(RDFS.subClassOf))


@dataclass(frozen=True)
class Targets:
    """What the shapes target, so the gate can tell whether a node is a focus node."""

    classes: frozenset[str]
    subjects_of: frozenset[str]
    objects_of: frozenset[str]
    nodes: frozenset[str]
    #: a SPARQL-based target (sh:target) cannot be decided node by node
    opaque: bool

    @classmethod
    def of(cls, shapes: Graph, ontology: Graph) -> Targets:
        classes = {str(c) for c in shapes.objects(None, SH.targetClass)}
        classes |= {str(s) for s in shapes.subjects(RDF.type, RDFS.Class) if (s, RDF.type, SH.NodeShape) in shapes}
        classes |= {str(s) for s in shapes.subjects(RDF.type, OWL.Class) if (s, RDF.type, SH.NodeShape) in shapes}
        merged = shapes + ontology
        # every subclass of a target class is targeted too
        below = reachable(classes, lambda c: (str(sub) for sub in merged.subjects(RDFS.subClassOf, URIRef(c))))
        return cls(
            classes=frozenset(below),
            subjects_of=frozenset(str(p) for p in shapes.objects(None, SH.targetSubjectsOf)),
            objects_of=frozenset(str(p) for p in shapes.objects(None, SH.targetObjectsOf)),
            nodes=frozenset(str(n) for n in shapes.objects(None, SH.targetNode)),
            opaque=(None, SH.target, None) in shapes,
        )


@dataclass(frozen=True)
class ShapeReach:
    """What the gate needs to know of a shapes graph, computed once per shapes graph."""

    targets: Targets
    #: edges from a focus node within which the shapes read; None: no bound
    depth: int | None
    #: predicates a shape may walk backwards; None: any
    backward: frozenset[str] | None

    @classmethod
    @lru_cache(maxsize=8)
    def of(cls, shapes: Graph, ontology: Graph) -> ShapeReach:
        return cls(Targets.of(shapes, ontology), reach(shapes), backward_predicates(shapes))

    def walks_back(self, predicate: ox.NamedNode) -> bool:
        return predicate != _TYPE and (self.backward is None or predicate.value in self.backward)


def seeds(triples: Iterable[ox.Triple], shapes: ShapeReach) -> set[object]:
    """The nodes whose verdict the triples can change: every subject, and an object when a shape
    may read the triple from it (its predicate is walked backwards, or targets its objects)."""
    found: set[object] = set()
    for t in triples:
        found.add(t.subject)
        o = t.object
        if isinstance(o, ox.Literal) or t.predicate == _TYPE:
            continue
        if shapes.walks_back(t.predicate) or t.predicate.value in shapes.targets.objects_of:
            found.add(o)
    return found


def _walk(state: PostState, start: Iterable[object], hops: int, *, forward: bool, shapes: ShapeReach) -> set[object]:
    """Nodes within ``hops`` steps of ``start``; ``forward``: from subject to object along any
    edge and back along the edges shapes walk back (what a focus node reads), else the
    reverse (who can read a node)."""
    undirected = shapes.backward is None
    reached = set(start)
    frontier = set(reached)
    for _ in range(hops):
        state.reader.prefetch(frontier)
        nxt: set[object] = set()
        for node in frontier:
            for t in state.triples(s=node):
                o = t.object
                if isinstance(o, ox.Literal) or t.predicate == _TYPE or o in reached:
                    continue
                if forward or undirected or shapes.walks_back(t.predicate):
                    nxt.add(o)
            for t in state.triples(o=node):
                if t.predicate == _TYPE or t.subject in reached:
                    continue
                if not forward or undirected or shapes.walks_back(t.predicate):
                    nxt.add(t.subject)
        reached |= nxt
        frontier = nxt
        if not frontier:
            break
    return reached


def readers(state: PostState, start: Iterable[object], shapes: ShapeReach) -> set[object]:
    """The nodes from which a shape can read one of ``start`` (the focus candidates)."""
    return _walk(state, start, shapes.depth or 0, forward=False, shapes=shapes)


def region(state: PostState, focus: Iterable[object], shapes: ShapeReach) -> set[object]:
    """The nodes the shapes can read from the ``focus`` nodes."""
    return _walk(state, focus, shapes.depth or 0, forward=True, shapes=shapes)


def anything_targeted(state: PostState, targets: Targets) -> bool:
    """False when no node of the new state can be a focus node (nothing the shapes target is
    there): then nothing needs validating, however the write touches the data. Asked of the
    store: the union as it is and what is staged (a superset of the new state)."""
    if targets.opaque:
        return True
    classes = " ".join(f"<{c}>" for c in targets.classes)
    predicates = " ".join(f"<{p}>" for p in targets.subjects_of | targets.objects_of)
    patterns = [f"?s a ?c VALUES ?c {{ {classes} }}", f"?x <{RDFS.subClassOf}> ?c VALUES ?c {{ {classes} }}"] \
        if classes else []
    if predicates:
        patterns.append(f"?s ?p ?o VALUES ?p {{ {predicates} }}")
    patterns += [f"{{ <{node}> ?p ?o }} UNION {{ ?s ?p <{node}> }}" for node in sorted(targets.nodes)]
    for pattern in patterns:
        staged = "".join(f" UNION {{ GRAPH <{g.value}> {{ {pattern} }} }}" for g in state.staged)
        if state.reader.query(f"ASK {{ {{ {pattern} }}{staged} }}"):
            return True
    return False


def _targeted_class(state: PostState, cls: object, targets: Targets, cache: dict[object, bool]) -> bool:
    """True when ``cls`` or a class above it (rdfs:subClassOf in the new state) is a target class."""
    if cls in cache:
        return cache[cls]
    seen = {cls}
    frontier = [cls]
    found = False
    while frontier and not found:
        current = frontier.pop()
        if isinstance(current, ox.NamedNode) and current.value in targets.classes:
            found = True
            break
        for t in state.triples(s=current):
            if t.predicate == _SUBCLASS and t.object not in seen:
                seen.add(t.object)
                frontier.append(t.object)
    cache[cls] = found
    return found


def apart_and_untargeted(state: PostState, targets: Targets) -> bool:
    """True when a write only adds triples that no shape targets, about nodes the store does
    not know yet: no node can become a focus node, so there is nothing to validate. Decided by
    a few ASK queries in the store (no walk in Python), which matters for large ingests."""
    if state.loses:
        return False
    ox_store = state.reader
    rdf_type = f"<{RDF.type}>"
    union_empty = not ox_store.query("ASK { ?s ?p ?o }")
    checks: list[str] = []
    cache: dict[object, bool] = {}
    for graph in state.staged:
        g = f"<{graph.value}>"
        if targets.classes:
            types = ox_store.query(f"SELECT DISTINCT ?c WHERE {{ GRAPH {g} {{ ?s {rdf_type} ?c }} }}")
            if any(_targeted_class(state, row["c"], targets, cache) for row in types):
                return False
        predicates = targets.subjects_of | targets.objects_of
        if predicates:
            checks.append(f"GRAPH {g} {{ ?s ?p ?o }} VALUES ?p {{ {' '.join(f'<{p}>' for p in predicates)} }}")
        if targets.nodes:
            nodes = " ".join(f"<{n}>" for n in targets.nodes)
            checks.append(f"VALUES ?n {{ {nodes} }} GRAPH {g} {{ {{ ?n ?p ?o }} UNION {{ ?s ?p ?n }} }}")
        if union_empty:
            continue  # an empty store shares no node with anything
        # a node of the new triples that the store already has (a class is not walked through)
        checks.append(f"GRAPH {g} {{ ?s ?p ?o }} {{ ?s ?x ?y }} UNION {{ ?y ?x ?s }}")
        checks.append(f"GRAPH {g} {{ ?s ?p ?o FILTER (?p != {rdf_type} && !isLiteral(?o)) }} {{ ?o ?x ?y }} UNION {{ ?y ?x ?o }}")
    for check in checks:
        if ox_store.query(f"ASK {{ {check} }}"):
            return False
    return True


def is_focus(state: PostState, node: object, targets: Targets, cache: dict[object, bool]) -> bool:
    if isinstance(node, ox.NamedNode) and node.value in targets.nodes:
        return True
    for t in state.triples(s=node):
        if t.predicate == _TYPE and _targeted_class(state, t.object, targets, cache):
            return True
        if t.predicate.value in targets.subjects_of:
            return True
    if targets.objects_of:
        return any(t.predicate.value in targets.objects_of for t in state.triples(o=node))
    return False
