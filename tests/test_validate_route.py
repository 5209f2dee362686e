"""``POST /validate``: RDF in, the SHACL report out in the format asked for, nothing stored —
the same report ``kg validate FILE`` gives, with results and errors placed in the request body."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner
from rdflib import Graph

from kg.cli import main
from kg.config import Settings
from kg.namespaces import SH
from kg.server import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NKG = "https://w3id.org/negotiation-kg/ontology#"
#: a claim with nothing a claim needs: the shapes refuse it
BAD = f"@prefix nkg: <{NKG}> .\n\n<http://example.org/claim> a nkg:Claim .\n"
GOOD = '<http://example.org/a> <http://www.w3.org/2000/01/rdf-schema#comment> "fine" .\n'


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, store_path: Path) -> Iterator[TestClient]:
    settings = Settings(store=str(store_path), read_only=True, workers=1, max_body_bytes=10_000)
    with TestClient(create_app(settings)) as c:
        yield c


def _post(client: TestClient, body: str, media: str = "text/turtle", **kwargs: object) -> object:
    return client.post("/validate", content=body.encode("utf-8"), headers={"Content-Type": media}, **kwargs)  # type: ignore[arg-type]


def test_a_failing_body_gets_the_report_kg_validate_gives(client: TestClient, tmp_path: Path) -> None:
    answer = client.post("/validate", content=BAD.encode(), headers={"Content-Type": "text/turtle"})
    assert answer.status_code == 200 and answer.headers["x-shacl-conforms"] == "false"
    assert answer.headers["content-type"].startswith("application/json")
    report = answer.json()
    assert report["conforms"] is False
    assert {r["focus_node"] for r in report["results"]} == {"http://example.org/claim"}
    assert {(r["source_file"], r["source_line"]) for r in report["results"]} == {("request body", 3)}
    data = tmp_path / "bad.ttl"
    data.write_text(BAD, encoding="utf-8")
    by_command = json.loads(CliRunner().invoke(main, ["validate", str(data), "--format", "json"]).stdout)
    def same(results: list[dict[str, object]]) -> list[tuple[object, ...]]:
        return sorted((r["fingerprint"], r["message"], r["source_line"], r["engine"]) for r in results)

    assert same(report["results"]) == same(by_command["results"])


def test_a_conforming_body(client: TestClient) -> None:
    answer = client.post("/validate", content=GOOD.encode(), headers={"Content-Type": "application/n-triples"})
    assert answer.status_code == 200 and answer.headers["x-shacl-conforms"] == "true"
    assert answer.json() == {"conforms": True, "results": []}


def test_report_formats_by_accept_and_by_format(client: TestClient) -> None:
    turtle = client.post("/validate", content=BAD.encode(),
                         headers={"Content-Type": "text/turtle", "Accept": "text/turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=turtle.text, format="turtle")
    assert (None, SH.conforms, None) in graph and len(list(graph.subjects(SH.focusNode, None))) >= 1
    junit = client.post("/validate?format=junit", content=BAD.encode(), headers={"Content-Type": "text/turtle"})
    assert ET.fromstring(junit.text).tag == "testsuite"
    text = client.post("/validate", content=BAD.encode(), headers={"Content-Type": "text/turtle", "Accept": "text/plain"})
    assert "request body:3" in text.text
    refused = client.post("/validate?format=yaml", content=BAD.encode(), headers={"Content-Type": "text/turtle"})
    assert refused.status_code == 406


def test_jsonld_and_trig_bodies(client: TestClient) -> None:
    jsonld = json.dumps({"@id": "http://example.org/claim", "@type": NKG + "Claim"})
    answer = client.post("/validate", content=jsonld.encode(), headers={"Content-Type": "application/ld+json"})
    assert answer.status_code == 200 and answer.json()["conforms"] is False
    trig = f"<http://example.org/g> {{ <http://example.org/claim> a <{NKG}Claim> }}\n"
    answer = client.post("/validate", content=trig.encode(), headers={"Content-Type": "application/trig"})
    assert answer.status_code == 200 and answer.json()["conforms"] is False


def test_bad_bodies(client: TestClient) -> None:
    broken = client.post("/validate", content=b"<http://example.org/a> <http://example.org/p> .\n",
                         headers={"Content-Type": "text/turtle"})
    assert broken.status_code == 400
    assert broken.json()["message"].startswith("request body:1:") and "kg-validate-" not in broken.text
    assert client.post("/validate", content=b"a,b\n", headers={"Content-Type": "text/csv"}).status_code == 415
    big = GOOD * 200  # over the 10 000 bytes this app allows
    assert client.post("/validate", content=big.encode(), headers={"Content-Type": "text/turtle"}).status_code == 413


def test_nothing_is_stored(client: TestClient) -> None:
    before = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}).json()
    client.post("/validate", content=GOOD.encode(), headers={"Content-Type": "text/turtle"})
    after = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}).json()
    assert before == after
    asked = client.get("/sparql", params={"query": "ASK { <http://example.org/a> ?p ?o }"}).json()
    assert asked["boolean"] is False
