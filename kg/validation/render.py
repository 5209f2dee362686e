"""Validation reports for people and for CI: text, Turtle, JSON, JUnit XML and GitHub annotations.

Every renderer takes a :class:`~kg.validation.model.ValidationReport` and the ``fail_on`` severity of
the run, so what a CI view marks as failed is exactly what sets the exit code: results at
least that severe and not in the baseline. Known (baselined) results are still shown, as known.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import cast
from xml.etree import ElementTree as ET

import pyoxigraph as ox

from kg.namespaces import PREFIXES
from kg.rdfio import graph_to_triples
from kg.validation.baseline import fingerprint
from kg.validation.model import Severity, ValidationReport, ValidationResult, fails

__all__ = [
    "Renderer",
    "RENDERERS",
    "render",
    "render_text",
    "render_turtle",
    "render_json",
    "render_junit",
    "render_github",
]

Renderer = Callable[..., str]


def _counts(report: ValidationReport, fail_on: Severity) -> tuple[int, int]:
    """(results that fail the run, results in the baseline)."""
    failing = sum(1 for r in report.results if not r.known and fails(r, fail_on))
    return failing, sum(1 for r in report.results if r.known)


def _by_shape(results: list[ValidationResult]) -> dict[str, list[ValidationResult]]:
    groups: dict[str, list[ValidationResult]] = defaultdict(list)
    for r in results:
        groups[r.node_shape].append(r)
    return dict(sorted(groups.items()))


def _where(r: ValidationResult) -> str:
    if r.source_file is None:
        return ""
    return r.source_file if r.source_line is None else f"{r.source_file}:{r.source_line}"


def _short(iri: str) -> str:
    """The local name of an IRI, for titles: ``…/shapes#ClaimShape`` → ``ClaimShape``."""
    for sep in ("#", "/"):
        if sep in iri.rstrip(sep):
            return iri.rstrip(sep).rsplit(sep, 1)[-1]
    return iri


def _focus(r: ValidationResult) -> str:
    return f"{r.focus_node} ({r.focus_label})" if r.focus_label else r.focus_node


def render_text(report: ValidationReport, *, fail_on: Severity = Severity.VIOLATION) -> str:
    """For people: grouped by shape, each focus node with its label and the file:line to fix."""
    if report.conforms and not report.results:
        return "Conforms: yes (0 results)\n"
    failing, known = _counts(report, fail_on)
    head = f"Conforms: {'yes' if report.conforms else 'no'} ({len(report.results)} results"
    lines = [head + (f", {known} known from the baseline)" if known else ")")]
    for shape, rows in _by_shape(report.results).items():
        lines.append(f"\n{shape}  ({len(rows)})")
        for r in rows:
            tag = f"{r.severity}, known" if r.known else r.severity
            where = _where(r)
            lines.append(f"  [{tag}] {_focus(r)}" + (f"  {where}" if where else ""))
            if r.path:
                lines.append(f"    path:  {r.path}")
            if r.value:
                lines.append(f"    value: {r.value[:200]}")
            lines.append(f"    {r.message or r.constraint_component}")
    verdict = "the run fails" if failing else "the run passes"
    lines.append(f"\n{failing} new results at --fail-on {fail_on.value.lower()} or worse: {verdict}")
    return "\n".join(lines) + "\n"


def render_turtle(report: ValidationReport, *, fail_on: Severity = Severity.VIOLATION) -> str:
    """The W3C ``sh:ValidationReport`` as Turtle, as the validator wrote it (no baseline marks).

    Written by pyoxigraph: rdflib writes an ill-typed boolean such as ``"none"^^xsd:boolean``
    unquoted, which is not Turtle, and reports quote such values back.
    """
    triples = graph_to_triples(report.graph)
    used = {str(ns) for _, ns in report.graph.namespaces()}
    prefixes = {name: iri for name, iri in PREFIXES.items() if iri in used}
    # cast: pyoxigraph's stub says bytes | None for every call; without an output it returns the bytes
    return cast(bytes, ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes)).decode("utf-8")


def render_json(report: ValidationReport, *, fail_on: Severity = Severity.VIOLATION) -> str:
    """For programs: conformance, and per result every field plus its baseline fingerprint."""
    results = [{**asdict(r), "fingerprint": fingerprint(r)} for r in report.results]
    return json.dumps({"conforms": report.conforms, "results": results}, indent=2, ensure_ascii=False) + "\n"


def _result_text(r: ValidationResult) -> str:
    where = _where(r)
    return (
        f"severity={r.severity}{' (known)' if r.known else ''}\nfocus={_focus(r)}\npath={r.path}\nvalue={r.value}\n"
        f"component={r.constraint_component}\nmessage={r.message}\n" + (f"at={where}\n" if where else "")
    )


def render_junit(report: ValidationReport, *, fail_on: Severity = Severity.VIOLATION) -> str:
    """JUnit XML for CI test views: one test case per shape, one failure per failing focus node.

    Results that do not fail the run (below ``fail_on``, or known) go to the case's system-out.
    """
    groups = _by_shape(report.results)
    shapes = sorted(set(report.shapes) | set(groups))
    suite = ET.Element("testsuite", name="shacl", tests=str(len(shapes)), errors="0")
    failed_cases = 0
    for shape in shapes:
        case = ET.SubElement(suite, "testcase", classname="shacl", name=shape)
        rows = groups.get(shape, [])
        by_focus: dict[str, list[ValidationResult]] = defaultdict(list)
        quiet: list[ValidationResult] = []
        for r in rows:
            (by_focus[r.focus_node] if not r.known and fails(r, fail_on) else quiet).append(r)
        for focus_rows in by_focus.values():
            first = focus_rows[0]
            components = sorted({r.constraint_component for r in focus_rows})
            messages = "; ".join(sorted({r.message or _short(r.constraint_component) for r in focus_rows}))
            attributes = {"type": ", ".join(components), "message": f"{_focus(first)}: {messages}"[:500]}
            if first.source_file is not None:
                attributes["file"] = first.source_file
                if first.source_line is not None:
                    attributes["line"] = str(first.source_line)
                case.set("file", case.get("file", first.source_file))
            failure = ET.SubElement(case, "failure", attributes)
            failure.text = "\n".join(_result_text(r) for r in focus_rows)
        if by_focus:
            failed_cases += 1
        if quiet:
            ET.SubElement(case, "system-out").text = "\n".join(_result_text(r) for r in quiet)
    suite.set("failures", str(failed_cases))
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _repository_path(file: str) -> str:
    """GitHub places annotations by paths from the repository root (the working directory of
    the job): an absolute path inside it is made relative."""
    path = Path(file)
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return file
    return path.as_posix()


_COMMANDS = {Severity.VIOLATION.value: "error", Severity.WARNING.value: "warning", Severity.INFO.value: "notice"}


def render_github(report: ValidationReport, *, fail_on: Severity = Severity.VIOLATION) -> str:
    """GitHub Actions workflow commands: ``::error``/``::warning``/``::notice`` by severity, each
    on the file and line of the offending triple, so results show on the pull request's diff.
    Known results are notices."""
    lines = []
    for r in report.results:
        command = "notice" if r.known else _COMMANDS.get(r.severity, "error")
        component = _short(r.constraint_component).removesuffix("ConstraintComponent")
        title = f"{_short(r.node_shape)}: {component}" + (" (known)" if r.known else "")
        props = []
        if r.source_file is not None:
            props.append(f"file={_escape_property(_repository_path(r.source_file))}")
            if r.source_line is not None:
                props.append(f"line={r.source_line}")
        props.append(f"title={_escape_property(title)}")
        detail = f"{_focus(r)}" + (f" path {r.path}" if r.path else "") + (f" value {r.value[:200]}" if r.value else "")
        lines.append(f"::{command} {','.join(props)}::{_escape_data(f'{detail}: {r.message or r.constraint_component}')}")
    failing, known = _counts(report, fail_on)
    summary = f"SHACL: {len(report.results)} results, {known} known, {failing} failing at --fail-on {fail_on.value.lower()}"
    return "\n".join([*lines, summary]) + "\n"


RENDERERS: dict[str, Renderer] = {
    "text": render_text,
    "turtle": render_turtle,
    "json": render_json,
    "junit": render_junit,
    "github": render_github,
}


def render(report: ValidationReport, format_name: str, *, fail_on: Severity = Severity.VIOLATION) -> str:
    """``report`` in the format called ``format_name`` (a key of :data:`RENDERERS`)."""
    return RENDERERS[format_name](report, fail_on=fail_on)
