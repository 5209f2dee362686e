"""Queries answered in the server's own process (:mod:`kg.server.inline`).

A query text a worker answered whole and quickly is answered by the server itself the next times
it comes while the store is unchanged: the same bytes, and never an answer from before a commit.
A new text, a slow one, one that names its own dataset, and every text after a write go to a
worker. In-process apps (one worker, the answer cache off, so every answer is evaluated).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from rdflib import Graph
from rdflib.compare import isomorphic

from kg.cli import main
from kg.config import Settings
from kg.ops.tokens import create_token
from kg.server import create_app
from kg.server.inline import InlineQueries
from kg.store import EmbeddedStore

NKG = "https://w3id.org/negotiation-kg/ontology#"
MEETINGS = f"SELECT ?m ?label WHERE {{ ?m a <{NKG}Meeting> ; <http://www.w3.org/2000/01/rdf-schema#label> ?label }} ORDER BY ?m"
PUTIN = "https://w3id.org/negotiation-kg/id/actor/vladimir-putin"
DESCRIBE_PUTIN = f"CONSTRUCT {{ <{PUTIN}> ?p ?o }} WHERE {{ <{PUTIN}> ?p ?o }}"
NOTE = "https://example.org/inline/note"
ASK_NOTE = f"ASK {{ <{NOTE}> ?p ?o }}"
JSON = "application/sparql-results+json"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _client(store_path: Path, folder: Path, **changes: object) -> tuple[TestClient, str]:
    store = folder / "store"
    shutil.copytree(store_path, store)
    settings = Settings(store=str(store), workers=1, answer_cache_mb=0).replace(**changes)
    return TestClient(create_app(settings)), create_token(settings, "tester")


@pytest.fixture(scope="module")
def app(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    # any time a worker takes counts as quick here (a loaded machine must not change what is tested)
    client, token = _client(store_path, tmp_path_factory.mktemp("inline"), inline_query_ms=60_000)
    with client:
        yield client, token


def _inline(client: TestClient) -> InlineQueries:
    inline = client.app.state.inline  # type: ignore[attr-defined]
    assert isinstance(inline, InlineQueries)
    return inline


def _query(client: TestClient, text: str, accept: str = JSON) -> bytes:
    response = client.get("/sparql", params={"query": text}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    return response.content


def test_a_text_a_worker_answered_quickly_is_answered_here_with_the_same_bytes(app: tuple[TestClient, str]) -> None:
    client, _ = app
    inline = _inline(client)
    before = inline.answered
    first = _query(client, MEETINGS)
    assert inline.answered == before  # a text not seen yet: a worker
    again = _query(client, MEETINGS)
    assert inline.answered == before + 1
    assert json.loads(again) == json.loads(first) and json.loads(first)["results"]["bindings"]
    # a graph answer too, compared as a graph
    turtle = _query(client, DESCRIBE_PUTIN, "text/turtle")
    here = _query(client, DESCRIBE_PUTIN, "text/turtle")
    assert inline.answered == before + 2
    made, kept = Graph().parse(data=turtle, format="turtle"), Graph().parse(data=here, format="turtle")
    assert len(made) > 0 and isomorphic(made, kept)
    # the same text asked in another format is another text: a worker first
    _query(client, MEETINGS, "text/csv")
    assert inline.answered == before + 2


def test_a_commit_sends_the_text_to_a_worker_again_and_no_answer_is_stale(app: tuple[TestClient, str]) -> None:
    client, token = app
    inline = _inline(client)
    assert json.loads(_query(client, ASK_NOTE))["boolean"] is False
    assert json.loads(_query(client, ASK_NOTE))["boolean"] is False
    before = inline.answered
    update = f'INSERT DATA {{ GRAPH <https://example.org/inline/g> {{ <{NOTE}> <{NKG}note> "x" }} }}'
    written = client.post("/sparql", content=update, headers={
        "Content-Type": "application/sparql-update", "Authorization": f"Bearer {token}"})
    assert written.status_code == 200, written.text
    assert json.loads(_query(client, ASK_NOTE))["boolean"] is True  # the new version: a worker, fresh
    assert inline.answered == before
    assert json.loads(_query(client, ASK_NOTE))["boolean"] is True  # then here again
    assert inline.answered == before + 1


def test_texts_that_name_their_dataset_or_fail_always_go_to_a_worker(app: tuple[TestClient, str]) -> None:
    client, _ = app
    inline = _inline(client)
    before = inline.answered
    named = f"SELECT (COUNT(*) AS ?n) FROM <{PUTIN}> WHERE {{ ?s ?p ?o }}"
    for _ in range(3):
        _query(client, named)
        broken = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x"}, headers={"Accept": JSON})
        assert broken.status_code == 400 and "syntax" in broken.json()["message"].lower()
    assert inline.answered == before


def test_a_text_slower_than_the_setting_and_the_setting_off(store_path: Path, tmp_path: Path) -> None:
    slow, _ = _client(store_path, tmp_path / "slow", inline_query_ms=1e-6)  # nothing is that fast
    with slow:
        for _ in range(3):
            _query(slow, MEETINGS)
        assert _inline(slow).answered == 0
    off, _ = _client(store_path, tmp_path / "off", inline_query_ms=0)
    with off:
        assert json.loads(_query(off, MEETINGS)) == json.loads(_query(off, MEETINGS))
        assert off.app.state.inline is None  # type: ignore[attr-defined]


def test_a_read_only_server_whose_workers_moved_on_never_answers_from_its_older_view(
        store_path: Path, tmp_path: Path) -> None:
    """Beside a writer, a replaced worker opens the newest view while this process keeps the one
    it opened: answers made here would then be older than the worker's. So they are not made."""
    store = tmp_path / "store"
    shutil.copytree(store_path, store)
    EmbeddedStore(store).close()  # a writer opened it: its committed state is published as a view
    client = TestClient(create_app(Settings(store=str(store), workers=1, answer_cache_mb=0, read_only=True,
                                               inline_query_ms=60_000)))
    with client:
        inline = _inline(client)
        _query(client, ASK_NOTE)
        assert json.loads(_query(client, ASK_NOTE))["boolean"] is False and inline.answered == 1
        written = CliRunner().invoke(main, ["--store", str(store), "update",
                                            f'INSERT DATA {{ GRAPH <https://example.org/inline/g> {{ <{NOTE}> <{NKG}note> "x" }} }}'])
        assert written.exit_code == 0, written.output
        # a query past its time limit has its worker killed; the new one opens the writer's newest view
        stopped = client.get("/sparql", params={"query": RUNAWAY, "timeout": "1"}, headers={"Accept": JSON})
        assert stopped.status_code == 503
        pool, here = client.app.state.pool, client.app.state.store  # type: ignore[attr-defined]
        deadline = time.monotonic() + 60
        def moved() -> bool:
            views = pool.views()
            return bool(views) and None not in views and here.version not in views

        while not moved() and time.monotonic() < deadline:
            time.sleep(0.05)  # the new worker starts (about a second) and opens the newest view
        assert moved()
        answered = inline.answered
        for _ in range(3):  # the worker's answer, every time: it is the newer one
            assert json.loads(_query(client, ASK_NOTE))["boolean"] is True
        assert inline.answered == answered
