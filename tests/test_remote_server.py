"""``kg serve`` and ``kg build`` with a remote store: the same HTTP answers as with the embedded one."""

from __future__ import annotations

import urllib.parse
import urllib.request
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import remote_settings
from live import LiveServer
from rdflib import Graph
from rdflib.compare import isomorphic
from virtuoso import VirtuosoServer

from kg.cli import main
from kg.config import Settings
from kg.server import create_app
from kg.store import RemoteStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PUTIN = "/id/actor/vladimir-putin"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/negotiation-kg/ontology#Claim> }"
CONSTRUCT = "CONSTRUCT { ?m ?p ?o } WHERE { ?m a <https://w3id.org/negotiation-kg/ontology#Meeting> ; ?p ?o }"


@pytest.fixture(scope="module")
def clients(store_path: Path, virtuoso: VirtuosoServer, remote_store: RemoteStore) -> Iterator[dict[str, TestClient]]:
    """One app per store, over the same corpus."""
    embedded = create_app(Settings(store=str(store_path), read_only=True, workers=1))
    remote = create_app(remote_settings(virtuoso.sparql_url, read_only=True, workers=1))
    with TestClient(embedded) as e, TestClient(remote) as r:
        yield {"embedded": e, "virtuoso": r}


def _count(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def _turtle(response) -> Graph:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.text, format="turtle")


def test_sparql_answers_are_the_same(clients: dict[str, TestClient]) -> None:
    counts = {name: _count(c.get("/sparql", params={"query": COUNT})) for name, c in clients.items()}
    assert counts["embedded"] == counts["virtuoso"] > 40
    graphs = [_turtle(c.post("/sparql", data={"query": CONSTRUCT}, headers={"Accept": "text/turtle"}))
              for c in clients.values()]
    assert len(graphs[0]) > 10 and isomorphic(*graphs)


def test_linked_data_pages_are_the_same(clients: dict[str, TestClient]) -> None:
    graphs = [_turtle(c.get(PUTIN, headers={"Accept": "text/turtle"})) for c in clients.values()]
    assert len(graphs[0]) > 5 and isomorphic(*graphs)
    page = clients["virtuoso"].get(PUTIN, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Vladimir Putin" in page.text


def test_a_bad_query_is_a_400_from_the_remote_store_too(clients: dict[str, TestClient]) -> None:
    response = clients["virtuoso"].get("/sparql", params={"query": "SELEC * WHERE { ?s ?p ?o }"})
    assert response.status_code == 400 and "error" in response.json()


def test_kg_serve_on_a_free_port_against_virtuoso(
    virtuoso: VirtuosoServer, remote_store: RemoteStore, tmp_path: Path
) -> None:
    server = LiveServer(virtuoso.sparql_url, tmp_path / "serve.log")  # type: ignore[arg-type]
    base = server.start()
    try:
        query = urllib.parse.urlencode({"query": "ASK { ?m a <https://w3id.org/negotiation-kg/ontology#Meeting> }"})
        request = urllib.request.Request(f"{base}/sparql?{query}", headers={"Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert b'"boolean":true' in response.read().replace(b" ", b"")
        with urllib.request.urlopen(f"{base}{PUTIN}", timeout=30) as response:
            assert "Vladimir Putin" in response.read().decode("utf-8")
    finally:
        server.stop()


def test_kg_serve_builds_an_empty_remote_store_first_and_kg_build_replaces_it(virtuoso: VirtuosoServer) -> None:
    token = uuid.uuid4().hex
    env = {
        "KG_REMOTE_CATALOGUE_GRAPH": f"https://example.org/{token}/catalogue",
        "KG_REMOTE_UNION_GRAPH": f"https://example.org/{token}/union",
        "KG_WORKERS": "1",
    }
    served = CliRunner().invoke(main, ["--store", virtuoso.sparql_url, "serve", "--get", PUTIN], env=env)
    assert served.exit_code == 0, served.output
    assert "is empty: building it first" in served.output and "Vladimir Putin" in served.output
    built = CliRunner().invoke(main, ["--store", virtuoso.sparql_url, "build"], env=env)
    assert built.exit_code == 0, built.output
    assert f"triples into {virtuoso.sparql_url}" in built.output


def test_the_nquads_dump_holds_the_same_graphs(clients: dict[str, TestClient]) -> None:
    from rdflib import Dataset

    datasets = []
    for c in clients.values():
        response = c.get("/dumps/dataset.nq")
        assert response.status_code == 200, response.text
        ds = Dataset()
        ds.parse(data=response.content, format="nquads")
        datasets.append({str(g.identifier): g for g in ds.graphs() if len(g)})
    embedded, remote = datasets
    assert remote.keys() == embedded.keys() and len(remote) >= 4
    assert all(isomorphic(remote[name], embedded[name]) for name in remote)


def test_kg_ingest_into_virtuoso_commits_with_a_receipt_or_refuses_and_changes_nothing(
    virtuoso: VirtuosoServer, kg_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kg --store URL ingest`` goes through the same gate as on the embedded store: a file
    that passes is committed with its receipt; one that breaks the shapes exits 1 and one that
    does not parse exits 2 with file:line, and neither changes a graph."""
    import json

    from conftest import discard_remote, fresh_remote

    store = fresh_remote(virtuoso)
    monkeypatch.setenv("KG_REMOTE_CATALOGUE_GRAPH", store.catalogue)
    monkeypatch.setenv("KG_REMOTE_UNION_GRAPH", store.union)
    graph = f"https://example.org/{uuid.uuid4().hex}/collection"
    good, broken, unparsable = tmp_path / "good.ttl", tmp_path / "broken.ttl", tmp_path / "bad.ttl"
    good.write_text('<https://example.org/a> <https://example.org/p> "one", "two" .\n', encoding="utf-8")
    broken.write_text("<https://example.org/c> a <https://w3id.org/negotiation-kg/ontology#Claim> .\n", encoding="utf-8")
    unparsable.write_text('<https://example.org/a> <https://example.org/p> "one" .\n<oops\n', encoding="utf-8")
    try:
        ok = kg_cli("--store", virtuoso.sparql_url, "ingest", good, "--graph", graph)
        assert ok.exit_code == 0, ok.output
        receipt = json.loads(ok.stdout)
        assert receipt["added"] == 2 and receipt["graphs"][0]["graph"] == graph
        assert receipt["validation"]["conforms"] is True
        before = sorted((str(t) for t in store.graph_triples(graph)))
        assert len(before) == 2
        rejected = kg_cli("--store", virtuoso.sparql_url, "ingest", broken, "--graph", graph, "--add")
        assert rejected.exit_code == 1 and "ClaimShape" in rejected.stdout
        unread = kg_cli("--store", virtuoso.sparql_url, "ingest", unparsable, "--graph", graph)
        assert unread.exit_code == 2 and "bad.ttl:2" in unread.output
        assert sorted(str(t) for t in store.graph_triples(graph)) == before
        assert store.staging_graphs() == []
    finally:
        discard_remote(store)
