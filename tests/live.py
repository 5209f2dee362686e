"""A real ``kg serve`` in a subprocess, on a free loopback port, for tests that need a socket.

Test modules import the fixture by name (``tests/`` is on ``sys.path`` under pytest's
default import mode, as it is for ``conftest.py``)::

    from live import live_server  # noqa: F401  (a fixture)

    def test_something(live_server: str) -> None:
        urllib.request.urlopen(live_server + "/sparql")

Every module that imports the fixture gets the same server: the first one to ask starts
it, the last one to finish stops it (terminate, then kill).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

__all__ = ["LiveServer", "free_port", "live_server", "writable_server"]

STARTUP_SECONDS = 30.0
STOP_SECONDS = 5.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """``kg --store PATH serve [--read-only]`` on a free port; ``url`` once :meth:`start` returns.

    ``cwd``: where the server starts (it reads ``kg.toml`` there); default the test's own.
    """

    def __init__(self, store: Path, log: Path, *, read_only: bool = True, cwd: Path | None = None) -> None:
        self.store = store
        self.log = log
        self.read_only = read_only
        self.cwd = cwd
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server's process id (while it runs)."""
        if self._process is None:
            raise RuntimeError("the server is not running")
        return self._process.pid

    def start(self, *, timeout: float = STARTUP_SECONDS) -> str:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable, "-c", "from kg.cli import main; main()",
            "--store", str(self.store), "serve", *(["--read-only"] if self.read_only else []),
            "--host", "127.0.0.1", "--port", str(port),
        ]
        # Output goes to a file, never a pipe: uvicorn logs every request, and a full pipe would block it.
        with self.log.open("wb") as out:
            self._process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             cwd=self.cwd)
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"kg serve exited with {self._process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/examples", timeout=2) as response:
                    if response.status == 200:
                        return self.url
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"kg serve did not answer on {self.url} within {timeout:.0f} s:\n{self.output()}")
            time.sleep(0.1)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)

    def kill(self) -> None:
        """SIGKILL the server, as a crash would, and reap it."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait(timeout=STOP_SECONDS)

    def output(self) -> str:
        """What the server printed so far (the last 4,000 characters)."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return "(no output)"


_running: LiveServer | None = None
_users = 0


@pytest.fixture(scope="session")
def live_server(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT``, no trailing slash) of a read-only ``kg serve`` on the built store."""
    # pytest makes one fixture definition per importing module, so share one process between them.
    global _running, _users
    if _running is None:
        server = LiveServer(store_path, tmp_path_factory.mktemp("live") / "serve.log")
        server.start()
        _running = server
    _users += 1
    try:
        yield _running.url
    finally:
        _users -= 1
        if _users == 0 and _running is not None:
            _running.stop()
            _running = None


@contextmanager
def writable_server(graphs: Mapping[URIRef, Graph], folder: Path, agent: str) -> Iterator[tuple[str, str]]:
    """A live, writable ``kg serve`` on a store of its own holding ``graphs``, and the secret of
    a write token named ``agent``: (base URL, secret). Stopped on leaving."""
    from kg.config import Settings
    from kg.ops.tokens import create_token
    from kg.store import EmbeddedStore

    store_dir = folder / "store"
    store = EmbeddedStore(store_dir)
    store.replace_graphs(graphs)
    store.close()
    secret = create_token(Settings(store=str(store_dir)), agent)
    server = LiveServer(store_dir, folder / "serve.log", read_only=False)
    url = server.start()
    try:
        yield url, secret
    finally:
        server.stop()
