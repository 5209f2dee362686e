"""A score report for people: two small aligned tables, then what to fix.

The first table holds the measures that compare sets (gold, drafted, matched, precision,
recall, F1), the second the shares of gold items the draft got right; below them, every
quote that is not verbatim (``file:line``), and the draft's entities read as gold ones.
"""

from __future__ import annotations

from kg.draft.measures import OVERLAP_NEEDED, Overlap, Share
from kg.draft.score import FactScore, ScoreReport

__all__ = ["render_text"]


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    out = []
    for row in (header, *rows):
        cells = [row[0].ljust(widths[0]), *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True))]
        out.append("  ".join(cells).rstrip())
    return out


def _overlap(name: str, o: Overlap) -> tuple[str, ...]:
    return (name, str(o.gold), str(o.drafted), str(o.matched), _rate(o.precision), _rate(o.recall), _rate(o.f1))


def _share(name: str, s: Share) -> tuple[str, ...]:
    return (name, str(s.hits), str(s.total), _rate(s.rate))


def _qualifiers(name: str, f: FactScore) -> list[tuple[str, ...]]:
    return [_share(f"{name}: same {q}", s) for q, s in
            (("time", f.time), ("hedges", f.hedge), ("conditions", f.condition), ("all three", f.all))]


def render_text(report: ScoreReport) -> str:
    """The report as a person reads it (ends with a newline)."""
    lines = [
        f"draft  {report.draft}",
        f"gold   {report.gold}  (document {report.document})",
        f"A gold claim is found when a drafted quote covers at least {OVERLAP_NEEDED:.0%} of its characters in the",
        "document text (one drafted quote may find several); claim precision counts the drafted claims that",
        f"find one ({report.claims.to_json()['drafted_matched']} of {report.claims.drafted}).",
        "",
    ]
    lines += _table(("measure", "gold", "drafted", "matched", "precision", "recall", "F1"), [
        _overlap("claims (evidence)", report.claims),
        _overlap("entities the document names", report.entities_document),
        _overlap("entities of found claims", report.entities_partial),
        _overlap("stance facts", report.stances.triples),
        _overlap("all facts", report.facts.triples),
    ])
    lines.append("")
    lines += _table(("measure", "right", "of", "rate"), [
        _share("claimant of found claims", report.claimants),
        _share("found claims: same entities", report.entities_strict),
        *_qualifiers("stance facts in both", report.stances),
        *_qualifiers("all facts in both", report.facts),
        _share("gold hedges kept: on found claims", report.hedges_claims),
        _share("gold hedges kept: on facts in both", report.hedges_facts),
        _share("drafted quotes verbatim", report.quotes),
    ])
    lines += ["", f"quotes not verbatim: {len(report.not_verbatim)} (must be 0)"]
    lines += [f"  {u.location}: claim {u.claim!r}: {u.problem}" for u in report.not_verbatim]
    if report.renamed:
        lines.append("drafted entities read as gold ones: "
                     + ", ".join(f"{d} = {g}" for d, g in sorted(report.renamed.items())))
    if report.unmapped:
        lines.append("drafted entities the gold does not know: " + ", ".join(report.unmapped))
    return "\n".join(lines) + "\n"
