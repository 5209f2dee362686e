#!/usr/bin/env python3
"""Serving a large store from disk: ``kg serve``'s memory, first answer and per-query p50, beside
raw pyoxigraph on the same store, for one or more trees of the project (before and after).

    nice -n 10 python bench/tenm_bench.py --triples 10000000 --data-dir /tmp/kg10m \\
        --tree after=. --tree before=/work/base --out /tmp/kg10m/bench.json

``--data-dir`` holds the generator's ``data.nt`` and ``data.meta.json`` and the store ``store/``;
what is missing is made, what is there is reused (10M triples take minutes to make):

* the data: ``gen_data.py TRIPLES data`` (the shared generator);
* the store: the real ``kg ingest data.nt --graph G`` (the SHACL gate included) of the first
  tree into a fresh ``store/``; its wall time and peak RSS are saved in ``ingest.json`` and
  reported by every later run.

Then, in one run: raw pyoxigraph in this process (``Store.read_only``) answers each query of the
mix (:func:`query_mix.query_mix` and :func:`query_mix.light_queries`) ``--reps`` times in turn,
and for every tree, ``kg serve`` (writable, the default settings, the tree first on PYTHONPATH) is
spawned on a free port and measured: seconds from the spawn to the first 200 on ``/sparql``
(``ASK {}``), the RSS and PSS of its whole process tree (server and query workers) idle, each
query's p50 over one keep-alive connection, then C clients for D seconds over the mix (peak RSS
and PSS of the tree, throughput, errors). Answer sizes are compared with raw pyoxigraph's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from drive import PeakMemory, TreeCpu, answer_size, http_caller, publish, raw_caller, run_load
from query_mix import BenchQuery, light_queries, query_mix
from servers import ServerSpec, start

BENCH = Path(__file__).resolve().parent
GENERATOR = BENCH.parents[1] / "shared" / "bench-reference" / "gen_data.py"
GRAPH = "https://example.org/graph/bench"
KG = Path(sys.executable).with_name("kg")  # the console script honours PYTHONPATH


def _clean_env(tree: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    return env


def prepare(data_dir: Path, triples: int, tree: Path) -> dict[str, Any]:
    """The data and the store under ``data_dir``, made when missing; what making them took."""
    data_dir.mkdir(parents=True, exist_ok=True)
    nt, meta_path, store = data_dir / "data.nt", data_dir / "data.meta.json", data_dir / "store"
    if not meta_path.exists():
        print(f"generating {triples:,} triples into {data_dir}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(GENERATOR), str(triples), str(data_dir / "data")], check=True,
                       stdout=subprocess.DEVNULL)
        (data_dir / "generate.json").write_text(json.dumps({"wall_s": round(time.perf_counter() - t0, 1)}))
    meta = json.loads(meta_path.read_text())
    if meta["triples"] < 0.9 * triples or meta["triples"] > 1.1 * triples:
        raise SystemExit(f"{data_dir} holds {meta['triples']:,} triples, not about {triples:,}")
    ingest_json = data_dir / "ingest.json"
    if not store.is_dir():
        ingest_json.unlink(missing_ok=True)
        print(f"kg ingest of {nt} into {store} (tree {tree})", file=sys.stderr, flush=True)
        argv = [str(KG), "--store", str(store), "ingest", str(nt), "--graph", GRAPH]
        env = dict(_clean_env(tree), KG_PROGRESS="lines")
        with (data_dir / "ingest.receipt.json").open("wb") as out, (data_dir / "ingest.log").open("wb") as log:
            t0 = time.perf_counter()
            process = subprocess.Popen(argv, env=env, stdout=out, stderr=log, cwd=data_dir)
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        done = {"command": " ".join(argv), "tree": str(tree), "exit": process.returncode,
                "wall_s": round(time.perf_counter() - t0, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024),
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "measured_by": "tenm_bench.py (os.wait4)"}
        ingest_json.write_text(json.dumps(done, indent=1))
        if process.returncode != 0:
            raise SystemExit(f"kg ingest failed (exit {process.returncode}); see {data_dir / 'ingest.log'}")
    ingest = json.loads(ingest_json.read_text()) if ingest_json.exists() else {"note": "not measured"}
    disk = sum(f.stat().st_size for f in store.rglob("*") if f.is_file() and "kg-views" not in f.parts)
    return {"dir": str(data_dir), "store": str(store), "meta": meta, "ingest": ingest,
            "store_mb": round(disk / 2**20), "nt_mb": round(nt.stat().st_size / 2**20) if nt.exists() else None}


def _own_rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def sequential(call: Any, queries: list[BenchQuery], *, reps: int, budget: float,
               cpu: Callable[[], float]) -> dict[str, Any]:
    """Each query ``reps`` times in turn (fewer once it has taken ``budget`` seconds, at least
    twice): the first call's time (cold for that query), the p50 of the others, the p50 of the
    CPU seconds ``cpu`` counts meanwhile (what an idle machine's wall time would be: the other
    jobs on a shared machine stretch the wall time, not the CPU time) and the answer's size."""
    out: dict[str, Any] = {}
    for q in queries:
        times: list[float] = []
        cpus: list[float] = []
        entry: dict[str, Any] = {}
        spent = 0.0
        while len(times) < reps and (len(times) < 2 or spent < budget):
            c0 = cpu()
            t0 = time.perf_counter()
            try:
                body = call(q)
            except Exception as exc:  # noqa: BLE001 - reported, not fatal
                entry["error"] = f"{type(exc).__name__}: {exc}"[:200]
                break
            elapsed = time.perf_counter() - t0
            cpus.append(cpu() - c0)
            spent += elapsed
            if not times:
                entry["size"] = answer_size(q, body)
            times.append(elapsed)
        if times:
            entry.update(first_ms=round(times[0] * 1000, 1), n=len(times),
                         p50_ms=round(statistics.median(times[1:] or times) * 1000, 1),
                         cpu_p50_ms=round(statistics.median(cpus[1:] or cpus) * 1000, 1))
        out[q.name] = entry
        print(f"    {q.name}: {entry}", file=sys.stderr, flush=True)
    return out


def measure_raw(store_path: str, queries: list[BenchQuery], args: argparse.Namespace) -> dict[str, Any]:
    before = _own_rss()
    t0 = time.perf_counter()
    store = ox.Store.read_only(store_path)
    opened = time.perf_counter() - t0
    try:
        call, _ = raw_caller(store)()
        result = {"open_s": round(opened, 2),
                  "queries": sequential(call, queries, reps=args.reps, budget=args.budget, cpu=time.thread_time)}
    finally:
        del store
    result["rss_growth_mb"] = round((_own_rss() - before) / 2**20)
    return result


def measure_tree(name: str, tree: Path, data: dict[str, Any], queries: list[BenchQuery], mix: list[BenchQuery],
                 args: argparse.Namespace) -> dict[str, Any]:
    env = dict(_clean_env(tree), KG_CLIENT_QUERY_SECONDS="0")  # every bench client is 127.0.0.1
    argv = (str(KG), "--store", data["store"], "serve", *(["--read-only"] if args.read_only else []),
            "--host", "127.0.0.1", "--port", "{port}")
    workdir = Path(data["dir"]) / "run"
    workdir.mkdir(exist_ok=True)
    print(f"{name} ({tree}): kg serve", file=sys.stderr, flush=True)
    running = start(ServerSpec(f"kg-{name}", argv, env, args.start_timeout), workdir)
    try:
        result: dict[str, Any] = {"first_answer_s": round(running.wait_ready(interval=0.05), 2)}
        tree_mem = TreeCpu(running.process.pid)
        time.sleep(args.settle)
        result["idle"] = tree_mem.memory()
        make = http_caller(running.port, "/sparql", timeout=args.request_timeout)
        call, close = make()
        try:
            # CPU of the server and its workers (read from /proc between calls, outside the timing)
            result["queries"] = sequential(call, queries, reps=args.reps, budget=args.budget,
                                           cpu=tree_mem.cpu_seconds)
        finally:
            close()
        result["after_queries"] = tree_mem.memory()
        pids0 = tree_mem.pids()
        cpu0 = tree_mem.cpu_seconds()
        print(f"  {args.clients} clients for {args.duration:g} s", file=sys.stderr, flush=True)
        with PeakMemory(tree_mem) as peak:
            record, wall = run_load(make, mix, clients=args.clients, duration=args.duration)
        summary: dict[str, Any] = record.summary(wall)
        result["load"] = {"clients": args.clients, "wall_s": round(wall, 1), "peak_rss_mb": round(peak.rss_mb),
                          "peak_pss_mb": round(peak.pss_mb), "total": summary["total"],
                          "queries": {q: {k: v[k] for k in ("ok", "errors", "p50_ms", "p95_ms", "error_samples")}
                                      for q, v in summary["queries"].items()},
                          "server_cpu_s": round(tree_mem.cpu_seconds() - cpu0, 1),
                          "processes_started": len(tree_mem.pids() - pids0)}
        result["after_load"] = tree_mem.memory()
        result["log_tail"] = running.log_tail(8)
        return result
    finally:
        running.stop()


def git_state(tree: Path) -> str:
    try:
        done = subprocess.run(["git", "-C", str(tree), "describe", "--always", "--dirty"], capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() or "unknown"


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 1) if present else None


def render(report: dict[str, Any]) -> str:
    data, trees = report["data"], list(report["trees"])
    rounds = report["rounds"]
    ingest = data["ingest"]
    lines = [(f"{data['meta']['triples']:,} triples · store {data['store_mb']:,} MB on disk · "
              f"{report['config']['cpus']} CPUs · pyoxigraph {report['config']['pyoxigraph']} · "
              f"{len(rounds)} round(s)"),
             "kg ingest: " + (f"{ingest['wall_s']} s, peak RSS {ingest['peak_rss_mb']:,} MB, exit {ingest.get('exit', '?')}"
                              if "wall_s" in ingest else ingest.get("note", "?")), ""]

    def per_tree(path: list[str]) -> list[float | None]:
        got = []
        for t in trees:
            values = []
            for r in rounds:
                node: Any = r["trees"].get(t, {})
                for key in path:
                    node = node.get(key) if isinstance(node, dict) else None
                values.append(node)
            got.append(_median(values))
        return got

    head = f"{'':44}" + "".join(f"{t:>14}" for t in trees)
    lines += [head, "-" * len(head)]
    rows = [("first answer after spawn (s)", ["first_answer_s"]),
            ("RSS idle, whole tree (MB)", ["idle", "rss_mb"]), ("PSS idle, whole tree (MB)", ["idle", "pss_mb"]),
            ("RSS after the p50 runs (MB)", ["after_queries", "rss_mb"]),
            ("peak RSS under load (MB)", ["load", "peak_rss_mb"]), ("peak PSS under load (MB)", ["load", "peak_pss_mb"]),
            ("RSS after load (MB)", ["after_load", "rss_mb"]),
            ("throughput under load (req/s)", ["load", "total", "req_per_s"]),
            ("p50 under load, whole mix (ms)", ["load", "total", "p50_ms"]),
            ("errors under load", ["load", "total", "errors"])]
    for label, path in rows:
        lines.append(f"{label:44}" + "".join(f"{'–' if v is None else f'{v:,.1f}':>14}" for v in per_tree(path)))
    lines += ["", ("p50 per query, one client, ms (in parentheses: p50 of the CPU time of raw pyoxigraph's thread, or"
                   " of kg's server and workers, in clock ticks); ≠ answer size differs from raw; error: the first call"
                   " failed (see the JSON)")]
    head = f"{'query':28}{'raw pyoxigraph':>20}" + "".join(f"{t:>20}" for t in trees)
    lines += [head, "-" * len(head)]
    for q in report["queries"]:
        def cell(entries: list[dict[str, Any]], ref: Any) -> str:
            if not entries or any("error" in e for e in entries):
                return "error"
            p50 = _median([e.get("p50_ms") for e in entries])
            cpu = _median([e.get("cpu_p50_ms") for e in entries])
            flag = "≠" if ref is not None and any(e.get("size") != ref for e in entries) else ""
            return f"{p50:,.1f} ({cpu:,.0f}){flag}"
        raw_entries = [r["raw"]["queries"][q] for r in rounds]
        ref = raw_entries[0].get("size")
        row = f"{q:28}{cell(raw_entries, None):>20}"
        for t in trees:
            row += f"{cell([r['trees'][t]['queries'][q] for r in rounds if t in r['trees']], ref):>20}"
        lines.append(row)
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--triples", type=lambda s: int(float(s)), default=10_000_000, help="size of the data (N)")
    p.add_argument("--data-dir", type=Path,
                   help="where the data and the store are (made if missing, else reused); outside the git tree")
    p.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                   help="a checkout of the project to serve with (repeatable; default: this one, 'current')")
    p.add_argument("--reps", type=int, default=15, help="calls of each query for its p50 (one client)")
    p.add_argument("--budget", type=float, default=10.0, help="stop repeating a query after this many seconds (≥ 2 calls)")
    p.add_argument("--clients", type=int, default=4, help="concurrent keep-alive clients under load (C)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of load (D)")
    p.add_argument("--settle", type=float, default=3.0, help="seconds after the first answer before the idle reading")
    p.add_argument("--rounds", type=int, default=1,
                   help="every target (raw pyoxigraph and each tree) this many times, the order rotated each round")
    p.add_argument("--queries", help="only these queries (comma-separated names; the load runs over them too)")
    p.add_argument("--read-only", action="store_true", help="kg serve --read-only (default: writable, as users run it)")
    p.add_argument("--start-timeout", type=float, default=600.0, help="give up on a server after this many seconds")
    p.add_argument("--request-timeout", type=float, default=120.0, help="client socket timeout, seconds")
    p.add_argument("--out", type=Path, help="write the JSON results here")
    p.add_argument("--show", type=Path, metavar="JSON", help="print the tables of a saved --out file and exit")
    args = p.parse_args(argv)
    if args.data_dir is None and args.show is None:
        p.error("--data-dir is required (where the data and the store are, or will be made)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.show:
        print(render(json.loads(args.show.read_text())))
        return 0
    trees = {}
    for item in args.tree or [f"current={BENCH.parent}"]:
        name, _, path = item.partition("=")
        trees[name] = Path(path or name).resolve()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks stop the servers
    data_dir = args.data_dir.resolve()
    if BENCH.parent in (data_dir, *data_dir.parents):
        raise SystemExit(f"{data_dir} is inside the git tree; use a directory elsewhere (e.g. /tmp/kg10m)")
    data = prepare(data_dir, args.triples, next(iter(trees.values())))
    mix = query_mix(data["meta"])
    queries = mix + light_queries(data["meta"])
    if args.queries:
        names = {q.strip() for q in args.queries.split(",")}
        unknown = names - {q.name for q in queries}
        if unknown:
            raise SystemExit(f"unknown query names: {', '.join(sorted(unknown))}; see bench/query_mix.py")
        queries = [q for q in queries if q.name in names]
        mix = [q for q in mix if q.name in names] or queries  # the load runs over what was chosen
    rounds = []
    targets = ["raw", *trees]
    for index in range(args.rounds):
        order = targets[index % len(targets):] + targets[:index % len(targets)]
        print(f"round {index + 1}/{args.rounds}: {', '.join(order)}", file=sys.stderr, flush=True)
        done: dict[str, Any] = {"trees": {}}
        for name in order:
            if name == "raw":
                done["raw"] = measure_raw(data["store"], queries, args)
            else:
                done["trees"][name] = measure_tree(name, trees[name], data, queries, mix, args)
        rounds.append(done)
    report = {"config": {"trees": {n: {"path": str(p), "git": git_state(p)} for n, p in trees.items()},
                         "reps": args.reps, "budget_s": args.budget, "clients": args.clients,
                         "duration_s": args.duration, "read_only": args.read_only, "cpus": os.cpu_count(),
                         "python": platform.python_version(), "pyoxigraph": ox.__version__,
                         "loadavg": os.getloadavg()},
              "data": data, "queries": {q.name: q.sparql for q in queries}, "trees": list(trees), "rounds": rounds}
    publish(render(report), report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
