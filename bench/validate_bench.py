#!/usr/bin/env python3
"""SHACL validation benchmark: the compiled engine against plain pyshacl and a bulk load.

For each size N it generates corpus-shaped data with the shared generator
(``../shared/bench-reference/gen_data.py``, seed 42, about 1% injected violations) and
validates it against the shapes beside that generator (48 constraints), each target in
its own process so time and peak memory are its own:

* ``load``    — ``pyoxigraph.Store.bulk_load`` of the N-Triples into an on-disk store
                (the yardstick: the issue asks the engine to be no slower);
* ``kg``      — ``kg.validation.check.validate_files`` (load + compiled checks + report),
                with the settings ``kg validate`` would use (``KG_VALIDATE_MEMORY_MB``,
                ``KG_VALIDATE_TWIN``...);
* ``pyshacl`` — plain pyshacl on an rdflib Graph parsed from the same file (stopped after
                ``--pyshacl-timeout`` seconds and reported as "> T s").

It also checks that both validators give the same results where pyshacl finishes.

    python bench/validate_bench.py --sizes 100000 1000000 --data-dir bench/.data --out bench/.data/validate.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE = HERE.parent.parent / "shared" / "bench-reference"

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
kind, data, shapes_path, out = sys.argv[1:5]
result = {}
if kind == "load":
    import tempfile, pyoxigraph as ox
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        store = ox.Store(tmp)
        store.bulk_load(path=data, format=ox.RdfFormat.N_TRIPLES)
        store.flush()
        result["seconds"] = time.perf_counter() - t
elif kind == "kg":
    from rdflib import Graph
    from kg.config import load_settings
    from kg.validation.check import validate_files
    shapes = Graph().parse(shapes_path)
    settings = load_settings()  # as `kg validate` reads them (KG_VALIDATE_TWIN=1 turns the twin on)
    t = time.perf_counter()
    report = validate_files([Path(data)], shapes, memory_mb=settings.validate_memory_mb, twin=settings.validate_twin)
    result["seconds"] = time.perf_counter() - t
    result["twin"] = settings.validate_twin
    result["results"] = len(report.results)
    result["engines"] = sorted(set(report.engines.values()))
    result["keys"] = sorted({"|".join((r.focus_node, r.path or "", r.value or "", r.source_shape if not r.source_shape.startswith("_:") else r.node_shape + (r.path or ""), r.constraint_component)) for r in report.results})
elif kind == "pyshacl":
    from rdflib import Graph
    from pyshacl import validate
    data_graph = Graph().parse(data)
    shapes = Graph().parse(shapes_path)
    t = time.perf_counter()
    conforms, graph, _ = validate(data_graph, shacl_graph=shapes, inference="none", allow_warnings=False)
    result["seconds"] = time.perf_counter() - t
    from kg.validation.model import report_from_graph as _report
    report = _report(bool(conforms), graph, shapes, lambda f: None, {})
    result["results"] = len(report.results)
    result["keys"] = sorted({"|".join((r.focus_node, r.path or "", r.value or "", r.source_shape if not r.source_shape.startswith("_:") else r.node_shape + (r.path or ""), r.constraint_component)) for r in report.results})
result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
# the largest of the processes it started (kg's twin or query workers): with the main
# process's own peak, an upper bound on what the run held at once
result["children_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
Path(out).write_text(json.dumps(result))
"""


def _generate(n: int, data_dir: Path) -> Path:
    prefix = data_dir / f"gen{n}"
    target = prefix.with_suffix(".nt")
    if not target.exists():
        subprocess.run([sys.executable, str(REFERENCE / "gen_data.py"), str(n), str(prefix)], check=True, stdout=subprocess.DEVNULL)
    return target


def _run(kind: str, data: Path, shapes: Path, timeout: float) -> dict[str, object]:
    out = data.parent / f".{kind}-{data.stem}.json"
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-c", _CHILD, kind, str(data), str(shapes), str(out)], check=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "timeout": timeout}
    result: dict[str, object] = json.loads(out.read_text())
    result["wall_seconds"] = time.perf_counter() - started
    out.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--data-dir", type=Path, default=HERE / ".data")
    parser.add_argument("--shapes", type=Path, default=REFERENCE / "shapes.ttl")
    parser.add_argument("--pyshacl-timeout", type=float, default=600.0)
    parser.add_argument("--skip-pyshacl-above", type=int, default=1_000_000, help="do not start pyshacl above this size")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        data = _generate(n, args.data_dir)
        row: dict[str, object] = {"triples": n, "cpus": os.cpu_count()}
        row["load"] = _run("load", data, args.shapes, 3600)
        row["kg"] = _run("kg", data, args.shapes, 3600)
        if n <= args.skip_pyshacl_above:
            row["pyshacl"] = _run("pyshacl", data, args.shapes, args.pyshacl_timeout)
        kg, ps, load = row["kg"], row.get("pyshacl"), row["load"]
        assert isinstance(kg, dict) and isinstance(load, dict)
        if isinstance(ps, dict) and ps.get("keys") is not None:
            row["same_results"] = ps["keys"] == kg["keys"]
            row["speedup_vs_pyshacl"] = ps["seconds"] / kg["seconds"]  # type: ignore[operator]
        row["kg_over_load"] = kg["seconds"] / load["seconds"]  # type: ignore[operator]
        for part in ("kg", "pyshacl"):
            if isinstance(row.get(part), dict):
                row[part].pop("keys", None)  # type: ignore[union-attr]
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
