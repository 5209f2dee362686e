"""The write path (kg.write.apply.apply_write): the gate, atomic commits, the incremental union,
receipts and provenance. Every refusal is checked against a canonical dump taken before it."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import discard_remote, fresh_remote
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from virtuoso import VirtuosoServer

from kg.build.rdfize import ENTITIES_GRAPH
from kg.errors import ProtectedGraphError, QueryError, ValidationFailed
from kg.iris import DEFAULT_GRAPH, PROVENANCE_GRAPH
from kg.namespaces import NKG, RDF, RDFS, SH
from kg.rdfio import quads_to_graph
from kg.store import EmbeddedStore, GraphWrite, RemoteStore, Store, WriteMode
from kg.store.base import STAGING_PREFIX
from kg.write.apply import apply_write
from kg.write.change import Change
from kg.write.provenance import SHAPES_LABEL, SourceInfo

EX = "http://example.org/"
A, P, Q = ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "q")
G1, G2 = EX + "g1", EX + "g2"


def snapshot(store: Store) -> dict[str, Graph]:
    """The store's named graphs (as rdflib graphs) and its default graph, from an N-Quads dump
    plus the union: what "unchanged" is checked against."""
    out = io.BytesIO()
    store.dump(out, format_name="nquads")
    # read back with the same term mapping as union_graph() (literals exactly as stored)
    graphs: dict[str, Graph] = {}
    for quad in ox.parse(out.getvalue(), format=ox.RdfFormat.N_QUADS):
        quads_to_graph([quad], graphs.setdefault(str(quad.graph_name.value), Graph()))
    graphs["(union)"] = store.union_graph()
    return graphs


def assert_unchanged(before: dict[str, Graph], store: Store) -> None:
    after = snapshot(store)
    assert sorted(before) == sorted(after), (sorted(before), sorted(after))
    for name, graph in before.items():
        assert isomorphic(graph, after[name]), name


def triple(s: ox.NamedNode, p: ox.NamedNode, value: str) -> ox.Triple:
    return ox.Triple(s, p, ox.Literal(value))


@pytest.fixture(params=["embedded", "virtuoso"])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of each kind (on Virtuoso: graphs of its own, dropped afterwards)."""
    if request.param == "embedded":
        store = EmbeddedStore(tmp_path / "store")
        yield store
        store.close()
    else:
        remote = fresh_remote(request.getfixturevalue("virtuoso"))
        yield remote
        discard_remote(remote)


@pytest.fixture(params=["embedded", "virtuoso"])
def corpus(request: pytest.FixtureRequest, tmp_path: Path, store_path: Path) -> Iterator[Store]:
    """A store holding the default corpus: a writable copy of the embedded one, or the
    session's Virtuoso store, whose graphs a test's writes are dropped from afterwards."""
    if request.param == "embedded":
        target = tmp_path / "corpus-store"
        shutil.copytree(store_path, target)
        store = EmbeddedStore(target)
        yield store
        store.close()
        return
    remote: RemoteStore = request.getfixturevalue("remote_store")
    before = set(remote.named_graphs())
    yield remote
    remote.commit([GraphWrite(g, WriteMode.DROP) for g in remote.named_graphs() if g not in before])
    remote.drop_staging()


def test_a_receipt_counts_what_changed_and_the_union_follows(empty: Store) -> None:
    first = apply_write(empty, Change.replace(G1, [triple(A, P, "x"), triple(A, P, "y")]), agent="alice",
                        source=SourceInfo("one.ttl", "ab" * 32))
    assert (first.added, first.removed, first.sha256, first.created) == (2, 0, "ab" * 32, True)
    apply_write(empty, Change.add(G2, [triple(A, P, "x")]), agent="alice", source=None)
    second = apply_write(empty, Change.replace(G1, [triple(A, P, "z")]), agent="bob", source=None)
    assert [(g.graph, g.added, g.removed) for g in second.graphs] == [(G1, 1, 2)]
    # "x" is still held by g2, "y" by nobody: the union is a set of what the graphs hold
    values = sorted(r["o"].value for r in empty.select(f"SELECT ?o WHERE {{ <{A.value}> <{P.value}> ?o }}"))
    assert values == ["x", "z"]
    dropped = apply_write(empty, Change.delete(G2), agent="bob", source=None)
    assert (dropped.removed, dropped.graphs[0].mode) == (1, "drop")
    assert sorted(r["o"].value for r in empty.select(f"SELECT ?o WHERE {{ <{A.value}> <{P.value}> ?o }}")) == ["z"]
    assert empty.staging_graphs() == []  # committed writes leave no staging graph behind


def test_receipts_are_provenance_queryable_by_sparql(empty: Store) -> None:
    receipt = apply_write(empty, Change.replace(G1, [triple(A, P, "x")]), agent="archivist-7",
                          source=SourceInfo("collection-7.ttl", "cd" * 32))
    rows = list(empty.select(f"""
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX spdx: <http://spdx.org/rdf/terms#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        PREFIX nkg: <{NKG}>
        SELECT ?act ?agent ?file ?sum ?graph ?added ?start ?end WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
            ?act a prov:Activity ; prov:wasAssociatedWith/rdfs:label ?agent ;
                 prov:startedAtTime ?start ; prov:endedAtTime ?end ; nkg:triplesAdded ?added ;
                 prov:used ?source ; prov:generated ?graph .
            ?source rdfs:label ?file ; spdx:checksum/spdx:checksumValue ?sum .
            FILTER (?graph = <{G1}> && ?file != "{SHAPES_LABEL}")
        }} }}"""))
    assert len(rows) == 1
    row = rows[0]
    assert (row["act"].value, row["agent"].value, row["file"].value, row["sum"].value) == (
        receipt.iri, "archivist-7", "collection-7.ttl", "cd" * 32)
    # as instants: the store writes dateTimes canonically ("…:59.5Z" sorts after "…:59.51Z" as text)
    assert int(row["added"].value) == 1
    assert datetime.fromisoformat(row["start"].value) <= datetime.fromisoformat(row["end"].value)


def test_a_violation_is_refused_and_nothing_is_written(corpus: Store) -> None:
    before = snapshot(corpus)
    claim = ox.NamedNode(EX + "claim-without-anything")
    change = Change.add(EX + "collection", [ox.Triple(claim, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(NKG.Claim)))])
    with pytest.raises(ValidationFailed) as caught:
        apply_write(corpus, change, agent="alice", source=None)
    report = caught.value.report
    paths = {r.path for r in report.results if r.focus_node == claim.value}  # type: ignore[attr-defined]
    assert f"<{NKG.claimant}>" in paths and f"<{NKG.evidence}>" in paths
    assert caught.value.http_status == 422 and caught.value.exit_code == 1
    assert_unchanged(before, corpus)
    assert corpus.staging_graphs() == []


def test_the_gate_sees_what_a_deletion_breaks_elsewhere(corpus: Store) -> None:
    """Dropping the graph of entities leaves claims whose claimant is no longer an nkg:Actor:
    the claims live in other graphs, and the gate finds them by walking from what was removed."""
    before = snapshot(corpus)
    with pytest.raises(ValidationFailed) as caught:
        apply_write(corpus, Change.delete(str(ENTITIES_GRAPH)), agent="alice", source=None)
    shapes = {r.node_shape for r in caught.value.report.results}  # type: ignore[attr-defined]
    assert any("ClaimShape" in s for s in shapes), shapes
    assert_unchanged(before, corpus)


def test_a_valid_write_to_the_corpus_is_checked_on_its_neighbourhood(corpus: Store) -> None:
    actor = ox.NamedNode("https://w3id.org/negotiation-kg/id/actor/vladimir-putin")
    receipt = apply_write(corpus, Change.add(EX + "aliases", [
        ox.Triple(actor, ox.NamedNode("http://www.w3.org/2004/02/skos/core#altLabel"), ox.Literal("V. Putin", language="en"))
    ]), agent="alice", source=None)
    assert receipt.conforms and 0 < receipt.focus_nodes and not receipt.whole_store


def test_warnings_pass_and_are_in_the_receipt(empty: Store) -> None:
    shapes = Graph().parse(data=f"""
        @prefix sh: <{SH}> . @prefix ex: <{EX}> .
        ex:LabelShape a sh:NodeShape ; sh:targetSubjectsOf ex:p ;
            sh:property [ sh:path ex:label ; sh:minCount 1 ; sh:severity sh:Warning ; sh:message "no label" ] .
    """, format="turtle")
    receipt = apply_write(empty, Change.replace(G1, [triple(A, P, "x")]), agent="alice", source=None, shapes=shapes)
    assert [w["message"] for w in receipt.warnings] == ["no label"]
    assert receipt.warnings[0]["focus_node"] == A.value and not receipt.conforms
    assert len(list(empty.graph_triples(G1))) == 1


def test_changed_shapes_mean_the_whole_store_is_validated(empty: Store) -> None:
    loose = Graph().parse(data=f"@prefix sh: <{SH}> . <{EX}S> a sh:NodeShape ; sh:targetNode <{EX}nothing> .",
                          format="turtle")
    strict = Graph().parse(data=f"""@prefix sh: <{SH}> .
        <{EX}S> a sh:NodeShape ; sh:targetSubjectsOf <{P.value}> ; sh:property [ sh:path <{P.value}> ; sh:maxCount 1 ] .""",
                           format="turtle")
    apply_write(empty, Change.replace(G1, [triple(A, P, "x"), triple(A, P, "y")]), agent="a", source=None, shapes=loose)
    same = apply_write(empty, Change.replace(G2, [triple(Q, Q, "z")]), agent="a", source=None, shapes=loose)
    assert not same.whole_store
    before = snapshot(empty)
    # g2 has nothing the new shape targets, but g1 (untouched) now breaks it: only a whole-store check sees that
    with pytest.raises(ValidationFailed):
        apply_write(empty, Change.replace(G2, [triple(Q, Q, "w")]), agent="a", source=None, shapes=strict)
    assert_unchanged(before, empty)


def test_sparql_update_writes_through_the_gate(empty: Store) -> None:
    receipt = apply_write(empty, Change.sparql_update(
        f"INSERT DATA {{ <{A.value}> <{P.value}> 1 . GRAPH <{G1}> {{ <{A.value}> <{Q.value}> 2 }} }}"),
        agent="alice", source=None)
    assert sorted((g.graph, g.added) for g in receipt.graphs) == [(G1, 1), (str(DEFAULT_GRAPH), 1)]
    receipt = apply_write(empty, Change.sparql_update(f"DELETE WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}"),
                          agent="alice", source=None)
    assert receipt.removed == 1 and list(empty.graph_triples(G1)) == []
    with pytest.raises(QueryError):
        apply_write(empty, Change.sparql_update("INSERT DATA { oops"), agent="alice", source=None)


def test_the_provenance_graph_is_the_stores_own(empty: Store) -> None:
    apply_write(empty, Change.replace(G1, [triple(A, P, "x")]), agent="alice", source=None)
    before = snapshot(empty)
    with pytest.raises(ProtectedGraphError):
        Change.replace(str(PROVENANCE_GRAPH), [triple(A, P, "forged")])
    with pytest.raises(ProtectedGraphError):
        apply_write(empty, Change.sparql_update(f"INSERT DATA {{ GRAPH <{PROVENANCE_GRAPH}> {{ <{A.value}> <{P.value}> 1 }} }}"),
                    agent="alice", source=None)
    # updates do not see the receipts, so CLEAR ALL leaves them
    apply_write(empty, Change.sparql_update("CLEAR ALL"), agent="alice", source=None)
    assert len(list(empty.graph_triples(str(PROVENANCE_GRAPH)))) > len(before[str(PROVENANCE_GRAPH)])


def test_staging_left_by_a_killed_writer_is_dropped_at_the_next_open(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    apply_write(store, Change.replace(G1, [triple(A, P, "x")]), agent="alice", source=None)
    store.stage([triple(A, P, "half-written")])  # as if the process died before committing
    assert not any(g.startswith(STAGING_PREFIX) for g in store.named_graphs())  # never listed
    assert "half-written" not in {r["o"].value for r in store.select("SELECT ?o WHERE { ?s ?p ?o }")}
    store.close()
    reopened = EmbeddedStore(tmp_path / "store")
    raw = [g.value for g in reopened.oxigraph.named_graphs()]
    assert not any(g.startswith(STAGING_PREFIX) for g in raw)
    assert not list(reopened.oxigraph.quads_for_pattern(None, None, ox.Literal("half-written"), None))
    reopened.close()


def test_rdflib_graphs_are_accepted_as_content(empty: Store) -> None:
    g = Graph()
    g.add((URIRef(A.value), RDFS.label, Literal("a", lang="en")))
    apply_write(empty, Change.replace(G1, g), agent="alice", source=None)
    assert isomorphic(Graph() + snapshot(empty)[G1], g)


GENERATOR = Path(__file__).resolve().parents[2] / "shared" / "bench-reference"


@pytest.mark.skipif(not (GENERATOR / "gen_data.py").is_file(), reason="shared/bench-reference not found")
def test_the_gate_finds_what_validating_everything_finds(empty: Store, tmp_path: Path) -> None:
    """On generated data with injected violations and its own shapes (classes with subclasses
    declared in the data, inverse paths, patterns, ranges), the gate's focused check reports
    exactly the results a validation of the whole file reports."""
    import subprocess
    import sys

    from kg.formats import rdf_format_by_name
    from kg.validation.check import validate_graph

    subprocess.run([sys.executable, str(GENERATOR / "gen_data.py"), "3000", str(tmp_path / "gen")], check=True,
                   capture_output=True)
    data, shapes = tmp_path / "gen.nt", Graph().parse(GENERATOR / "shapes.ttl")
    everything = validate_graph(Graph().parse(data, format="nt"), shapes)
    assert everything.failed()
    with pytest.raises(ValidationFailed) as caught:
        apply_write(empty, Change.from_files(EX + "gen", [(data, rdf_format_by_name("ntriples"))]), agent="t",
                    source=None, shapes=shapes)
    found = caught.value.report.results  # type: ignore[attr-defined]
    key = lambda r: (r.focus_node, r.path, r.source_shape if not r.source_shape.startswith("_:") else r.node_shape,
                     r.value)
    assert sorted(map(key, found)) == sorted(map(key, everything.results))
    assert empty.named_graphs() == [] and empty.staging_graphs() == []


def test_concurrent_writers_are_serialized(empty: Store) -> None:
    """Eight threads write at once: every write is committed whole, each with its own receipt,
    and the union is exactly the union of the graphs afterwards."""
    import threading

    receipts: list[str] = []
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            triples = [triple(ox.NamedNode(f"{EX}s{n}"), P, str(i)) for i in range(50)]
            receipts.append(apply_write(empty, Change.replace(f"{EX}w{n}", triples), agent=f"w{n}", source=None).iri)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(receipts)) == 8
    for n in range(8):
        assert len(list(empty.graph_triples(f"{EX}w{n}"))) == 50
    named = Graph()
    for name, graph in snapshot(empty).items():
        if name != "(union)":
            named += graph
    assert isomorphic(snapshot(empty)["(union)"], named)


def test_the_gate_follows_paths_through_stored_blank_nodes(empty: Store) -> None:
    """A shape's path runs through a blank node already in the store: ``ex:doc ex:author
    [ ex:name "A" ]``; adding a second author with a name breaks ``maxCount 1`` on
    ``(ex:author ex:name)``, and the gate must see the stored blank node's name to refuse it."""
    shapes = Graph().parse(data=f"""
        @prefix sh: <{SH}> . @prefix ex: <{EX}> .
        ex:S a sh:NodeShape ; sh:targetClass ex:Doc ;
            sh:property [ sh:path ( ex:author ex:name ) ; sh:maxCount 1 ] .""", format="turtle")
    stored = Graph().parse(data=f'@prefix ex: <{EX}> . ex:doc a ex:Doc ; ex:author [ ex:name "A" ] .', format="turtle")
    apply_write(empty, Change.replace(G1, stored), agent="alice", source=None, shapes=shapes)
    before = snapshot(empty)
    doc, author, name, other = (ox.NamedNode(EX + x) for x in ("doc", "author", "name", "p2"))
    with pytest.raises(ValidationFailed) as caught:
        apply_write(empty, Change.add(G2, [ox.Triple(doc, author, other), ox.Triple(other, name, ox.Literal("B"))]),
                    agent="alice", source=None, shapes=shapes)
    assert [(r.focus_node, r.constraint_component.rsplit("#", 1)[1]) for r in caught.value.report.results] == [  # type: ignore[attr-defined]
        (doc.value, "MaxCountConstraintComponent")]
    assert_unchanged(before, empty)


def test_an_update_that_adds_to_a_stored_blank_node_keeps_it_connected(empty: Store) -> None:
    """``INSERT { ?b ex:email … } WHERE { ex:doc ex:author ?b }`` on a stored blank node: the new
    triple is about that same node afterwards (on a remote store too, where every upload gets
    fresh blank nodes)."""
    stored = Graph().parse(data=f'@prefix ex: <{EX}> . ex:doc ex:author [ ex:name "A" ] .', format="turtle")
    apply_write(empty, Change.replace(G1, stored), agent="alice", source=None)
    apply_write(empty, Change.sparql_update(
        f"INSERT {{ GRAPH <{G1}> {{ ?b <{EX}email> \"a@example.org\" }} }} WHERE {{ GRAPH <{G1}> {{ <{EX}doc> <{EX}author> ?b }} }}"),
        agent="alice", source=None)
    rows = list(empty.select(f"SELECT ?name ?mail WHERE {{ <{EX}doc> <{EX}author> ?b . ?b <{EX}name> ?name ; <{EX}email> ?mail }}"))
    assert [(r["name"].value, r["mail"].value) for r in rows] == [("A", "a@example.org")]


def test_the_remote_stores_own_graphs_and_foreign_graphs_are_refused(virtuoso: VirtuosoServer) -> None:
    """On a remote store the catalogue and union graphs are the store's own, and an addition to
    a graph the store does not list but the server holds triples in (another deployment's) is
    refused: nothing of either is changed."""
    import httpx

    store, other = fresh_remote(virtuoso), fresh_remote(virtuoso)
    try:
        apply_write(other, Change.replace(G2, [triple(A, P, "theirs")]), agent="them", source=None)
        before = snapshot(store)
        for graph in (store.catalogue, store.union):
            with pytest.raises(ProtectedGraphError):
                apply_write(store, Change.add(graph, [triple(A, P, "x")]), agent="alice", source=None)
        with pytest.raises(ProtectedGraphError, match="does not list"):
            apply_write(store, Change.add(G2, [triple(A, P, "mine")]), agent="alice", source=None)
        assert_unchanged(before, store)
        assert [t.object.value for t in other.graph_triples(G2)] == ["theirs"]
        assert store.staging_graphs() == []
        answer = httpx.post(virtuoso.sparql_url, data={"query": f"ASK {{ GRAPH <{G2}> {{ ?s ?p \"mine\" }} }}"},
                            headers={"Accept": "application/sparql-results+json"})
        assert answer.json()["boolean"] is False
    finally:
        discard_remote(store)
        discard_remote(other)
