"""Crashes and the next start (the hardening issue's store findings).

* *Restart after a crash fails*: a writable ``kg serve`` killed with SIGKILL during an HTTP
  PUT — while the body streams in, and from early to late in the write — starts again at
  the first attempt every time, serves exactly the state before or after that write, and
  has removed what the killed server left behind (its control file, the spooled body).
  The first start used to fail now and then with ``Corruption: … .sst: No such file …
  MANIFEST``: its query workers opened the store's live files read-only while the server,
  just recovered, compacted them away (see ``test_read_isolation``).
* *SIGKILL during kg ingest* at each stage (staging, validating, committing): the store is
  exactly before or after, and the next ``kg serve`` starts first time.

Servers run on free loopback ports; every wait has a deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live import LiveServer
from rdflib import Graph
from snapshots import (
    BIG,
    DEADLINE,
    EX,
    PAUSING_INGEST,
    activities,
    assert_same,
    big_file,
    dumped,
    kg,
    served,
    small_store,
    without_receipts,
)

from kg.config import Settings
from kg.ops.control import find_control


@pytest.fixture()
def store_with_data(tmp_path: Path) -> Path:
    return small_store(tmp_path / "store")


def _expected_after(before: dict[str, Graph], graph: str, content: Graph) -> dict[str, Graph]:
    after = without_receipts(before)
    after[graph] = content
    after["(union)"] = after["(union)"] + content
    return after


def _before_or_after(before: dict[str, Graph], now: dict[str, Graph], graph: str, content: Graph) -> bool:
    """Assert ``now`` is exactly ``before``, or ``before`` plus the write of ``content`` to
    ``graph`` and its one receipt; True when it is the latter."""
    if graph not in now:
        assert_same(before, now)
        return False
    assert activities(now) == activities(before) + 1
    assert_same(_expected_after(before, graph, content), without_receipts(now))
    return True


# -- finding: restart after a crash fails ------------------------------------------------------


def _body(lines: int, tag: str) -> bytes:
    return "".join(f'<{EX}{tag}/s{i}> <{EX}p> "value {i}" .\n' for i in range(lines)).encode()


def _put(url: str, secret: str, graph: str, content: bytes | Iterator[bytes]) -> httpx.Response:
    return httpx.put(f"{url}/graph-store", params={"graph": graph}, content=content, timeout=DEADLINE,
                     headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/n-triples"})


def _scratch(directory: Path, pid: int) -> list[str]:
    """The temporary files and folders a server process ``pid`` made (``kg-body-<pid>-…``, …)."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("kg-") and f"-{pid}-" in p.name)


def test_restart_after_a_crash_succeeds_first_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seven SIGKILLs of a writable ``kg serve`` during a PUT: once mid-upload, then at 10 % to
    110 % of the time an uninterrupted PUT takes. Each next start must succeed at once."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # the servers' temporary files, where the test can see them
    monkeypatch.setenv("KG_WORKERS", "1")
    store = small_store(tmp_path / "store")
    created = kg(store, "token", "create", "crash")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    settings = Settings(store=str(store))
    starts = 0

    def start() -> LiveServer:
        nonlocal starts
        starts += 1
        server = LiveServer(store, tmp_path / f"serve-{starts}.log", read_only=False)
        server.start(timeout=DEADLINE)  # raises when this first attempt fails
        return server

    server = start()
    before = served(server.url)
    body = _body(3000, "timing")
    began = time.monotonic()
    assert _put(server.url, secret, EX + "timing", body).status_code == 201
    duration = time.monotonic() - began
    before = served(server.url)

    # 1. killed while the body streams in: the server has spooled part of it to disk
    streamed = threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield _body(500, "streamed")
        streamed.set()
        time.sleep(DEADLINE)  # the server is killed meanwhile

    upload = threading.Thread(target=lambda: _swallow(lambda: _put(server.url, secret, EX + "streamed", slow_body())),
                              daemon=True)
    upload.start()
    assert streamed.wait(DEADLINE)
    deadline = time.monotonic() + DEADLINE
    while not any(n.startswith(f"kg-body-{server.pid}-") for n in _scratch(scratch, server.pid)):
        assert time.monotonic() < deadline, "the server never spooled the body"
        time.sleep(0.02)
    killed = server.pid
    server.kill()
    assert find_control(settings, alive_only=False) is not None  # left behind by the killed server
    server = start()
    assert _scratch(scratch, killed) == [], "the killed server's temporary files are still there"
    control = find_control(settings)
    assert control is not None and control.pid == server.pid
    now = served(server.url)
    assert_same(before, now)
    before = now

    # 2. killed from early to late in a write: before or after it, never in between
    for round_number, fraction in enumerate([0.1, 0.3, 0.5, 0.7, 0.9, 1.1]):
        graph, content = EX + f"crash{round_number}", _body(3000, f"crash{round_number}")
        put = threading.Thread(target=lambda: _swallow(lambda: _put(server.url, secret, graph, content)), daemon=True)
        put.start()
        time.sleep(duration * fraction)
        killed = server.pid
        server.kill()
        put.join(timeout=DEADLINE)
        server = start()
        assert _scratch(scratch, killed) == []
        now = served(server.url)
        _before_or_after(before, now, graph, Graph().parse(data=content, format="nt"))
        before = now
    server.stop()


def _swallow(call: object) -> None:
    """Run ``call``; the connection it holds breaks when the server is killed."""
    try:
        call()  # type: ignore[operator]
    except httpx.HTTPError:
        pass


# -- finding: SIGKILL during kg ingest ----------------------------------------------------------


@pytest.mark.parametrize("stage", ["staging", "validating", "committing"])
def test_sigkill_during_ingest_leaves_before_or_after_and_the_next_start_succeeds(
        store_with_data: Path, tmp_path: Path, stage: str) -> None:
    """Killed as it reaches each stage (and, for "committing", also a moment later, inside the
    commit): the next ``kg serve`` starts first time and serves exactly the state before or
    after (one more receipt, the rest unchanged)."""
    before = dumped(store_with_data)
    data = big_file(tmp_path / "big.nt", 20_000)
    content = Graph().parse(data, format="nt")
    for delay in ([0.0, 0.05, 0.2] if stage == "committing" else [0.0]):
        writer = subprocess.Popen([sys.executable, "-c", PAUSING_INGEST, str(store_with_data), str(data), BIG, stage],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert writer.stdout is not None and writer.stdin is not None
        assert writer.stdout.readline().strip() == f"paused {stage}"
        writer.stdin.write("go on\n")
        writer.stdin.flush()
        time.sleep(delay)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=DEADLINE)
        server = LiveServer(store_with_data, tmp_path / f"serve-{stage}-{delay}.log", read_only=False)
        server.start(timeout=DEADLINE)  # raises when the first start fails
        try:
            now = served(server.url)
        finally:
            server.stop()
        if _before_or_after(before, now, BIG, content):
            return  # committed: a later kill has nothing left to interrupt


def test_leftovers_of_processes_that_no_longer_run_are_removed(tmp_path: Path) -> None:
    """Only what names a process that is gone: a live server's files and another store's
    control file stay."""
    import json

    from kg.ops.control import control_path
    from kg.ops.leftovers import remove_leftovers, scratch_prefix

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(timeout=DEADLINE)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    dead_body = scratch / f"kg-body-{gone.pid}-abc"
    dead_body.write_bytes(b"<a> <b> <c> .\n")
    dead_dumps = scratch / f"kg-dumps-{gone.pid}-xyz"
    dead_dumps.mkdir()
    (dead_dumps / "dataset.nq").write_bytes(b"")
    mine = scratch / f"{scratch_prefix('body')}live"
    mine.write_bytes(b"")
    alive = scratch / f"kg-body-{os.getppid()}-parent"
    alive.write_bytes(b"")
    unrelated = scratch / "kg-body-notapid"
    unrelated.write_bytes(b"")
    settings = Settings(store=str(tmp_path / "store"))
    control_path(settings).write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": gone.pid, "secret": "s"}))

    removed = remove_leftovers(settings, directory=scratch)
    assert sorted(removed) == sorted([dead_body, dead_dumps, control_path(settings)])
    assert sorted(p.name for p in scratch.iterdir()) == sorted([mine.name, alive.name, unrelated.name])
    control_path(settings).write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": os.getpid(), "secret": "s"}))
    assert remove_leftovers(settings, directory=scratch) == [] and control_path(settings).exists()
