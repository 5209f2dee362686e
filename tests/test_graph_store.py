"""``/graph-store`` and SPARQL Update over HTTP: status codes, receipts, and for every bad
input (400 with line and column, 415, 404, 413, 422 with the report, 401/403) a store
exactly as before, compared graph by graph (isomorphic) through a whole-dataset dump."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import discard_remote, fresh_remote, settings_of
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from kg.config import Settings
from kg.iris import PROVENANCE_GRAPH
from kg.namespaces import NKG, SH
from kg.ops.tokens import create_token
from kg.server import create_app
from kg.store import RemoteStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

EX = "http://example.org/"
GRAPH = EX + "collection-7"
TURTLE = f"@prefix ex: <{EX}> .\nex:a ex:p \"one\" ; ex:q ex:b .\n"


@pytest.fixture(params=["embedded", "virtuoso"])
def make_client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Start apps over fresh stores of each kind, each with a write token (kept in the
    ``X-Test-Token`` header of the client, which this app ignores; :func:`auth` turns it into
    ``Authorization``). On Virtuoso each app gets graphs of its own, dropped afterwards."""
    opened: list[TestClient] = []
    remotes: list[RemoteStore] = []

    def start(**settings: object) -> TestClient:
        n = len(opened)
        if request.param == "embedded":
            config = Settings(store=str(tmp_path / f"store{n}"), workers=1, **settings)  # type: ignore[arg-type]
        else:
            remote = fresh_remote(request.getfixturevalue("virtuoso"))
            remotes.append(remote)
            config = settings_of(remote, workers=1, tokens_file=tmp_path / f"tokens{n}.json", **settings)
        secret = create_token(config, "archivist")
        client = TestClient(create_app(config))
        client.__enter__()
        client.headers["X-Test-Token"] = secret
        opened.append(client)
        return client

    yield start
    for client in opened:
        client.__exit__(None, None, None)
    for remote in remotes:
        discard_remote(remote)


def auth(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.headers['X-Test-Token']}"}


@pytest.fixture()
def client(make_client: Callable[..., TestClient]) -> TestClient:
    c = make_client()
    response = c.put("/graph-store", params={"graph": GRAPH}, content=TURTLE,
                     headers={"Content-Type": "text/turtle", **auth(c)})
    assert response.status_code == 201, response.text
    return c


def dataset(client: TestClient) -> dict[str, Graph]:
    """Every named graph of the store (receipts included), read back as graphs."""
    response = client.get("/graph-store", headers={"Accept": "application/n-quads"})
    assert response.status_code == 200
    ds = Dataset()
    ds.parse(data=response.text, format="nquads")
    return {str(g.identifier): Graph() + g for g in ds.graphs() if len(g)}


def assert_unchanged(before: dict[str, Graph], client: TestClient) -> None:
    after = dataset(client)
    assert sorted(before) == sorted(after)
    for name, graph in before.items():
        assert isomorphic(graph, after[name]), name


def test_put_get_head_post_delete(client: TestClient) -> None:
    got = client.get("/graph-store", params={"graph": GRAPH}, headers={"Accept": "text/turtle"})
    assert got.status_code == 200 and got.headers["content-type"] == "text/turtle; charset=utf-8"
    assert isomorphic(Graph().parse(data=got.text, format="turtle"), Graph().parse(data=TURTLE, format="turtle"))
    head = client.head("/graph-store", params={"graph": GRAPH})
    assert head.status_code == 200 and head.content == b""
    added = client.post("/graph-store", params={"graph": GRAPH}, content=f'<{EX}c> <{EX}p> "two" .',
                        headers={"Content-Type": "application/n-triples", **auth(client)})
    assert added.status_code == 200 and added.json()["added"] == 1 and added.json()["removed"] == 0
    replaced = client.put("/graph-store", params={"graph": GRAPH}, content=f'<{EX}c> <{EX}p> "two" .',
                          headers={"Content-Type": "application/n-triples", **auth(client)})
    assert replaced.status_code == 200 and (replaced.json()["added"], replaced.json()["removed"]) == (0, 2)
    deleted = client.delete("/graph-store", params={"graph": GRAPH}, headers=auth(client))
    assert deleted.status_code == 200 and deleted.json()["graphs"][0]["mode"] == "drop"
    assert client.get("/graph-store", params={"graph": GRAPH}).status_code == 404
    assert client.delete("/graph-store", params={"graph": GRAPH}, headers=auth(client)).status_code == 404


@pytest.mark.parametrize("accept,parser", [("application/n-triples", "nt"), ("application/ld+json", "json-ld"),
                                           ("application/rdf+xml", "xml"), ("text/n3", "n3")])
def test_get_in_every_graph_format(client: TestClient, accept: str, parser: str) -> None:
    got = client.get("/graph-store", params={"graph": GRAPH}, headers={"Accept": accept})
    assert got.status_code == 200 and got.headers["content-type"].startswith(accept)
    assert isomorphic(Graph().parse(data=got.text, format=parser), Graph().parse(data=TURTLE, format="turtle"))


def test_a_write_is_seen_by_the_next_query_with_its_receipt(client: TestClient) -> None:
    receipt = client.put("/graph-store", params={"graph": EX + "g2"}, content=f'<{EX}z> <{EX}p> "fresh" .',
                         headers={"Content-Type": "application/n-triples", **auth(client)}).json()
    answer = client.get("/sparql", params={"query": f'ASK {{ <{EX}z> <{EX}p> "fresh" }}'},
                        headers={"Accept": "application/sparql-results+json"})
    assert answer.json()["boolean"] is True
    rows = client.get("/sparql", headers={"Accept": "application/sparql-results+json"}, params={"query": f"""
        PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        PREFIX spdx: <http://spdx.org/rdf/terms#>
        SELECT ?agent ?sum WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
            <{receipt['receipt']}> prov:wasAssociatedWith/rdfs:label ?agent ;
                prov:used/spdx:checksum/spdx:checksumValue ?sum }} }}"""}).json()["results"]["bindings"]
    assert {r["agent"]["value"] for r in rows} == {"archivist"}
    assert receipt["sha256"] in {r["sum"]["value"] for r in rows}


def test_post_to_the_store_creates_a_graph_and_quads_add_to_their_graphs(client: TestClient) -> None:
    created = client.post("/graph-store", content=f'<{EX}n> <{EX}p> "new" .',
                          headers={"Content-Type": "application/n-triples", **auth(client)})
    assert created.status_code == 201
    fetched = client.get("/graph-store", params={"graph": created.headers["location"]}, headers={"Accept": "application/n-triples"})
    assert fetched.status_code == 200 and '"new"' in fetched.text
    quads = f'<{EX}s> <{EX}p> "1" <{EX}q1> .\n<{EX}s> <{EX}p> "2" <{EX}q2> .\n'
    posted = client.post("/graph-store", content=quads, headers={"Content-Type": "application/n-quads", **auth(client)})
    assert posted.status_code == 200, posted.text
    assert sorted(g["graph"] for g in posted.json()["graphs"]) == [EX + "q1", EX + "q2"]


VIOLATION = f"<{EX}claim> a <{NKG.Claim}> ."
ENTITIES = ('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [ <!ENTITY a "aaaaaaaaaa"> <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"> ]>\n'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">'
            '<rdf:Description rdf:about="http://example.org/s"><ex:p>&b;</ex:p></rdf:Description></rdf:RDF>')

#: (name, method, params, body, content type, token: "good"/"none"/"revoked", status, words in the message)
BAD = [
    ("malformed", "PUT", {"graph": GRAPH}, f"<{EX}a> <{EX}p> \"one\" .\n<{EX}b> <{EX}p> .\n", "text/turtle", "good", 400,
     ["request body:2:"]),
    ("wrong type", "PUT", {"graph": GRAPH}, TURTLE, "text/plain", "good", 415, ["text/plain"]),
    ("unknown graph", "DELETE", {"graph": EX + "nowhere"}, None, None, "good", 404, ["nowhere"]),
    ("violation", "PUT", {"graph": GRAPH}, VIOLATION, "text/turtle", "good", 422, ["shapes"]),
    ("no token", "PUT", {"graph": GRAPH}, TURTLE, "text/turtle", "none", 401, ["token"]),
    ("revoked token", "DELETE", {"graph": GRAPH}, None, None, "revoked", 403, ["revoked"]),
    ("unknown token", "POST", {"graph": GRAPH}, TURTLE, "text/turtle", "unknown", 403, ["not known"]),
    ("provenance", "PUT", {"graph": str(PROVENANCE_GRAPH)}, TURTLE, "text/turtle", "good", 403, ["store itself"]),
    ("entities", "PUT", {"graph": GRAPH}, ENTITIES, "application/rdf+xml", "good", 400, ["entity"]),
    # pyoxigraph's JSON-LD parser loads no remote context, so a body cannot make the server fetch
    ("remote context", "PUT", {"graph": GRAPH}, '{"@context": "http://127.0.0.1:9/c.jsonld", "@id": "http://example.org/s"}',
     "application/ld+json", "good", 400, ["remote context"]),
    ("graph and default", "PUT", {"graph": GRAPH, "default": ""}, TURTLE, "text/turtle", "good", 400, ["not both"]),
    ("update syntax", "POST", None, "INSERT DATA { <a> ", "application/sparql-update", "good", 400, ["syntax"]),
    ("update no token", "POST", None, f"CLEAR GRAPH <{GRAPH}>", "application/sparql-update", "none", 401, ["token"]),
    ("update violation", "POST", None, f"INSERT DATA {{ GRAPH <{GRAPH}> {{ {VIOLATION} }} }}",
     "application/sparql-update", "good", 422, ["shapes"]),
]


@pytest.mark.parametrize("name,method,params,body,ctype,token,status,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_refused_and_the_store_is_unchanged(
    client: TestClient, name: str, method: str, params: dict[str, str] | None, body: str | None, ctype: str | None,
    token: str, status: int, words: list[str],
) -> None:
    before = dataset(client)
    headers = {"Content-Type": ctype} if ctype else {}
    if token == "good":
        headers.update(auth(client))
    elif token == "revoked":
        headers["Authorization"] = f"Bearer {_revoked_secret(client)}"
    elif token == "unknown":
        headers["Authorization"] = "Bearer kg_" + "y" * 43
    url = "/sparql" if params is None else "/graph-store"
    response = client.request(method, url, params=params, content=body, headers=headers)
    assert response.status_code == status, response.text
    message = response.json()["message"]
    for word in words:
        assert word in message, message
    assert client.headers["X-Test-Token"] not in response.text
    assert_unchanged(before, client)


def _revoked_secret(client: TestClient) -> str:
    """A token that existed and was revoked (created here, so its secret is known)."""
    from kg.ops.tokens import revoke_token

    settings = client.app.state.settings  # type: ignore[attr-defined]
    secret = create_token(settings, "short-lived")
    revoke_token(settings, "short-lived")
    return secret


def test_too_large_is_413_and_the_store_is_unchanged(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=64)
    before = dataset(client)
    response = client.put("/graph-store", params={"graph": GRAPH}, content=TURTLE * 10,
                          headers={"Content-Type": "text/turtle", **auth(client)})
    assert response.status_code == 413 and "64 bytes" in response.json()["message"]
    assert_unchanged(before, client)


def test_422_carries_the_report_as_json_or_turtle(client: TestClient) -> None:
    headers = {"Content-Type": "text/turtle", **auth(client)}
    as_json = client.put("/graph-store", params={"graph": GRAPH}, content=VIOLATION, headers=headers)
    results = as_json.json()["report"]["results"]
    assert {r["path"] for r in results if r["focus_node"] == EX + "claim"} >= {f"<{NKG.claimant}>", f"<{NKG.evidence}>"}
    as_turtle = client.put("/graph-store", params={"graph": GRAPH}, content=VIOLATION,
                           headers={**headers, "Accept": "text/turtle"})
    assert as_turtle.status_code == 422 and as_turtle.headers["content-type"].startswith("text/turtle")
    report = Graph().parse(data=as_turtle.text, format="turtle")
    assert (None, SH.focusNode, URIRef(EX + "claim")) in report
    assert (None, SH.conforms, None) in report and not next(report.objects(None, SH.conforms)).toPython()


def test_sparql_update_by_form_and_direct(client: TestClient) -> None:
    form = client.post("/sparql", data={"update": f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <{EX}f> <{EX}p> "form" }} }}'},
                       headers=auth(client))
    assert form.status_code == 200 and form.json()["added"] == 1
    direct = client.post("/sparql", content=f"DELETE WHERE {{ GRAPH <{GRAPH}> {{ <{EX}f> ?p ?o }} }}",
                         headers={"Content-Type": "application/sparql-update", **auth(client)})
    assert direct.status_code == 200 and direct.json()["removed"] == 1
    assert json.loads(client.get("/sparql", params={"query": f"ASK {{ <{EX}f> ?p ?o }}"},
                                 headers={"Accept": "application/sparql-results+json"}).text)["boolean"] is False
