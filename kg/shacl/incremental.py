"""How far from its focus node a shape reads, so a write is checked without the whole store.

A triple can change the outcome for a focus node only if the node can "see" it: the
triple's subject or object lies within the reach of some shape, counted in edges from
the focus node (a property path of length 2 reaches 2 edges away; ``sh:node`` adds the
reach of the nested shape; ``sh:inversePath`` walks edges backwards). The write gate
(:mod:`kg.write.gate`) checks the nodes within :func:`reach` of what a write changed.

A path with ``*`` or ``+`` has no bound (:func:`reach` answers None: the gate validates
everything), and a SPARQL constraint may look anywhere: it counts as :data:`SPARQL_REACH`
edges.
"""

from __future__ import annotations

from rdflib import Graph, Node, URIRef

from kg.namespaces import RDF, SH
from kg.shacl.model import Shape, ShapesGraph

__all__ = ["SPARQL_REACH", "reach"]

#: how many edges from its focus node a SPARQL constraint is assumed to read (the
#: project's own constraints read at most 3: claim → evidence → target → selector)
SPARQL_REACH = 4


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
