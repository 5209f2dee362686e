"""The SHACL gate: validate the state a write would produce, before it is committed.

A write is staged first (see :mod:`kg.store.embedded`), so the state it would produce
can be read without committing it: the union of the named graphs, minus the triples
of replaced or dropped graphs that no other graph holds, plus the staged triples
(:class:`PostState`).

Validating the whole store on every write would cost time in proportion to the
archive. Instead the gate validates the nodes a write can affect:

1. *seeds*: every node (IRI or blank node) of a staged triple or of a triple the
   write removes;
2. *candidates*: the nodes within the shapes' reach (undirected hops, computed from
   their paths and nesting by :func:`kg.shacl.incremental.reach`; SPARQL constraints
   count as :data:`kg.shacl.incremental.SPARQL_REACH`) of a seed — a shape's verdict on
   a node depends on what its paths and SPARQL constraints read (claim → evidence →
   target → selector; a selector's document text two hops away);
3. *focus*: the candidates that some shape targets in the new state;
4. the focus nodes' neighbourhood (again that many hops, plus the types of what it
   points at and the class hierarchy above those types) and the ontology go into one
   graph that the validation engine checks;
   only results about focus nodes count (nodes at the edge of the extract may lack
   context and are checked when a write touches them).

Class nodes (objects of ``rdf:type``) are not walked through: every instance of a
class would otherwise be one hop from every other.

When the shapes differ from those the last write was checked against (their sha256
is in each receipt), or their reach has no bound (a ``*`` path), the gate validates
the whole new state instead. :func:`run_validation` is the one call into the
validation engine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice

import pyoxigraph as ox
from rdflib import BNode, Graph, Node, URIRef

from kg.namespaces import OWL, RDF, RDFS, SH
from kg.rdfio import quads_to_graph
from kg.resources import shape_files
from kg.shacl.incremental import reach
from kg.store import Store
from kg.store.base import GraphWrite, WriteMode
from kg.validation.check import load_shapes, ontology_for_validation, validate_graph
from kg.validation.model import ValidationReport
from kg.walks import reachable

__all__ = ["GateResult", "PostState", "Targets", "check_write", "project_shapes", "run_validation"]

_TYPE = ox.NamedNode(str(RDF.type))
_SUBCLASS = ox.NamedNode(str(RDFS.subClassOf))
_DEFAULT = ox.DefaultGraph()


@lru_cache(maxsize=1)
def project_shapes() -> tuple[Graph, str]:
    """The project's shapes graph and the sha256 of its files (read once per process)."""
    digest = hashlib.sha256()
    for path in sorted(shape_files()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return load_shapes(), digest.hexdigest()


@lru_cache(maxsize=1)
def _ontology() -> Graph:
    return ontology_for_validation()


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


@dataclass
class PostState:
    """The union as it would be after ``writes``, read from the store and the staging graphs."""

    store: Store
    writes: list[GraphWrite]
    gone: set[str] = field(init=False)
    staged: list[ox.NamedNode] = field(init=False)

    def __post_init__(self) -> None:
        #: pattern access to every graph, staging graphs included (on a remote store: a mirror)
        self.reader = self.store.reader()
        self.gone = {w.graph for w in self.writes if w.mode in (WriteMode.REPLACE, WriteMode.DROP)}
        self.staged = [ox.NamedNode(s) for w in self.writes for s in w.staged]
        self._excluded = self.gone | {s.value for s in self.staged}

    def _survives(self, t: ox.Quad) -> bool:
        if not self.gone:
            return True
        return any(
            isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value not in self._excluded
            for q in self.reader.quads_for_pattern(t.subject, t.predicate, t.object, None)
        )

    def triples(self, s: object = None, o: object = None) -> Iterator[ox.Triple]:
        """Triples of the new state with subject ``s`` and/or object ``o``."""
        seen: set[ox.Triple] = set()
        ox_store = self.reader
        for q in ox_store.quads_for_pattern(s, None, o, _DEFAULT):
            if self._survives(q):
                t = ox.Triple(q.subject, q.predicate, q.object)
                seen.add(t)
                yield t
        for g in self.staged:
            for q in ox_store.quads_for_pattern(s, None, o, g):
                t = ox.Triple(q.subject, q.predicate, q.object)
                if t not in seen:
                    seen.add(t)
                    yield t

    def removed(self) -> Iterator[ox.Triple]:
        """Triples the write takes out of the union."""
        ox_store = self.reader
        staged = self.staged
        for name in self.gone:
            quads = iter(ox_store.quads_for_pattern(None, None, None, ox.NamedNode(name)))
            while batch := list(islice(quads, 10_000)):
                ox_store.prefetch({q.subject for q in batch}, every_graph=True)  # where else each triple is held
                for q in batch:
                    if self._survives(q) or any(
                        next(iter(ox_store.quads_for_pattern(q.subject, q.predicate, q.object, g)), None) for g in staged
                    ):
                        continue
                    yield ox.Triple(q.subject, q.predicate, q.object)

    def added(self) -> Iterator[ox.Triple]:
        """The staged triples."""
        for g in self.staged:
            for q in self.reader.quads_for_pattern(None, None, None, g):
                yield ox.Triple(q.subject, q.predicate, q.object)


def _nodes(t: ox.Triple) -> Iterator[object]:
    yield t.subject
    if not isinstance(t.object, ox.Literal) and t.predicate != _TYPE:
        yield t.object


def _ball(state: PostState, seeds: Iterable[object], hops: int) -> set[object]:
    """The nodes within ``hops`` undirected steps of ``seeds`` (not walking through classes)."""
    reached = set(seeds)
    frontier = set(reached)
    for _ in range(hops):
        state.reader.prefetch(frontier)
        nxt: set[object] = set()
        for node in frontier:
            for t in state.triples(s=node):
                nxt.update(n for n in _nodes(t) if n not in reached)
            for t in state.triples(o=node):
                if t.predicate != _TYPE and t.subject not in reached:
                    nxt.add(t.subject)
        reached |= nxt
        frontier = nxt
        if not frontier:
            break
    return reached


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


def _apart_and_untargeted(state: PostState, targets: Targets) -> bool:
    """True when a write only adds triples that no shape targets, about nodes the store does
    not know yet: no node can become a focus node, so there is nothing to validate. Decided by
    a few ASK queries in the store (no walk in Python), which matters for large ingests."""
    if state.gone:
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


def _is_focus(state: PostState, node: object, targets: Targets, cache: dict[object, bool]) -> bool:
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


def _term(node: object) -> str:
    return node.value if isinstance(node, ox.NamedNode) else f"_:{node.value}"  # type: ignore[attr-defined]


def _extract(state: PostState, nodes: Iterable[object]) -> Graph:
    """Every triple about ``nodes`` and the types of what they point at, with the ontology."""
    state.reader.prefetch(nodes)
    triples = [t for node in nodes for t in state.triples(s=node)]
    pointed = {t.object for t in triples if not isinstance(t.object, ox.Literal) and t.predicate != _TYPE}
    state.reader.prefetch(pointed)
    for target in pointed:
        triples.extend(x for x in state.triples(s=target) if x.predicate == _TYPE)
    # the class hierarchy the data itself states (sh:class and targets follow rdfs:subClassOf)
    frontier = {t.object for t in triples if t.predicate == _TYPE}
    seen: set[object] = set()
    while frontier:
        cls = frontier.pop()
        seen.add(cls)
        for t in state.triples(s=cls):
            if t.predicate == _SUBCLASS:
                triples.append(t)
                if t.object not in seen:
                    frontier.add(t.object)
    data = quads_to_graph(triples)
    data += _ontology()
    return data


def run_validation(data: Graph, shapes: Graph) -> ValidationReport:
    """The one call into the validation engine."""
    return validate_graph(data, shapes)


def _only_about(report: ValidationReport, focus: set[str]) -> ValidationReport:
    """The report restricted to results whose focus node is in ``focus``."""
    kept = [r for r in report.results if r.focus_node in focus]
    if len(kept) == len(report.results):
        return report
    graph = Graph()
    for prefix, ns in report.graph.namespaces():
        graph.bind(prefix, ns)
    dropped: list[Node] = []
    for top in report.graph.subjects(RDF.type, SH.ValidationReport):
        for result in report.graph.objects(top, SH.result):
            focus_node = report.graph.value(result, SH.focusNode)
            name = str(focus_node) if isinstance(focus_node, URIRef) else f"_:{focus_node}"
            if name not in focus:
                dropped.append(result)
    skip: set[Node] = set()
    stack = list(dropped)
    while stack:  # a dropped result and the blank nodes only it uses
        node = stack.pop()
        if node in skip:
            continue
        skip.add(node)
        stack.extend(o for o in report.graph.objects(node, None) if isinstance(o, BNode))
    conforms = not any(r.severity == "Violation" for r in kept)
    for s, p, o in report.graph:
        if s in skip or (p == SH.result and o in skip):
            continue
        if p == SH.conforms:
            o = type(o)(conforms)  # type: ignore[call-arg]
        graph.add((s, p, o))
    return ValidationReport(conforms, kept, graph, report.shapes)


@dataclass
class GateResult:
    """The gate's verdict: the report, and how much it looked at."""

    report: ValidationReport
    focus_nodes: int
    whole_store: bool


def check_write(
    store: Store, writes: list[GraphWrite], *, shapes: Graph | None = None, whole: bool = False
) -> GateResult:
    """Validate the state ``writes`` would produce (nothing is committed here)."""
    shapes_graph = project_shapes()[0] if shapes is None else shapes
    state = PostState(store, writes)
    targets = Targets.of(shapes_graph, _ontology())
    depth = reach(shapes_graph)
    if whole or targets.opaque or depth is None:
        data = quads_to_graph(state.triples())
        data += _ontology()
        return GateResult(run_validation(data, shapes_graph), len(data), True)
    if _apart_and_untargeted(state, targets):
        return GateResult(ValidationReport(True, [], _empty_report(Graph()), []), 0, False)
    seeds: set[object] = set()
    for t in state.added():
        seeds.update(_nodes(t))
    for t in state.removed():
        seeds.update(_nodes(t))
    candidates = _ball(state, seeds, depth)
    cache: dict[object, bool] = {}
    state.reader.prefetch(candidates)
    focus = {n for n in candidates if _is_focus(state, n, targets, cache)}
    if not focus:
        empty = Graph()
        return GateResult(ValidationReport(True, [], _empty_report(empty), []), 0, False)
    region = _ball(state, focus, depth)
    report = run_validation(_extract(state, region), shapes_graph)
    return GateResult(_only_about(report, {_term(n) for n in focus}), len(focus), False)


def _empty_report(graph: Graph) -> Graph:
    """A conforming ``sh:ValidationReport`` (nothing the shapes target was touched)."""
    from rdflib import Literal

    node = BNode()
    graph.add((node, RDF.type, SH.ValidationReport))
    graph.add((node, SH.conforms, Literal(True)))
    return graph
