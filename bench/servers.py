"""Servers under test: started one at a time on a free loopback port, always stopped.

Each server runs in its own session (process group), so stopping it stops its worker
processes too; the group is signalled by its id, nothing is matched by name.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

__all__ = ["Running", "ServerSpec", "free_port", "start"]


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server: ``argv`` may contain ``{port}``."""

    name: str
    argv: tuple[str, ...]
    env: dict[str, str]
    start_timeout: float
    #: where the SPARQL endpoint answers
    path: str = "/sparql"


class Running:
    """A started server: its port, process group and log file."""

    def __init__(self, spec: ServerSpec, port: int, process: subprocess.Popen[bytes], log: Path,
                 spawned: float) -> None:
        self.spec, self.port, self.process, self.log = spec, port, process, log
        #: ``time.perf_counter()`` just before the process was spawned
        self.spawned = spawned

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, *, interval: float = 0.25) -> float:
        """Seconds from the spawn until ``ASK {}`` answers 200, asking every ``interval`` seconds;
        RuntimeError if the process dies or time runs out."""
        start = self.spawned
        deadline = start + self.spec.start_timeout
        path = self.spec.path + "?" + urlencode({"query": "ASK {}"})
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.spec.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path, headers={"Accept": "application/sparql-results+json"})
                response = conn.getresponse()
                response.read()  # kg replaces a worker whose client leaves before the body
                status = response.status
                conn.close()
                if status == 200:
                    return time.perf_counter() - start
                if 400 <= status < 500:
                    raise RuntimeError(f"{self.spec.name} answered {status} to ASK {{}} at {self.spec.path}")
            except OSError:
                pass
            time.sleep(interval)
        raise RuntimeError(f"{self.spec.name} did not answer within {self.spec.start_timeout:.0f} s")

    def stop(self) -> None:
        """SIGTERM the server's process group, then SIGKILL whatever is left after 10 s."""
        pgid = self.process.pid  # start_new_session: the group id is the leader's pid
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            # the leader is gone; make sure no worker of its group outlived it
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            break


def start(spec: ServerSpec, workdir: Path) -> Running:
    """Start ``spec`` on a free port with its output in ``workdir/<name>.log``."""
    port = free_port()
    log = workdir / f"{spec.name}.log"
    argv = [a.format(port=port) for a in spec.argv]
    with log.open("wb") as out:
        spawned = time.perf_counter()
        process = subprocess.Popen(
            argv, cwd=workdir, env=spec.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Running(spec, port, process, log, spawned)
