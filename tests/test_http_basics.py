"""HTTP basics across the whole surface: ``HEAD`` wherever ``GET`` is (same status and headers,
no body), errors as an HTML page for browsers and as the one JSON shape for everyone else, an
unknown ``format=`` refused with 406 naming what is offered, on every route that takes one, and
pages and large answers gzipped for clients that take it, each coding with its own tag."""

from __future__ import annotations

import asyncio
import gzip
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
from kg.server.encoding import GzipSend, accepts_gzip

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


GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}


@pytest.mark.parametrize("path", ["/views/stances", "/id/actor/russia", "/search?q=ceasefire", "/ontology"])
def test_pages_are_gzipped_for_clients_that_take_it_with_a_tag_of_their_own(client: TestClient, path: str) -> None:
    plain, packed = client.get(path, headers=PLAIN), client.get(path, headers=GZIP)
    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers and packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content  # httpx undoes the gzip
    assert int(packed.headers["content-length"]) * 3 < len(plain.content)
    for response in (plain, packed):
        assert "Accept-Encoding" in response.headers["vary"]
    assert packed.headers["etag"] != plain.headers["etag"]  # RFC 9110 8.8.3: another representation
    assert client.get(path, headers={**GZIP, "If-None-Match": packed.headers["etag"]}).status_code == 304
    assert client.get(path, headers={**PLAIN, "If-None-Match": plain.headers["etag"]}).status_code == 304
    assert client.get(path, headers={**GZIP, "If-None-Match": plain.headers["etag"]}).status_code == 200
    assert client.get(path, headers={**PLAIN, "If-None-Match": packed.headers["etag"]}).status_code == 200
    head = client.head(path, headers=GZIP)
    _same_headers(packed, head)
    assert head.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in client.get(path, headers={"Accept-Encoding": "gzip;q=0, br"}).headers


@pytest.mark.parametrize("path", ["/completions", "/examples",
                                  "/graph-store?graph=https://w3id.org/negotiation-kg/id/graph/entities"])
def test_what_the_query_page_loads_and_graphs_are_gzipped_too(client: TestClient, path: str) -> None:
    plain, packed = client.get(path, headers=PLAIN), client.get(path, headers=GZIP)
    assert packed.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert packed.content == plain.content and int(packed.headers["content-length"]) * 2 < len(plain.content)
    assert "Accept-Encoding" in plain.headers["vary"] and "Accept-Encoding" in packed.headers["vary"]
    if "etag" in plain.headers:
        assert packed.headers["etag"] != plain.headers["etag"]
        assert client.get(path, headers={**GZIP, "If-None-Match": packed.headers["etag"]}).status_code == 304


def test_small_answers_are_sent_as_they_are_large_ones_gzipped(client: TestClient) -> None:
    ask = client.get("/sparql", params={"query": "ASK {}"}, headers=GZIP)
    assert ask.status_code == 200 and "content-encoding" not in ask.headers
    assert "Accept-Encoding" not in ask.headers.get("vary", "")
    rows = {"query": "SELECT * { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 300"}
    plain, packed = (client.get("/sparql", params=rows, headers={**h, "Accept": "text/csv"}) for h in (PLAIN, GZIP))
    assert packed.headers["content-encoding"] == "gzip" and packed.content == plain.content
    assert packed.headers["etag"] != plain.headers["etag"]
    everything = {"query": "SELECT * { ?s ?p ?o } ORDER BY ?s ?p ?o"}  # streamed: over one chunk
    plain, packed = (client.get("/sparql", params=everything, headers={**h, "Accept": "text/csv"}) for h in (PLAIN, GZIP))
    assert packed.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert packed.content == plain.content and len(plain.content) > 64 * 1024


@pytest.mark.parametrize("header,takes", [
    ("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.8", True), ("x-gzip", True), ("*", True),
    ("gzip;q=0", False), ("identity", False), ("", False), ("*;q=0", False), ("br, *;q=0.1, gzip;q=0", False),
])
def test_accept_encoding_is_read_with_its_weights(header: str, takes: bool) -> None:
    assert accepts_gzip(header) is takes


def _through_gzip_send(*bodies: bytes, media: str = "text/html; charset=utf-8") -> tuple[dict[bytes, bytes], bytes]:
    """What a page sent in ``bodies`` (ASGI messages) looks like after :class:`GzipSend`."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def respond() -> None:
        wrapped = GzipSend(send)
        await wrapped({"type": "http.response.start", "status": 200,
                       "headers": [(b"content-type", media.encode()), (b"etag", b'"t"')]})
        for i, body in enumerate(bodies):
            await wrapped({"type": "http.response.body", "body": body, "more_body": i < len(bodies) - 1})

    asyncio.run(respond())
    return dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def test_a_page_made_while_nothing_is_kept_is_gzipped_as_it_is_sent() -> None:
    page = b"<p>" + b"stance " * 2000 + b"</p>"
    headers, body = _through_gzip_send(page)  # one message: measured, then one gzip
    assert headers[b"content-encoding"] == b"gzip" and gzip.decompress(body) == page
    assert headers[b"content-length"] == str(len(body)).encode() and headers[b"etag"] == b'"t-gzip"'
    headers, body = _through_gzip_send(page[:5000], page[5000:])  # a stream: compressed as it goes
    assert b"content-length" not in headers and gzip.decompress(body) == page
    headers, body = _through_gzip_send(b"<p>short</p>")
    assert b"content-encoding" not in headers and body == b"<p>short</p>"
    headers, body = _through_gzip_send(page, media="image/png")
    assert b"content-encoding" not in headers and body == page


def test_the_service_description_is_a_page_for_browsers_and_rdf_for_programs(client: TestClient) -> None:
    page = client.get("/sparql", headers={"Accept": BROWSER})
    assert page.headers["content-type"].startswith("text/html") and "sd:Service" in page.text
    assert "href=/>the query page</a>" in page.text and "/sparql?format=turtle" in page.text
    for accept in (None, "*/*", "text/turtle"):
        answer = client.get("/sparql", headers={"Accept": accept} if accept else {})
        assert answer.headers["content-type"].startswith("text/turtle"), accept
    assert client.get("/sparql", params={"format": "turtle"}, headers={"Accept": BROWSER}).headers[
        "content-type"].startswith("text/turtle")
