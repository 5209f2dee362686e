"""HTTP basics across the whole surface: ``HEAD`` wherever ``GET`` is (same status and headers,
no body), errors as an HTML page for browsers and as the one JSON shape for everyone else, and
an unknown ``format=`` refused with 406 naming what is offered, on every route that takes one."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from html import escape
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from kg.config import Settings
from kg.server import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
#: a value for each path parameter of the OpenAPI document
PATH_VALUES = {"kind": "actor", "slug": "vladimir-putin", "name": "dataset.nq",
               "path": "nothing-here"}
#: GET routes the OpenAPI document leaves out (pages and their assets)
UNLISTED = ["/", "/static/style.css", "/views/views.css", "/openapi.json", "/docs", "/.well-known/void"]


@pytest.fixture(scope="module")
def client(store_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store=str(store_path), read_only=True, workers=1))) as c:
        yield c


@pytest.fixture(scope="module")
def get_paths(client: TestClient) -> list[str]:
    """Every GET route of the OpenAPI document, its path parameters filled in, and the unlisted ones."""
    paths = []
    for template, operations in client.get("/openapi.json").json()["paths"].items():
        if "get" in operations:
            paths.append(re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m[1]], template))
    assert "/views/stances" in paths and "/sparql" in paths
    return paths + UNLISTED


def _same_headers(get: Any, head: Any) -> None:
    for name in ("content-type", "content-length", "etag", "vary", "content-security-policy", "x-content-type-options"):
        assert get.headers.get(name) == head.headers.get(name), name


def test_head_answers_wherever_get_does(client: TestClient, get_paths: list[str]) -> None:
    for path in get_paths:
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code, path
        assert head.content == b"", path
        _same_headers(get, head)
    assert client.head("/id/actor/vladimir-putin").headers["content-length"] != "0"


def test_head_of_a_query_sends_headers_and_frees_the_worker(client: TestClient) -> None:
    query = {"query": "SELECT * { ?s ?p ?o }"}  # more than one chunk: a streamed answer
    head = client.head("/sparql", params=query)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("application/sparql-results+json")
    assert head.headers.get("content-length") != "0"
    for _ in range(3):  # the worker given back (one worker only): later queries are answered
        assert client.get("/sparql", params={"query": "ASK {}"}).json()["boolean"] is True


@pytest.mark.parametrize("path", ["/nowhere", "/id/actor/nobody-at-all", "/views/stances?format=bogus"])
def test_errors_are_html_for_browsers_and_json_otherwise(client: TestClient, path: str) -> None:
    as_json = client.get(path)
    payload = as_json.json()
    assert set(payload) == {"error", "status", "message"}
    status = payload["status"]
    for accept in ("application/json", "*/*", "application/json, text/html;q=0.5"):
        assert client.get(path, headers={"Accept": accept}).json() == payload
    for accept in (BROWSER, "text/html"):
        page = client.get(path, headers={"Accept": accept})
        assert page.status_code == status
        assert page.headers["content-type"].startswith("text/html")
        assert f"<title>{status} {HTTPStatus(status).phrase}</title>" in page.text
        assert escape(payload["message"]) in page.text
        assert page.headers["content-security-policy"]


#: (method, path, query, body content type, body, a name the message must offer)
BOGUS = [
    ("GET", "/sparql", {"query": "ASK {}"}, None, None, "json"),
    ("GET", "/sparql", {}, None, None, "turtle"),
    ("GET", "/.well-known/void", {}, None, None, "jsonld"),
    ("GET", "/graph-store", {}, None, None, "trig"),
    ("GET", "/graph-store", {"default": ""}, None, None, "ntriples"),
    ("GET", "/id/actor/vladimir-putin", {}, None, None, "html"),
    ("GET", "/ontology", {}, None, None, "html"),
    ("GET", "/shapes", {}, None, None, "turtle"),
    ("GET", "/dumps/", {}, None, None, "json"),
    ("POST", "/validate", {}, "text/turtle", "<http://example.org/a> <http://example.org/b> 1 .", "junit"),
    ("GET", "/views/timeline", {}, None, None, "svg"),
    ("GET", "/views/estimates", {}, None, None, "svg"),
    ("GET", "/views/stances", {}, None, None, "svg"),
    ("GET", "/search", {"q": "ceasefire"}, None, None, "json"),
    ("GET", "/id/", {}, None, None, "jsonld"),
    ("GET", "/id/actor/", {}, None, None, "turtle"),
]


@pytest.mark.parametrize("method,path,params,media,body,offered", BOGUS, ids=[f"{b[0]} {b[1]} {b[2]}" for b in BOGUS])
def test_an_unknown_format_is_406_naming_what_is_offered(client: TestClient, method: str, path: str,
                                                          params: dict[str, str], media: str | None, body: str | None,
                                                          offered: str) -> None:
    kwargs: dict[str, Any] = {"params": {**params, "format": "bogus"}}
    if body is not None:
        kwargs.update(content=body, headers={"Content-Type": media or ""})
    response = client.request(method, path, **kwargs)
    assert response.status_code == 406, response.text
    message = response.json()["message"]
    assert "bogus" in message and offered in message


def test_a_format_list_as_sparqlwrapper_sends_it_needs_one_offered_format(client: TestClient) -> None:
    describe = {"query": "DESCRIBE <https://w3id.org/negotiation-kg/id/actor/vladimir-putin>"}
    ok = client.get("/sparql", params={**describe, "format": ["json-ld", "application/ld+json,application/x-json+ld"]})
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("application/ld+json")
    refused = client.get("/sparql", params={**describe, "format": "image/png,text/x-nothing"})
    assert refused.status_code == 406 and "image/png,text/x-nothing" in refused.json()["message"]


def test_head_where_get_is_not_allowed_is_a_405_too(client: TestClient) -> None:
    get, head = client.get("/validate"), client.head("/validate")
    assert get.status_code == head.status_code == 405 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
