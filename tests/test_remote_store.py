"""The store contract, held by the embedded store and by a real Virtuoso server alike.

Each writing test gets a store of its own: a fresh directory, or on the shared Virtuoso
fresh union and catalogue graphs and graph IRIs no other test uses.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import discard_remote, fresh_remote, remote_settings, select
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import XSD
from virtuoso import VirtuosoServer

from kg.build.dataset import BuildResult
from kg.errors import StoreError
from kg.formats import QueryKind
from kg.iris import PROVENANCE_GRAPH
from kg.rdfio import quads_to_graph
from kg.store import EmbeddedStore, RemoteStore
from kg.store.remote import query_kind

P = URIRef("https://example.org/p")


@pytest.fixture(params=["embedded", "virtuoso"])
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmbeddedStore | RemoteStore]:
    """An empty store of each kind (on Virtuoso: small pages, so reads take several)."""
    store: EmbeddedStore | RemoteStore
    if request.param == "embedded":
        store = EmbeddedStore(tmp_path / "store")
    else:
        store = fresh_remote(request.getfixturevalue("virtuoso"), remote_chunk_triples=7)
    yield store
    if isinstance(store, RemoteStore):
        discard_remote(store)  # its writes' receipts are in the provenance graph every store shares
    else:
        store.close()


@pytest.fixture()
def names() -> tuple[URIRef, URIRef]:
    token = uuid.uuid4().hex
    return URIRef(f"https://example.org/{token}/g1"), URIRef(f"https://example.org/{token}/g2")


def _graph(subject: str, *values: str) -> Graph:
    g = Graph()
    for v in values:
        g.add((URIRef(f"https://example.org/{subject}"), P, Literal(v, datatype=XSD.string)))
    return g


def _plain(graph: Graph) -> Graph:
    """``graph`` with ``"x"^^xsd:string`` written ``"x"``, as parsers of N-Quads and Turtle give it."""
    out = Graph()
    for s, p, o in graph:
        out.add((s, p, Literal(str(o)) if isinstance(o, Literal) and o.datatype == XSD.string else o))
    return out


def _count(store: EmbeddedStore | RemoteStore, sparql: str) -> int:
    return int(select(store, sparql)[0]["n"])


def _dataset(store: EmbeddedStore | RemoteStore) -> Dataset:
    out = io.BytesIO()
    store.dump(out, format_name="nquads")
    ds = Dataset()
    ds.parse(data=out.getvalue(), format="nquads")
    return ds


def _graphs(ds: Dataset) -> dict[str, Graph]:
    return {str(g.identifier): g for g in ds.graphs() if len(g)}


# --------------------------------------------------------------------------- contract


def test_a_triple_in_two_graphs_is_one_triple_of_the_default_graph(empty_store, names) -> None:
    g1, g2 = names
    empty_store.replace_graphs({g1: _graph("a", "x"), g2: _graph("a", "x", "y")})
    assert _count(empty_store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == 2
    assert _count(empty_store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }") == 3
    assert empty_store.named_graphs() == sorted([str(g1), str(g2)])
    assert not empty_store.is_empty()


def test_replacing_a_graph_updates_the_union_and_an_empty_graph_deletes_it(empty_store, names) -> None:
    g1, g2 = names
    empty_store.replace_graphs({g1: _graph("a", "x"), g2: _graph("a", "y")})
    empty_store.replace_graphs({g2: _graph("a", "z")})
    assert sorted(r["o"] for r in select(empty_store, "SELECT ?o WHERE { ?s ?p ?o }")) == ["x", "z"]
    empty_store.replace_graphs({g1: Graph(), g2: Graph()})
    assert empty_store.named_graphs() == [] and empty_store.is_empty()
    assert select(empty_store, "SELECT * WHERE { ?s ?p ?o }") == []


def test_graphs_larger_than_a_page_and_blank_nodes_come_back_whole(empty_store, names) -> None:
    g1, _ = names
    g = _graph("many", *(f"v{i}" for i in range(40)))
    node = BNode()
    g.add((URIRef("https://example.org/holder"), P, node))
    g.add((node, P, Literal("inside a blank node", datatype=XSD.string)))
    empty_store.replace_graphs({g1: g})
    assert isomorphic(empty_store.union_graph(), _plain(g))
    assert isomorphic(_graphs(_dataset(empty_store))[str(g1)], _plain(g))


def test_a_query_that_names_no_dataset_sees_only_the_stores_graphs(empty_store, names) -> None:
    g1, _ = names
    empty_store.replace_graphs({g1: _graph("a", "x")})
    graphs = {r["g"] for r in select(empty_store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    assert graphs == {str(g1)}


def test_gated_writes_put_post_and_delete_graphs(empty_store, names) -> None:
    """Graph Store PUT, POST and DELETE as the write path does them, on each store."""
    from kg.rdfio import graph_to_triples
    from kg.write.apply import Change, apply_write

    g1, g2 = str(names[0]), str(names[1])

    def write(change: Change) -> None:
        apply_write(empty_store, change, agent="tester", source=None)

    write(Change.replace(g1, graph_to_triples(_graph("a", "x"))))
    write(Change.add(g1, graph_to_triples(_graph("a", "y"))))
    write(Change.add(g2, graph_to_triples(_graph("b", "z"))))
    assert isomorphic(quads_to_graph(empty_store.graph_triples(g1)), _plain(_graph("a", "x", "y")))
    assert sorted(r["o"] for r in select(empty_store, f"SELECT ?o WHERE {{ ?s <{P}> ?o }}")) == ["x", "y", "z"]
    write(Change.delete(g2))
    assert not empty_store.has_graph(g2)
    assert sorted(r["o"] for r in select(empty_store, f"SELECT ?o WHERE {{ ?s <{P}> ?o }}")) == ["x", "y"]
    assert [g for g in empty_store.named_graphs() if g != str(PROVENANCE_GRAPH)] == [g1]


def test_the_corpus_on_virtuoso_is_the_corpus_in_the_embedded_store(
    remote_store: RemoteStore, store: EmbeddedStore, built: BuildResult
) -> None:
    assert remote_store.named_graphs() == store.named_graphs() == sorted(str(g) for g in built.graphs)
    assert isomorphic(remote_store.union_graph(), store.union_graph())
    remote, embedded = _graphs(_dataset(remote_store)), _graphs(_dataset(store))
    assert remote.keys() == embedded.keys()
    for name in remote:
        assert isomorphic(remote[name], embedded[name]), name
    turtle = io.BytesIO()
    remote_store.dump(turtle, format_name="turtle")
    assert isomorphic(Graph().parse(data=turtle.getvalue(), format="turtle"), _plain(store.union_graph()))


def test_construct_results_are_the_same_graph(remote_store: RemoteStore, store: EmbeddedStore) -> None:
    # (not DESCRIBE: its answer is the engine's choice; Virtuoso adds the triples pointing at the resource)
    sparql = ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(?s = <https://w3id.org/negotiation-kg/id/actor/vladimir-putin> "
              "|| ?o = <https://w3id.org/negotiation-kg/id/actor/vladimir-putin>) }")
    graphs = []
    for s in (remote_store, store):
        out = io.BytesIO()
        s.query(sparql).serialize(out, format_name="turtle")
        graphs.append(Graph().parse(data=out.getvalue(), format="turtle"))
    assert len(graphs[0]) > 5 and isomorphic(*graphs)


def test_query_kind_reads_the_query_form() -> None:
    assert query_kind("PREFIX ex: <https://example.org/select#> ASK { ?s ex:p 'SELECT' }") == (QueryKind.BOOLEAN, False)
    assert query_kind("# SELECT\nCONSTRUCT WHERE { ?s ?p ?o }") == (QueryKind.GRAPH, False)
    assert query_kind("SELECT * FROM <https://example.org/g> { ?s ?p ?o }") == (QueryKind.SOLUTIONS, True)


# --------------------------------------------------------------------------- what Virtuoso does differently


def test_a_select_cut_at_the_servers_row_cap_is_an_error(remote_store: RemoteStore) -> None:
    values = " ".join(str(i) for i in range(110))
    with pytest.raises(StoreError, match=r"cut the result short at 10000 rows.*ResultSetMaxRows"):
        remote_store.query(f"SELECT * WHERE {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} }}")
    small = remote_store.query(f"SELECT * WHERE {{ VALUES ?a {{ {values} }} VALUES ?b {{ 1 2 }} }}")
    assert sum(1 for _ in small.result) == 220  # type: ignore[union-attr]


def test_a_construct_cut_at_the_servers_row_cap_is_an_error(remote_store: RemoteStore) -> None:
    values = " ".join(str(i) for i in range(110))
    with pytest.raises(StoreError, match="cut the result short"):
        remote_store.query(
            f"CONSTRUCT {{ ?s <https://example.org/p> ?b }} WHERE {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} "
            "BIND(IRI(CONCAT('https://example.org/', STR(?a))) AS ?s) }"
        )


def test_partial_results_after_a_time_out_are_an_error(virtuoso: VirtuosoServer, remote_store: RemoteStore) -> None:
    impatient = RemoteStore(remote_settings(virtuoso.sparql_url, query_timeout=0.2))
    with pytest.raises(StoreError, match=r"ran out of its time limit.*S1TAT"):
        impatient.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o . ?a ?b ?c . ?d ?e ?f }")
    impatient.close()


def test_digest_auth_against_the_protected_endpoint(virtuoso: VirtuosoServer, remote_store: RemoteStore) -> None:
    url = f"{virtuoso.base_url}/sparql-auth"
    ok = RemoteStore(remote_settings(url, remote_auth="digest", remote_user="dba", remote_password="dba"))
    assert ok.query("ASK { ?s a <https://w3id.org/negotiation-kg/ontology#Meeting> }").result  # type: ignore[truthy-bool]
    ok.close()
    with pytest.raises(StoreError, match=r"sparql-auth refused the credentials \(401"):
        RemoteStore(remote_settings(url, remote_auth="digest", remote_user="dba", remote_password="wrong"))


def test_the_generic_dialect_uploads_through_sparql_update(virtuoso: VirtuosoServer, names) -> None:
    g1, _ = names
    store = fresh_remote(virtuoso, remote_dialect="generic", remote_chunk_triples=10)
    assert store.dialect.name == "generic" and store.graph_store_url is None
    g = _graph("a", *(f"v{i}" for i in range(25)))
    store.replace_graphs({g1: g})
    assert isomorphic(store.graph(str(g1)), _plain(g))
    store.close()


def test_virtuoso_is_detected_from_its_server_header(remote_store: RemoteStore, virtuoso: VirtuosoServer) -> None:
    assert remote_store.dialect.name == "virtuoso"
    assert remote_store.graph_store_url == f"{virtuoso.base_url}/sparql-graph-crud"


def test_virtuoso_blank_node_labels_are_read_as_blank_nodes_and_strings_are_left_alone() -> None:
    from kg.store.dialects import GENERIC, VIRTUOSO

    line = b'{ "s": { "type": "bnode", "value": "nodeID://b10001" }, "o": { "type": "literal", "value": "x \\"type\\": \\"bnode\\", \\"value\\": \\"nodeID://b1" }}'
    fixed = VIRTUOSO.fix_results_line(line)
    assert b'"value": "b10001"' in fixed and b'\\"value\\": \\"nodeID://b1' in fixed
    assert GENERIC.fix_results_line(line) == line
    boolean = (b'{ "o": { "type": "typed-literal", "datatype": "http://www.w3.org/2001/XMLSchema#boolean", "value": "1" }'
               b', "f": { "type": "typed-literal", "datatype": "http://www.w3.org/2001/XMLSchema#boolean", "value": "0" }}')
    assert VIRTUOSO.fix_results_line(boolean).count(b'"value": "true"') == 1
    assert VIRTUOSO.fix_results_line(boolean).count(b'"value": "false"') == 1


def test_a_graph_reads_the_same_through_results_and_through_n_triples(virtuoso: VirtuosoServer, names) -> None:
    """Virtuoso writes a stored boolean as "1" in JSON results and "true" in N-Triples; both
    ways of reading a graph give the same terms."""
    store = fresh_remote(virtuoso)
    g1 = str(names[0])
    graph = Graph()
    graph.add((URIRef("https://example.org/a"), P, Literal(True)))
    graph.add((URIRef("https://example.org/a"), P, Literal(False)))
    try:
        store.replace_graphs({URIRef(g1): graph})
        assert set(store._triples(g1)) == store.whole_graph(g1)
        assert {t.object.value for t in store.whole_graph(g1)} == {"true", "false"}
    finally:
        discard_remote(store)


def test_graphs_past_virtuosos_sort_limit_are_read_whole(virtuoso: VirtuosoServer, names) -> None:
    """Virtuoso refuses to sort past its row cap for one page (OFFSET 10 000 and more); the
    store still reads a graph of 12 000 triples whole, in order, every triple once."""
    store = fresh_remote(virtuoso)
    g1 = str(names[0])
    graph = Graph()
    for i in range(12_000):
        graph.add((URIRef(f"https://example.org/s{i}"), P, Literal(i)))
    try:
        store.replace_graphs({URIRef(g1): graph})
        triples = list(store.graph_triples(g1))
        assert len(triples) == len(set(triples)) == 12_000
        assert isomorphic(quads_to_graph(triples), graph)
    finally:
        discard_remote(store)


def test_select_all_reads_every_solution_in_pages(empty_store, names) -> None:
    """More solutions than a page (7 on Virtuoso here): ``select_all`` returns every one, sorted."""
    g1 = names[0]
    empty_store.replace_graphs({g1: _graph("a", *(f"v{i:02d}" for i in range(20)))})
    rows = empty_store.select_all(f"SELECT ?o WHERE {{ ?s <{P}> ?o }}", "ORDER BY ?o")
    assert [r["o"].value for r in rows] == [f"v{i:02d}" for i in range(20)]
