"""Limits that keep a public endpoint alive: time limits that really stop a query,
other requests answered meanwhile, SERVICE/LOAD refused, streamed results; memory per worker
and in all, result size, and a query-time budget per client (findings 1 and 2 of the
hardening issue; finding 3 and the workers' death with their server: ``test_live_workers.py``)."""

from __future__ import annotations

import doctest
import gzip
import json
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kg.config import Settings
from kg.errors import QueryLimitExceeded, RateLimited
from kg.server import create_app, fairness, workers
from kg.server.fairness import QueryBudget
from kg.server.memory_watch import resident_bytes
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
    with client.stream("GET", "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"},
                       headers={"Accept-Encoding": "identity"}) as response:
        assert response.status_code == 200
        chunks = [len(c) for c in response.iter_raw()]
    assert len(chunks) > 3 and sum(chunks) > 500_000


# --- the hardening issue, finding 1: anonymous memory exhaustion ---------------------------------

#: sorts the cross product of the store with itself: grows by about 1 GB/s until stopped
CROSS_SORT = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 1"
EVERYTHING = "SELECT * WHERE { ?s ?p ?o }"


def _app(store_path: Path, **settings: object) -> TestClient:
    settings_ = Settings(store=str(store_path), read_only=True, workers=1).replace(**settings)
    return TestClient(create_app(settings_))


def test_anonymous_memory_exhaustion_stops_a_query_at_query_memory_mb(store_path: Path) -> None:
    with _app(store_path, query_memory_mb=250, max_rss_mb=0) as client:
        started = time.monotonic()
        response = client.get("/sparql", params={"query": CROSS_SORT})
        assert response.status_code == 503
        assert "query_memory_mb = 250 MiB" in response.json()["message"]
        assert time.monotonic() - started < 15
        again = client.get("/sparql", params={"query": ASK})  # a fresh worker answers
        assert again.status_code == 200 and again.json()["boolean"] is True


def test_anonymous_memory_exhaustion_stops_the_largest_query_at_max_rss_mb(store_path: Path) -> None:
    # this process (the server here) and one idle worker, plus room for a query of about 250 MiB
    cap = (resident_bytes() or 0) // 2**20 + 150 + 250
    with _app(store_path, query_memory_mb=0, max_rss_mb=cap) as client:
        response = client.get("/sparql", params={"query": CROSS_SORT})
        assert response.status_code == 503
        assert f"max_rss_mb = {cap} MiB" in response.json()["message"]
        assert client.get("/sparql", params={"query": ASK}).status_code == 200


def test_anonymous_memory_exhaustion_the_address_space_backstop_holds_without_the_watch(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the server not watch (not Linux, or the watch stopped), each worker's own cap,
    measured after it opened the store, stops the query; the client reads the same setting."""
    monkeypatch.setattr(workers, "can_watch", lambda: False)
    pool = workers.QueryPool(store_path, size=1, timeout=60, memory_mb=250)
    pool.start()
    try:
        assert pool.watch is None
        with pytest.raises(QueryLimitExceeded, match="query_memory_mb = 250 MiB"):
            pool.run(workers.QueryJob(CROSS_SORT))
        assert json.loads(b"".join(pool.run(workers.QueryJob(ASK))))["boolean"] is True
    finally:
        pool.close()


def test_anonymous_memory_exhaustion_results_stop_at_max_result_bytes(store_path: Path) -> None:
    with _app(store_path, max_result_bytes=20_000) as client:
        refused = client.get("/sparql", params={"query": EVERYTHING})  # over the limit before a byte was sent
        assert refused.status_code == 503
        assert "max_result_bytes = 20,000 bytes" in refused.json()["message"]
        assert client.get("/sparql", params={"query": ASK}).status_code == 200  # the same worker answers on
    with _app(store_path, max_result_bytes=300_000) as client:
        with client.stream("GET", "/sparql", params={"query": EVERYTHING},
                           headers={"Accept-Encoding": "identity"}) as response:
            assert response.status_code == 200  # streaming had begun: the body is cut, without its end
            body = b"".join(response.iter_raw())
        assert 64 * 1024 <= len(body) <= 300_000
        with pytest.raises(ValueError):
            json.loads(body)
        with client.stream("GET", "/sparql", params={"query": EVERYTHING}, headers={"Accept-Encoding": "gzip"}) as response:
            assert response.headers["content-encoding"] == "gzip"
            body = b"".join(response.iter_raw())
        with pytest.raises(EOFError):  # gzipped, the cut shows too: the stream has no end
            gzip.decompress(body)
        assert client.get("/sparql", params={"query": ASK}).status_code == 200


# --- finding 2: per-client fairness ------------------------------------------------------------


def test_per_client_fairness_a_spent_budget_is_answered_429_with_retry_after(store_path: Path) -> None:
    with _app(store_path, client_query_seconds=1.0, client_window_seconds=60.0) as client:
        assert client.get("/sparql", params={"query": ASK}).status_code == 200
        slow = client.get("/sparql", params={"query": RUNAWAY, "timeout": "1.5"})  # 1.5 s of a worker
        assert slow.status_code == 503
        assert client.get("/sparql", params={"query": ASK}).headers["x-cache"] == "hit"  # kept: no worker time
        refused = client.get("/sparql", params={"query": ASK + " # asked again, so a worker must answer"})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        message = refused.json()["message"]
        assert "client_query_seconds = 1" in message and "client_window_seconds = 60" in message


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_per_client_fairness_the_budget_is_per_address_and_slides() -> None:
    clock = _Clock()
    budget = QueryBudget(seconds=10.0, window=60.0, clock=clock)
    budget.admit("192.0.2.1").end(6.0)
    clock.now += 20
    budget.admit("192.0.2.1").end(5.0)
    with pytest.raises(RateLimited) as refused:
        budget.admit("192.0.2.1")
    assert refused.value.retry_after == 40  # when the first 6 s leave the window, 5 s < 10 s remain
    budget.admit("198.51.100.7").end(1.0)  # another address has its own budget
    clock.now += 41
    budget.admit("192.0.2.1").end(0.1)


def test_per_client_fairness_queries_still_running_count() -> None:
    clock = _Clock()
    budget = QueryBudget(seconds=10.0, window=60.0, clock=clock)
    running = [budget.admit("192.0.2.1") for _ in range(5)]  # nothing spent yet: all admitted
    clock.now += 3  # five queries running for 3 s: 15 s of workers
    with pytest.raises(RateLimited):
        budget.admit("192.0.2.1")
    for ticket in running:
        ticket.end(3.0)
        ticket.end(3.0)  # charged once
    assert sum(s for _, s in budget._spent["192.0.2.1"]) == 15.0


def test_per_client_fairness_can_be_switched_off() -> None:
    budget = QueryBudget(seconds=0, window=60.0)
    for _ in range(100):
        budget.admit("192.0.2.1").end(100.0)


def test_the_budget_examples_run() -> None:
    assert doctest.testmod(fairness).failed == 0
