"""SSRF: ``SERVICE`` in queries and updates and ``LOAD`` in updates never reach a host that
``service_allow`` does not cover, however the target is written.

The finding: ``SELECT * WHERE { BIND(<http://a/\\u0041#> AS ?b) SERVICE <http://127.0.0.1:PORT/x>
{ ?x ?y ?z } }`` by GET came back with the remote server's rows (the old guard's regular
expression ended the IRI at ``\\`` and took ``#…`` for a comment), and updates were not
looked at at all, so a token holder could ``LOAD`` any URL. Here a real HTTP server on a free
loopback port records every request it gets; for a refused call it must get none.
"""

from __future__ import annotations

import http.server
import json
import threading
import warnings
from collections.abc import Callable, Iterator

import pytest
from live import free_port
from test_graph_store import assert_unchanged, dataset

from kg.config import Settings
from kg.ops.tokens import create_token
from kg.server import create_app
from kg.sparql.guard import refused_target

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ROWS = {"head": {"vars": ["x"]}, "results": {"bindings": [{"x": {"type": "literal", "value": "from-remote"}}]}}
LOADED = b'<http://example.org/remote> <http://example.org/p> "loaded" .\n'


class Recorder:
    """An HTTP server on a free loopback port that records the path of every request and answers
    SPARQL results (to a SERVICE call) or Turtle (to a LOAD)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.port = free_port()
        calls = self.calls

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                calls.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if self.path.endswith(".ttl"):
                    body, media = LOADED, "text/turtle"
                else:
                    body, media = json.dumps(ROWS).encode(), "application/sparql-results+json"
                self.send_response(200)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(scope="module")
def make_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., tuple[TestClient, dict[str, str]]]]:
    """Apps over fresh writable stores, each with a write token (its Authorization header)."""
    opened: list[TestClient] = []

    def start(**settings: object) -> tuple[TestClient, dict[str, str]]:
        config = Settings(store=str(tmp_path_factory.mktemp("ssrf") / "store"), workers=1, **settings)  # type: ignore[arg-type]
        secret = create_token(config, "token-holder")
        client = TestClient(create_app(config))
        client.__enter__()
        opened.append(client)
        return client, {"Authorization": f"Bearer {secret}"}

    yield start
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def guarded(make_app: Callable[..., tuple[TestClient, dict[str, str]]]) -> tuple[TestClient, dict[str, str]]:
    """An app that allows no remote call (the default)."""
    return make_app()


def _queries(target: str) -> dict[str, str]:
    """Every way of writing a SERVICE call to ``target`` (``http://127.0.0.1:PORT``) that the guard must see."""
    host, _, port = target.removeprefix("http://").partition(":")
    escaped = "".join(f"\\u{ord(c):04X}" for c in target)
    return {
        "the finding": f"SELECT * WHERE {{ BIND(<http://a/\\u0041#> AS ?b) SERVICE <{target}/x> {{ ?x ?y ?z }} }}",
        "escaped target": f"SELECT * WHERE {{ SERVICE <{escaped}/x> {{ ?x ?y ?z }} }}",
        "prefixed name": f"PREFIX r: <{target}/> SELECT * WHERE {{ SERVICE r:x {{ ?x ?y ?z }} }}",
        "escaped prefix": f"PREFIX r: <{escaped}/> SELECT * WHERE {{ SERVICE SILENT r:x {{ ?x ?y ?z }} }}",
        "base-relative": f"BASE <{target}/> SELECT * WHERE {{ SERVICE <x> {{ ?x ?y ?z }} }}",
        "prefix relative to base": f"BASE <http://{host}:{port}/a/> PREFIX r: <../b/> "
                                   "SELECT * WHERE { SERVICE r:x { ?x ?y ?z } }",
        "network-path reference": f"SELECT * WHERE {{ SERVICE <//{host}:{port}/x> {{ ?x ?y ?z }} }}",
        "variable endpoint": f"SELECT * WHERE {{ VALUES ?e {{ <{target}/x> }} SERVICE ?e {{ ?x ?y ?z }} }}",
        "lower case, comment and string": f'select * where {{ ?s ?p "# SERVICE" # "\n service <{target}/x> {{ ?x ?y ?z }} }}',
    }


WAYS = ["GET", "POST form", "POST direct"]


def _ask(client: TestClient, way: str, query: str) -> int:
    if way == "GET":
        return client.get("/sparql", params={"query": query}).status_code
    if way == "POST form":
        return client.post("/sparql", data={"query": query}).status_code
    return client.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"}).status_code


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", list(_queries("http://h:1")))
def test_ssrf_through_a_query_is_refused_and_the_host_never_called(
    guarded: tuple[TestClient, dict[str, str]], recorder: Recorder, name: str, way: str
) -> None:
    client, _ = guarded
    query = _queries(recorder.url)[name]
    before = len(recorder.calls)
    response_status = _ask(client, way, query)
    assert response_status == 403, (name, way)
    assert recorder.calls[before:] == []


def test_ssrf_through_an_escaped_iri_is_refused(guarded: tuple[TestClient, dict[str, str]], recorder: Recorder) -> None:
    """The finding as reported, with the message the client gets."""
    client, _ = guarded
    before = len(recorder.calls)
    response = client.get("/sparql", params={"query": _queries(recorder.url)["the finding"]})
    assert response.status_code == 403
    assert response.json()["message"].startswith(f"SERVICE/LOAD to {recorder.url}/x is not allowed")
    assert "service_allow" in response.json()["message"]
    assert recorder.calls[before:] == []


def _updates(target: str) -> dict[str, str]:
    return {
        "load": f"LOAD <{target}/data.ttl>",
        "load silent into a graph": f"LOAD SILENT <{target}/data.ttl> INTO GRAPH <http://example.org/g>",
        "load by a prefixed name": f"PREFIX r: <{target}/> LOAD r:data.ttl",
        "load base-relative": f"BASE <{target}/> LOAD <data.ttl>",
        "service in the where clause": f"INSERT {{ GRAPH <http://example.org/g> {{ ?x ?y ?z }} }} "
                                       f"WHERE {{ SERVICE <{target}/x> {{ ?x ?y ?z }} }}",
        "service after another operation": "INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/a> "
                                           "<http://example.org/p> 1 } } ; "
                                           f"DELETE WHERE {{ SERVICE <{target}/\\u0078> {{ ?x ?y ?z }} }}",
        "variable endpoint": f"INSERT {{ ?x ?y ?z }} WHERE {{ BIND(<{target}/x> AS ?e) SERVICE ?e {{ ?x ?y ?z }} }}",
    }


@pytest.mark.parametrize("direct", [False, True], ids=["form", "direct"])
@pytest.mark.parametrize("name", list(_updates("http://h:1")))
def test_ssrf_through_an_update_is_refused_and_nothing_is_written(
    guarded: tuple[TestClient, dict[str, str]], recorder: Recorder, name: str, direct: bool
) -> None:
    client, token = guarded
    update = _updates(recorder.url)[name]
    before, calls = dataset(client), len(recorder.calls)
    if direct:
        response = client.post("/sparql", content=update,
                               headers={"Content-Type": "application/sparql-update", **token})
    else:
        response = client.post("/sparql", data={"update": update}, headers=token)
    assert response.status_code == 403, response.text
    assert "is not allowed on this endpoint" in response.json()["message"]
    assert recorder.calls[calls:] == []
    assert_unchanged(before, client)


def test_ssrf_allowed_prefixes_still_reach_their_host(
    make_app: Callable[..., tuple[TestClient, dict[str, str]]], recorder: Recorder
) -> None:
    allowed = f"{recorder.url}/allowed/"
    client, token = make_app(service_allow=f"http://other.example/, {allowed}")
    before = len(recorder.calls)
    query = f"SELECT ?x WHERE {{ SERVICE <{allowed}sparql> {{ ?x ?y ?z }} }}"
    answer = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, answer.text
    assert [b["x"]["value"] for b in answer.json()["results"]["bindings"]] == ["from-remote"]
    loaded = client.post("/sparql", data={"update": f"LOAD <{allowed}data.ttl> INTO GRAPH <http://example.org/loaded>"},
                         headers=token)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["added"] == 1
    assert [c.split("?")[0] for c in recorder.calls[before:]] == ["/allowed/sparql", "/allowed/data.ttl"]
    # a sibling of the allowed prefix is not under it
    refused = client.get("/sparql", params={"query": f"SELECT * {{ SERVICE <{recorder.url}/allowedx> {{ }} }}"})
    assert refused.status_code == 403
    assert len(recorder.calls) == before + 2


def test_ssrf_an_allowed_host_is_not_a_prefix_of_another_host() -> None:
    allowed = ("http://ok.example",)
    assert refused_target("SELECT * { SERVICE <http://ok.example/sparql> {} }", allowed) is None
    assert refused_target("SELECT * { SERVICE <http://ok.example> {} }", allowed) is None
    for other in ("http://ok.example.evil.net/", "http://ok.example@evil.net/", "http://ok.example:8080/"):
        assert refused_target(f"SELECT * {{ SERVICE <{other}> {{}} }}", allowed) == other


def test_ssrf_relative_targets_resolve_against_the_endpoint() -> None:
    endpoint = "http://kg.example/sparql"
    assert refused_target("SELECT * { SERVICE <other> {} }", ("http://kg.example/",), base_iri=endpoint) is None
    assert refused_target("SELECT * { SERVICE <//evil.example/> {} }", ("http://kg.example/",),
                          base_iri=endpoint) == "http://evil.example/"

