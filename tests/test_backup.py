"""``kg backup`` / ``kg restore``: consistent snapshots (also under a running server), atomic restore."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from live import LiveServer
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic

from kg.cli import main
from kg.config import Settings
from kg.errors import InputError, StoreBusyError
from kg.ops.backup import backup_store, restore_store
from kg.ops.tokens import create_token
from kg.rdfio import quads_to_graph
from kg.store.base import STAGING_PREFIX

EXTRA = "https://w3id.org/negotiation-kg/id/graph/backup-test"


def _graphs(path: Path) -> dict[str, Graph]:
    """Every graph of the store at ``path`` (the default graph as ``""``), read-only."""
    store = ox.Store.read_only(str(path))
    try:
        out: dict[str, Graph] = {}
        for quad in store.quads_for_pattern(None, None, None, None):
            name = "" if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
            quads_to_graph([quad.triple], out.setdefault(name, Graph()))
        return out
    finally:
        del store


def _assert_same_dataset(a: Path, b: Path) -> None:
    left, right = _graphs(a), _graphs(b)
    assert sorted(left) == sorted(right)
    for name in left:
        if not isomorphic(left[name], right[name]):
            _, only_left, only_right = graph_diff(left[name], right[name])
            raise AssertionError(f"graph {name or '(default)'} differs: -{len(only_left)} +{len(only_right)}")


@pytest.fixture()
def store_copy(store_path: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the built store (the session store is closed)."""
    target = tmp_path / "data" / "store"
    shutil.copytree(store_path, target)
    return target


def _kg(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from kg.cli import main; main()", *args]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)


def test_backup_while_the_server_runs_then_restore_gives_the_same_dataset(store_copy: Path, tmp_path: Path) -> None:
    server = LiveServer(store_copy, tmp_path / "serve.log", read_only=False)
    server.start()
    try:
        # The server holds the store read-write: nobody else can open it that way.
        with pytest.raises(OSError):
            ox.Store(str(store_copy))
        done = _kg("--store", str(store_copy), "backup", str(tmp_path / "backup"))
        assert done.returncode == 0, done.stderr
        assert f"checkpoint by the server at {server.url}" in done.stderr
    finally:
        server.stop()
    restored = tmp_path / "restored" / "store"
    done = _kg("--store", str(restored), "restore", str(tmp_path / "backup"))
    assert done.returncode == 0, done.stderr
    _assert_same_dataset(store_copy, tmp_path / "backup")
    _assert_same_dataset(store_copy, restored)
    assert len(_graphs(restored)) > 3


def test_backup_beside_another_writer_holds_its_committed_writes(store_copy: Path, tmp_path: Path) -> None:
    """A writer without a control channel (a ``kg ingest``) holds the store: the backup is a copy
    of the view it published after its last commit, which holds that commit."""
    from kg.store import EmbeddedStore

    writer = EmbeddedStore(store_copy)  # this process plays the writer
    try:
        extra = Graph()
        extra.add((URIRef(f"{EXTRA}#s"), URIRef(f"{EXTRA}#p"), Literal("committed")))
        writer.replace_graphs({URIRef(EXTRA): extra})
        snapshot = backup_store(Settings(store=str(store_copy)), tmp_path / "backup")
        assert snapshot.method.startswith("copy of a read-only view")
        expected = len(writer)
    finally:
        writer.close()
    assert snapshot.quads == expected
    assert (URIRef(f"{EXTRA}#s"), URIRef(f"{EXTRA}#p"), None) in _graphs(tmp_path / "backup")[EXTRA]
    _assert_same_dataset(store_copy, tmp_path / "backup")


def test_backup_refuses_a_directory_that_is_not_empty(store_copy: Path, tmp_path: Path) -> None:
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "keep.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(main, ["--store", str(store_copy), "backup", str(target)])
    assert result.exit_code == 2 and "not empty" in result.output
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_backup_into_an_empty_directory_and_no_leftovers(store_copy: Path, tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    assert backup_store(Settings(store=str(store_copy)), target).method == "checkpoint"  # nobody holds the store
    _assert_same_dataset(store_copy, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "empty"]  # no staging directory left


def test_restore_refuses_a_store_with_data_unless_forced(store_copy: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    backup_store(Settings(store=str(store_copy)), backup)
    other = tmp_path / "other" / "store"
    other.parent.mkdir()
    writer = ox.Store(str(other))
    writer.update(f'INSERT DATA {{ GRAPH <{EXTRA}> {{ <{EXTRA}#s> <{EXTRA}#p> "other data" }} }}')
    writer.flush()
    del writer
    before = _graphs(other)

    refused = CliRunner().invoke(main, ["--store", str(other), "restore", str(backup)])
    assert refused.exit_code == 2 and "--force" in refused.output
    after = _graphs(other)
    assert sorted(after) == sorted(before) and isomorphic(after[EXTRA], before[EXTRA])

    forced = CliRunner().invoke(main, ["--store", str(other), "restore", "--force", str(backup)])
    assert forced.exit_code == 0, forced.output
    _assert_same_dataset(store_copy, other)
    assert EXTRA not in _graphs(other)
    assert sorted(p.name for p in other.parent.iterdir()) == ["store"]  # the old store is gone, no staging left


def test_restore_refuses_while_another_process_holds_the_store(store_copy: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    backup_store(Settings(store=str(store_copy)), backup)
    holder = ox.Store(str(store_copy))
    try:
        with pytest.raises(StoreBusyError, match=f"held for writing by process {os.getpid()}") as refused:
            restore_store(Settings(store=str(store_copy)), backup, force=True)
        assert refused.value.exit_code == 4
    finally:
        del holder
    _assert_same_dataset(store_copy, backup)


def test_restore_refuses_what_is_not_a_backup_and_what_is_not_a_store(store_copy: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("not a store", encoding="utf-8")
    with pytest.raises(InputError, match="not a store directory"):
        restore_store(Settings(store=str(tmp_path / "new")), junk)
    assert not (tmp_path / "new").exists()
    backup = tmp_path / "backup"
    backup_store(Settings(store=str(store_copy)), backup)
    with pytest.raises(InputError, match="is not a store; refusing"):
        restore_store(Settings(store=str(junk)), backup, force=True)
    assert [p.name for p in junk.iterdir()] == ["notes.txt"]


def test_restore_swaps_with_two_renames_where_exchange_is_unavailable(
    store_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kg.ops.backup

    backup = tmp_path / "backup"
    backup_store(Settings(store=str(store_copy)), backup)
    other = tmp_path / "other" / "store"
    other.parent.mkdir()
    writer = ox.Store(str(other))
    writer.update(f'INSERT DATA {{ GRAPH <{EXTRA}> {{ <{EXTRA}#s> <{EXTRA}#p> "old" }} }}')
    del writer
    monkeypatch.setattr(kg.ops.backup, "_exchange", lambda a, b: False)
    restore_store(Settings(store=str(other)), backup, force=True)
    _assert_same_dataset(store_copy, other)
    assert sorted(p.name for p in other.parent.iterdir()) == ["store"]


def _put(url: str, graph: str, body: bytes, token: str) -> int:
    request = urllib.request.Request(
        f"{url}/graph-store?graph={graph}", data=body, method="PUT",
        headers={"Content-Type": "application/n-triples", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _graph_body(n: int, triples: int) -> bytes:
    return "".join(f'<{EXTRA}-{n}#s{i}> <{EXTRA}#p> "value {i}" .\n' for i in range(triples)).encode("utf-8")


def test_backup_during_writes_through_the_server_holds_whole_writes_only(store_copy: Path, tmp_path: Path) -> None:
    """Each write is in the backup entirely or not at all, in commit order; secrets never reach the log."""
    secret = create_token(Settings(store=str(store_copy)), "archivist")
    server = LiveServer(store_copy, tmp_path / "serve.log", read_only=False)
    server.start()
    per_graph, rounds = 150, 6
    statuses: list[int] = []
    try:
        assert _put(server.url, f"{EXTRA}-0", _graph_body(0, per_graph), secret) == 201  # committed before the backup
        assert _put(server.url, f"{EXTRA}-x", b"", "kgt_a-wrong-secret") == 403

        def writer() -> None:
            for n in range(1, rounds):
                statuses.append(_put(server.url, f"{EXTRA}-{n}", _graph_body(n, per_graph), secret))

        thread = threading.Thread(target=writer)
        thread.start()
        done = _kg("--store", str(store_copy), "backup", str(tmp_path / "backup"))
        thread.join()
        assert done.returncode == 0, done.stderr
        assert "checkpoint by the server" in done.stderr
    finally:
        server.stop()
    assert statuses == [201] * (rounds - 1)
    graphs = _graphs(tmp_path / "backup")
    present = sorted(int(name.rsplit("-", 1)[1]) for name in graphs if name.startswith(EXTRA + "-"))
    assert present == list(range(len(present))) and present[:1] == [0]  # a prefix of the commits, the first one in
    for n in present:
        assert len(graphs[f"{EXTRA}-{n}"]) == per_graph
    union = Graph()
    for name, graph in graphs.items():
        if name and not name.startswith(STAGING_PREFIX):  # the store's own records are no data
            union += graph
    assert isomorphic(graphs[""], union)  # the materialised union matches the graphs it was made from
    log = server.output() + (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")
    assert "PUT /graph-store" in log  # the access log is there, and it is clean
    assert secret not in log and "kgt_a-wrong-secret" not in log


def test_backup_leaves_out_what_a_writer_had_not_committed(store_copy: Path, tmp_path: Path) -> None:
    """A graph staged, or loading in place under the journal, is not data yet: the snapshot is the committed state."""
    from kg.store import EmbeddedStore

    committed = tmp_path / "committed"
    backup_store(Settings(store=str(store_copy)), committed)
    writer = EmbeddedStore(store_copy)  # this process plays a writer caught half-way
    try:
        triple = ox.Triple(ox.NamedNode(f"{EXTRA}#s"), ox.NamedNode(f"{EXTRA}#p"), ox.Literal("not committed"))
        writer.stage([triple])
        writer.begin_load(EXTRA)
        writer.oxigraph.add(ox.Quad(triple.subject, triple.predicate, triple.object, ox.NamedNode(EXTRA)))
        writer.oxigraph.add(ox.Quad(triple.subject, triple.predicate, triple.object, ox.DefaultGraph()))
        snapshot = backup_store(Settings(store=str(store_copy)), tmp_path / "backup")
    finally:
        writer.close()
    _assert_same_dataset(committed, tmp_path / "backup")
    assert EXTRA not in _graphs(tmp_path / "backup")
    assert snapshot.graphs == len([name for name in _graphs(committed) if name])


# --- the control channel a writable server opens for local tools -------------------------


def test_a_writable_server_checkpoints_for_holders_of_its_control_secret_only(store_copy: Path, tmp_path: Path) -> None:
    import stat
    import warnings

    from kg.ops.control import control_path, find_control
    from kg.server import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    settings = Settings(store=str(store_copy), workers=1)
    target = tmp_path / "checkpoint"
    with TestClient(create_app(settings)) as client:
        control = find_control(settings)
        assert control is not None and stat.S_IMODE(control_path(settings).stat().st_mode) == 0o600
        token = create_token(settings, "archivist")  # a write token is not the control secret
        for header in (None, f"Bearer {token}", "Bearer wrong"):
            refused = client.post("/admin/backup", json={"directory": str(target)},
                                  headers={"Authorization": header} if header else {})
            assert refused.status_code == 403 and control.secret not in refused.text
        auth = {"Authorization": f"Bearer {control.secret}"}
        assert client.post("/admin/backup", json={"directory": "relative/dir"}, headers=auth).status_code == 400
        assert client.post("/admin/backup", json={"directory": str(tmp_path)}, headers=auth).status_code == 400
        done = client.post("/admin/backup", json={"directory": str(target)}, headers=auth)
        assert done.status_code == 200, done.text
    assert not control_path(settings).exists()  # withdrawn when the server stops
    _assert_same_dataset(store_copy, target)


def test_a_read_only_server_offers_no_checkpoint(store_copy: Path) -> None:
    import warnings

    from kg.ops.control import find_control
    from kg.server import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    settings = Settings(store=str(store_copy), workers=1, read_only=True)
    with TestClient(create_app(settings)) as client:
        assert find_control(settings) is None
        response = client.post("/admin/backup", json={"directory": "/tmp/x"}, headers={"Authorization": "Bearer x"})
        assert response.status_code == 404


def test_backup_through_a_server_that_wants_tokens_for_reads(store_copy: Path, tmp_path: Path) -> None:
    import warnings

    from kg.ops.control import find_control
    from kg.server import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    settings = Settings(store=str(store_copy), workers=1, read_token_required=True)
    with TestClient(create_app(settings)) as client:
        control = find_control(settings)
        assert control is not None
        assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 401
        auth = {"Authorization": f"Bearer {control.secret}"}
        done = client.post("/admin/backup", json={"directory": str(tmp_path / "checkpoint")}, headers=auth)
        assert done.status_code == 200, done.text
    _assert_same_dataset(store_copy, tmp_path / "checkpoint")
