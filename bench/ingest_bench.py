"""Ingest through the gate vs raw pyoxigraph ``bulk_load`` of the same file (run by hand).

    python bench/ingest_bench.py [TRIPLES] [--runs N] [--shapes FILE] [--staged]

Generates ``bench/.data/gen<TRIPLES>.nt`` with the shared generator
(``shared/bench-reference/gen_data.py``) if it is not there, then, ``--runs`` times each
(median reported), into a fresh store directory every time:

- *raw*: ``pyoxigraph.Store(dir).bulk_load(path, to_graph=G)`` and ``flush()``;
- *gated*: :func:`kg.write.ingest.ingest_files` — what ``kg ingest FILE --graph G`` does:
  load in place, SHACL gate, union copy, receipt and provenance, commit, the readers' view;
  with ``--staged``, the file is staged and copied into its graph by the commit instead
  (what in-place loading saves).

The project's shapes are the gate's shapes unless ``--shapes`` names others (the
generator's own ``shapes.ttl`` targets its data; pyshacl then needs minutes per 100k
triples — see the reference figures in ``shared/bench-reference/README.md``).
Prints one JSON object: timings, the ratio, and the stage times of the last gated run.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

HERE = Path(__file__).resolve().parent
GENERATOR = HERE.parents[1] / "shared" / "bench-reference" / "gen_data.py"
GRAPH = "https://w3id.org/negotiation-kg/id/graph/bench"


def data_file(triples: int) -> Path:
    out = HERE / ".data" / f"gen{triples}"
    path = out.with_suffix(".nt")
    if not path.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(GENERATOR), str(triples), str(out)], check=True, stdout=subprocess.DEVNULL)
    return path


def raw(path: Path, workdir: Path) -> float:
    start = time.perf_counter()
    store = ox.Store(str(workdir / "raw"))
    store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(GRAPH))
    store.flush()
    elapsed = time.perf_counter() - start
    del store
    return elapsed


def gated(path: Path, workdir: Path, shapes: Graph | None, *, staged: bool = False) -> tuple[float, dict[str, float], int]:
    from kg.formats import rdf_format_by_name
    from kg.store import EmbeddedStore
    from kg.write.apply import Change, apply_write

    stages: dict[str, float] = {}
    start = time.perf_counter()
    store = EmbeddedStore(workdir / "kg")
    change = Change.from_files(GRAPH, [(path, rdf_format_by_name("ntriples"))], in_place=not staged)
    receipt = apply_write(store, change, agent="bench", source=None, shapes=shapes,
                          on_stage=lambda name: stages.setdefault(name, time.perf_counter() - start))
    store.close()
    elapsed = time.perf_counter() - start
    stages["done"] = elapsed
    return elapsed, stages, receipt.added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("triples", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shapes", type=Path, help="Shapes for the gate (default: the project's).")
    parser.add_argument("--staged", action="store_true", help="Stage the file and copy it at commit instead of loading in place.")
    args = parser.parse_args()
    path = data_file(args.triples)
    shapes = Graph().parse(args.shapes) if args.shapes else None
    from kg.write.gate import project_shapes

    project_shapes()  # read the shapes once, outside the timings (a server reads them once too)
    raws, gates, stages, added = [], [], {}, 0
    for _ in range(args.runs):
        for kind in ("raw", "gated"):
            workdir = Path(tempfile.mkdtemp(prefix="kg-ingest-bench-"))
            try:
                if kind == "raw":
                    raws.append(raw(path, workdir))
                else:
                    elapsed, stages, added = gated(path, workdir, shapes, staged=args.staged)
                    gates.append(elapsed)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
    result = {
        "file": str(path.relative_to(HERE.parent)),
        "bytes": path.stat().st_size,
        "triples_added": added,
        "runs": args.runs,
        "raw_bulk_load_s": round(statistics.median(raws), 2),
        "gated_ingest_s": round(statistics.median(gates), 2),
        "ratio": round(statistics.median(gates) / statistics.median(raws), 2),
        "raw_all_s": [round(x, 2) for x in raws],
        "gated_all_s": [round(x, 2) for x in gates],
        "last_gated_stages_s": {k: round(v, 2) for k, v in stages.items()},
        "shapes": str(args.shapes) if args.shapes else "project shapes",
        "load": "staged, copied at commit" if args.staged else "in place",
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
