"""Incremental validation: checking only the focus nodes a change can reach gives the same
report as validating the whole store, and really looks at fewer nodes."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef

from kg.namespaces import NKG, OA, RDF, RDFS
from kg.rdfio import graph_to_store, to_oxigraph_term
from kg.shacl.incremental import reach, touched_focus_candidates
from kg.validation.check import ValidationReport, load_shapes, validate_change, validate_store


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


def _store(graph: Graph) -> ox.Store:
    return graph_to_store(graph)  # as the embedded store keeps data: literals in canonical form


def _keys(report: ValidationReport) -> set[tuple[str, str | None, str | None, str]]:
    return {(r.focus_node, r.path, r.value, r.constraint_component) for r in report.results}


def _triple(s: object, p: object, o: object) -> ox.Triple:
    return ox.Triple(to_oxigraph_term(s), to_oxigraph_term(p), to_oxigraph_term(o))  # type: ignore[arg-type]


def _apply(store: ox.Store, remove: list[ox.Triple], add: list[ox.Triple]) -> list[ox.Triple]:
    for t in remove:
        store.remove(ox.Quad(t.subject, t.predicate, t.object))
    for t in add:
        store.add(ox.Quad(t.subject, t.predicate, t.object))
    return remove + add


def test_the_project_shapes_have_a_bounded_reach(shapes: Graph) -> None:
    depth = reach(shapes)
    assert depth is not None and depth >= 4


def test_an_unbounded_path_means_full_validation() -> None:
    g = Graph()
    g.parse(
        data="""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path [ sh:zeroOrMorePath ex:p ] ; sh:minCount 1 ] .""",
        format="turtle",
    )
    assert reach(g) is None
    store = ox.Store()
    assert touched_focus_candidates(store, [_triple(URIRef("http://example.org/a"), RDF.type, URIRef("http://example.org/C"))], g) is None


def test_a_removed_quote_is_found_without_the_whole_store(union_graph: Graph, shapes: Graph) -> None:
    store = _store(union_graph)
    claim = next(union_graph.subjects(RDF.type, NKG.Claim))
    quote = union_graph.value(claim, NKG.quote)
    changed = _apply(store, [_triple(claim, NKG.quote, quote)], [])

    candidates = touched_focus_candidates(store, changed, shapes)
    assert candidates is not None and URIRef(str(claim)) in candidates
    subjects = {s for s in union_graph.subjects()}
    assert len(candidates) < len(subjects), "the check should not need every node"

    incremental, full = validate_change(store, changed, shapes), validate_store(store, shapes)
    assert not full.conforms
    assert _keys(incremental) == _keys(full)
    assert any(r.focus_node == str(claim) and r.path == f"<{NKG.quote}>" for r in incremental.results)


def test_a_changed_selector_reaches_the_document_two_edges_away(union_graph: Graph, shapes: Graph) -> None:
    store = _store(union_graph)
    selector = next(union_graph.subjects(RDF.type, OA.TextQuoteSelector))
    exact = union_graph.value(selector, OA.exact)
    changed = _apply(store, [_triple(selector, OA.exact, exact)], [_triple(selector, OA.exact, Literal(str(exact) + " (edited)"))])

    incremental, full = validate_change(store, changed, shapes), validate_store(store, shapes)
    assert not full.conforms
    assert _keys(incremental) == _keys(full)
    documents = {str(d) for d in union_graph.subjects(RDF.type, NKG.Document)}
    assert any(r.focus_node in documents for r in incremental.results), "the offsets shape focuses on the document"


def test_an_unrelated_label_change_is_checked_and_passes(union_graph: Graph, shapes: Graph) -> None:
    store = _store(union_graph)
    actor = next(union_graph.subjects(RDF.type, NKG.Person))
    changed = _apply(store, [], [_triple(actor, RDFS.comment, Literal("an added note"))])
    report = validate_change(store, changed, shapes)
    assert report.conforms, report.results


def test_a_subclass_change_means_full_validation(shapes: Graph) -> None:
    store = ox.Store()
    change = [_triple(NKG.Person, RDFS.subClassOf, NKG.Actor)]
    assert touched_focus_candidates(store, change, shapes) is None
