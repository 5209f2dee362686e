"""The SHACL gate: validate the state a write would produce, before it is committed.

A write is staged first (see :mod:`kg.store.embedded`), so the state it would produce
can be read without committing it (:class:`~kg.write.poststate.PostState`). On the embedded
store a write is staged as its difference: what each graph gains and loses.

Validating the whole store on every write would cost time in proportion to the
archive. Instead the gate validates the nodes a write can affect (:mod:`kg.write.focus`):

0. when no node of the new state is of a kind the shapes target, nothing needs checking;
1. *seeds*: the nodes whose verdict a triple the write adds or removes can change (its
   subject; its object when a shape reads that predicate backwards, or targets its objects);
2. *candidates*: the nodes from which a shape can read a seed within the shapes' reach
   (:func:`kg.shacl.incremental.reach`; SPARQL constraints count as
   :data:`kg.shacl.incremental.SPARQL_REACH`), walking edges backwards, and forwards only
   through the predicates shapes read backwards (all of them when that cannot be told) — so
   a change to a claim does not reach every claim of the actor they all name;
3. *focus*: the candidates that some shape targets in the new state;
4. what the focus nodes can read (the same walk the other way, plus the types of what they
   point at and the class hierarchy above those types) and the ontology go into one graph
   that the validation engine checks; only results about focus nodes count.

Class nodes (objects of ``rdf:type``) are not walked through: every instance of a
class would otherwise be one hop from every other; a write that adds or removes an
``rdfs:subClassOf`` triple is checked on the whole new state.

When the shapes differ from those the last write was checked against (their sha256
is in each receipt), or their reach has no bound (a ``*`` path), the gate validates
the whole new state instead. A first ingest into an empty store is validated where it
was loaded, by the engine reading the store (no copy). :func:`run_validation` is the one
call into the validation engine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
from rdflib import BNode, Graph, Node, URIRef

from kg.iris import PROVENANCE_GRAPH
from kg.namespaces import RDF, RDFS, SH
from kg.rdfio import graph_to_triples, quads_to_graph
from kg.resources import shape_files
from kg.store import Store
from kg.store.base import GraphWrite, WriteMode, iri_ref
from kg.validation.check import load_shapes, ontology_for_validation, validate_graph, validate_store
from kg.validation.model import ValidationReport
from kg.write.focus import ShapeReach, Targets, anything_targeted, apart_and_untargeted, is_focus, readers, region, seeds
from kg.write.poststate import PostState

__all__ = ["GateResult", "PostState", "Targets", "check_write", "gate_ontology", "project_shapes", "run_validation"]

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
def gate_ontology() -> Graph:
    """The ontology the gate reads data with (read once per process, shared: never change it)."""
    return ontology_for_validation()


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
    data += gate_ontology()
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
    known = ShapeReach.of(shapes_graph, gate_ontology())
    targets = known.targets
    if not anything_targeted(state, targets):
        return _nothing_to_check()
    if _in_place(store, writes):
        return _validate_in_place(store, writes, shapes_graph)
    if whole or targets.opaque or known.depth is None:
        data = quads_to_graph(state.triples())
        data += gate_ontology()
        return GateResult(run_validation(data, shapes_graph), len(data), True)
    if apart_and_untargeted(state, targets):
        return _nothing_to_check()
    changed = [*state.entering(), *state.removed()]
    if any(t.predicate == _SUBCLASS for t in changed):  # every instance of a class may change its verdict
        data = quads_to_graph(state.triples())
        data += gate_ontology()
        return GateResult(run_validation(data, shapes_graph), len(data), True)
    candidates = readers(state, seeds(changed, known), known)
    cache: dict[object, bool] = {}
    state.reader.prefetch(candidates)
    focus = {n for n in candidates if is_focus(state, n, targets, cache)}
    if not focus:
        return _nothing_to_check()
    report = run_validation(_extract(state, region(state, focus, known)), shapes_graph)
    return GateResult(_only_about(report, {_term(n) for n in focus}), len(focus), False)


def _nothing_to_check() -> GateResult:
    return GateResult(ValidationReport(True, [], _empty_report(Graph()), []), 0, False)


def _in_place(store: Store, writes: list[GraphWrite]) -> bool:
    """True when the write loaded new graphs, and their union copy, into a store that held
    nothing else but receipts: the store's default graph is then the state to check, and the
    validation engine reads it where it is (a large first ingest)."""
    loaded = {w.graph for w in writes if w.mode is WriteMode.LOADED and w.union_loaded}
    if not loaded or len(loaded) != len(writes) or store.validation_store() is None:
        return False
    return set(store.named_graphs()) <= loaded | {str(PROVENANCE_GRAPH)}


def _validate_in_place(store: Store, writes: list[GraphWrite], shapes_graph: Graph) -> GateResult:
    """Validate the store's default graph (the new graphs and the receipts), the ontology's
    triples added to it for the time of the check; only results about nodes of the new graphs
    count."""
    ox_store = store.validation_store()
    assert ox_store is not None
    ontology, added = store.stage(graph_to_triples(gate_ontology())), store.new_staging_graph()
    o, a = iri_ref(ontology), iri_ref(added)
    ox_store.update(f"INSERT {{ GRAPH {a} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {o} {{ ?s ?p ?o }} FILTER NOT EXISTS {{ ?s ?p ?o }} }} ;\n"
                    f"INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH {a} {{ ?s ?p ?o }} }}")
    try:
        report = validate_store(ox_store, shapes_graph)
    finally:
        ox_store.update(f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH {a} {{ ?s ?p ?o }} }} ;\n"
                        f"DROP SILENT GRAPH {o} ;\nDROP SILENT GRAPH {a}")
    graphs = [ox.NamedNode(w.graph) for w in writes]

    def in_new_graphs(name: str) -> bool:
        node: ox.NamedNode | ox.BlankNode = ox.BlankNode(name[2:]) if name.startswith("_:") else ox.NamedNode(name)
        return any(next(iter(ox_store.quads_for_pattern(node, None, None, g)), None) is not None
                   or next(iter(ox_store.quads_for_pattern(None, None, node, g)), None) is not None for g in graphs)

    focus = {r.focus_node for r in report.results if in_new_graphs(r.focus_node)}
    return GateResult(_only_about(report, focus), len(focus), True)


def _empty_report(graph: Graph) -> Graph:
    """A conforming ``sh:ValidationReport`` (nothing the shapes target was touched)."""
    from rdflib import Literal

    node = BNode()
    graph.add((node, RDF.type, SH.ValidationReport))
    graph.add((node, SH.conforms, Literal(True)))
    return graph
