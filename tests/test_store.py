"""The embedded store: atomic graph replacement and a default graph that is a set."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph, Literal, URIRef

from kg.store import EmbeddedStore

A, P = URIRef("https://example.org/a"), URIRef("https://example.org/p")
G1, G2 = URIRef("https://example.org/g1"), URIRef("https://example.org/g2")


def _graph(*values: str) -> Graph:
    g = Graph()
    for v in values:
        g.add((A, P, Literal(v)))
    return g


def _count(store: EmbeddedStore, sparql: str) -> int:
    return int(next(store.select(sparql))["n"].value)


def test_a_triple_in_two_graphs_is_one_triple_of_the_default_graph(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "s")
    store.replace_graphs({G1: _graph("x"), G2: _graph("x", "y")})
    assert _count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == 2
    assert _count(store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }") == 3
    assert len(store) == 3 and store.named_graphs() == [str(G1), str(G2)]
    store.close()


def test_replacing_a_graph_updates_the_union(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "s")
    store.replace_graphs({G1: _graph("x"), G2: _graph("y")})
    store.replace_graphs({G2: _graph("z")})
    values = sorted(r["o"].value for r in store.select("SELECT ?o WHERE { ?s ?p ?o }"))
    assert values == ["x", "z"]
    store.close()
