"""What writes cost, for this tree and a baseline tree side by side (run by hand).

    python bench/write_bench.py --sizes 5000 100000 --baseline /work/base
    python bench/write_bench.py --sizes 1000000 --http 300000 --baseline /work/base \\
        --shapes ../shared/bench-reference/shapes.ttl

Generates ``bench/.data/gen<N>.nt`` with the shared generator (as ``ingest_bench.py`` does),
then, for each size and for each tree (this one, and ``--baseline``, each run as a child
process with ``PYTHONPATH`` set to that tree), each in a child of its own so that its peak
memory is its own (``os.wait4``):

- *floor*: pyoxigraph ``bulk_load`` of the file into a named graph of a new store;
- *first ingest*: what ``kg ingest FILE --graph G`` does (in place, gate, union, receipt);
- *identical replace*: the same file into the same graph again (+0 −0; the store recognises
  the files the graph was read from);
- *recompare*: the same bytes from another path, and *turtle*: the same triples as Turtle
  (``gen<N>.ttl``), each replacing the graph (+0 −0): the first recognised by the files' record
  (N-Triples hold no relative IRI, so the path does not count), the second by the digest of
  their triples the record holds (``kg.write.records``);
- *shuffled*: the N-Triples lines in another order (the digest sorts them), and *one-less*: the
  same shuffled with one line left out (the digest differs: compared, −1), each written before
  the clock starts; only when asked for (``--kinds``);
- *insert data* / *modify*: ``--runs`` one-triple ``INSERT DATA`` and ``DELETE/INSERT … WHERE``
  touching one node (a claim's ``ex:confidence``), each through the gate; the median;
- *ingest, --shapes*: the first ingest checked against the given shapes instead of the
  project's (the generator's shapes target its data, and it holds about 1 % violations, so
  the write is refused: the time is the time to the verdict); with ``--shapes-as-warnings``
  once more with every shape a ``sh:Warning`` (the same checks, the write accepted).

With ``--http N``: ``kg serve`` of each tree on a free loopback port (its store built at
start, a token made for it), a Graph Store ``PUT`` and a ``POST`` of the N-triple file into
new graphs, and ``--runs`` one-triple ``POST``s (median); peak memory of the server process
(``VmHWM``). Prints a table with the ratios of this tree to the baseline, and the JSON.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TREE = HERE.parent
sys.path.insert(0, str(HERE))
from ingest_bench import data_file  # noqa: E402
from servers import ServerSpec, start  # noqa: E402

GRAPH = "https://w3id.org/negotiation-kg/id/graph/bench"
EX = "http://example.org/news#"
CLAIM = "http://example.org/id/claim/"


# -- in the child: one task, with the tree under test first on PYTHONPATH ------------------------

def _child(task: dict[str, Any]) -> dict[str, Any]:
    import pyoxigraph as ox

    path, store_dir = Path(task["file"]), Path(task["store"])
    if task["kind"] == "floor":
        start = time.perf_counter()
        raw = ox.Store(str(store_dir))
        raw.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(GRAPH))
        raw.flush()
        return {"seconds": time.perf_counter() - start}
    from rdflib import Graph

    from kg.errors import ValidationFailed
    from kg.formats import rdf_format_by_name
    from kg.store import EmbeddedStore
    from kg.write.apply import apply_write
    from kg.write.change import Change
    from kg.write.gate import project_shapes

    project_shapes()  # read once, outside the timings (a server reads them once too)
    shapes = Graph().parse(task["shapes"]) if task.get("shapes") else None
    if shapes is not None and task.get("warnings"):  # the same checks, none refusing: an accepted write
        from kg.namespaces import RDF, SH

        for shape in {*shapes.subjects(RDF.type, SH.NodeShape), *shapes.objects(None, SH.property)}:
            shapes.set((shape, SH.severity, SH.Warning))
    store = EmbeddedStore(store_dir)
    try:
        if task["kind"] in ("ingest", "replace", "recompare", "turtle", "shuffled", "one-less"):
            if task["kind"] == "recompare":  # the same bytes at another path
                path = store_dir.parent / f"copy-{path.name}"
                shutil.copyfile(task["file"], path)
            if task["kind"] in ("shuffled", "one-less"):  # other N-Triples: the same lines in another order, or one less
                lines = path.read_bytes().splitlines(keepends=True)
                random.Random(7).shuffle(lines)
                path = store_dir.parent / f"{task['kind']}-{path.name}"
                path.write_bytes(b"".join(lines[1:] if task["kind"] == "one-less" else lines))
                del lines
            fmt = "ntriples"
            if task["kind"] == "turtle":  # the same triples written as Turtle: compared
                path, fmt = path.with_suffix(".ttl"), "turtle"
            change = Change.from_files(GRAPH, [(path, rdf_format_by_name(fmt))], in_place=True)
            cpu, start = _cpu(), time.perf_counter()
            try:
                receipt = apply_write(store, change, agent="bench", source=None, shapes=shapes)
                outcome = f"+{receipt.added} -{receipt.removed}"
            except ValidationFailed as exc:
                outcome = f"refused ({len(exc.report.results)} results)"  # type: ignore[attr-defined]
            return {"seconds": time.perf_counter() - start, "cpu": _cpu() - cpu, "outcome": outcome}
        times = []
        for i in range(task["runs"]):
            if task["kind"] == "insert":
                text = f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <{CLAIM}{i}> <{EX}note> "bench note {i}" }} }}'
            else:
                text = (f'DELETE {{ GRAPH <{GRAPH}> {{ <{CLAIM}{i}> <{EX}confidence> ?v }} }} '
                        f'INSERT {{ GRAPH <{GRAPH}> {{ <{CLAIM}{i}> <{EX}confidence> 0.5 }} }} '
                        f'WHERE {{ GRAPH <{GRAPH}> {{ <{CLAIM}{i}> <{EX}confidence> ?v }} }}')
            start = time.perf_counter()
            apply_write(store, Change.sparql_update(text), agent="bench", source=None)
            times.append(time.perf_counter() - start)
        return {"seconds": statistics.median(times), "all": [round(t, 4) for t in times]}
    finally:
        store.close()


def _cpu() -> float:
    """CPU seconds of this process and of the processes it forked and waited for (on a shared
    machine the wall clock follows the other jobs; this does not)."""
    import resource

    own, forked = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + forked.ru_utime + forked.ru_stime


# -- in the parent ------------------------------------------------------------------------------

def _run_child(tree: Path, task: dict[str, Any]) -> dict[str, Any]:
    """Run one task in a child with ``tree`` first on PYTHONPATH; its answer and peak RSS."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("KG_")}, "PYTHONPATH": str(tree)}
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen([sys.executable, __file__, "--child", json.dumps(task)], env=env, cwd=tree,
                                   stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        err = process.stderr.read().decode(errors="replace") if process.stderr else ""
        out.seek(0)
        text = out.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{task['kind']} in {tree} failed:\n{err[-3000:]}")
    answer: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    answer["peak_mb"] = usage.ru_maxrss // 1024
    return answer


def _size_runs(trees: dict[str, Path], path: Path, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="kg-write-bench-"))
    try:
        task = {"file": str(path), "store": str(work / "floor")}
        results["floor"] = {"this": _run_child(TREE, {**task, "kind": "floor"})}
        for name, tree in trees.items():
            store = str(work / f"store-{name}")
            common = {"file": str(path), "store": store, "runs": args.runs}
            for kind in ("ingest", "replace", "recompare", "turtle", "shuffled", "one-less", "insert", "modify"):
                if kind not in args.kinds and kind != "ingest":
                    continue
                results.setdefault(kind, {})[name] = _run_child(tree, {**common, "kind": kind})
                print(f"  {path.name} {name} {kind}: {results[kind][name]}", file=sys.stderr, flush=True)
            shutil.rmtree(store, ignore_errors=True)
            if args.shapes and (name == "this" or args.baseline_shapes):
                gated = {**common, "store": str(work / f"shapes-{name}"), "kind": "ingest", "shapes": str(args.shapes)}
                results.setdefault("ingest, --shapes", {})[name] = _run_child(tree, gated)
                shutil.rmtree(gated["store"], ignore_errors=True)
                if args.shapes_as_warnings:
                    results.setdefault("ingest, --shapes as warnings", {})[name] = _run_child(tree, {**gated, "warnings": True})
                    shutil.rmtree(gated["store"], ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def _request(port: int, method: str, target: str, body: bytes, token: str) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    start = time.perf_counter()
    conn.request(method, target, body=body, headers={"Authorization": f"Bearer {token}",
                                                     "Content-Type": "application/n-triples"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, time.perf_counter() - start


def _vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def _http_runs(trees: dict[str, Path], path: Path, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    body = path.read_bytes()
    for name, tree in trees.items():
        work = Path(tempfile.mkdtemp(prefix="kg-write-bench-http-"))
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("KG_")}, "PYTHONPATH": str(tree),
               "KG_MAX_BODY_BYTES": str(len(body) * 2), "KG_CLIENT_QUERY_SECONDS": "0", "KG_WORKERS": "1"}
        kg = [sys.executable, "-c", "from kg.cli import main; main()", "--store", str(work / "store")]
        token = subprocess.run([*kg, "token", "create", "bench"], env=env, cwd=work, check=True,
                               capture_output=True, text=True).stdout.strip().splitlines()[-1]
        server = start(ServerSpec("kg", (*kg, "serve", "--host", "127.0.0.1", "--port", "{port}"), env, 600), work)
        try:
            server.wait_ready()
            for method, graph in (("PUT", "put"), ("POST", "post")):
                status, seconds = _request(server.port, method, f"/graph-store?graph={GRAPH}-{graph}", body, token)
                results.setdefault(f"graph store {method}", {})[name] = {"seconds": seconds, "status": status}
            times = []
            for i in range(args.runs):
                one = f'<{CLAIM}{i}> <{EX}note> "bench note {i}" .\n'.encode()
                status, seconds = _request(server.port, "POST", f"/graph-store?graph={GRAPH}-put", one, token)
                times.append(seconds)
            results.setdefault("graph store POST 1", {})[name] = {"seconds": statistics.median(times), "status": status}
            peak = _vm_hwm(server.process.pid)
            for kind in ("graph store PUT", "graph store POST", "graph store POST 1"):
                results[kind][name]["peak_mb"] = peak
        finally:
            server.stop()
        try:  # the reference: `kg ingest` of the same file into a new graph of the same store
            start_ingest = time.perf_counter()
            subprocess.run([*kg, "ingest", str(path), "--graph", f"{GRAPH}-ingest"], env=env, cwd=work, check=True,
                           capture_output=True)
            results.setdefault("kg ingest (same store)", {})[name] = {"seconds": time.perf_counter() - start_ingest}
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return results


def _table(size: str, results: dict[str, Any]) -> list[str]:
    lines = []
    for kind, by_tree in results.items():
        this, base = by_tree.get("this"), by_tree.get("baseline")
        cells = [size, kind]
        for r in (this, base):
            cells.append("" if r is None else f"{r['seconds']:.3f} s" + (f" ({r['cpu']:.1f} CPU-s)" if "cpu" in r else "") +
                         (f", {r['peak_mb']} MB" if "peak_mb" in r else "") +
                         (f" ({r['outcome']})" if "outcome" in r else ""))
        ratio = f"{this['seconds'] / base['seconds']:.3f}×" if this and base and base["seconds"] else ""
        cells.append(ratio)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[5000, 100000])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--baseline", type=Path, help="Another checkout of the project, run side by side.")
    parser.add_argument("--shapes", type=Path, help="Shapes for one more first ingest (the generator's shapes.ttl).")
    parser.add_argument("--kinds", nargs="*", default=["replace", "recompare", "turtle", "insert", "modify"],
                        help="Which of replace, recompare, turtle, shuffled, one-less, insert, modify to run "
                             "after the first ingest (default: all but shuffled and one-less).")
    parser.add_argument("--baseline-shapes", action="store_true",
                        help="Run the --shapes ingest in the baseline too (its gate walks every node: long).")
    parser.add_argument("--shapes-as-warnings", action="store_true",
                        help="One more --shapes ingest with every shape a sh:Warning: the time of an accepted write.")
    parser.add_argument("--http", type=int, help="Triples of the Graph Store PUT/POST through a real server.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
        return
    trees = {"this": TREE}
    if args.baseline:
        trees["baseline"] = args.baseline.resolve()
    if args.shapes:
        args.shapes = args.shapes.resolve()
    everything: dict[str, Any] = {}
    lines = ["| size | write | this tree | baseline | ratio |", "|---|---|---|---|---|"]
    for size in args.sizes:
        path = data_file(size)
        everything[str(size)] = _size_runs(trees, path, args)
        lines += _table(str(size), everything[str(size)])
    if args.http:
        path = data_file(args.http)
        everything[f"http {args.http}"] = _http_runs(trees, path, args)
        lines += _table(f"{args.http} (HTTP)", everything[f"http {args.http}"])
    print(json.dumps(everything, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
