"""The HTTP surface in-process (lifespan included), and the ``serve --get`` smoke test."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from kg.cli import main
from kg.config import Settings
from kg.formats import negotiate
from kg.namespaces import OWL, RDFS, SD, WD
from kg.server import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PUTIN = "https://w3id.org/negotiation-kg/id/actor/vladimir-putin"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/negotiation-kg/ontology#Claim> }"


@pytest.fixture(scope="module")
def client(store_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store=str(store_path), read_only=True))) as c:
        yield c


def _count(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_query_by_get_post_form_and_post_direct_agree(client: TestClient) -> None:
    by_get = _count(client.get("/sparql", params={"query": COUNT}))
    by_form = _count(client.post("/sparql", data={"query": COUNT}))
    direct = client.post("/sparql", content=COUNT, headers={"Content-Type": "application/sparql-query"})
    assert by_get == by_form == _count(direct) > 40


@pytest.mark.parametrize(
    "accept,expected",
    [
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("text/csv;q=0.5, application/sparql-results+json", "application/sparql-results+json"),
    ],
)
def test_select_negotiates_result_formats(client: TestClient, accept: str, expected: str) -> None:
    response = client.get("/sparql", params={"query": COUNT}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(expected)


def test_construct_as_turtle_and_jsonld_are_the_same_graph(client: TestClient) -> None:
    query = f"CONSTRUCT {{ <{PUTIN}> ?p ?o }} WHERE {{ <{PUTIN}> ?p ?o }}"
    turtle = client.get("/sparql", params={"query": query}, headers={"Accept": "text/turtle"})
    jsonld = client.get("/sparql", params={"query": query, "format": "jsonld"})
    g1 = Graph().parse(data=turtle.text, format="turtle")
    g2 = Graph().parse(data=jsonld.text, format="json-ld")
    assert isomorphic(g1, g2) and (URIRef(PUTIN), OWL.sameAs, WD.Q7747) in g1


def test_bad_query_is_400_with_position(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?y }"})
    assert response.status_code == 400
    assert "1:26" in response.json()["message"]


def test_unacceptable_accept_is_406_and_wrong_content_type_415(client: TestClient) -> None:
    assert client.get("/sparql", params={"query": COUNT}, headers={"Accept": "image/png"}).status_code == 406
    wrong = client.post("/sparql", content=COUNT, headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 415 and "content type" in wrong.json()["message"]


def test_dataset_parameters_restrict_the_default_graph(client: TestClient) -> None:
    only_entities = _count(
        client.get(
            "/sparql",
            params={"query": COUNT, "default-graph-uri": "https://w3id.org/negotiation-kg/id/graph/entities"},
        )
    )
    assert only_entities == 0


def test_service_description_lists_the_graphs(client: TestClient) -> None:
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=response.text, format="turtle")
    names = {str(o) for o in graph.objects(None, SD.name)}
    assert "https://w3id.org/negotiation-kg/id/graph/entities" in names
    assert (None, SD.feature, SD.UnionDefaultGraph) in graph


def test_resource_pages(client: TestClient) -> None:
    html = client.get("/id/actor/vladimir-putin", headers={"Accept": "text/html"})
    assert html.status_code == 200 and "<h1>Vladimir Putin</h1>" in html.text
    turtle = client.get("/id/actor/vladimir-putin", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=turtle.text, format="turtle")
    assert graph.value(URIRef(PUTIN), RDFS.label).toPython() == "Vladimir Putin"
    claim = client.get("/id/claim/m-takeaway-istanbul-2-collapsed", params={"format": "ntriples"})
    assert "#position-selector" in claim.text
    assert client.get("/id/actor/nobody-at-all").status_code == 404
    assert client.get("/id/planet/earth").status_code == 404


def test_query_page_and_examples(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert client.get("/static/app.js").status_code == 200
    examples = client.get("/examples").json()
    assert len(examples) == 10 and all(e["query"].strip() for e in examples)
    for example in examples:
        response = client.post("/sparql", data={"query": example["query"]})
        assert response.status_code == 200, (example["name"], response.text[:300])


def test_negotiate_honours_q_values_and_wildcards() -> None:
    offers = ["text/html", "text/turtle", "application/ld+json"]
    assert negotiate("application/ld+json;q=0.9, text/turtle", offers) == "text/turtle"
    assert negotiate("text/*;q=0.5, application/ld+json;q=0.4", offers) == "text/html"
    assert negotiate("image/png", offers) is None
    assert negotiate(None, offers) == "text/html"


def test_serve_get_answers_without_a_socket(store_path: Path) -> None:
    out = CliRunner().invoke(main, ["--store", str(store_path), "serve", "--read-only", "--get", "/examples"])
    assert out.exit_code == 0, out.output
    assert len(json.loads(out.stdout)) == 10


def test_ask_is_not_offered_as_csv(client: TestClient) -> None:
    """SPARQL's CSV/TSV result formats hold only SELECT results."""
    ask = "ASK { ?s ?p ?o }"
    assert client.get("/sparql", params={"query": ask}, headers={"Accept": "text/csv"}).status_code == 406
    fallback = client.get("/sparql", params={"query": ask}, headers={"Accept": "text/csv, */*;q=0.1"})
    assert fallback.status_code == 200 and fallback.json()["boolean"] is True


def test_relative_iris_resolve_against_the_endpoint(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "CONSTRUCT { <s> <p> 1 } WHERE {}"}, headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    assert "<http://testserver/s> <http://testserver/p>" in response.text
