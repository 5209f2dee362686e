"""How far from its focus node a shape reads, so a write is checked without the whole store.

A triple can change the outcome for a focus node only if the node can "see" it: the
triple's subject or object lies within the reach of some shape, counted in edges from
the focus node (a property path of length 2 reaches 2 edges away; ``sh:node`` adds the
reach of the nested shape; ``sh:inversePath`` walks edges backwards). The write gate
(:mod:`kg.write.gate`) checks the nodes within :func:`reach` of what a write changed.

A path with ``*`` or ``+`` has no bound (:func:`reach` answers None: the gate validates
everything), and a SPARQL constraint may look anywhere: it counts as :data:`SPARQL_REACH`
edges.

Shapes mostly read forwards, from a subject to its objects: only ``sh:inversePath`` and
SPARQL constraints walk an edge from its object back to its subject, and only for the
predicates they name (:func:`backward_predicates`). So the gate need not walk back through
every edge of a node many others point at (an actor every claim names), only through those.
"""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Node, URIRef

from kg.namespaces import RDF, SH
from kg.shacl.model import Shape, ShapesGraph
from kg.sparql.lexer import Kind, code_tokens, expand, prefixes

__all__ = ["SPARQL_REACH", "backward_predicates", "reach"]

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


#: tokens after which a variable stands where a predicate would (a subject, or ``;``)
_SUBJECT_END = (Kind.VAR, Kind.IRI, Kind.PNAME, Kind.BNODE)
#: tokens that may follow a predicate (an object)
_OBJECT_START = (Kind.VAR, Kind.IRI, Kind.PNAME, Kind.BNODE, Kind.STRING, Kind.NUMBER)


def _terms_under(graph: Graph, node: Node) -> set[str]:
    """Every IRI in the RDF structure below ``node`` (a path expression)."""
    found: set[str] = set()
    todo, seen = [node], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        if isinstance(current, URIRef):
            found.add(str(current))
        elif isinstance(current, BNode):
            for p, o in graph.predicate_objects(current):
                if p != RDF.type:
                    todo.append(o)
    return found - {str(RDF.nil)}


def _sparql_predicates(text: str, declared: dict[str, str]) -> set[str] | None:
    """The IRIs a SPARQL constraint names (any of them may be walked either way), or None
    when a variable may stand for a predicate, or a name cannot be expanded."""
    code = code_tokens(text)
    known = {**declared, **prefixes(code)}
    body = next((i for i, t in enumerate(code) if t.is_punct("{")), len(code))
    found: set[str] = set()
    for index, token in enumerate(code):
        if token.kind in (Kind.IRI, Kind.PNAME):
            iri = expand(token, known)
            if iri is None:
                return None
            found.add(iri)
        elif token.kind is Kind.VAR and body < index < len(code) - 1:
            before, after = code[index - 1], code[index + 1]
            if before.text in ("$this", "?this"):
                continue  # read from the focus node forwards, whatever the predicate
            if (before.kind in _SUBJECT_END or before.is_punct(";", "]")) and \
                    (after.kind in _OBJECT_START or after.is_punct("[", "(")):
                return None
    return found


def backward_predicates(shapes_graph: Graph) -> frozenset[str] | None:
    """Predicates whose edges some shape may walk from object to subject: those under an
    ``sh:inversePath`` and every IRI a SPARQL constraint names. None when any predicate may
    be (a SPARQL constraint with a variable predicate, or a name it cannot expand)."""
    found: set[str] = set()
    for inverse in shapes_graph.objects(None, SH.inversePath):
        found |= _terms_under(shapes_graph, inverse)
    declared = {str(p): str(n) for d in shapes_graph.objects(None, SH.declare)
                for p in shapes_graph.objects(d, SH.prefix) for n in shapes_graph.objects(d, SH.namespace)}
    for predicate in (SH.select, SH.ask):
        for text in shapes_graph.objects(None, predicate):
            names = _sparql_predicates(str(text), declared) if isinstance(text, Literal) else None
            if names is None:
                return None
            found |= names
    return frozenset(found)
