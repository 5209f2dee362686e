"""How far the shapes read from a focus node (:func:`kg.shacl.incremental.reach`), which
bounds the neighbourhood the write gate checks."""

from __future__ import annotations

import pytest
from rdflib import Graph

from kg.shacl.incremental import reach
from kg.validation.check import load_shapes


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


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
