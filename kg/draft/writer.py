"""A draft → YAML in the annotation format, written whole or not at all.

The keys are those of ``data/annotations/<id>.yaml`` plus ``metadata:`` and ``draft:``
(:mod:`kg.build.drafted`), so ``kg add-document TEXT --annotations DRAFT`` publishes it
unchanged and a reviewer reads the changes to it in a diff. PyYAML writes the strings, so every
quote reads back exactly as the text has it (curly quotes, dashes and all).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from kg import __version__
from kg.draft.model import Draft, DraftClaim, DraftFact

__all__ = ["TOOL", "draft_yaml", "write_atomically"]

TOOL = "kg draft"


def _fact(fact: DraftFact) -> Any:
    triple = [fact.subject, fact.predicate, fact.object]
    extra: dict[str, Any] = {}
    if fact.time != "current":
        extra["time"] = fact.time
    if fact.time_words:
        extra["time-words"] = fact.time_words
    if fact.hedges:
        extra["hedge"] = list(fact.hedges)
    if fact.conditions:
        extra["condition"] = list(fact.conditions)
    if fact.date:
        extra["date"] = fact.date
    return {"fact": triple, **extra} if extra else triple


def _claim(claim: DraftClaim, text: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": claim.id, "kind": claim.kind, "claimant": claim.claimant, "quote": claim.quote}
    starts = [i for i in range(len(text)) if text.startswith(claim.quote, i)] if text.count(claim.quote) > 1 else []
    if starts:
        out["occurrence"] = starts.index(claim.start) + 1
    if claim.hedges:
        out["hedge"] = list(claim.hedges)
    if claim.about:
        out["about"] = list(claim.about)
    if claim.asserts:
        out["asserts"] = [_fact(f) for f in claim.asserts]
    est = claim.estimate
    if est is not None:
        block: dict[str, Any] = {"measure": est.measure}
        for key, value in (("value", est.value), ("min", est.min), ("max", est.max)):
            if value is not None:
                block[key] = value
        block["unit"] = est.unit
        if est.date:
            block["date"] = est.date
        if est.date_words:
            block["date-words"] = est.date_words
        if est.sources:
            block["source"] = list(est.sources)
        out["estimate"] = block
    return out


def draft_yaml(draft: Draft, text: str, *, created: str) -> str:
    """The draft as the YAML text of an annotation file."""
    metadata: dict[str, Any] = {"id": draft.document}
    if draft.title:
        metadata["title"] = draft.title
    if draft.author:
        metadata["author"] = draft.author
    if draft.date:
        metadata["datePublished"] = draft.date
    metadata["language"] = draft.language
    metadata["sha256"] = draft.sha256
    block: dict[str, Any] = {"tool": TOOL, "version": __version__, "method": draft.method, "created": created}
    if draft.not_found or draft.dropped:
        block["not-found"] = [*draft.not_found, *draft.dropped]
    data: dict[str, Any] = {"document": draft.document, "draft": block, "metadata": metadata}
    if draft.entities:
        data["entities"] = [{k: v for k, v in (("id", e.id), ("kind", e.kind), ("type", e.type), ("label", e.label),
                                               ("note", e.note)) if v} for e in draft.entities]
    data["claims"] = [_claim(c, text) for c in draft.claims]
    header = (f"# A draft by {TOOL} {__version__} ({draft.method}): proposed annotations, every quote verbatim.\n"
              "# Review every claim (claimant, kind, stances, hedges, conditions) before publishing;\n"
              "# remove the draft: block once the whole file has been reviewed (metadata: stays).\n")
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**9)


def write_atomically(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` whole or not at all: a temporary file beside it, then a rename."""
    folder = path.resolve().parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
