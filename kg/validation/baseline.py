"""Baselines: the results a project already knows about, so CI fails only on new ones.

A baseline file lists one fingerprint per line. A fingerprint hashes what identifies a
result across runs and edits of unrelated lines: the focus node, the path, the value, the
source shape and the constraint component. Blank nodes get new identifiers on every parse,
so they count as ``[]``; a blank-node property shape counts as its named parent shape plus
its path. Each line also carries the result in words, so a baseline reads well in a diff.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from kg.errors import InputError, Location
from kg.validation.model import ValidationReport, ValidationResult

__all__ = ["fingerprint", "read_baseline", "write_baseline", "apply_baseline", "baseline_text"]

_FINGERPRINT = re.compile(r"^[0-9a-f]{32}$")
_HEADER = "# kg validate baseline: known results, one per line (fingerprint, then shape, focus, path, component)\n"


def _stable(term: str | None) -> str:
    if term is None:
        return ""
    return "[]" if term.startswith("_:") else term


def _shape(result: ValidationResult) -> str:
    if not result.source_shape.startswith("_:"):
        return result.source_shape
    return f"{_stable(result.node_shape)} {result.path or ''}".strip()


def _identity(result: ValidationResult) -> tuple[str, str, str, str, str]:
    return (
        _stable(result.focus_node),
        result.path or "",
        _stable(result.value),
        _shape(result),
        result.constraint_component,
    )


def fingerprint(result: ValidationResult) -> str:
    """A stable 32-hex-digit identifier of ``result`` (see the module docstring)."""
    return hashlib.sha256("\t".join(_identity(result)).encode("utf-8")).hexdigest()[:32]


def baseline_text(results: Iterable[ValidationResult]) -> str:
    """The baseline file for ``results``: sorted, one line per distinct fingerprint."""
    lines = {}
    for r in results:
        focus, path, _, shape, component = _identity(r)
        lines[fingerprint(r)] = f"{shape}  {focus}  {path or '-'}  {component.rsplit('#', 1)[-1]}"
    return _HEADER + "".join(f"{key}  {words}\n" for key, words in sorted(lines.items(), key=lambda kv: (kv[1], kv[0])))


def write_baseline(report: ValidationReport, path: Path) -> None:
    """Write every result of ``report`` as known; :class:`InputError` when ``path`` cannot be written."""
    try:
        path.write_text(baseline_text(report.results), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the baseline: {exc.strerror}", location=Location(str(path))) from None


def read_baseline(path: Path) -> frozenset[str]:
    """The fingerprints in a baseline file; :class:`InputError` (exit 2) naming the file and line
    when it cannot be read or a line does not start with a fingerprint."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the baseline: {exc.strerror}", location=Location(str(path))) from None
    except UnicodeDecodeError:
        raise InputError("the baseline is not UTF-8 text", location=Location(str(path))) from None
    found = set()
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key = stripped.split()[0]
        if not _FINGERPRINT.match(key):
            raise InputError(
                f"not a baseline line (a 32-hex-digit fingerprint first, as --write-baseline writes): {stripped[:60]!r}",
                location=Location(str(path), number, 1),
            )
        found.add(key)
    return frozenset(found)


def apply_baseline(report: ValidationReport, known: frozenset[str]) -> ValidationReport:
    """The report with every result whose fingerprint is in ``known`` marked ``known``."""
    results = [dataclasses.replace(r, known=fingerprint(r) in known) for r in report.results]
    return dataclasses.replace(report, results=results)
