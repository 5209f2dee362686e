"""The shapes graph read into plain objects the compiler can walk.

A :class:`Shape` holds what the SHACL Core and SHACL-SPARQL specifications attach to a
shape: its targets, its path (for property shapes), its severity and messages, and its
constraints, one :class:`Constraint` per constraint component with the parameters that
component takes. Parameters stay rdflib terms; turning them into SPARQL is the job of
:mod:`kg.shacl.compiler`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, Node, URIRef
from rdflib.collection import Collection

from kg.namespaces import RDF, RDFS, SH

__all__ = ["TARGET_PREDICATES", "Constraint", "Shape", "ShapesGraph"]

#: the predicates that give a shape its focus nodes
TARGET_PREDICATES = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)

#: component IRI → (mandatory parameter, optional parameters); one constraint per value of the
#: mandatory parameter (a shape with two sh:class values has two class constraints).
COMPONENTS: dict[URIRef, tuple[URIRef, tuple[URIRef, ...]]] = {
    SH.ClassConstraintComponent: (SH["class"], ()),
    SH.DatatypeConstraintComponent: (SH.datatype, ()),
    SH.NodeKindConstraintComponent: (SH.nodeKind, ()),
    SH.MinCountConstraintComponent: (SH.minCount, ()),
    SH.MaxCountConstraintComponent: (SH.maxCount, ()),
    SH.MinExclusiveConstraintComponent: (SH.minExclusive, ()),
    SH.MinInclusiveConstraintComponent: (SH.minInclusive, ()),
    SH.MaxExclusiveConstraintComponent: (SH.maxExclusive, ()),
    SH.MaxInclusiveConstraintComponent: (SH.maxInclusive, ()),
    SH.MinLengthConstraintComponent: (SH.minLength, ()),
    SH.MaxLengthConstraintComponent: (SH.maxLength, ()),
    SH.PatternConstraintComponent: (SH.pattern, (SH.flags,)),
    SH.LanguageInConstraintComponent: (SH.languageIn, ()),
    SH.UniqueLangConstraintComponent: (SH.uniqueLang, ()),
    SH.EqualsConstraintComponent: (SH.equals, ()),
    SH.DisjointConstraintComponent: (SH.disjoint, ()),
    SH.LessThanConstraintComponent: (SH.lessThan, ()),
    SH.LessThanOrEqualsConstraintComponent: (SH.lessThanOrEquals, ()),
    SH.NotConstraintComponent: (SH["not"], ()),
    SH.AndConstraintComponent: (SH["and"], ()),
    SH.OrConstraintComponent: (SH["or"], ()),
    SH.XoneConstraintComponent: (SH.xone, ()),
    SH.NodeConstraintComponent: (SH.node, ()),
    SH.PropertyConstraintComponent: (SH.property, ()),
    SH.QualifiedMinCountConstraintComponent: (SH.qualifiedMinCount, (SH.qualifiedValueShape, SH.qualifiedValueShapesDisjoint)),
    SH.QualifiedMaxCountConstraintComponent: (SH.qualifiedMaxCount, (SH.qualifiedValueShape, SH.qualifiedValueShapesDisjoint)),
    SH.ClosedConstraintComponent: (SH.closed, (SH.ignoredProperties,)),
    SH.HasValueConstraintComponent: (SH.hasValue, ()),
    SH.InConstraintComponent: (SH["in"], ()),
    SH.SPARQLConstraintComponent: (SH.sparql, ()),
}

#: parameters whose value is an RDF list
LIST_PARAMETERS = frozenset({SH.languageIn, SH["and"], SH["or"], SH.xone, SH["in"], SH.ignoredProperties})


@dataclass(frozen=True)
class Constraint:
    """One constraint of a shape: its component and that component's parameter values."""

    component: URIRef
    value: Node
    params: dict[URIRef, Node] = field(default_factory=dict, hash=False, compare=False)
    items: tuple[Node, ...] = ()

    @property
    def name(self) -> str:
        """The component's local name without ``ConstraintComponent`` (for messages)."""
        return str(self.component).rsplit("#", 1)[-1].removesuffix("ConstraintComponent")


@dataclass
class Shape:
    """A node or property shape as the SHACL specification defines it."""

    node: Node
    path: Node | None
    targets: list[tuple[URIRef, Node]]
    constraints: list[Constraint]
    severity: URIRef
    messages: list[Literal]
    deactivated: bool
    #: parameters of constraint components the shapes graph declares itself (SHACL-SPARQL)
    custom: list[URIRef] = field(default_factory=list)

    @property
    def is_property_shape(self) -> bool:
        """Property shapes have a path; their value nodes are reached through it."""
        return self.path is not None


class ShapesGraph:
    """The shapes of an rdflib graph, read on demand and cached by node."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._shapes: dict[Node, Shape] = {}
        self.custom_parameters = {
            path
            # any node with sh:parameter: components may be typed with a subclass of sh:ConstraintComponent
            for component in set(graph.subjects(SH.parameter, None))
            for parameter in graph.objects(component, SH.parameter)
            if isinstance(path := graph.value(parameter, SH.path), URIRef)
        }

    def shape(self, node: Node) -> Shape:
        """The shape ``node`` describes (any node can be used as a shape)."""
        cached = self._shapes.get(node)
        if cached is None:
            cached = self._shapes[node] = self._read(node)
        return cached

    def targeted(self) -> list[Shape]:
        """The shapes that have targets, in a stable order: where validation starts."""
        g = self.graph
        nodes: set[Node] = set()
        for predicate in (*TARGET_PREDICATES, SH.target):
            nodes.update(g.subjects(predicate, None))
        for klass in (RDFS.Class,):
            for node in g.subjects(RDF.type, klass):
                if (node, RDF.type, SH.NodeShape) in g or (node, RDF.type, SH.PropertyShape) in g:
                    nodes.add(node)
        return [self.shape(n) for n in sorted(nodes, key=lambda n: (isinstance(n, BNode), str(n)))]

    def list_items(self, node: Node) -> tuple[Node, ...]:
        """The members of an RDF list."""
        return tuple(Collection(self.graph, node)) if node != RDF.nil else ()

    def parent_shapes(self, property_shape: Node) -> list[Node]:
        """The shapes that hold ``property_shape`` through ``sh:property``."""
        return list(self.graph.subjects(SH.property, property_shape))

    def _read(self, node: Node) -> Shape:
        g = self.graph
        targets: list[tuple[URIRef, Node]] = [(p, o) for p in TARGET_PREDICATES for o in g.objects(node, p)]
        if (node, RDF.type, RDFS.Class) in g:
            targets.append((SH.targetClass, node))
        constraints: list[Constraint] = []
        for component, (parameter, optional) in COMPONENTS.items():
            for value in g.objects(node, parameter):
                params = {p: v for p in optional if (v := g.value(node, p)) is not None}
                qualified = component in (SH.QualifiedMinCountConstraintComponent, SH.QualifiedMaxCountConstraintComponent)
                if qualified and SH.qualifiedValueShape not in params:
                    continue
                items = self.list_items(value) if parameter in LIST_PARAMETERS else ()
                constraints.append(Constraint(component, value, params, items))
        constraints.sort(key=lambda c: (str(c.component), str(c.value)))
        return Shape(
            node=node,
            path=g.value(node, SH.path),
            targets=targets,
            constraints=constraints,
            severity=g.value(node, SH.severity) or SH.Violation,  # type: ignore[arg-type]
            messages=[m for m in g.objects(node, SH.message) if isinstance(m, Literal)],
            deactivated=_true(g.value(node, SH.deactivated)),
            custom=sorted(p for p in set(g.predicates(node, None)) if isinstance(p, URIRef) and p in self.custom_parameters),
        )

    def has_sparql_targets(self) -> bool:
        """SHACL-AF targets (``sh:target``) are beyond SHACL Core."""
        return any(True for _ in self.graph.subjects(SH.target, None))


def _true(value: Node | None) -> bool:
    return isinstance(value, Literal) and value.toPython() is True
