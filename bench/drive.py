"""Load generation and measurement: C keep-alive clients (or C in-process threads) for D seconds.

Every client walks the query mix round-robin from its own offset, so each query gets
an equal share of the requests whatever the speed of the server. Loops are bounded by
a deadline; a request in flight at the deadline is allowed to finish (within the
socket timeout) and is counted.
"""

from __future__ import annotations

import http.client
import io
import itertools
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from query_mix import BenchQuery

__all__ = ["PeakMemory", "Recorder", "TreeCpu", "answer_size", "http_caller", "raw_caller", "run_load"]


@dataclass
class Recorder:
    """Latencies (seconds) of successful requests and error messages, per query."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def merge(self, other: Recorder) -> None:
        for name, values in other.latencies.items():
            self.latencies.setdefault(name, []).extend(values)
        for name, messages in other.errors.items():
            self.errors.setdefault(name, []).extend(messages)

    def summary(self, wall: float) -> dict[str, object]:
        per_query = {}
        names = sorted(set(self.latencies) | set(self.errors))
        for name in names:
            per_query[name] = _stats(self.latencies.get(name, []), self.errors.get(name, []), wall)
        every = [x for values in self.latencies.values() for x in values]
        all_errors = [e for values in self.errors.values() for e in values]
        return {"wall_s": round(wall, 3), "total": _stats(every, all_errors, wall), "queries": per_query}


def _pct(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile, in milliseconds."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.5)))
    return round(sorted_values[rank - 1] * 1000, 2)


def _stats(values: list[float], errors: list[str], wall: float) -> dict[str, object]:
    ordered = sorted(values)
    return {
        "ok": len(ordered),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:3],
        "req_per_s": round(len(ordered) / wall, 2) if wall > 0 else None,
        "p50_ms": _pct(ordered, 50),
        "p95_ms": _pct(ordered, 95),
        "mean_ms": round(sum(ordered) / len(ordered) * 1000, 2) if ordered else None,
    }


Caller = Callable[[BenchQuery], bytes]


def http_caller(port: int, path: str, *, timeout: float,
                fresh: bool = False) -> Callable[[], tuple[Caller, Callable[[], None]]]:
    """A factory of per-client callers: each holds one keep-alive connection to 127.0.0.1:port.
    ``fresh``: every request's text ends with a comment of its own (``# 17``), so no server can
    know it from before (an answer cache, or kg's note of what a text cost a worker)."""
    prefix = path + "?"
    numbers = itertools.count()

    def make() -> tuple[Caller, Callable[[], None]]:
        state: dict[str, http.client.HTTPConnection | None] = {"conn": None}

        def call(q: BenchQuery) -> bytes:
            conn = state["conn"]
            if conn is None:
                conn = state["conn"] = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            try:
                text = f"{q.sparql}\n# {next(numbers)}" if fresh else q.sparql
                conn.request("GET", prefix + urlencode({"query": text}), headers={"Accept": q.accept})
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                state["conn"] = None
                raise
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {body[:120]!r}")
            return body

        def close() -> None:
            if state["conn"] is not None:
                state["conn"].close()

        return call, close

    return make


def raw_caller(store: ox.Store) -> Callable[[], tuple[Caller, Callable[[], None]]]:
    """In-process: query pyoxigraph and serialise to bytes in the format the HTTP clients ask for."""

    def call(q: BenchQuery) -> bytes:
        result = store.query(q.sparql)
        out = io.BytesIO()
        if isinstance(result, ox.QueryTriples):
            ox.serialize(result, out, ox.RdfFormat.TURTLE)
        else:
            result.serialize(out, ox.QueryResultsFormat.JSON)
        return out.getvalue()

    return lambda: (call, lambda: None)


def run_load(make_caller: Callable[[], tuple[Caller, Callable[[], None]]], mix: list[BenchQuery], *,
             clients: int, duration: float) -> tuple[Recorder, float]:
    """Run ``clients`` threads for ``duration`` seconds; the merged record and the wall time."""
    recorders = [Recorder() for _ in range(clients)]
    start = time.perf_counter()
    deadline = start + duration

    def client(index: int) -> None:
        rec = recorders[index]
        call, close = make_caller()
        i = index
        try:
            while time.perf_counter() < deadline:
                q = mix[i % len(mix)]
                i += 1
                t0 = time.perf_counter()
                try:
                    call(q)
                except Exception as exc:  # noqa: BLE001 - every failure is a counted error
                    rec.errors.setdefault(q.name, []).append(f"{type(exc).__name__}: {exc}"[:160])
                    continue
                rec.latencies.setdefault(q.name, []).append(time.perf_counter() - t0)
        finally:
            close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    merged = Recorder()
    for rec in recorders:
        merged.merge(rec)
    return merged, wall


def answer_size(q: BenchQuery, body: bytes) -> int | bool:
    """Rows of a SELECT, the boolean of an ASK, or triples of a CONSTRUCT: compared across servers."""
    if q.shape == "triples":
        return sum(1 for _ in ox.parse(body, ox.RdfFormat.TURTLE))
    data = json.loads(body)
    if q.shape == "boolean":
        return bool(data["boolean"])
    return len(data["results"]["bindings"])


class TreeCpu:
    """CPU seconds and resident memory of every process in one process group (from /proc)."""

    _TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, pgid: int) -> None:
        self.pgid = pgid

    def pids(self) -> set[int]:
        """The live members' process ids."""
        return {int(f[-1]) for f in self._members()}

    def _members(self) -> list[list[str]]:
        """The /proc stat fields (from field 3 on, then the pid) of every live member."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            fields = raw[raw.rindex(")") + 2:].split()  # fields from "state" (field 3) on
            if int(fields[2]) == self.pgid:  # field 5: process group
                found.append(fields + [entry.name])
        return found

    def cpu_seconds(self) -> float:
        """utime + stime of the live members (a member that exited takes its time with it)."""
        return sum(int(f[11]) + int(f[12]) for f in self._members()) / self._TICK

    def rss_mb(self) -> float:
        page = os.sysconf("SC_PAGE_SIZE")
        return round(sum(int(f[21]) for f in self._members()) * page / 2**20, 1)

    def memory(self) -> dict[str, Any]:
        """Resident (RSS) and proportional (PSS: shared pages divided among their users) memory
        of the whole group, and of each member: RSS counts a shared library once per process."""
        page = os.sysconf("SC_PAGE_SIZE")
        each: list[dict[str, Any]] = []
        rss_sum = pss_sum = 0.0
        for f in self._members():
            pid = int(f[-1])
            rss = int(f[21]) * page / 2**20
            pss = _pss_mb(pid)
            rss_sum += rss
            pss_sum += pss or 0.0
            each.append({"pid": pid, "rss_mb": round(rss, 1), "pss_mb": None if pss is None else round(pss, 1)})
        return {"rss_mb": round(rss_sum, 1), "pss_mb": round(pss_sum, 1),
                "processes": sorted(each, key=lambda e: int(e["pid"]))}


def _pss_mb(pid: int) -> float | None:
    """PSS of one process from ``/proc/<pid>/smaps_rollup`` (Linux 4.14+), or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


class PeakMemory:
    """The highest RSS and PSS sums of a process group while the ``with`` block runs, sampled
    every ``interval`` seconds by a thread (PSS walks page tables: keep the interval coarse)."""

    def __init__(self, tree: TreeCpu, *, interval: float = 0.5) -> None:
        self.tree, self.interval = tree, interval
        self.rss_mb = self.pss_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-memory", daemon=True)

    def _sample(self) -> None:
        now = self.tree.memory()
        self.rss_mb = max(self.rss_mb, now["rss_mb"])
        self.pss_mb = max(self.pss_mb, now["pss_mb"])

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> PeakMemory:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def publish(text: str, report: dict[str, Any], out: Path | None) -> None:
    """Print a bench's table for people, and keep its whole report as JSON when ``out`` is given."""
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1))
        print(f"\nJSON: {out}", file=sys.stderr)
