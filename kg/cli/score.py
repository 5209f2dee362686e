"""``kg score``: a draft measured against the curated annotations of the same document.

Scoring is :func:`kg.draft.score.score_draft`; this module parses the options, prints the
report (a table, or JSON for CI) and applies the ``--fail-under`` bars.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from kg.cli.common import KgCommand, errors, fail, output, settings
from kg.resources import default_corpus_dir

__all__ = ["score"]


def _bars(values: tuple[str, ...]) -> dict[str, float]:
    """``MEASURE=VALUE`` pairs, each value a ratio between 0 and 1."""
    out: dict[str, float] = {}
    for value in values:
        name, sep, number = value.partition("=")
        try:
            bar = float(number)
        except ValueError:
            bar = -1.0
        if not sep or not name or not 0.0 <= bar <= 1.0:
            raise click.BadParameter(f"{value!r} is not MEASURE=VALUE with VALUE between 0 and 1 "
                                     "(e.g. claims.recall=0.9)", param_hint="--fail-under")
        out[name.strip()] = bar
    return out


@click.command(cls=KgCommand)
@click.argument("draft", type=click.Path(path_type=Path))
@click.argument("gold", type=click.Path(path_type=Path))
@click.option("--text", "text", type=click.Path(path_type=Path), metavar="FILE",
              help="The document's text, for a document not in the corpus (default: documents/<id>.txt of the corpus).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="A table for people, or JSON (stable keys) for CI.")
@click.option("--fail-under", "fail_under", multiple=True, metavar="MEASURE=VALUE",
              help="Exit 1 when a measure (a dotted JSON key: claims.recall, stances.f1, quotes.rate, …) "
                   "is below VALUE; repeatable. A measure with nothing to measure (n/a) passes.")
@click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE instead of stdout (whole or not at all).")
@click.pass_context
def score(ctx: click.Context, draft: Path, gold: Path, text: Path | None, fmt: str, fail_under: tuple[str, ...],
          output_file: Path | None) -> None:
    """Measure a draft against the curated annotations (gold) of the same document.

    A gold claim is found when a drafted quote covers at least 50% of the gold quote's
    characters in the document text (one drafted quote may find several). Measures: claim
    evidence (precision, recall, F1), the claimants of found claims, the entities named, stance
    facts and all facts as triples with their qualifiers, gold hedges kept, and drafted quotes
    that are not verbatim (must be 0). The document's text is the one the gold's 'document:'
    names in the corpus, or --text FILE.

    Exit 0 scored; 1 a measure under its --fail-under bar; 2 unusable input (a missing file,
    not annotation YAML, a draft of another document, no text for the document), with the
    file and line.
    """
    from kg.draft.score import score_draft
    from kg.draft.score_text import render_text

    bars = _bars(fail_under)
    corpus = settings(ctx).corpus or default_corpus_dir()
    with errors():
        report = score_draft(draft, gold, corpus=corpus, text=text)
    measures = report.measures()
    unknown = sorted(set(bars) - set(measures))
    if unknown:
        raise click.BadParameter(f"unknown measure(s) {unknown}; known: {', '.join(measures)}",
                                 param_hint="--fail-under")
    body = json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n" if fmt == "json" else render_text(report)
    with output(output_file, binary=False) as out:
        out.write(body)
    under = [f"{name} {measures[name]:.3f} < {bar}" for name, bar in bars.items()
             if (value := measures[name]) is not None and value < bar]
    if under:
        raise fail("under the bar: " + "; ".join(under), 1)
