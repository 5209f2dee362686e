"""The answer cache (:mod:`kg.server.answer_cache`): kept answers while the store is unchanged.

One writable ``kg serve`` on a copy of the built store serves the live tests: a hit after a miss
(queries, the service description, pages), 304 for a tag the client holds, answers dropped after
a write through the Graph Store protocol and after a ``kg ingest`` the command line makes through
the running server. In-process apps (one worker each) show the cache off by its setting and an
app whose reads need a token never serving a kept answer to a request it would refuse.
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from live import LiveServer

from kg.cli import main
from kg.config import Settings
from kg.ops.tokens import create_token, revoke_token
from kg.server import create_app
from kg.server.answer_cache import AnswerCache, Cached, etag_of

EX = "https://example.org/cache/"
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
ASK_NOTE = f"ASK {{ <{EX}note> ?p ?o }}"
PUTIN = "/id/actor/vladimir-putin"


@pytest.fixture(scope="module")
def served(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path, str]]:
    """A writable server on its own copy of the built store: (server, store directory, write token)."""
    folder = tmp_path_factory.mktemp("answer-cache")
    store = folder / "store"
    shutil.copytree(store_path, store)
    secret = create_token(Settings(store=str(store)), "tester")
    server = LiveServer(store, folder / "serve.log", read_only=False, cwd=folder)
    server.start()
    try:
        yield server, store, secret
    finally:
        server.stop()


def get(url: str, *, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def query(base: str, text: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return get(base + "/sparql?" + urllib.parse.urlencode({"query": text}),
               headers={"Accept": "application/sparql-results+json", **headers})


def test_a_hit_follows_a_miss_with_the_same_answer(served: tuple[LiveServer, Path, str]) -> None:
    server, _, _ = served
    text = "SELECT ?s WHERE { ?s a <https://w3id.org/negotiation-kg/ontology#Meeting> } ORDER BY ?s"
    status, first, body = query(server.url, text)
    assert status == 200 and first["x-cache"] == "miss" and "no-cache" in first["cache-control"]
    status, again, cached = query(server.url, "\n" + text + "  ")  # the same text, spaced otherwise
    assert status == 200 and again["x-cache"] == "hit" and "age" in again
    assert cached == body and again["etag"] == first["etag"] == etag_of(body)
    # another result format is another answer
    status, csv, _ = get(server.url + "/sparql?" + urllib.parse.urlencode({"query": text, "format": "csv"}))
    assert status == 200 and csv["x-cache"] == "miss" and csv["content-type"].startswith("text/csv")
    # POST answers come from the same place
    form = urllib.parse.urlencode({"query": text}).encode()
    request = urllib.request.Request(server.url + "/sparql", data=form, headers={
        "Accept": "application/sparql-results+json", "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.headers["X-Cache"] == "hit" and answer.read() == body


def test_if_none_match_gets_304_for_queries_pages_and_the_description(served: tuple[LiveServer, Path, str]) -> None:
    server, _, _ = served
    for url, accept in ((server.url + "/sparql?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"}),
                         "application/sparql-results+json"),
                        (server.url + PUTIN, "text/turtle"), (server.url + PUTIN, "text/html"),
                        (server.url + "/sparql", "text/turtle")):
        status, headers, body = get(url, headers={"Accept": accept})
        assert status == 200 and body and headers["etag"], url
        status, again, empty = get(url, headers={"Accept": accept, "If-None-Match": headers["etag"]})
        assert status == 304 and empty == b"" and again["etag"] == headers["etag"], url
        status, other, full = get(url, headers={"Accept": accept, "If-None-Match": '"something-else"'})
        assert status == 200 and full == body and other["x-cache"] == "hit", url
    status, turtle, _ = get(server.url + PUTIN, headers={"Accept": "text/turtle"})
    status, html, _ = get(server.url + PUTIN, headers={"Accept": "text/html"})
    assert turtle["etag"] != html["etag"] and "nosniff" == html["x-content-type-options"]


def test_a_write_through_the_api_drops_kept_answers(served: tuple[LiveServer, Path, str]) -> None:
    server, _, secret = served
    text = f"SELECT ?c WHERE {{ <{EX}api> <{RDFS_COMMENT}> ?c }}"
    assert json.loads(query(server.url, text)[2])["results"]["bindings"] == []
    assert query(server.url, text)[1]["x-cache"] == "hit"
    page = get(server.url + PUTIN, headers={"Accept": "text/turtle"})
    body = f'<{EX}api> <{RDFS_COMMENT}> "written through the Graph Store protocol" .'.encode()
    request = urllib.request.Request(server.url + "/graph-store?" + urllib.parse.urlencode({"graph": EX + "api"}),
                                     data=body, method="PUT",
                                     headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {secret}"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status in (200, 201)
    status, headers, after = query(server.url, text)
    assert headers["x-cache"] == "miss"
    assert [b["c"]["value"] for b in json.loads(after)["results"]["bindings"]] == [
        "written through the Graph Store protocol"]
    again = get(server.url + PUTIN, headers={"Accept": "text/turtle"})
    assert again[1]["x-cache"] == "miss" and again[2] == page[2]  # dropped too, though it did not change


def test_a_kg_ingest_through_the_running_server_drops_kept_answers(served: tuple[LiveServer, Path, str],
                                                                 tmp_path: Path) -> None:
    server, store, _ = served
    assert json.loads(query(server.url, ASK_NOTE)[2])["boolean"] is False
    assert query(server.url, ASK_NOTE)[1]["x-cache"] == "hit"
    note = tmp_path / "note.ttl"
    note.write_text(f'<{EX}note> <{RDFS_COMMENT}> "ingested by the command line" .\n', encoding="utf-8")
    done = CliRunner().invoke(main, ["ingest", str(note), "--graph", f"{EX}note", "--store", str(store)])
    assert done.exit_code == 0, done.output
    assert f"by kg serve at {server.url}" in done.stderr
    status, headers, body = query(server.url, ASK_NOTE)
    assert headers["x-cache"] == "miss" and json.loads(body)["boolean"] is True


def test_the_service_description_says_answers_may_be_kept(served: tuple[LiveServer, Path, str]) -> None:
    server, _, _ = served
    status, headers, body = get(server.url + "/sparql", headers={"Accept": "text/turtle"})
    assert status == 200 and b"X-Cache: hit" in body and headers["x-cache"] in ("hit", "miss")


# -- in-process apps: the setting, and reads that need a token ------------------------------------


def _app(store_path: Path, tmp_path: Path, **changes: object) -> TestClient:
    store = tmp_path / "store"
    shutil.copytree(store_path, store)
    return TestClient(create_app(Settings(store=str(store), workers=1, read_only=True).replace(**changes)))


def test_no_cache_when_the_setting_is_off(store_path: Path, tmp_path: Path) -> None:
    with _app(store_path, tmp_path, answer_cache_mb=0) as client:
        for _ in range(2):
            answer = client.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": "application/json"})
            assert answer.status_code == 200 and "x-cache" not in answer.headers and "etag" not in answer.headers
            page = client.get(PUTIN, headers={"Accept": "text/turtle"})
            assert page.status_code == 200 and "x-cache" not in page.headers
        description = client.get("/sparql", headers={"Accept": "text/turtle"}).text
        assert "X-Cache" not in description


def test_kept_answers_are_never_served_to_a_reader_without_a_valid_token(store_path: Path, tmp_path: Path) -> None:
    with _app(store_path, tmp_path, read_token_required=True, tokens_file=tmp_path / "tokens.json") as client:
        settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
        good, other = create_token(settings, "reader"), create_token(settings, "revoked")
        revoke_token(settings, "revoked")
        for path, params, accept in (("/sparql", {"query": "ASK { ?s ?p ?o }"}, "application/json"),
                                     (PUTIN, {}, "text/turtle")):
            first = client.get(path, params=params, headers={"Accept": accept, "Authorization": f"Bearer {good}"})
            again = client.get(path, params=params, headers={"Accept": accept, "Authorization": f"Bearer {good}"})
            assert first.headers["x-cache"] == "miss" and again.headers["x-cache"] == "hit"
            assert "private" in again.headers["cache-control"] and "Authorization" in again.headers["vary"]
            for authorization, status in (("", 401), ("Bearer not-a-token", 403), (f"Bearer {other}", 403)):
                refused = client.get(path, params=params, headers={
                    "Accept": accept, "Authorization": authorization, "If-None-Match": again.headers["etag"]})
                assert refused.status_code == status and "x-cache" not in refused.headers, (path, authorization)
                assert again.content not in refused.content


# -- the cache itself ----------------------------------------------------------------------------


def test_memory_is_bounded_least_recently_used_first() -> None:
    cache = AnswerCache(max_bytes=8_000, entry_bytes=2_000, version=lambda: 0)
    body = b"x" * 1_000
    for n in range(20):
        assert cache.put(("q", str(n)), 0, Cached(body, "text/plain", etag_of(body)))
        if n == 3:
            assert cache.get(("q", "0")) is not None  # used: kept over the ones after it
        assert cache.size_bytes <= 8_000
    assert cache.evictions > 0 and len(cache) < 20
    assert cache.get(("q", "19")) is not None and cache.get(("q", "1")) is None
    assert not cache.put(("q", "big"), 0, Cached(b"x" * 2_001, "text/plain", ""))  # over the entry limit
    assert not cache.put(("q", "old"), -1, Cached(body, "text/plain", ""))  # made from another state


def test_a_page_marked_no_store_is_not_kept() -> None:
    """A search answered from an index older than the store says ``no-store``: kept, it would be
    served after the index caught up, until the next commit. The same page without it is kept."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from kg.server.answer_cache import PageCache

    calls = {"n": 0}

    def search(request: Request) -> PlainTextResponse:
        calls["n"] += 1
        stale = request.query_params.get("stale") == "1"
        return PlainTextResponse("hits", headers={"Cache-Control": "no-store"} if stale else {})

    app = Starlette(routes=[Route("/search", search)], middleware=[Middleware(PageCache)])
    app.state.answers = AnswerCache(max_bytes=100_000, entry_bytes=10_000, version=lambda: 0)
    app.state.settings = Settings()
    client = TestClient(app)
    for _ in range(2):
        assert client.get("/search?q=x&stale=1").headers.get("x-cache") is None
    assert calls["n"] == 2  # made both times: nothing kept
    client.get("/search?q=x")
    assert client.get("/search?q=x").headers["x-cache"] == "hit"
    assert calls["n"] == 3
