"""Bad input from an attack on a running ``kg serve``: each finding answered with a 4xx that
says what and where, the store exactly as before, and never a 500, a reset connection or a
crashed process.

Findings that used to crash a process (SIGSEGV in pyoxigraph's parsers) are sent to a live
server in a subprocess, so that a regression shows as a failed request, not a crashed test run.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import live
import pytest
from click.testing import Result
from test_graph_store import GRAPH, assert_unchanged, auth, dataset, make_client  # noqa: F401  (a fixture)

from kg.build.dataset import BuildResult
from kg.config import Settings
from kg.server import create_app
from kg.store import EmbeddedStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

EX = "http://example.org/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


@pytest.fixture()
def client(make_client: Callable[..., TestClient]) -> TestClient:  # noqa: F811
    """A writable app (embedded store, then Virtuoso) holding one graph of our own."""
    c = make_client()
    response = c.put("/graph-store", params={"graph": GRAPH}, content=f'<{EX}a> <{EX}p> "one" .',
                     headers={"Content-Type": "text/turtle", **auth(c)})
    assert response.status_code == 201, response.text
    return c


def _message(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) >= {"error", "status", "message"} and payload["status"] == status
    return str(payload["message"])


# --- graph IRIs: one check everywhere -------------------------------------------------------------

BAD_IRIS = {
    "control character": "http://a/\x01",
    "space": "http://a/ b",
    "C1 control": "http://a/\x85",
    "last C1 control": "http://a/\x9f",
    "delete": "http://a/\x7f",
    "closing bracket": "http://a/> } ; CLEAR ALL ; INSERT DATA { <http://x/",
    "not absolute": "relative/graph",
}


@pytest.mark.parametrize("iri", list(BAD_IRIS.values()), ids=list(BAD_IRIS))
def test_a_graph_iri_with_a_control_character_is_a_400_not_a_500(client: TestClient, iri: str) -> None:
    before = dataset(client)
    token = auth(client)
    turtle = {"Content-Type": "text/turtle", **token}
    body = f'<{EX}b> <{EX}p> "two" .'
    answers = {
        "GET without a token": client.get("/graph-store", params={"graph": iri}),
        "HEAD": client.head("/graph-store", params={"graph": iri}),
        "PUT": client.put("/graph-store", params={"graph": iri}, content=body, headers=turtle),
        "POST": client.post("/graph-store", params={"graph": iri}, content=body, headers=turtle),
        "DELETE": client.delete("/graph-store", params={"graph": iri}, headers=token),
        "default-graph-uri": client.get("/sparql", params={"query": "ASK {}", "default-graph-uri": iri}),
        "named-graph-uri": client.post("/sparql", data={"query": "ASK {}", "named-graph-uri": iri}),
        "using-graph-uri": client.post("/sparql", headers=token, data={
            "update": f"INSERT {{ GRAPH <{GRAPH}> {{ <{EX}c> <{EX}p> 3 }} }} WHERE {{}}", "using-graph-uri": iri}),
        "using-named-graph-uri": client.post(
            "/sparql", params={"using-named-graph-uri": iri}, headers={"Content-Type": "application/sparql-update", **token},
            content=f"INSERT {{ GRAPH <{GRAPH}> {{ <{EX}c> <{EX}p> 3 }} }} WHERE {{}}"),
    }
    for name, response in answers.items():
        assert response.status_code == 400, (name, response.text)
        if name != "HEAD":
            assert repr(iri) in _message(response, 400), name
            assert "IRI" in _message(response, 400), name
    assert_unchanged(before, client)


def test_a_graph_url_with_a_control_character_is_a_400_not_a_500(client: TestClient) -> None:
    response = client.get("/graph-store/%01x")
    assert "is not an IRI: character U+0001" in _message(response, 400)


# --- triple terms ---------------------------------------------------------------------------------

TRIPLE_TERMS = {
    "turtle triple term": ("text/turtle", f"<{EX}s> <{EX}p> <<( <{EX}a> <{EX}b> <{EX}c> )>> ."),
    "turtle annotation": ("text/turtle", f"<{EX}a> <{EX}b> <{EX}c> {{| <{EX}source> <{EX}d> |}} ."),
    "turtle reifier": ("text/turtle", f"<{EX}a> <{EX}b> <{EX}c> ~ <{EX}r> ."),
    "n-triples": ("application/n-triples", f"<{EX}s> <{EX}p> <<( <{EX}a> <{EX}b> <{EX}c> )>> ."),
    "trig": ("application/trig", f"<{EX}s> <{EX}p> <<( <{EX}a> <{EX}b> <{EX}c> )>> ."),
    "rdf/xml": ("application/rdf+xml",
                f'<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:e="{EX}" rdf:version="1.2"><rdf:Description rdf:about="{EX}a">'
                f'<e:p rdf:parseType="Triple"><rdf:Description rdf:about="{EX}s"><e:q rdf:resource="{EX}o"/>'
                "</rdf:Description></e:p></rdf:Description></rdf:RDF>"),
}


@pytest.mark.parametrize("media,body", list(TRIPLE_TERMS.values()), ids=list(TRIPLE_TERMS))
def test_triple_terms_in_an_upload_are_refused_not_a_500(client: TestClient, media: str, body: str) -> None:
    before = dataset(client)
    response = client.put("/graph-store", params={"graph": GRAPH}, content=body,
                          headers={"Content-Type": media, **auth(client)})
    assert "triple terms are not stored" in _message(response, 400)
    assert_unchanged(before, client)


def test_triple_terms_by_every_other_way_in_are_refused_not_a_500(client: TestClient) -> None:
    before = dataset(client)
    term = f"<<( <{EX}a> <{EX}b> <{EX}c> )>>"
    quads = client.post("/graph-store", content=f"<{EX}s> <{EX}p> {term} <{EX}g> .",
                        headers={"Content-Type": "application/n-quads", **auth(client)})
    multipart = client.post("/graph-store", params={"graph": GRAPH}, headers=auth(client), files=[
        ("file", ("ok.ttl", f'<{EX}x> <{EX}p> "fine" .', "text/turtle")),
        ("file", ("terms.nt", f"<{EX}s> <{EX}p> {term} .", "application/n-triples"))])
    update = client.post("/sparql", data={"update": f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <{EX}s> <{EX}p> {term} }} }}"},
                         headers=auth(client))
    for response in (quads, multipart, update):
        assert "triple terms are not stored" in _message(response, 400)
    assert "part 2 (terms.nt)" in multipart.json()["message"]
    assert "the update" in update.json()["message"]
    assert_unchanged(before, client)


# --- DROP and CLEAR of a graph that does not exist ------------------------------------------------------

MISSING = EX + "never-written"


@pytest.mark.parametrize("update", [
    f"DROP GRAPH <{MISSING}>",
    f"CLEAR GRAPH <{MISSING}>",
    f"MOVE <{MISSING}> TO <{GRAPH}>",
    f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <{EX}new> <{EX}p> "x" }} }} ; DROP GRAPH <{MISSING}>',
], ids=["drop", "clear", "move", "after an insert"])
def test_drop_or_clear_of_a_missing_graph_is_a_404_and_nothing_is_written(client: TestClient, update: str) -> None:
    before = dataset(client)
    response = client.post("/sparql", content=update, headers={"Content-Type": "application/sparql-update", **auth(client)})
    message = _message(response, 404)
    assert f"<{MISSING}>" in message and "SILENT" in message
    assert_unchanged(before, client)


def test_drop_silent_of_a_missing_graph_is_no_error(client: TestClient) -> None:
    response = client.post("/sparql", data={"update": f"DROP SILENT GRAPH <{MISSING}>"}, headers=auth(client))
    assert response.status_code == 200 and response.json()["added"] == response.json()["removed"] == 0


# --- nesting in queries -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reader(store_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store=str(store_path), read_only=True, workers=1))) as c:
        yield c


DEEP_QUERIES = {
    "braces": "SELECT * WHERE " + "{" * 10_000 + "}" * 10_000,
    "parentheses": "SELECT * WHERE { FILTER(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }",
    "brackets": "SELECT * WHERE { ?s ?p " + "[ ?q " * 3_000 + "?o" + " ]" * 3_000 + " }",
}


@pytest.mark.parametrize("way", ["GET", "POST form", "POST direct"])
@pytest.mark.parametrize("query", list(DEEP_QUERIES.values()), ids=list(DEEP_QUERIES))
def test_a_deeply_nested_query_is_refused_before_parsing_and_the_worker_lives(
    reader: TestClient, query: str, way: str
) -> None:
    if way == "GET":
        response = reader.get("/sparql", params={"query": query})
    elif way == "POST form":
        response = reader.post("/sparql", data={"query": query})
    else:
        response = reader.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
    message = _message(response, 400)
    assert "more than 200 deep" in message and "max_nesting" in message and "line 1, column" in message
    alive = reader.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "application/sparql-results+json"})
    assert alive.status_code == 200 and alive.json()["boolean"] is True


def test_nesting_within_the_limit_is_answered(reader: TestClient) -> None:
    query = "ASK " + "{ " * 150 + "?s ?p ?o" + " }" * 150
    response = reader.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200 and response.json()["boolean"] is True


def test_the_nesting_limit_is_a_setting(store_path: Path) -> None:
    with TestClient(create_app(Settings(store=str(store_path), read_only=True, workers=1, max_nesting=3))) as c:
        assert c.get("/sparql", params={"query": "ASK { { { ?s ?p ?o } } }"}).status_code == 200
        assert "more than 3 deep" in _message(c.get("/sparql", params={"query": "ASK { { { { ?s ?p ?o } } } }"}), 400)


# --- the /sparql body is read as it streams ----------------------------------------------------------


def test_a_chunked_sparql_body_is_refused_as_soon_as_it_passes_the_limit(store_path: Path) -> None:
    """``request.body()`` held a whole chunked body (1.5 GB) before the size check; now at most
    one chunk past ``max_query_bytes`` is ever read. The app is driven through ASGI directly,
    counting what it pulls from a body that would go on for 64 MB."""
    limit, chunk, total = 50_000, b"#" * 16_384, 64 * 1024 * 1024
    app = create_app(Settings(store=str(store_path), read_only=True, workers=1, max_query_bytes=limit))
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": pulled < total}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/sparql", "raw_path": b"/sparql", "root_path": "", "query_string": b"",
             "headers": [(b"host", b"testserver"), (b"content-type", b"application/sparql-query"),
                         (b"transfer-encoding", b"chunked")],
             "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    with TestClient(app):  # the lifespan: the app's settings and store
        asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert start["status"] == 413
    assert f"over the limit of {limit} bytes" in json.loads(body)["message"]
    assert pulled <= limit + len(chunk)


def test_a_declared_sparql_body_over_the_limit_is_refused_unread(reader: TestClient) -> None:
    response = reader.post("/sparql", content=b"#" * 1_000_001, headers={"Content-Type": "application/sparql-query"})
    assert "max_query_bytes" in _message(response, 413)


# --- what used to crash a process: a live server ----------------------------------------------------


@pytest.fixture(scope="module")
def live_writable(built: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A live, writable ``kg serve`` on a store of its own, and a write token for it."""
    with live.writable_server(built.graphs, tmp_path_factory.mktemp("hostile"), "attacker") as server:
        yield server


def _send(url: str, method: str, path: str, body: bytes, media: str, secret: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url + path, data=body, method=method,
                                     headers={"Content-Type": media, "Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _alive(url: str) -> bool:
    with urllib.request.urlopen(url + "/sparql?query=ASK%7B%7D", timeout=30) as response:
        return response.status == 200


def _jsonld_objects(depth: int) -> bytes:
    """``depth`` nested JSON-LD node objects (5,000 are 85 KB)."""
    return (f'{{"@id": "{EX}n", "{EX}p": ' * depth + f'{{"@id": "{EX}leaf"}}' + "}" * depth).encode()


CRASHERS = {
    "update with 10,000 nested groups": (
        "POST", "/sparql", ("INSERT { <http://example.org/a> <http://example.org/b> 1 } WHERE "
                            + "{" * 10_000 + "}" * 10_000).encode(), "application/sparql-update"),
    "JSON-LD with 5,000 nested objects": ("PUT", f"/graph-store?graph={EX}deep", _jsonld_objects(5_000),
                                          "application/ld+json"),
    "JSON-LD dataset with 5,000 nested objects": ("POST", "/graph-store", _jsonld_objects(5_000),
                                                  "application/ld+json"),
    "N-Quads with 20,000 nested triple terms": (
        "POST", "/graph-store", (f"<{EX}s> <{EX}p> " + f"<<( <{EX}s> <{EX}p> " * 20_000 + f"<{EX}o>"
                                 + " )>>" * 20_000 + f" <{EX}g> .\n").encode(), "application/n-quads"),
    "Turtle with 20,000 nested triple terms": (
        "PUT", f"/graph-store?graph={EX}deep", (f"<{EX}s> <{EX}p> " + f"<<( <{EX}s> <{EX}p> " * 20_000 + f"<{EX}o>"
                                                + " )>>" * 20_000 + " .\n").encode(), "text/turtle"),
}


@pytest.mark.parametrize("method,path,body,media", list(CRASHERS.values()), ids=list(CRASHERS))
def test_deep_nesting_does_not_crash_the_server(
    live_writable: tuple[str, str], method: str, path: str, body: bytes, media: str
) -> None:
    url, secret = live_writable
    status, payload = _send(url, method, path, body, media, secret)
    assert status == 400, payload
    assert "more than 200 deep" in payload["message"] and "max_nesting" in payload["message"]
    assert _alive(url)


def test_a_multipart_part_nested_too_deep_does_not_crash_the_server(live_writable: tuple[str, str]) -> None:
    url, secret = live_writable
    boundary = "kg-boundary"
    part = _jsonld_objects(5_000)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"deep.jsonld\"\r\n"
            f"Content-Type: application/ld+json\r\n\r\n").encode() + part + f"\r\n--{boundary}--\r\n".encode()
    status, payload = _send(url, "POST", f"/graph-store?graph={EX}deep", body,
                            f"multipart/form-data; boundary={boundary}", secret)
    assert status == 400, payload
    assert payload["message"].startswith("request body, part 1 (deep.jsonld):1: jsonld: objects and arrays nested")
    assert _alive(url)


def _entity_bomb(padding: int) -> bytes:
    """RDF/XML whose entity declarations come after ``padding`` bytes of comment; its one literal
    expands to 10 MB (the attack's 70 KB expanded to 300 MB)."""
    entities = '<!ENTITY a "' + "a" * 100 + '">' + "".join(
        f'<!ENTITY {n} "' + f"&{p};" * 10 + '">' for p, n in zip("abcd", "bcde"))
    return (f'<?xml version="1.0"?>\n<!--{"x" * padding}-->\n<!DOCTYPE rdf:RDF [{entities}]>\n'
            f'<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:e="{EX}"><rdf:Description rdf:about="{EX}s">'
            "<e:p>&e;</e:p></rdf:Description></rdf:RDF>").encode()


def test_xml_entities_after_the_first_64_kb_are_refused(live_writable: tuple[str, str]) -> None:
    url, secret = live_writable
    bomb = _entity_bomb(70_000)
    assert len(bomb) > 64 * 1024 and bomb.index(b"<!ENTITY") > 64 * 1024
    status, payload = _send(url, "PUT", f"/graph-store?graph={EX}bomb", bomb, "application/rdf+xml", secret)
    assert status == 400, payload
    assert payload["message"] == ("request body:3: RDF/XML with entity declarations (<!ENTITY …>) is not accepted: "
                                  "entities can expand without limit; write the values out")
    assert _alive(url)


# --- the command line reads files through the same screen ----------------------------------------------


def test_kg_ingest_refuses_deep_nesting_entities_and_triple_terms(
    kg_cli: Callable[..., Result], tmp_path: Path
) -> None:
    deep = tmp_path / "deep.ttl"
    deep.write_text(f"<{EX}s> <{EX}p> " + "[ <{EX}q> ".replace("{EX}", EX) * 300 + "1" + " ]" * 300 + " .\n")
    bomb = tmp_path / "bomb.rdf"
    bomb.write_bytes(_entity_bomb(70_000))
    terms = tmp_path / "terms.ttl"
    terms.write_text(f'<{EX}a> <{EX}b> "fine" .\n<{EX}a> <{EX}b> <{EX}c> {{| <{EX}d> <{EX}e> |}} .\n')
    store = tmp_path / "store"
    for path, words in ((deep, "deep.ttl:1: turtle: blank nodes, lists, formulas or triple terms nested more than 200"),
                        (bomb, "bomb.rdf:3: RDF/XML with entity declarations"),
                        (terms, "terms.ttl: triple terms are not stored")):
        result = kg_cli("--store", store, "ingest", path, "--graph", EX + "g")
        assert result.exit_code == 2, result.output
        assert words in result.output
    opened = EmbeddedStore(store, read_only=True)
    try:
        assert opened.named_graphs() == []
    finally:
        opened.close()


def test_kg_validate_of_deeply_nested_json_ld_exits_2_not_a_crash(tmp_path: Path) -> None:
    deep = tmp_path / "deep.jsonld"
    deep.write_bytes(_jsonld_objects(5_000))
    result = subprocess.run([sys.executable, "-c", "from kg.cli import main; main()", "validate", str(deep)],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 2, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "objects and arrays nested more than 200 deep" in result.stdout + result.stderr
