#!/usr/bin/env python3
"""Soak: many readers and one writer against a real ``kg serve``, for a minute.

Finding 3 of the hardening issue: 50 clients reading while a writer PUT a graph every 3 s
made about 1 % of the reads fail (503, 500, resets) and pushed the read p99 to 30 s. This
script reproduces that load and prints what a reader would see:

    python bench/soak.py                         # 50 clients × 60 s, a PUT every 3 s
    python bench/soak.py --clients 20 --duration 20 --write-every 2 --json /tmp/soak.json
    python bench/soak.py --attackers 2           # and finding 1: two clients sorting a cross product

It builds the default corpus into a fresh store in a temporary directory, creates a write
token with ``kg token create``, starts ``kg serve`` there on a free loopback port in its own
process group (stopped at the end whatever happens), and then runs C keep-alive reader
threads over the competency questions (``/examples``) plus two cheap queries, and one writer
thread. Reported: requests, failed reads by kind (status, reset, timeout), 5xx, read p50/p99,
write latencies, and the peak resident memory of the server and of its whole process group.

The per-client query-time budget is switched off (``KG_CLIENT_QUERY_SECONDS=0`` in the
server's environment): every client here comes from 127.0.0.1, and the point is the pool, not
the fairness limit. Other settings go to the server's ``kg.toml`` with ``--set name=value``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from drive import TreeCpu  # noqa: E402
from servers import Running, ServerSpec, start  # noqa: E402

#: SELECT/ASK as JSON, CONSTRUCT/DESCRIBE (one of the examples) as Turtle
ACCEPT = "application/sparql-results+json, text/turtle;q=0.9"
EX = "http://example.org/soak/"
KG = [sys.executable, "-c", "from kg.cli import main; main()"]


@dataclass
class Tally:
    """What the readers (or the writer) saw: latencies of answers, and failures by kind."""

    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)

    def failed(self, kind: str, detail: str) -> None:
        with self.lock:
            self.failures[kind] += 1
            self.samples.setdefault(kind, detail[:300])


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile in milliseconds."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return round(ordered[rank - 1] * 1000, 1)


def _request(conn: http.client.HTTPConnection, method: str, path: str, *, body: bytes | None = None,
             headers: dict[str, str]) -> tuple[int, bytes]:
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def _classify(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError)):
        return "reset"
    if isinstance(exc, http.client.IncompleteRead):
        return "incomplete body"
    return type(exc).__name__


class _Client:
    """One keep-alive connection to the server; a request that fails is counted in the tally
    (timeout, reset, …) and the connection is opened again."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port, self.timeout = port, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def send(self, tally: Tally, method: str, path: str, *, body: bytes | None = None,
             headers: dict[str, str]) -> tuple[int, bytes] | None:
        try:
            return _request(self.conn, method, path, body=body, headers=headers)
        except (OSError, http.client.HTTPException) as exc:
            tally.failed(_classify(exc), repr(exc))
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            return None

    def close(self) -> None:
        self.conn.close()


def reader(port: int, queries: list[str], offset: int, deadline: float, tally: Tally, timeout: float) -> None:
    """One keep-alive client going round the queries from its own offset until the deadline."""
    client = _Client(port, timeout)
    i = offset
    while time.monotonic() < deadline:
        path = "/sparql?" + urlencode({"query": queries[i % len(queries)]})
        i += 1
        started = time.monotonic()
        answer = client.send(tally, "GET", path, headers={"Accept": ACCEPT})
        if answer is None:
            continue
        status, body = answer
        if status == 200:
            tally.ok(time.monotonic() - started)
        else:
            tally.failed(f"HTTP {status}", body.decode("utf-8", "replace"))
    client.close()


def writer(port: int, token: str, every: float, deadline: float, tally: Tally, timeout: float) -> None:
    """A PUT of a small graph every ``every`` seconds (a different graph each time, round three)."""
    client = _Client(port, timeout)
    n = 0
    while time.monotonic() < deadline:
        tick = time.monotonic()
        graph = f"{EX}graph{n % 3}"
        body = "".join(f'<{EX}s{n}-{i}> <{EX}p> "value {n} {i}" .\n' for i in range(50)).encode()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/n-triples"}
        answer = client.send(tally, "PUT", "/graph-store?" + urlencode({"graph": graph}), body=body, headers=headers)
        if answer is not None:
            status, text = answer
            if status in (200, 201):
                tally.ok(time.monotonic() - tick)
            else:
                tally.failed(f"HTTP {status}", text.decode("utf-8", "replace"))
        n += 1
        time.sleep(max(0.0, every - (time.monotonic() - tick)))
    client.close()


#: finding 1 of the hardening issue: two of these took a server to 12 GB in 20 s
CROSS_SORT = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 1"


def attacker(port: int, deadline: float, tally: Tally, timeout: float) -> None:
    """Send the cross-product sort again and again; each answer should be a 503 that names the limit."""
    client = _Client(port, timeout)
    path = "/sparql?" + urlencode({"query": CROSS_SORT})
    while time.monotonic() < deadline:
        started = time.monotonic()
        answer = client.send(tally, "GET", path, headers={"Accept": ACCEPT})
        if answer is None:
            continue
        status, body = answer
        tally.ok(time.monotonic() - started)
        tally.failed(f"HTTP {status}", body.decode("utf-8", "replace"))  # what the attacker was told
    client.close()


def prepare(workdir: Path, settings: dict[str, str]) -> tuple[Path, str]:
    """A built store, a token for it, and the kg.toml the server reads."""
    store = workdir / "store"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    subprocess.run([*KG, "--store", str(store), "build"], cwd=workdir, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    created = subprocess.run([*KG, "--store", str(store), "token", "create", "soak"], cwd=workdir, env=env,
                             check=True, capture_output=True, text=True)
    lines = [f"{key} = {value}" for key, value in settings.items()]
    (workdir / "kg.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return store, created.stdout.strip().splitlines()[-1]


def examples(port: int) -> list[str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    status, body = _request(conn, "GET", "/examples", headers={"Accept": "application/json"})
    conn.close()
    if status != 200:
        raise RuntimeError(f"/examples answered {status}")
    found = [item["query"] for item in json.loads(body)]
    return found + ["ASK {}", "SELECT * WHERE { ?s ?p ?o } LIMIT 10"]


def run(args: argparse.Namespace) -> dict[str, object]:
    settings = {"workers": str(args.workers)}
    for item in args.set:
        key, _, value = item.partition("=")
        settings[key.strip()] = value.strip()
    workdir = Path(tempfile.mkdtemp(prefix="kg-soak-"))
    server: Running | None = None
    try:
        store, token = prepare(workdir, settings)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
        env["KG_CLIENT_QUERY_SECONDS"] = "0"  # every reader is 127.0.0.1 (older servers ignore it)
        spec = ServerSpec("kg", (*KG, "--store", str(store), "serve", "--host", "127.0.0.1", "--port", "{port}"),
                          env, start_timeout=120)
        server = start(spec, workdir)
        server.wait_ready()
        queries = examples(server.port)
        tree = TreeCpu(server.process.pid)
        peak = {"tree": 0.0, "server": 0.0}
        reads, writes, attacks = Tally(), Tally(), Tally()
        deadline = time.monotonic() + args.duration
        stop_sampling = threading.Event()

        def sample() -> None:
            page = os.sysconf("SC_PAGE_SIZE")
            while not stop_sampling.wait(0.25):
                peak["tree"] = max(peak["tree"], tree.rss_mb())
                try:
                    resident = int(Path(f"/proc/{server.process.pid}/statm").read_text().split()[1])
                except (OSError, AttributeError):
                    continue
                peak["server"] = max(peak["server"], resident * page / 2**20)

        threads = [threading.Thread(target=reader, args=(server.port, queries, i, deadline, reads, args.timeout))
                   for i in range(args.clients)]
        if args.write_every > 0:
            threads.append(threading.Thread(target=writer, args=(server.port, token, args.write_every, deadline,
                                                                  writes, args.timeout)))
        threads += [threading.Thread(target=attacker, args=(server.port, deadline, attacks, args.timeout))
                    for _ in range(args.attackers)]
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - started
        stop_sampling.set()
        tick = os.sysconf("SC_CLK_TCK")
        stat = Path(f"/proc/{server.process.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        server_cpu = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        tree_cpu = tree.cpu_seconds()
        failed = sum(reads.failures.values())
        return {
            "clients": args.clients, "duration_s": args.duration, "write_every_s": args.write_every,
            "workers": args.workers, "settings": settings, "wall_s": round(wall, 1),
            "load_average_after": os.getloadavg(),
            "reads": {
                "requests": len(reads.latencies) + failed, "ok": len(reads.latencies), "failed": failed,
                "failures": dict(reads.failures), "failure_samples": reads.samples,
                "5xx": sum(n for kind, n in reads.failures.items() if kind.startswith("HTTP 5")),
                "resets": reads.failures.get("reset", 0),
                "req_per_s": round((len(reads.latencies) + failed) / wall, 1),
                "p50_ms": percentile(reads.latencies, 50), "p99_ms": percentile(reads.latencies, 99),
                "max_ms": percentile(reads.latencies, 100),
            },
            "writes": {
                "ok": len(writes.latencies), "failed": sum(writes.failures.values()),
                "failures": dict(writes.failures), "failure_samples": writes.samples,
                "p50_ms": percentile(writes.latencies, 50), "max_ms": percentile(writes.latencies, 100),
            },
            "attacks": {"answers": dict(attacks.failures), "samples": attacks.samples,
                        "p50_ms": percentile(attacks.latencies, 50), "max_ms": percentile(attacks.latencies, 100)},
            "peak_rss_mb": {"server": round(peak["server"], 1), "server_and_workers": peak["tree"]},
            # the run's CPU (the startup's too): the server, and the workers alive at the end
            "cpu_s": {"server": round(server_cpu, 1), "workers": round(tree_cpu - server_cpu, 1)},
        }
    finally:
        if server is not None:
            server.stop()
            if args.keep_log:
                shutil.copy(server.log, args.keep_log)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--write-every", type=float, default=3.0, help="seconds between PUTs; 0: no writer")
    parser.add_argument("--attackers", type=int, default=0, help="clients sending the cross-product sort")
    parser.add_argument("--workers", type=int, default=4, help="query worker processes of the server")
    parser.add_argument("--timeout", type=float, default=120.0, help="client socket timeout, seconds")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="another line for the server's kg.toml (TOML value syntax)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep-log", type=Path, help="copy the server's log here")
    args = parser.parse_args()
    result = run(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
