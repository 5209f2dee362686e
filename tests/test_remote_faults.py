"""A remote server that is down, answers garbage, stumbles, or dies in the middle of a build:
a clear error naming the server, a non-zero exit, and the graphs exactly as before."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner
from conftest import remote_settings, skip_without_virtuoso
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from virtuoso import VirtuosoServer, free_port

from kg.build.dataset import BuildResult
from kg.cli import main
from kg.errors import ConfigError, StoreError
from kg.store import EmbeddedStore, RemoteStore
from kg.store.base import STAGING_PREFIX


def _snapshot(store: EmbeddedStore | RemoteStore) -> dict[str, Graph]:
    out = io.BytesIO()
    store.dump(out, format_name="nquads")
    ds = Dataset()
    ds.parse(data=out.getvalue(), format="nquads")
    return {str(g.identifier): g for g in ds.graphs() if len(g)}


def _same(a: dict[str, Graph], b: dict[str, Graph]) -> bool:
    return a.keys() == b.keys() and all(isomorphic(a[k], b[k]) for k in a)


# --------------------------------------------------------------------------- a server that is not there


def test_a_closed_port_is_a_clear_error_naming_the_server() -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"
    with pytest.raises(StoreError, match=rf"the SPARQL server at {url} could not be reached .*tried 1 times"):
        RemoteStore(remote_settings(url, remote_retries=0))


@pytest.mark.parametrize("command", [["query", "ASK {}"], ["build"], ["dump", "--format", "nquads"]])
def test_kg_commands_against_a_closed_port_exit_non_zero(command: list[str]) -> None:
    """A store that cannot be opened is unusable input: exit 2, as for a missing directory."""
    url = f"http://127.0.0.1:{free_port()}/sparql"
    result = CliRunner().invoke(main, ["--store", url, *command], env={"KG_REMOTE_RETRIES": "0"})
    assert result.exit_code == 2, result.output
    assert f"Error: the SPARQL server at {url} could not be reached" in result.output


# --------------------------------------------------------------------------- a server that answers badly


class _Scripted(BaseHTTPRequestHandler):
    """Answers ``ASK {}`` and the listing of graphs properly (so the store opens and finds no
    graph), and anything else by the script."""

    script: list[tuple[int, str, bytes]] = []
    seen: list[str] = []
    authorization: list[str | None] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        query = parse_qs(body).get("query", [""])[0]
        self.seen.append(query)
        self.authorization.append(self.headers.get("Authorization"))
        if query == "ASK {}":
            status, kind, payload = 200, "application/sparql-results+json", b'{"head":{},"boolean":true}'
        elif "kg-catalogue" in query:  # the store listing its graphs: none
            status, kind, payload = 200, "application/sparql-results+json", b'{"head":{"vars":["g"]},"results":{"bindings":[]}}'
        else:
            status, kind, payload = self.script.pop(0) if self.script else (200, "text/html", b"<html>hello</html>")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def scripted() -> Iterator[tuple[str, type[_Scripted]]]:
    handler = type("Handler", (_Scripted,), {"script": [], "seen": [], "authorization": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql", handler
    server.shutdown()
    server.server_close()


def test_an_answer_that_is_not_sparql_results_is_a_clear_error(scripted) -> None:
    url, _ = scripted
    store = RemoteStore(remote_settings(url))
    with pytest.raises(StoreError, match=rf"the SPARQL server at {url} answered something that is not SPARQL JSON results"):
        store.query("SELECT * WHERE { ?s ?p ?o }")
    with pytest.raises(StoreError, match=r"answered something that is not RDF \(N-Triples\)"):
        store.query("CONSTRUCT WHERE { ?s ?p ?o }")


def test_a_bearer_token_goes_in_the_authorization_header_and_never_in_the_settings_repr(scripted) -> None:
    url, handler = scripted
    settings = remote_settings(url, remote_auth="bearer", remote_token="s3cret-token")
    store = RemoteStore(settings)
    assert handler.authorization == ["Bearer s3cret-token"]
    assert "s3cret-token" not in repr(settings)
    assert store.dialect.name == "generic" and store.graph_store_url is None


@pytest.mark.parametrize("changes,message", [
    ({"remote_auth": "basic"}, "remote_auth = basic needs remote_user"),
    ({"remote_auth": "bearer"}, "remote_auth = bearer needs remote_token"),
    ({"remote_auth": "kerberos"}, "unknown remote_auth 'kerberos'"),
    ({"remote_dialect": "stardog"}, "unknown remote_dialect 'stardog'"),
])
def test_bad_remote_settings_are_config_errors(scripted, changes: dict[str, str], message: str) -> None:
    url, _ = scripted
    with pytest.raises(ConfigError, match=message):
        RemoteStore(remote_settings(url, **changes))


def test_a_server_that_is_no_sparql_endpoint_is_refused_when_opened(scripted) -> None:
    url, handler = scripted
    handler.do_POST = lambda self: (self.send_response(200), self.send_header("Content-Length", "2"),  # type: ignore[method-assign]
                                    self.end_headers(), self.wfile.write(b"hi"))
    with pytest.raises(StoreError, match=rf"the server at {url} does not answer as a SPARQL endpoint"):
        RemoteStore(remote_settings(url))


def test_transient_failures_are_retried_and_then_reported(scripted) -> None:
    url, handler = scripted
    ok = (200, "application/sparql-results+json", b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"1"}}]}}')
    busy = (503, "text/plain", b"busy")
    handler.script[:] = [busy, busy, ok]
    store = RemoteStore(remote_settings(url, remote_retries=2))
    rows = list(store.query("SELECT ?x WHERE { }").result)  # type: ignore[call-overload]
    assert [r["x"].value for r in rows] == ["1"]
    assert handler.seen.count("SELECT ?x WHERE { }") == 3
    handler.script[:] = [busy, busy, busy]
    with pytest.raises(StoreError, match=rf"the SPARQL server at {url} answered 503 .* \(tried 3 times\)"):
        store.query("SELECT ?x WHERE { }")


def test_a_server_error_is_reported_with_what_the_server_said(scripted) -> None:
    url, handler = scripted
    handler.script[:] = [(500, "text/plain", b"Virtuoso 42000 Error The estimated execution time exceeds the limit")]
    store = RemoteStore(remote_settings(url))
    with pytest.raises(StoreError, match=r"failed \(500 Internal Server Error\) while running a query: Virtuoso 42000"):
        store.query("SELECT * WHERE { ?s ?p ?o }")


# --------------------------------------------------------------------------- a server that dies mid-build


@pytest.fixture()
def own_virtuoso(tmp_path: Path) -> Iterator[VirtuosoServer]:
    """A Virtuoso of this test's own, as this test kills it."""
    skip_without_virtuoso()
    server = VirtuosoServer(tmp_path / "virtuoso").start()
    yield server
    server.stop()


def _changed(graphs: dict[URIRef, Graph]) -> dict[URIRef, Graph]:
    out = {}
    for name, graph in graphs.items():
        copy = Graph()
        for t in graph:
            copy.add(t)
        copy.add((URIRef("https://example.org/changed"), URIRef("https://example.org/in"), Literal(str(name))))
        out[name] = copy
    return out


def test_killing_the_server_while_uploading_leaves_every_graph_as_before(
    own_virtuoso: VirtuosoServer, built: BuildResult
) -> None:
    store = RemoteStore(remote_settings(own_virtuoso.sparql_url, remote_retries=0, remote_chunk_triples=500))
    store.replace_graphs(built.graphs)
    before = _snapshot(store)
    uploads = 0
    upload = store._upload

    def crash_after_three(graph: str, data: bytes) -> None:
        nonlocal uploads
        uploads += 1
        if uploads == 4:
            own_virtuoso.kill()
        upload(graph, data)

    store._upload = crash_after_three  # type: ignore[method-assign]
    with pytest.raises(StoreError, match="could not be reached"):
        store.replace_graphs(_changed(dict(built.graphs)))
    own_virtuoso.start()
    again = RemoteStore(remote_settings(own_virtuoso.sparql_url))
    assert again.named_graphs() == sorted(before)
    assert _same(_snapshot(again), before)


def test_killing_the_server_during_the_swap_leaves_all_old_or_all_new(
    own_virtuoso: VirtuosoServer, built: BuildResult, tmp_path: Path
) -> None:
    store = RemoteStore(remote_settings(own_virtuoso.sparql_url, remote_retries=0))
    store.replace_graphs(built.graphs)
    changed = _changed(dict(built.graphs))
    old, new = EmbeddedStore(tmp_path / "old"), EmbeddedStore(tmp_path / "new")
    old.replace_graphs(built.graphs)
    new.replace_graphs(changed)
    send = store.http.send

    def crash_while_swapping(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("doing") == "replacing the graphs":
            threading.Timer(0.05, own_virtuoso.kill).start()
        return send(*args, **kwargs)

    store.http.send = crash_while_swapping  # type: ignore[method-assign]
    try:
        store.replace_graphs(changed)
    except StoreError:
        pass  # the kill came first; without it the swap finished: both outcomes are allowed
    own_virtuoso.kill()
    own_virtuoso.start()
    again = RemoteStore(remote_settings(own_virtuoso.sparql_url))
    after = _snapshot(again)
    expected = old if _same(after, _snapshot(old)) else new
    assert _same(after, _snapshot(expected)), "the graphs are neither all as before nor all as built"
    assert isomorphic(again.union_graph(), expected.union_graph())


def test_each_writer_sees_its_own_graphs(virtuoso: VirtuosoServer) -> None:
    token = uuid.uuid4().hex
    a = RemoteStore(remote_settings(virtuoso.sparql_url, remote_catalogue_graph=f"https://example.org/{token}/a",
                                    remote_union_graph=f"https://example.org/{token}/ua"))
    b = RemoteStore(remote_settings(virtuoso.sparql_url, remote_catalogue_graph=f"https://example.org/{token}/b",
                                    remote_union_graph=f"https://example.org/{token}/ub"))
    g = Graph()
    g.add((URIRef("https://example.org/s"), URIRef("https://example.org/p"), Literal("o")))
    a.replace_graphs({URIRef(f"https://example.org/{token}/g"): g})
    assert a.named_graphs() == [f"https://example.org/{token}/g"] and b.is_empty()


def test_a_failed_upload_changes_nothing_and_leaves_no_staging_graph(virtuoso: VirtuosoServer, built: BuildResult) -> None:
    import httpx

    token = uuid.uuid4().hex
    store = RemoteStore(remote_settings(virtuoso.sparql_url, remote_chunk_triples=300,
                                        remote_catalogue_graph=f"https://example.org/{token}/catalogue",
                                        remote_union_graph=f"https://example.org/{token}/union"))
    g = Graph()
    for i in range(1000):
        g.add((URIRef(f"https://example.org/{token}/s{i}"), URIRef("https://example.org/p"), Literal(i)))
    target = URIRef(f"https://example.org/{token}/g")
    store.replace_graphs({target: g})
    before = _snapshot(store)
    upload, calls = store._upload, []

    def refused_at_the_third(graph: str, data: bytes) -> None:
        calls.append(graph)
        if len(calls) == 3:
            raise StoreError("the server refused the upload")
        upload(graph, data)

    store._upload = refused_at_the_third  # type: ignore[method-assign]
    with pytest.raises(StoreError, match="refused the upload"):
        store.replace_graphs({target: _changed({target: g})[target]})
    assert _same(_snapshot(store), before)
    staging = httpx.post(virtuoso.sparql_url, headers={"Accept": "application/sparql-results+json"}, data={
        "query": f"ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g IN ({', '.join(f'<{c}>' for c in set(calls))})) }}"})
    assert staging.json()["boolean"] is False


def test_stopping_the_server_mid_ingest_exits_non_zero_and_leaves_the_graphs_as_before(
    own_virtuoso: VirtuosoServer, built: BuildResult, tmp_path: Path
) -> None:
    """``kg ingest --store URL`` in its own process; the server is killed while the file's
    pieces upload. The command names the server and exits non-zero; after a restart the
    store's graphs and union are exactly as before, and the target graph does not exist."""
    import os
    import subprocess
    import sys
    import time

    import httpx

    store = RemoteStore(remote_settings(own_virtuoso.sparql_url))
    store.replace_graphs(built.graphs)
    before = _snapshot(store)
    union_before = store.union_graph()
    data = tmp_path / "big.nt"
    with data.open("w", encoding="utf-8") as out:
        for i in range(60_000):
            out.write(f'<https://example.org/s{i}> <https://example.org/p> "value {i}" .\n')
    target = "https://example.org/ingested"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    env.update(KG_REMOTE_CHUNK_TRIPLES="500", KG_REMOTE_RETRIES="0")
    ingest = subprocess.Popen([str(Path(sys.executable).with_name("kg")), "--store", own_virtuoso.sparql_url, "ingest", str(data),
                               "--graph", target], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ask = f'ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER (STRSTARTS(STR(?g), "{STAGING_PREFIX}")) }}'
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and ingest.poll() is None:
        answer = httpx.post(own_virtuoso.sparql_url, data={"query": ask}, headers={"Accept": "application/sparql-results+json"})
        if answer.json()["boolean"]:
            break
        time.sleep(0.05)
    assert ingest.poll() is None, "the ingest ended before its upload could be interrupted"
    own_virtuoso.kill()
    _, stderr = ingest.communicate(timeout=120)
    assert ingest.returncode != 0
    assert own_virtuoso.sparql_url in stderr and "Traceback" not in stderr, stderr
    own_virtuoso.start()
    again = RemoteStore(remote_settings(own_virtuoso.sparql_url))
    assert again.named_graphs() == sorted(before) and target not in again.named_graphs()
    assert _same(_snapshot(again), before)
    assert isomorphic(again.union_graph(), union_before)
    again.drop_staging()  # what the killed writer left: invisible, and dropped on demand
    assert again.staging_graphs() == []


def test_unstable_pages_of_an_unsorted_read_are_read_again_sorted(scripted) -> None:
    """A whole graph is read in unsorted pages and checked against its size; when a server
    hands a triple out twice (its unsorted order changed between pages), the store reads the
    graph again in sorted pages instead of returning a short graph."""
    url, handler = scripted
    store = RemoteStore(remote_settings(url, remote_chunk_triples=2))
    a, b, c = ("<https://example.org/a>", "<https://example.org/b>", "<https://example.org/c>")
    p = "<https://example.org/p>"
    nt = "application/n-triples"

    def row(s: str) -> str:
        return f'{{"s":{{"type":"uri","value":"{s[1:-1]}"}},"p":{{"type":"uri","value":"{p[1:-1]}"}},"o":{{"type":"literal","value":"v"}}}}'

    two_rows = b'{"head":{"vars":["a"]},"results":{"bindings":[{"a":{"type":"literal","value":"0"}},{"a":{"type":"literal","value":"1"}}]}}'
    handler.script += [
        (200, "application/sparql-results+json",
         b'{"head":{"vars":["n"]},"results":{"bindings":[{"n":{"type":"literal","value":"3",'
         b'"datatype":"http://www.w3.org/2001/XMLSchema#integer"}}]}}'),
        (200, "application/sparql-results+json", two_rows),  # the row-cap check: no cap below the page
        (200, nt, f'{a} {p} "v" .\n{b} {p} "v" .\n'.encode()),
        (200, nt, f'{b} {p} "v" .\n'.encode()),  # b again: the order moved under the paging
        (200, "application/sparql-results+json",
         ('{"head":{"vars":["s","p","o"]},"results":{"bindings":[' + row(a) + "," + row(b) + "]}}").encode()),
        (200, "application/sparql-results+json",
         ('{"head":{"vars":["s","p","o"]},"results":{"bindings":[' + row(c) + "]}}").encode()),
    ]
    triples = store.whole_graph("https://example.org/g")
    assert sorted(t.subject.value for t in triples) == ["https://example.org/a", "https://example.org/b",
                                                        "https://example.org/c"]
    assert "ORDER BY" in handler.seen[-1] and "ORDER BY" not in handler.seen[-3]


def test_a_row_cap_below_the_page_size_does_not_cut_what_the_gate_reads(tmp_path: Path) -> None:
    """A Virtuoso whose ResultSetMaxRows (1 000) is below the store's page size (5 000), not
    configured in remote_max_rows: a CONSTRUCT answer cut at the cap carries no sign of it, so
    the store learns the cap first; the gate then sees all 1 500 triples about a hub node and
    refuses a write that breaks a maxCount on it."""
    from kg.errors import ValidationFailed
    from kg.write.apply import Change, apply_write

    skip_without_virtuoso()
    server = VirtuosoServer(tmp_path / "virtuoso", max_rows=1000).start()
    try:
        token = uuid.uuid4().hex
        store = RemoteStore(remote_settings(server.sparql_url, remote_catalogue_graph=f"https://example.org/{token}/c",
                                            remote_union_graph=f"https://example.org/{token}/u"))
        hub = URIRef("https://example.org/hub")
        g = Graph()
        for i in range(1500):
            g.add((hub, URIRef("https://example.org/p"), Literal(i)))
        store.replace_graphs({URIRef("https://example.org/g"): g})
        shapes = Graph().parse(data="""
            @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <https://example.org/> .
            ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:flag ; sh:property [ sh:path ex:p ; sh:maxCount 1500 ] .""",
                               format="turtle")
        import pyoxigraph as ox

        add = [ox.Triple(ox.NamedNode(str(hub)), ox.NamedNode("https://example.org/flag"), ox.Literal("x")),
               ox.Triple(ox.NamedNode(str(hub)), ox.NamedNode("https://example.org/p"), ox.Literal("one more"))]
        with pytest.raises(ValidationFailed):
            apply_write(store, Change.add("https://example.org/g2", add), agent="t", source=None, shapes=shapes)
        assert store.chunk < 1000
        store.close()
    finally:
        server.stop()
