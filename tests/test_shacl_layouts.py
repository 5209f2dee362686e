"""Where validation runs does not change what it finds.

Files are validated in memory or in a temporary on-disk store (``validate_memory_mb``)
that worker processes query; checks
over every focus node use set-at-a-time query forms (``MINUS``, grouped counts, value
tests sharing one pass) where a check of a few named focus nodes uses per-node ones.
Every combination must give pyshacl's results.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from pyshacl import validate as pyshacl_validate
from rdflib import Graph, URIRef
from test_shacl_differential import REFERENCE, result_keys

from kg.config import load_settings
from kg.rdfio import to_oxigraph_term
from kg.validate import memory_estimate, validate_files, validate_graph, validate_store

SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .

ex:ItemShape a sh:NodeShape ;
    sh:targetClass ex:Item ;
    sh:property [ sh:path ex:score ; sh:datatype xsd:decimal ; sh:minInclusive 0 ; sh:maxInclusive 1 ;
                  sh:pattern "^[0-9]" ; sh:maxLength 4 ] ;
    sh:property [ sh:path ex:owner ; sh:minCount 1 ; sh:maxCount 1 ; sh:class ex:Person ] ;
    sh:property [ sh:path ex:tag ; sh:maxCount 2 ; sh:in ( "a" "b" "c" ) ; sh:nodeKind sh:Literal ] ;
    sh:property [ sh:path [ sh:inversePath ex:holds ] ; sh:minCount 1 ; sh:class ex:Person ] .
"""

DATA = """
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .

ex:ann a ex:Person ; ex:holds ex:i1 , ex:i2 , ex:i4 .
ex:box ex:holds ex:i3 .
ex:i1 a ex:Item ; ex:score "0.5"^^xsd:decimal ; ex:owner ex:ann ; ex:tag "a" , "b" .
ex:i2 a ex:Item ; ex:score "1.50"^^xsd:decimal , "-0.25"^^xsd:decimal , "0.7"^^xsd:double ; ex:owner ex:ann , ex:box .
ex:i3 a ex:Item ; ex:score "12345"^^xsd:decimal ; ex:tag "a" , "b" , "d" , ex:c .
ex:i4 a ex:Item ; ex:owner ex:box ; ex:tag "c" .
ex:other ex:score "7"^^xsd:decimal ; ex:tag "z" .
"""


def _graphs() -> tuple[Graph, Graph]:
    return Graph().parse(data=DATA, format="turtle"), Graph().parse(data=SHAPES, format="turtle")


def test_set_at_a_time_forms_give_pyshacls_results() -> None:
    """Value tests sharing a pass (one value failing several of them gives a result each),
    sh:class and sh:minCount as MINUS, sh:maxCount as a grouped count, on a plain and an
    inverse path; the node that is no target (ex:other) is not reported."""
    data, shapes = _graphs()
    _, expected, _ = pyshacl_validate(data, shacl_graph=shapes, inference="none", allow_warnings=False)
    ours = validate_graph(data, shapes)
    assert set(ours.engines.values()) == {"sparql"}
    assert result_keys(ours.graph, shapes) == result_keys(expected, shapes)
    assert sum(1 for r in ours.results if r.focus_node.endswith("/i2") and r.path and "score" in r.path) >= 4
    assert not any(r.focus_node.endswith("/other") for r in ours.results)


def test_checking_named_focus_nodes_finds_the_same_as_checking_all() -> None:
    """The per-node forms (a focus list, as a change is checked) and the set-at-a-time
    forms (every focus node) agree, node by node."""
    data, shapes = _graphs()
    store = ox.Store()
    for s, p, o in data:
        store.add(ox.Quad(*(to_oxigraph_term(t) for t in (s, p, o))))  # type: ignore[arg-type]
    every = validate_store(store, shapes)
    focus = [URIRef(f"http://example.org/i{n}") for n in range(1, 5)]
    named = validate_store(store, shapes, focus=focus)
    assert result_keys(named.graph, shapes) == result_keys(every.graph, shapes)
    assert len(every.results) > 8


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Graph, Graph]:
    if not (REFERENCE / "gen_data.py").is_file():
        pytest.skip("../shared/bench-reference is not beside the repo")
    folder = tmp_path_factory.mktemp("gen")
    subprocess.run([sys.executable, str(REFERENCE / "gen_data.py"), "3000", str(folder / "gen")], check=True, capture_output=True)
    data_file = folder / "gen.nt"
    shapes = Graph().parse(REFERENCE / "shapes.ttl")
    _, expected, _ = pyshacl_validate(Graph().parse(data_file), shacl_graph=shapes, inference="none", allow_warnings=False)
    return data_file, shapes, expected


@pytest.mark.parametrize("layout", ["memory", "disk-workers"])
def test_every_store_layout_gives_pyshacls_results(generated: tuple[Path, Graph, Graph], layout: str) -> None:
    data_file, shapes, expected = generated
    report = validate_files([data_file], shapes, memory_mb=0 if layout == "disk-workers" else None)
    assert set(report.engines.values()) == {"sparql"}
    assert result_keys(report.graph, shapes) == result_keys(expected, shapes)
    assert len(report.results) > 5


def test_memory_estimate_follows_size_format_and_copies(tmp_path: Path) -> None:
    nt, ttl = tmp_path / "a.nt", tmp_path / "a.ttl"
    nt.write_bytes(b"x" * 1000)
    ttl.write_bytes(b"x" * 1000)
    assert memory_estimate([nt], copies=2) == 2 * memory_estimate([nt])
    # Turtle says the same in fewer bytes than N-Triples: more memory per byte
    assert memory_estimate([ttl]) > memory_estimate([nt]) > 1000
    assert memory_estimate([tmp_path / "missing.nt"]) == 0


def test_memory_budget_is_a_setting() -> None:
    assert load_settings(environ={}).validate_memory_mb > 0
    assert load_settings(environ={"KG_VALIDATE_MEMORY_MB": "512"}).validate_memory_mb == 512
