"""Writes against a real ``kg serve`` on a socket: a token from ``kg token create``, a streamed
(chunked) upload, the write seen by the next query, a chunked body over the limit refused with
413 and the store unchanged, and the token nowhere in the server's log."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live import LiveServer
from rdflib import Graph
from rdflib.compare import isomorphic

EX = "http://example.org/"
GRAPH = EX + "live"


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    store = tmp_path / "store"
    (tmp_path / "kg.toml").write_text("max_body_bytes = 200000\nworkers = 1\n", encoding="utf-8")
    created = subprocess.run(
        [sys.executable, "-c", "from kg.cli import main; main()", "--store", str(store), "token", "create", "live"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )
    secret = created.stdout.strip().splitlines()[-1]
    live = LiveServer(store, tmp_path / "serve.log", read_only=False)
    cwd = os.getcwd()
    os.chdir(tmp_path)  # the server starts here and reads ./kg.toml (a small body limit, one worker)
    try:
        live.start(timeout=90)
    finally:
        os.chdir(cwd)
    yield live, secret
    live.stop()


def _chunks(lines: int) -> Iterator[bytes]:
    for i in range(lines):
        yield f'<{EX}s{i}> <{EX}p> "value {i}" .\n'.encode()


def test_a_streamed_upload_is_committed_and_queried(server: tuple[LiveServer, str]) -> None:
    live, secret = server
    auth = {"Authorization": f"Bearer {secret}", "Content-Type": "application/n-triples"}
    with httpx.Client(base_url=live.url, timeout=120) as client:
        put = client.put("/graph-store", params={"graph": GRAPH}, content=_chunks(500), headers=auth)
        assert put.status_code == 201, put.text
        assert put.json()["added"] == 500 and put.json()["agent"] == "live"
        ask = client.get("/sparql", params={"query": f'ASK {{ <{EX}s499> <{EX}p> "value 499" }}'},
                         headers={"Accept": "application/sparql-results+json"})
        assert ask.json()["boolean"] is True
        before = Graph().parse(data=client.get("/graph-store", params={"graph": GRAPH},
                                               headers={"Accept": "application/n-triples"}).text, format="nt")
        too_big = client.put("/graph-store", params={"graph": GRAPH}, content=_chunks(10_000), headers=auth)
        assert too_big.status_code == 413, too_big.text
        after = Graph().parse(data=client.get("/graph-store", params={"graph": GRAPH},
                                              headers={"Accept": "application/n-triples"}).text, format="nt")
        assert len(before) == 500 and isomorphic(before, after)
        refused = client.delete("/graph-store", params={"graph": GRAPH}, headers={"Authorization": "Bearer nope"})
        assert refused.status_code == 403
    live.stop()
    log = live.log.read_text(encoding="utf-8", errors="replace")
    assert "PUT /graph-store" in log and secret not in log
