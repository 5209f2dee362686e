"""The one walk over a relation that class hierarchies and owl:imports chains share."""

from __future__ import annotations

import doctest

import kg.walks
from kg.walks import reachable


def test_the_examples_run() -> None:
    assert doctest.testmod(kg.walks).failed == 0


def test_cycles_end_the_walk_and_every_start_counts() -> None:
    edges = {"a": ["b"], "b": ["c", "a"], "c": ["b"], "x": ["y"]}
    assert reachable(["a"], lambda n: edges.get(n, [])) == {"a", "b", "c"}
    assert reachable(["a", "x"], lambda n: edges.get(n, [])) == {"a", "b", "c", "x", "y"}
    assert reachable([], lambda n: edges.get(n, [])) == set()
