"""Embedded store against Virtuoso, same machine, same data, through the ``Store`` interface.

Run by hand (no test runs it)::

    PYTHONPATH=. python bench/remote_bench.py --triples 1000000 --data-dir bench/.data

It measures, for each store:

1. **build**: ``build_into_store`` of the bundled corpus (build, SHACL gate, write);
2. **ingest**: ``kg.write.ingest.ingest_files`` of the generator's N-Triples file into one named
   graph — what ``kg ingest`` does: streamed into staging (the embedded store loads a new
   graph in place), through the SHACL gate, committed with a receipt;
3. **queries**: each query of ``query_mix.py``, run ``--repeat`` times through
   ``store.query`` and serialised to the format the mix asks for; the median, and the
   size of the answer (which must be the same for both stores).

Virtuoso is started from Debian's package the way the tests do (``tests/virtuoso.py``),
with a larger cache and transaction limit than the tests use, and stopped at the end.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "bench")]

from query_mix import TURTLE, query_mix  # noqa: E402
from virtuoso import VirtuosoServer, virtuoso_missing  # noqa: E402

from kg.build.dataset import build_into_store  # noqa: E402
from kg.config import load_settings  # noqa: E402
from kg.store import EmbeddedStore, RemoteStore  # noqa: E402
from kg.write.ingest import ingest_files  # noqa: E402

GENERATOR = REPO.parent / "shared" / "bench-reference" / "gen_data.py"
BENCH_GRAPH = URIRef("http://example.org/id/graph/bench")


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = action()
    return time.perf_counter() - start, value


def _data(triples: int, data_dir: Path) -> tuple[Path, dict[str, Any]]:
    data_dir.mkdir(parents=True, exist_ok=True)
    prefix = data_dir / f"remote-{triples}"
    if not Path(f"{prefix}.nt").is_file():
        subprocess.run([sys.executable, str(GENERATOR), str(triples), str(prefix)], check=True)
    return Path(f"{prefix}.nt"), json.loads(Path(f"{prefix}.meta.json").read_text(encoding="utf-8"))


def _answer_size(store: EmbeddedStore | RemoteStore, sparql: str, accept: str) -> tuple[int, int]:
    """(bytes written, rows/triples/boolean) of one run of the query."""
    outcome = store.query(sparql)
    out = io.BytesIO()
    outcome.serialize(out, format_name="turtle" if accept == TURTLE else "json")
    data = out.getvalue()
    if accept == TURTLE:
        size = len(Graph().parse(data=data, format="turtle"))
    else:
        parsed = json.loads(data)
        size = int(parsed["boolean"]) if "boolean" in parsed else len(parsed["results"]["bindings"])
    return len(data), size


def _measure(name: str, store: EmbeddedStore | RemoteStore, nt: Path, meta: dict[str, Any],
             repeat: int) -> dict[str, Any]:
    result: dict[str, Any] = {"store": name}
    result["build_s"], _ = _timed(lambda: build_into_store(store))
    result["ingest_s"], receipt = _timed(lambda: ingest_files(store, [nt], str(BENCH_GRAPH), agent="bench"))
    result["ingested"] = receipt.added
    result["queries"] = {}
    for q in query_mix(meta):
        _answer_size(store, q.sparql, q.accept)  # warm-up
        times, size = [], 0
        for _ in range(repeat):
            seconds, (_, size) = _timed(lambda q=q: _answer_size(store, q.sparql, q.accept))  # type: ignore[misc]
            times.append(seconds)
        result["queries"][q.name] = {"median_ms": round(statistics.median(times) * 1000, 1), "size": size}
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--triples", type=int, default=1_000_000)
    p.add_argument("--data-dir", type=Path, default=REPO / "bench" / ".data")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = p.parse_args()
    missing = virtuoso_missing()
    if missing:
        sys.exit(missing)

    nt, meta = _data(args.triples, args.data_dir)
    print(f"data: {nt} ({nt.stat().st_size / 1e6:.0f} MB)", flush=True)

    results = []
    with tempfile.TemporaryDirectory(prefix="kg-remote-bench-") as tmp:
        embedded = EmbeddedStore(Path(tmp) / "store")
        results.append(_measure("embedded", embedded, nt, meta, args.repeat))
        embedded.close()
        print(json.dumps(results[-1]), flush=True)

        server = VirtuosoServer(Path(tmp) / "virtuoso", buffers=340_000, after_image=2_000_000_000,
                                max_seconds=600)
        startup_s, _ = _timed(server.start)
        try:
            remote = RemoteStore(load_settings(store=server.sparql_url, environ={}, remote_timeout=600.0,
                                               query_timeout=600.0))
            results.append(_measure("virtuoso", remote, nt, meta, args.repeat))
            results[-1]["startup_s"] = round(startup_s, 1)
            remote.close()
            print(json.dumps(results[-1]), flush=True)
        finally:
            server.stop()

    embedded_r, remote_r = results
    print(f"\n{'':28}{'embedded':>12}{'virtuoso':>12}   (size)")
    for key in ("build_s", "ingest_s"):
        print(f"{key:28}{embedded_r[key]:>12.1f}{remote_r[key]:>12.1f}")
    for name, e in embedded_r["queries"].items():
        r = remote_r["queries"][name]
        same = "" if e["size"] == r["size"] else f"  DIFFERENT: {e['size']} vs {r['size']}"
        print(f"{name + ' ms':28}{e['median_ms']:>12.1f}{r['median_ms']:>12.1f}   ({e['size']}){same}")
    if args.out:
        args.out.write_text(json.dumps({"triples": embedded_r["ingested"], "results": results}, indent=2))


if __name__ == "__main__":
    main()
