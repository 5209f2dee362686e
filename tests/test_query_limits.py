"""Limits that keep a public endpoint alive: time limits that really stop a query,
other requests answered meanwhile, SERVICE/LOAD refused, streamed results."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kg.config import Settings
from kg.server import create_app
from kg.sparql.guard import refused_target, remote_targets

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

#: a cross product of the whole store with itself three times: hours of work
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
ASK = "ASK { ?s a <https://w3id.org/negotiation-kg/ontology#Claim> }"


@pytest.fixture(scope="module")
def client(store_path: Path) -> Iterator[TestClient]:
    settings = Settings(store=str(store_path), read_only=True, workers=2, query_timeout=20.0, max_query_bytes=50_000)
    with TestClient(create_app(settings)) as c:
        yield c


def test_a_runaway_query_is_stopped_at_its_time_limit(client: TestClient) -> None:
    started = time.monotonic()
    response = client.get("/sparql", params={"query": RUNAWAY, "timeout": "1"})
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "time limit of 1 s" in response.json()["message"]
    assert elapsed < 15  # stopped, not run to the end
    # the pool replaced the killed worker and answers again
    again = client.get("/sparql", params={"query": ASK})
    assert again.status_code == 200 and again.json()["boolean"] is True


def test_other_requests_are_answered_while_one_query_runs_long(client: TestClient) -> None:
    with ThreadPoolExecutor(max_workers=2) as executor:
        slow = executor.submit(client.get, "/sparql", params={"query": RUNAWAY, "timeout": "4"})
        time.sleep(0.5)
        quick_started = time.monotonic()
        quick = client.get("/sparql", params={"query": ASK})
        quick_elapsed = time.monotonic() - quick_started
        assert quick.status_code == 200 and quick.json()["boolean"] is True
        assert not slow.done(), "the slow query should still be running"
        assert slow.result().status_code == 503
    assert quick_elapsed < 4


def test_a_request_can_only_lower_the_time_limit(client: TestClient) -> None:
    assert client.get("/sparql", params={"query": ASK, "timeout": "abc"}).status_code == 400
    assert client.get("/sparql", params={"query": ASK, "timeout": "-1"}).status_code == 400
    assert client.get("/sparql", params={"query": ASK, "timeout": "99999"}).status_code == 200


def test_service_to_an_outside_host_is_refused(client: TestClient) -> None:
    query = "SELECT * WHERE { SERVICE <http://169.254.169.254/sparql> { ?s ?p ?o } }"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 403
    assert "http://169.254.169.254/sparql" in response.json()["message"]
    hidden = "PREFIX x: <http://evil.example/> SELECT * { SERVICE SILENT x:q { ?s ?p ?o } }"
    assert client.post("/sparql", data={"query": hidden}).status_code == 403


def test_the_guard_reads_tokens_not_text() -> None:
    assert remote_targets('SELECT * { ?s ?p "SERVICE <http://x/>" } # SERVICE <http://y/>') == []
    assert remote_targets("PREFIX e: <http://e/> SELECT * { ?s e:service ?o }") == []
    assert remote_targets("select * { service ?endpoint { } }") == ["?endpoint"]
    assert refused_target("SELECT * { SERVICE <http://ok.example/sparql> {} }", ("http://ok.example/",)) is None
    assert refused_target("LOAD <http://bad.example/x.ttl>", ("http://ok.example/",)) == "http://bad.example/x.ttl"


def test_oversized_queries_are_refused(client: TestClient) -> None:
    huge = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 60_000
    assert client.post("/sparql", data={"query": huge}).status_code == 413
    assert client.get("/sparql", params={"query": huge}).status_code == 414


def test_non_utf8_body_is_400(client: TestClient) -> None:
    response = client.post("/sparql", content=b"SELECT * { ?s ?p \xff }", headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 400 and "UTF-8" in response.json()["message"]


def test_large_results_stream_in_chunks(client: TestClient) -> None:
    with client.stream("GET", "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}) as response:
        assert response.status_code == 200
        chunks = [len(c) for c in response.iter_raw()]
    assert len(chunks) > 3 and sum(chunks) > 500_000
