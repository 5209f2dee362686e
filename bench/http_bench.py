#!/usr/bin/env python3
"""HTTP benchmark: ``kg serve --read-only`` against a bare FastAPI+pyoxigraph app and rdflib-endpoint.

One command: generate N triples with the shared generator, bulk-load them into a
pyoxigraph store the way kg expects (a named graph, and the union materialised in the
default graph), then start each server in turn on a free loopback port, drive it with
C keep-alive clients for D seconds over the same 8-query mix, and measure raw
pyoxigraph in-process on the same mix for reference. Prints one table and writes JSON.

    python bench/http_bench.py --triples 100000 --clients 4 --duration 20 --out /tmp/bench.json

See bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from drive import Recorder, TreeCpu, answer_size, http_caller, publish, raw_caller, run_load
from query_mix import LIGHT, BenchQuery, query_mix
from servers import Running, ServerSpec, start

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_GENERATOR = REPO.parent / "shared" / "bench-reference" / "gen_data.py"
GRAPH = "http://example.org/id/graph/bench"
LABELS = {
    "raw1": "raw pyoxigraph, 1 thread (floor)",
    "raw": "raw pyoxigraph, C threads (no HTTP)",
    "kg-base": "kg serve, --base-tree (before), cache off",
    "kg": "kg serve --read-only, cache off",
    "kg-warm": "kg serve --read-only, cache warm",
    "bare": "bare FastAPI + pyoxigraph",
    "rdflib": "rdflib-endpoint",
}
#: the kg targets, each compared with the others and with bare and rdflib-endpoint
KG_TARGETS = ("kg-base", "kg", "kg-warm")


def prepare_data(n: int, generator: Path, data_dir: Path) -> dict[str, Any]:
    """Generate (once) and load (once) N triples under ``data_dir/n<N>``; reused when present."""
    where = data_dir / f"n{n}"
    where.mkdir(parents=True, exist_ok=True)
    prefix = where / "data"
    meta_path = Path(f"{prefix}.meta.json")
    info: dict[str, Any] = {"dir": str(where), "nt": f"{prefix}.nt", "store": str(where / "store")}
    if not meta_path.exists():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(generator.resolve()), str(n), str(prefix)], check=True,
                       stdout=subprocess.DEVNULL, timeout=1800)
        info["generate_s"] = round(time.perf_counter() - t0, 2)
    info["meta"] = json.loads(meta_path.read_text())
    marker = where / "store.loaded"
    if not marker.exists():
        shutil.rmtree(where / "store", ignore_errors=True)
        t0 = time.perf_counter()
        store = ox.Store(info["store"])
        for graph in (ox.NamedNode(GRAPH), ox.DefaultGraph()):  # the named graph, and kg's materialised union
            store.bulk_load(path=info["nt"], format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
        store.flush()
        del store
        info["load_s"] = round(time.perf_counter() - t0, 2)
        marker.write_text(json.dumps({"triples": info["meta"]["triples"], "load_s": info["load_s"]}))
    return info


def verify(call: Any, mix: list[BenchQuery]) -> dict[str, Any]:
    """Each query once, in turn: the size of its answer (compared across servers) and its latency."""
    out: dict[str, Any] = {}
    for q in mix:
        t0 = time.perf_counter()
        try:
            body = call(q)
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            out[q.name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
            continue
        out[q.name] = {"size": answer_size(q, body), "first_ms": round((time.perf_counter() - t0) * 1000, 2)}
    return out


@dataclass
class Run:
    """One measured run of one target (a server, or raw pyoxigraph)."""

    record: Recorder
    wall: float
    verify: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)


def measure(name: str, make_caller: Any, mix: list[BenchQuery], args: argparse.Namespace,
            tree: TreeCpu | None, *, clients: int) -> Run:
    """Check answers, warm up, then run the measured load, with CPU and memory of the server's processes."""
    call, close = make_caller()
    try:
        checked = verify(call, mix)
    finally:
        close()
    if args.warmup > 0:
        run_load(make_caller, mix, clients=clients, duration=args.warmup)
    server_cpu0 = tree.cpu_seconds() if tree else 0.0
    pids0 = tree.pids() if tree else set()
    own0 = os.times()
    load = os.getloadavg()[0]
    print(f"  {name}: {clients} clients for {args.duration:g} s …", file=sys.stderr, flush=True)
    record, wall = run_load(make_caller, mix, clients=clients, duration=args.duration)
    own1 = os.times()
    extras: dict[str, Any] = {"loadavg_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
                              "bench_cpu_s": (own1.user - own0.user) + (own1.system - own0.system)}
    if tree:
        pids1 = tree.pids()
        extras.update(server_cpu_s=tree.cpu_seconds() - server_cpu0, server_rss_mb=tree.rss_mb(),
                      server_processes=len(pids1), server_processes_started=len(pids1 - pids0))
    return Run(record, wall, checked, extras)


def aggregate(runs: list[Run], clients: int) -> dict[str, Any]:
    """Every round of one target: latencies merged, throughput over the summed wall time, per-round spread."""
    merged = Recorder()
    for run in runs:
        merged.merge(run.record)
    wall = sum(run.wall for run in runs)
    result = merged.summary(wall)
    ok = result["total"]["ok"] or 1  # type: ignore[index]
    result.update(clients=clients, rounds=len(runs), verify=runs[0].verify,
                  round_req_per_s=[round(sum(len(v) for v in r.record.latencies.values()) / r.wall, 2) for r in runs],
                  loadavg_1min=[r.extras["loadavg_1min"] for r in runs],
                  bench_process_cpu_ms_per_req=round(sum(r.extras["bench_cpu_s"] for r in runs) / ok * 1000, 3))
    if "server_cpu_s" in runs[0].extras:
        result.update(
            server_cpu_ms_per_req=round(sum(r.extras["server_cpu_s"] for r in runs) / ok * 1000, 3),
            server_rss_mb=max(r.extras["server_rss_mb"] for r in runs),
            server_processes=runs[-1].extras["server_processes"],
            #: processes that appeared during measured runs (kg replaces a worker it had to stop)
            server_processes_started_during_runs=sum(r.extras["server_processes_started"] for r in runs),
            startup_s=round(sorted(r.extras["startup_s"] for r in runs)[len(runs) // 2], 2),
        )
    return result


def server_specs(args: argparse.Namespace, data: dict[str, Any]) -> dict[str, ServerSpec]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_") and k != "PYTHONPATH"}
    kg_env = dict(env, **({"KG_WORKERS": str(args.kg_workers)} if args.kg_workers else {}))
    kg_env["KG_CLIENT_QUERY_SECONDS"] = "0"  # every bench client is 127.0.0.1: no per-client budget
    # the tree measured comes first on the path, whatever kg the interpreter has installed
    kg_argv = (sys.executable, "-c", "from kg.cli import main; main()")
    host = ("--host", "127.0.0.1", "--port", "{port}")
    serve = kg_argv + ("--store", data["store"], "serve", "--read-only") + host
    specs = {
        "kg": ServerSpec("kg", serve, dict(kg_env, PYTHONPATH=str(REPO), KG_ANSWER_CACHE_MB="0"), 120),
        "kg-warm": ServerSpec("kg-warm", serve, dict(kg_env, PYTHONPATH=str(REPO)), 120),
        "bare": ServerSpec("bare", (sys.executable, str(BENCH / "bare_app.py"), "--store", data["store"]) + host,
                           env, 120),
        "rdflib": ServerSpec("rdflib", (args.rdflib_python, "-m", "rdflib_endpoint", "serve", data["nt"]) + host,
                             env, args.rdflib_start_timeout, path="/"),  # rdflib-endpoint serves at /
    }
    if args.base_tree:
        # the tree before, as the cold `kg` (its answer cache, if it has one, off)
        specs["kg-base"] = ServerSpec("kg-base", serve, dict(kg_env, PYTHONPATH=str(args.base_tree.resolve()),
                                                             KG_ANSWER_CACHE_MB="0"), 120)
    return specs


def skip_reason(name: str, args: argparse.Namespace, triples: int) -> str | None:
    """Why target ``name`` cannot run here, or None."""
    if name == "kg-base" and not args.base_tree:
        return "no --base-tree given"
    if name == "rdflib":
        return rdflib_skip_reason(args, triples)
    return None


def rdflib_skip_reason(args: argparse.Namespace, triples: int) -> str | None:
    if args.rdflib_python == sys.executable and importlib.util.find_spec("rdflib_endpoint") is None:
        return "rdflib-endpoint is not installed (pip install rdflib-endpoint, or --rdflib-python PATH)"
    if triples > args.rdflib_max_triples:
        return f"{triples:,} triples is over --rdflib-max-triples {args.rdflib_max_triples:,}"
    return None


def run_target(name: str, args: argparse.Namespace, data: dict[str, Any], mix: list[BenchQuery],
               spec: ServerSpec | None, workdir: Path) -> Run:
    """One round of one target; a server is started for it and stopped after it, whatever happens."""
    if spec is None:  # raw pyoxigraph in this process
        store = ox.Store.read_only(data["store"])
        try:
            return measure(name, raw_caller(store), mix, args, None, clients=1 if name == "raw1" else args.clients)
        finally:
            del store
    print(f"{LABELS[name]}: starting", file=sys.stderr, flush=True)
    running: Running | None = None
    try:
        running = start(spec, workdir)
        startup = running.wait_ready()
        caller = http_caller(running.port, spec.path, timeout=args.request_timeout, fresh=args.fresh_texts)
        run = measure(name, caller, mix, args, TreeCpu(running.process.pid), clients=args.clients)
        run.extras["startup_s"] = startup
        return run
    finally:
        if running is not None:
            running.stop()


def run_servers(args: argparse.Namespace, data: dict[str, Any], mix: list[BenchQuery],
                workdir: Path) -> dict[str, Any]:
    """``args.rounds`` rounds over every wanted target, the order rotated each round to spread drift."""
    wanted = [n for n in LABELS if n in {s.strip() for s in args.servers.split(",")}]
    specs = server_specs(args, data)
    results: dict[str, Any] = {}
    runs: dict[str, list[Run]] = {}
    for name in wanted:
        skip = skip_reason(name, args, data["meta"]["triples"])
        if skip:
            results[name] = {"skipped": skip}
            print(f"{name}: skipped ({skip})", file=sys.stderr)
        else:
            runs[name] = []
    for round_index in range(args.rounds):
        order = list(runs)[round_index % max(len(runs), 1):] + list(runs)[:round_index % max(len(runs), 1)]
        print(f"round {round_index + 1}/{args.rounds}: {', '.join(order)}", file=sys.stderr, flush=True)
        for name in order:
            if name in results:  # failed in an earlier round
                continue
            try:
                runs[name].append(run_target(name, args, data, mix, specs.get(name), workdir))
            except RuntimeError as exc:
                results[name] = {"failed": str(exc)}
                print(f"{name}: failed: {exc}", file=sys.stderr)
    for name, done in runs.items():
        if name not in results and done:
            results[name] = aggregate(done, 1 if name == "raw1" else args.clients)
    return {name: results[name] for name in wanted if name in results}


def check_answers(results: dict[str, Any]) -> None:
    """Mark, per server, the queries whose answer size differs from raw pyoxigraph's."""
    reference = (results.get("raw") or results.get("raw1") or {}).get("verify", {})
    for r in results.values():
        if "verify" in r and reference:
            r["answer_mismatches"] = [q for q, v in r["verify"].items() if v.get("size") != reference.get(q, {}).get("size")]


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    """Each kg target against the bare app, rdflib-endpoint and the kg targets before it."""
    out: dict[str, Any] = {}
    for index, name in enumerate(KG_TARGETS):
        ours = results.get(name, {}).get("total")
        for other in ("bare", "rdflib", *KG_TARGETS[:index]):
            theirs = results.get(other, {}).get("total")
            if ours and theirs:
                out[f"{name}_vs_{other}"] = {
                    "throughput": _ratio(ours["req_per_s"], theirs["req_per_s"]),
                    "p50_latency": _ratio(ours["p50_ms"], theirs["p50_ms"]),
                    "p95_latency": _ratio(ours["p95_ms"], theirs["p95_ms"]),
                }
    return out


def _fmt(value: Any, width: int) -> str:
    text = "–" if value is None else f"{value:,.1f}" if isinstance(value, float) else str(value)
    return text.rjust(width)


def render(report: dict[str, Any]) -> str:
    results, cfg = report["results"], report["config"]
    title = (f"{report['data']['triples']:,} triples · {cfg['clients']} clients · {cfg['rounds']} × {cfg['duration_s']:g} s"
             + (" · every text new" if cfg.get("fresh_texts") else "")
             + f" · {len(report['queries'])}-query mix · {cfg['cpus']} CPUs · pyoxigraph {cfg['pyoxigraph']} · {cfg['git']}")
    lines = [title, ""]
    head = (f"{'server':40} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'ok':>7} {'errors':>6} {'start s':>8}"
            f" {'RSS MB':>7} {'srv CPU ms/req':>14} {'load':>5} {'wrong':>5}")
    lines += [head, "-" * len(head)]
    for name, label in LABELS.items():
        label = label.replace("C threads", f"{cfg['clients']} threads")
        r = results.get(name)
        if r is None:
            continue
        if "total" not in r:
            lines.append(f"{label:40} {r.get('skipped') and 'skipped: ' + r['skipped'] or 'failed: ' + r['failed'][:80]}")
            continue
        t = r["total"]
        lines.append(f"{label:40} {_fmt(t['req_per_s'], 8)} {_fmt(t['p50_ms'], 8)} {_fmt(t['p95_ms'], 8)}"
                     f" {_fmt(t['ok'], 7)} {_fmt(t['errors'], 6)} {_fmt(r.get('startup_s'), 8)}"
                     f" {_fmt(r.get('server_rss_mb'), 7)} {_fmt(r.get('server_cpu_ms_per_req'), 14)}"
                     f" {_fmt(max(x[0] for x in r['loadavg_1min']), 5)} {_fmt(len(r.get('answer_mismatches', [])), 5)}")
    lines += [("(srv CPU = CPU of the server's processes per answered request; load = highest 1-min load average"
               " before a measured run; wrong = queries whose answer size differs from raw pyoxigraph's)"), ""]
    if cfg["rounds"] > 1:
        lines.append("req/s per round: " + "; ".join(f"{n} {', '.join(map(str, r['round_req_per_s']))}"
                                                    for n, r in results.items() if "total" in r))
    restarted = {n: r["server_processes_started_during_runs"] for n, r in results.items()
                 if r.get("server_processes_started_during_runs")}
    if restarted:
        lines.append(f"server processes started during measured runs (workers replaced): {restarted}")
    for key, r in report["ratios"].items():
        lines.append(f"{key.replace('_vs_', ' vs '):18}: throughput {r['throughput']}×, p50 latency {r['p50_latency']}×,"
                     f" p95 latency {r['p95_latency']}×")
    present = [n for n in LABELS if "total" in results.get(n, {})]
    lines += ["", "per query: p50 / p95 ms (requests ok, errors); ≠ = answer size differs from raw pyoxigraph's"]
    head = f"{'query':26}" + "".join(f" {n:>27}" for n in present)
    lines += [head, "-" * len(head)]
    reference = (results.get("raw") or results.get("raw1") or {}).get("verify", {})
    for q in report["queries"]:
        row = f"{q:26}"
        for n in present:
            s = results[n]["queries"].get(q, {})
            flag = "≠" if q in results[n].get("answer_mismatches", []) else ""
            cell = f"{_fmt(s.get('p50_ms'), 0)} / {_fmt(s.get('p95_ms'), 0)} ({s.get('ok', 0)},{s.get('errors', 0)}){flag}"
            row += f" {cell:>27}"
        lines.append(row)
    sizes = {q: reference.get(q, {}).get("size") for q in report["queries"]}
    lines += ["", "answer sizes (rows / boolean / triples): " + ", ".join(f"{q}={v}" for q, v in sizes.items())]
    return "\n".join(lines)


def git_state() -> str:
    """The commit measured, with "-dirty" when the work tree has changes (kg/ is edited in parallel)."""
    try:
        done = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() or "unknown"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--triples", type=lambda s: int(float(s)), default=100_000, help="N triples to generate")
    p.add_argument("--clients", type=int, default=4, help="concurrent keep-alive clients (C)")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds per server (D)")
    p.add_argument("--rounds", type=int, default=1,
                   help="measure every target this many times, interleaved (order rotated each round)")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds of load before each run")
    p.add_argument("--servers", default="raw1,raw,kg-base,kg,kg-warm,bare,rdflib",
                   help="which to run, comma-separated (raw1 = raw pyoxigraph with one thread; kg = the cache off, "
                        "kg-warm = the cache on, kg-base = the tree at --base-tree)")
    p.add_argument("--fresh-texts", action="store_true",
                   help="end every request's text with a comment of its own: nothing a server noted of a text "
                        "helps (kg's answers made in its own process, any cache)")
    p.add_argument("--queries", help="run only these queries of the mix (comma-separated names, or 'light': "
                                     + ", ".join(LIGHT) + ")")
    p.add_argument("--base-tree", type=Path, help="a checkout of kg to measure as kg-base (on PYTHONPATH)")
    p.add_argument("--rdflib-python", default=sys.executable,
                   help="the Python that has rdflib-endpoint (default: this one)")
    p.add_argument("--generator", type=Path, default=DEFAULT_GENERATOR, help="the shared gen_data.py")
    p.add_argument("--data-dir", type=Path, help="keep and reuse data here (e.g. bench/.data); default a temp dir")
    p.add_argument("--out", type=Path, help="write the JSON results here")
    p.add_argument("--show", type=Path, metavar="JSON", help="print the table of a saved --out file and exit")
    p.add_argument("--kg-workers", type=int, help="KG_WORKERS for kg serve (default: kg's own default)")
    p.add_argument("--request-timeout", type=float, default=120.0, help="client socket timeout, seconds")
    p.add_argument("--rdflib-max-triples", type=lambda s: int(float(s)), default=1_000_000,
                   help="skip rdflib-endpoint above this many triples")
    p.add_argument("--rdflib-start-timeout", type=float, default=600.0,
                   help="give up on rdflib-endpoint if loading takes longer (seconds)")
    args = p.parse_args(argv)
    if args.clients < 1 or args.duration <= 0 or args.rounds < 1:
        p.error("--clients and --rounds must be ≥ 1 and --duration > 0")
    if not args.generator.is_file():
        p.error(f"no generator at {args.generator}; give --generator PATH")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.show:
        print(render(json.loads(args.show.read_text())))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks stop the servers
    data_dir = (args.data_dir or Path(tempfile.mkdtemp(prefix="kg-bench-"))).resolve()  # servers run elsewhere
    try:
        print(f"data: {args.triples:,} triples under {data_dir}", file=sys.stderr, flush=True)
        data = prepare_data(args.triples, args.generator, data_dir)
        mix = query_mix(data["meta"])
        if args.queries:
            names = set(LIGHT) if args.queries == "light" else {q.strip() for q in args.queries.split(",")}
            unknown = names - {q.name for q in mix}
            if unknown:
                raise SystemExit(f"unknown query names: {', '.join(sorted(unknown))}; see bench/query_mix.py")
            mix = [q for q in mix if q.name in names]
        workdir = data_dir / "run"
        workdir.mkdir(exist_ok=True)
        results = run_servers(args, data, mix, workdir)
        check_answers(results)
    finally:
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    report = {
        "config": {"git": git_state(), "base_tree": str(args.base_tree) if args.base_tree else None, "triples_asked": args.triples, "clients": args.clients, "duration_s": args.duration, "rounds": args.rounds,
                   "warmup_s": args.warmup, "kg_workers": args.kg_workers or "kg default",
                   "fresh_texts": args.fresh_texts,
                   "cpus": os.cpu_count(), "python": platform.python_version(), "pyoxigraph": ox.__version__},
        "data": {"triples": data["meta"]["triples"], **{k: data[k] for k in ("generate_s", "load_s") if k in data}},
        "queries": {q.name: q.sparql for q in mix},
        "results": results,
    }
    report["ratios"] = ratios(results)
    publish(render(report), report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
