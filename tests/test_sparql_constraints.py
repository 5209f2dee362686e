"""``sh:sparql`` constraints run by the compiled engine give pyshacl's results, where pyshacl gets them right.

Differential: on every W3C SHACL-SPARQL test that pyshacl passes, and on the corpus with the
project's own shapes, the engine and plain pyshacl agree on conformance and on the set of
(focus node, path, value, source shape, constraint component, severity, message). Then what
pyshacl misses: pre-binding inside nested groups, ``$shapesGraph`` and ``$currentShape``,
blank focus nodes, property shapes and their ``$PATH``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from kg.namespaces import SH
from kg.rdfio import read_graph
from kg.shacl.prebinding import pre_bind
from kg.validation.check import Engine, load_shapes, ontology_for_validation, validate_files, validate_graph
from kg.validation.model import ValidationReport

ENGINE = "sparql"


def own_constraints(shapes: Graph) -> list[object]:
    """The ``sh:sparql`` constraints of a shapes graph."""
    return list(shapes.objects(None, SH.sparql))

SUITE = Path(__file__).resolve().parents[2] / "shared" / "testsuites" / "shacl" / "sparql"

#: W3C SHACL-SPARQL tests with sh:sparql constraints that pyshacl alone passes
PYSHACL_PASSES = [
    "node/sparql-001.ttl",
    "node/sparql-002.ttl",
    "node/sparql-003.ttl",
    "property/sparql-001.ttl",
    "pre-binding/pre-binding-001.ttl",
    "pre-binding/pre-binding-002.ttl",
    "pre-binding/pre-binding-003.ttl",
    "pre-binding/pre-binding-004.ttl",
    "pre-binding/pre-binding-007.ttl",
]


def _seen(report: ValidationReport) -> set[tuple[str | None, ...]]:
    return {(r.focus_node, r.path, r.value, r.node_shape, r.constraint_component, r.severity) for r in report.results}


def _messages(reference: ValidationReport, ours: ValidationReport) -> None:
    """Every message pyshacl writes, the engine writes too (where a shape gives none,
    pyshacl leaves it empty and the engine says which check failed)."""
    def key(r: object) -> tuple[object, ...]:
        return (r.focus_node, r.path, r.value, r.node_shape, r.constraint_component)  # type: ignore[attr-defined]

    written = {key(r): r.message for r in ours.results}
    for r in reference.results:
        if r.message:
            assert written[key(r)] == r.message


def _both(data: Graph, shapes: Graph) -> tuple[ValidationReport, ValidationReport]:
    return validate_graph(data, shapes, engine=Engine.PYSHACL), validate_graph(data, shapes)


@pytest.mark.skipif(not SUITE.is_dir(), reason="W3C SHACL test suite not found")
@pytest.mark.parametrize("name", PYSHACL_PASSES)
def test_same_results_as_pyshacl_on_the_w3c_tests(name: str) -> None:
    graph = read_graph([SUITE / name])
    # the shapes of these tests come through kg.validation.shapes_check's readings in kg validate; here the
    # two engines get the very same graph
    assert own_constraints(graph), "the test has sh:sparql constraints"
    reference, ours = _both(graph, graph)
    assert ours.conforms == reference.conforms
    assert _seen(ours) == _seen(reference)
    _messages(reference, ours)
    sparql = [r for r in ours.results if r.constraint_component.endswith("SPARQLConstraintComponent")]
    assert sparql and all(r.engine == ENGINE for r in sparql)


def test_same_results_as_pyshacl_on_broken_corpus_data(union_graph: Graph) -> None:
    """Offsets and quotes that disagree: both engines report the same results, messages included,
    and nothing else (the rest of the corpus conforms for both)."""
    from kg.namespaces import OA

    data = union_graph + ontology_for_validation()
    broken = 0
    for selector, start in sorted(data.subject_objects(OA.start))[:3]:
        data.set((selector, OA.start, type(start)(int(start) + 1)))
        broken += 1
    assert broken == 3
    shapes = load_shapes()
    assert len(own_constraints(shapes)) >= 4
    reference, ours = _both(data, shapes)
    assert not ours.conforms and not reference.conforms
    assert _seen(ours) == _seen(reference)
    _messages(reference, ours)
    assert any(r.engine == ENGINE for r in ours.results)


SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:prefixes sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/" ] .
ex:NestedFilter a sh:NodeShape ; sh:targetClass ex:Thing ;
  sh:sparql [ sh:prefixes ex:prefixes ; sh:message "{$this} has no name" ;
    sh:select "SELECT $this WHERE { { FILTER (bound($this)) } FILTER NOT EXISTS { $this ex:name ?n } }" ] .
ex:ShapesGraph a sh:NodeShape ; sh:targetClass ex:Thing ; ex:maxParts 1 ;
  sh:sparql [ sh:prefixes ex:prefixes ;
    sh:select "SELECT $this ?value WHERE { GRAPH $shapesGraph { $currentShape ex:maxParts ?max } $this ex:part ?value . { SELECT $this (COUNT(*) AS ?n) WHERE { $this ex:part ?p } GROUP BY $this } FILTER (?n > ?max) }" ] .
ex:PathShape a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ( ex:part ex:name ) ;
  sh:sparql [ sh:prefixes ex:prefixes ; sh:select "SELECT $this ?value WHERE { $this $PATH ?value . FILTER (STRLEN(?value) > 3) }" ] .
"""

DATA = """\
@prefix ex: <http://example.org/> .
ex:a a ex:Thing ; ex:name "A" .
[] a ex:Thing ; ex:part ex:p1, ex:p2 .
ex:p1 ex:name "long name" .
ex:p2 ex:name "ok" .
"""


def test_what_pyshacl_misses(tmp_path: Path) -> None:
    shapes = Graph().parse(data=SHAPES, format="turtle")
    data_file = _write(tmp_path, "data.ttl", DATA)
    data = read_graph([data_file])
    report = validate_graph(data, shapes)
    # the same through files, as kg validate reads them
    from_files = validate_files([data_file], shapes)
    assert {(r.node_shape, r.path, r.value) for r in from_files.results if r.value and not r.value.startswith("_:")} == {
        (r.node_shape, r.path, r.value) for r in report.results if r.value and not r.value.startswith("_:")
    }
    by_shape: dict[str, list[tuple[str, str | None, str | None]]] = {}
    for r in report.results:
        by_shape.setdefault(r.node_shape.rsplit("/", 1)[-1], []).append((r.focus_node, r.path, r.value))
    blank = next(str(s) for s in data.subjects() if not str(s).startswith("http"))
    assert set(by_shape) == {"NestedFilter", "ShapesGraph", "PathShape"}
    # pre-binding reaches the nested FILTER; the focus node without a name is a blank node
    assert by_shape["NestedFilter"] == [(f"_:{blank}", None, f"_:{blank}")]
    # $shapesGraph and $currentShape read the shape's own ex:maxParts
    assert sorted(by_shape["ShapesGraph"]) == [(f"_:{blank}", None, "http://example.org/p1"), (f"_:{blank}", None, "http://example.org/p2")]
    # $PATH is the shape's sequence path
    assert by_shape["PathShape"] == [(f"_:{blank}", "<http://example.org/part>/<http://example.org/name>", '"long name"')]
    nested = next(r for r in report.results if r.node_shape.endswith("NestedFilter"))
    assert nested.message == f"_:{blank} has no name"


def test_pre_binding_leaves_strings_comments_and_subqueries_alone() -> None:
    query = 'SELECT $this WHERE { $this <http://e/p> "a { b" , """c { d""" . { SELECT $this WHERE { $this ?p ?o } } } # {'
    bound = pre_bind(query, ["this"])
    bind = "BIND(<urn:x-negotiation-kg:pre-bound#this>() AS ?this)"
    # the outer WHERE and the subquery's WHERE; not the subquery's own brace, strings or comments
    assert bound.count(bind) == 2
    assert bound.startswith("SELECT $this WHERE { " + bind)
    assert "{ SELECT $this WHERE { " + bind in " ".join(bound.split())
    assert '"a { b"' in bound and '"""c { d"""' in bound and bound.endswith("# {")


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
