"""What publishing the readers' view costs a writer (run by hand).

    python bench/views_bench.py [COMMITS] [--every N]

A writer opens a fresh store holding the project's corpus and commits ``COMMITS`` small
writes (ten triples replacing a graph) through :meth:`kg.store.EmbeddedStore.commit`, which
flushes and publishes a view (:mod:`kg.store.views`) after each. Every ``--every`` commits it
reports the median time of those publications and the size of the checkpoint's MANIFEST:
pyoxigraph's checkpoint copies RocksDB's MANIFEST, which grows with every flush until the
store is opened again, so a publication costs more the more commits the writer has made
since it opened the store. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

import kg.store.embedded as embedded
from kg.build.dataset import build_dataset
from kg.store import EmbeddedStore, GraphWrite, WriteMode
from kg.store.views import newest_view


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commits", type=int, nargs="?", default=3000)
    parser.add_argument("--every", type=int, default=500)
    args = parser.parse_args()
    times: list[float] = []
    real = embedded.publish_view

    def timed(store: ox.Store, path: Path) -> Path:
        start = time.perf_counter()
        view = real(store, path)
        times.append(time.perf_counter() - start)
        return view

    embedded.publish_view = timed  # type: ignore[assignment]
    workdir = Path(tempfile.mkdtemp(prefix="kg-views-bench-"))
    rows = []
    try:
        store = EmbeddedStore(workdir / "store")
        store.replace_graphs(build_dataset().graphs)
        p = ox.NamedNode("https://example.org/p")
        for i in range(1, args.commits + 1):
            triples = [ox.Triple(ox.NamedNode(f"https://example.org/s{j}"), p, ox.Literal(f"{i}-{j}")) for j in range(10)]
            store.commit([GraphWrite(f"https://example.org/g{i % 3}", WriteMode.REPLACE, (store.stage(triples),))])
            if i % args.every == 0:
                view = newest_view(store.path)
                manifest = sum(f.stat().st_size for f in view.glob("MANIFEST-*")) if view else 0
                rows.append({"commits": i, "publish_ms_median": round(statistics.median(times[-args.every:]) * 1000, 1),
                             "manifest_kb": manifest // 1024})
        store.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({"every": args.every, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
