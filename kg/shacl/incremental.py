"""Which focus nodes a change can affect, so a write is checked without the whole store.

A triple can change the outcome for a focus node only if the node can "see" it: the
triple's subject or object lies within the reach of some shape, counted in edges from
the focus node (a property path of length 2 reaches 2 edges away; ``sh:node`` adds the
reach of the nested shape; ``sh:inversePath`` walks edges backwards). So the candidates
are every node within that many edges, in either direction, of a changed triple's
subject or object, in the state after the change.

Two things keep this bounded and sound:

* ``rdf:type`` edges are not walked into the class (every instance would become a
  candidate); a node whose type changed is a candidate itself, and sh:class checks on
  values are one edge from the focus nodes that point at them, which the walk covers;
* a path with ``*`` or ``+`` has no bound, and a SPARQL constraint may look anywhere:
  those get :data:`SPARQL_REACH` edges, or full validation when ``unbounded`` says so.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import Graph, Node, URIRef

from kg.namespaces import RDF, RDFS, SH
from kg.shacl.model import Shape, ShapesGraph

__all__ = ["SPARQL_REACH", "reach", "touched_focus_candidates"]

#: how many edges from its focus node a SPARQL constraint is assumed to read (the
#: project's own constraints read at most 3: claim → evidence → target → selector)
SPARQL_REACH = 4
#: stop widening the neighbourhood past this many nodes: validate everything instead
MAX_CANDIDATES = 200_000

_RDF_TYPE = ox.NamedNode(str(RDF.type))
_SUBCLASS = ox.NamedNode(str(RDFS.subClassOf))


def _path_length(shapes: ShapesGraph, path: Node | None) -> int | None:
    """Edges a SHACL path walks at most; None when unbounded."""
    if path is None:
        return 0
    if isinstance(path, URIRef):
        return 1
    g = shapes.graph
    if (path, RDF.first, None) in g:
        lengths = [_path_length(shapes, p) for p in shapes.list_items(path)]
        return None if any(n is None for n in lengths) else sum(n for n in lengths if n is not None)
    if g.value(path, SH.zeroOrMorePath) is not None or g.value(path, SH.oneOrMorePath) is not None:
        return None
    for predicate in (SH.inversePath, SH.zeroOrOnePath):
        inner = g.value(path, predicate)
        if inner is not None:
            return _path_length(shapes, inner)
    alternatives = g.value(path, SH.alternativePath)
    if alternatives is not None:
        lengths = [_path_length(shapes, p) for p in shapes.list_items(alternatives)]
        return None if any(n is None for n in lengths) else max((n for n in lengths if n is not None), default=0)
    return None


def _shape_reach(shapes: ShapesGraph, shape: Shape, seen: frozenset[Node]) -> int | None:
    if shape.node in seen:
        return None
    seen = seen | {shape.node}
    own = _path_length(shapes, shape.path)
    if own is None:
        return None
    deepest = 1 if shape.constraints else 0  # sh:class, sh:closed … look one edge past a value
    for constraint in shape.constraints:
        nested: list[Node] = []
        if constraint.component == SH.SPARQLConstraintComponent:
            deepest = max(deepest, SPARQL_REACH)
        elif constraint.items and constraint.component in (SH.AndConstraintComponent, SH.OrConstraintComponent, SH.XoneConstraintComponent):
            nested.extend(constraint.items)
        elif constraint.component in (SH.NodeConstraintComponent, SH.NotConstraintComponent, SH.PropertyConstraintComponent):
            nested.append(constraint.value)
        elif constraint.component in (SH.QualifiedMinCountConstraintComponent, SH.QualifiedMaxCountConstraintComponent):
            nested.append(constraint.params[SH.qualifiedValueShape])
        elif constraint.component in (SH.EqualsConstraintComponent, SH.DisjointConstraintComponent, SH.LessThanConstraintComponent, SH.LessThanOrEqualsConstraintComponent):
            deepest = max(deepest, 1)
        for node in nested:
            inner = _shape_reach(shapes, shapes.shape(node), seen)
            if inner is None:
                return None
            deepest = max(deepest, inner)
    return own + deepest


def reach(shapes_graph: Graph) -> int | None:
    """Edges from a focus node within which every targeted shape reads; None: unbounded."""
    shapes = ShapesGraph(shapes_graph)
    deepest = 0
    for shape in shapes.targeted():
        found = _shape_reach(shapes, shape, frozenset())
        if found is None:
            return None
        deepest = max(deepest, found)
    return deepest


def touched_focus_candidates(
    store: ox.Store, changed: Iterable[ox.Triple | ox.Quad], shapes_graph: Graph, *, graph: ox.DefaultGraph | None = None
) -> set[Node] | None:
    """The nodes whose validation a change of ``changed`` triples may alter, looked up in
    ``store`` after the change (its default graph); None when only a full validation is
    sound (unbounded reach, or a neighbourhood past :data:`MAX_CANDIDATES`)."""
    from kg.rdfio import to_rdflib_term

    depth = reach(shapes_graph)
    if depth is None:
        return None
    frontier: set[ox.NamedNode | ox.BlankNode] = set()
    for triple in changed:
        if triple.predicate == _SUBCLASS:
            return None  # every instance of the class below may change its targets
        frontier.add(triple.subject)  # type: ignore[arg-type]
        if isinstance(triple.object, (ox.NamedNode, ox.BlankNode)) and triple.predicate != _RDF_TYPE:
            frontier.add(triple.object)
    seen = set(frontier)
    default = graph or ox.DefaultGraph()
    for _ in range(depth):
        following: set[ox.NamedNode | ox.BlankNode] = set()
        for node in frontier:
            for quad in store.quads_for_pattern(node, None, None, default):
                if isinstance(quad.object, (ox.NamedNode, ox.BlankNode)) and quad.predicate != _RDF_TYPE:
                    following.add(quad.object)
            for quad in store.quads_for_pattern(None, None, node, default):
                if quad.predicate != _RDF_TYPE:
                    following.add(quad.subject)  # type: ignore[arg-type]
        frontier = following - seen
        seen |= frontier
        if len(seen) > MAX_CANDIDATES:
            return None
        if not frontier:
            break
    return {to_rdflib_term(n) for n in seen}
