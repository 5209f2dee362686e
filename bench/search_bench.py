"""Search on a large store: the FTS5 index of ``/search`` against a SPARQL regex FILTER.

Not part of the package; no test runs it. One command::

    python bench/search_bench.py --triples 1000000 [--data-dir bench/.data] [--runs 20] [--out result.json]

1. **Data.** The shared generator (``../shared/bench-reference/gen_data.py N PREFIX``,
   deterministic) writes N triples; its claims' ``ex:quote`` is renamed ``nkg:quote`` (the
   property the index reads; labels are ``rdfs:label`` already), and the result is bulk-loaded
   into a pyoxigraph store twice, as ``kg`` keeps it: in a named graph and in the default
   graph (the materialised union). Both are kept in ``--data-dir`` and reused.
2. **Index build.** :class:`kg.server.reading.search_index.SearchIndex` on that store, built
   from nothing (its file removed first), timed; and the entries it holds.
3. **Search.** Each search of :data:`SEARCHES` ``--runs`` times through the index
   (``SearchIndex.search``, 50 hits, ranked, highlighted), in turn with the same words as a
   SPARQL ``FILTER regex(…, "i")`` over every quote and label (what a store without an index
   must do; all matches, as ranking needs them) and the same with ``LIMIT 50``; p50 and p95 of
   each, side by side, and their ratio. The regex runs are fewer (``--regex-runs``) because each
   reads every literal.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from kg.namespaces import NKG, sparql_prologue  # noqa: E402
from kg.server.reading.search_index import FOLDER, SearchIndex  # noqa: E402
from kg.store import EmbeddedStore  # noqa: E402

DEFAULT_GENERATOR = REPO.parent / "shared" / "bench-reference" / "gen_data.py"
GRAPH = "http://example.org/id/graph/bench"
#: what a researcher types: a rare word, two common words, a phrase, a name, a prefix
SEARCHES = ("ceasefire", "sanctions embargo", "trade agreements", '"historic opportunity"', "Anna Berg",
            "referend")


def prepare(n: int, generator: Path, data_dir: Path) -> Path:
    """Generate (once) and load (once) N triples; the store's directory."""
    where = data_dir / f"search-n{n}"
    where.mkdir(parents=True, exist_ok=True)
    prefix = where / "data"
    if not Path(f"{prefix}.nt").exists():
        subprocess.run([sys.executable, str(generator.resolve()), str(n), str(prefix)], check=True,
                       stdout=subprocess.DEVNULL, timeout=3600)
    store_dir = where / "store"
    marker = where / "store.loaded"
    if not marker.exists():
        shutil.rmtree(store_dir, ignore_errors=True)
        renamed = where / "data-nkg.nt"
        with open(f"{prefix}.nt", encoding="utf-8") as src, renamed.open("w", encoding="utf-8") as out:
            for line in src:
                out.write(line.replace("<http://example.org/news#quote>", f"<{NKG.quote}>", 1))
        store = ox.Store(str(store_dir))
        for graph in (ox.NamedNode(GRAPH), ox.DefaultGraph()):
            store.bulk_load(path=str(renamed), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
        store.flush()
        del store
        renamed.unlink()
        marker.write_text("loaded\n")
    return store_dir


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def regex_query(text: str, *, limit: int | None) -> str:
    """Every quote or label holding each word of ``text`` (case-insensitive), as a store without
    an index must find them."""
    filters = " && ".join(f'regex(?v, "{w}", "i")' for w in _words(text))
    if text.startswith('"'):
        filters = f'regex(?v, "{" ".join(_words(text))}", "i")'
    return (sparql_prologue() + f"SELECT ?s ?v WHERE {{ {{ ?s nkg:quote ?v }} UNION {{ ?s rdfs:label ?v }} "
            f"UNION {{ ?s skos:altLabel ?v }} FILTER ({filters}) }}" + (f" LIMIT {limit}" if limit else ""))


def _timed(call: Any, runs: int) -> tuple[list[float], Any]:
    times, last = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        last = call()
        times.append((time.perf_counter() - t0) * 1000)
    return times, last


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--triples", type=int, default=1_000_000)
    p.add_argument("--data-dir", type=Path, help="keep and reuse data here; default a temp dir")
    p.add_argument("--generator", type=Path, default=DEFAULT_GENERATOR)
    p.add_argument("--runs", type=int, default=20, help="runs of each search through the index")
    p.add_argument("--regex-runs", type=int, default=3, help="runs of each regex query")
    p.add_argument("--out", type=Path, help="write the figures as JSON")
    args = p.parse_args(argv)
    data_dir = (args.data_dir or Path(tempfile.mkdtemp(prefix="kg-search-bench-"))).resolve()
    t0 = time.perf_counter()
    store_dir = prepare(args.triples, args.generator, data_dir)
    print(f"data ready in {time.perf_counter() - t0:.1f} s at {store_dir}", file=sys.stderr)
    shutil.rmtree(store_dir / FOLDER, ignore_errors=True)
    store = EmbeddedStore(store_dir, read_only=True)
    triples = int(next(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").solutions())["n"].value)
    index = SearchIndex(store)
    t0 = time.perf_counter()
    assert index.wait(3600), "the index was not built"
    build_s = time.perf_counter() - t0
    first = index.search("ceasefire", limit=50)
    rows: list[dict[str, Any]] = []
    for text in SEARCHES:
        fts, found = _timed(lambda: index.search(text, limit=50), args.runs)
        regex_all, matched = _timed(lambda: list(store.query(regex_query(text, limit=None)).solutions()),
                                    args.regex_runs)
        regex_50, _ = _timed(lambda: list(store.query(regex_query(text, limit=50)).solutions()), args.regex_runs)
        rows.append({"search": text, "hits": found.total, "every_word": not found.any_word, "regex_rows": len(matched),
                     "fts_p50_ms": statistics.median(fts), "fts_p95_ms": _p(fts, 0.95),
                     "regex_p50_ms": statistics.median(regex_all), "regex_limit50_p50_ms": statistics.median(regex_50)})
    store.close()
    report = {"triples": triples, "entries": first.entries, "build_s": round(build_s, 2),
              "index_bytes": sum(f.stat().st_size for f in (store_dir / FOLDER).glob("index-*.sqlite")),
              "searches": rows}
    print(f"{triples:,} triples · index of {first.entries:,} entries built in {build_s:.1f} s "
          f"({report['index_bytes'] / 1e6:.1f} MB on disk)")
    print(f"{'search':26} {'hits':>7} {'regex rows':>10} {'FTS p50':>9} {'FTS p95':>9} {'regex p50':>10} "
          f"{'regex LIMIT 50':>15} {'ratio':>7}")
    for r in rows:
        print(f"{r['search']:26} {r['hits']:>6}{' ' if r['every_word'] else '*'} {r['regex_rows']:>10} {r['fts_p50_ms']:>7.1f}ms {r['fts_p95_ms']:>7.1f}ms "
              f"{r['regex_p50_ms']:>8.0f}ms {r['regex_limit50_p50_ms']:>13.0f}ms "
              f"{r['regex_p50_ms'] / max(r['fts_p50_ms'], 1e-3):>6.0f}×")
    print("* no entry has every word: the hits have some of them")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
