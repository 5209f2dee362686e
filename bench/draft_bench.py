"""Time per article of ``kg draft`` (rules backend) on the seed articles, and its score.

Run: ``PYTHONPATH=. python bench/draft_bench.py``. The gazetteer is entities.yaml only (labels
and aliases, never a curated claim). Prints seconds per article (best of 3, SHACL gate
included) and the measures of ``kg score`` against the curated annotations.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from kg.draft.drafter import draft_document
from kg.draft.gazetteer import Gazetteer
from kg.draft.score import score_draft
from kg.resources import default_corpus_dir

CORPUS = default_corpus_dir()


def main() -> None:
    gazetteer = Gazetteer.from_file(CORPUS / "annotations" / "entities.yaml")
    print(f"{'document':24} {'s/article':>9} {'claims R':>8} {'claimant':>8} {'stance F1':>9} {'verbatim':>8}")
    for text in sorted((CORPUS / "documents").glob("*.txt")):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            result = draft_document(text, gazetteer)
            times.append(time.perf_counter() - start)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "draft.yaml"
            path.write_text(result.yaml, encoding="utf-8")
            m = score_draft(path, CORPUS / "annotations" / f"{text.stem}.yaml", corpus=CORPUS).measures()
        print(f"{text.stem:24} {min(times):9.2f} {m['claims.recall']:8.3f} {m['claimants.rate']:8.3f} "
              f"{m['stances.f1']:9.3f} {m['quotes.rate']:8.3f}")


if __name__ == "__main__":
    main()
