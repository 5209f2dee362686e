"""SHACL validation as a result, not an exception: the data model of a validation report.

pyshacl checks an rdflib graph against the shapes; non-conformance is an ordinary
:class:`ValidationReport` that callers render (:mod:`kg.report`) or turn into an exit code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from pyshacl import validate as pyshacl_validate
from rdflib import Graph, Literal, Node, URIRef
from rdflib.collection import Collection

from .errors import InputError, Location
from .namespaces import RDF, RDFS, SH, bind_prefixes
from .rdfio import read_graph
from .resources import ontology_file, shape_files

__all__ = ["Severity", "ValidationResult", "ValidationReport", "validate_graph", "load_shapes", "ontology_for_validation", "fails", "term_text", "path_text", "named_shape"]


class Severity(str, Enum):
    """SHACL severities, most severe first."""

    VIOLATION = "Violation"
    WARNING = "Warning"
    INFO = "Info"


@dataclass(frozen=True)
class ValidationResult:
    """One ``sh:ValidationResult``, with terms written as N-Triples-like strings."""

    severity: str
    focus_node: str
    focus_label: str | None
    path: str | None
    value: str | None
    source_shape: str
    node_shape: str
    constraint_component: str
    message: str
    #: the data file and 1-based line of the offending triple, when the data came from files
    source_file: str | None = None
    source_line: int | None = None
    #: which validator produced the result
    engine: str = "pyshacl"
    #: listed in the baseline: reported, but never fails a run
    known: bool = False


@dataclass
class ValidationReport:
    """The outcome of a validation: conformance, the results, and the W3C report graph."""

    conforms: bool
    results: list[ValidationResult]
    graph: Graph
    shapes: list[str]

    def failed(self, *, fail_on: Severity = Severity.VIOLATION) -> bool:
        """True when a result not in the baseline is at least as severe as ``fail_on``."""
        return any(not r.known and fails(r, fail_on) for r in self.results)


def fails(result: ValidationResult, fail_on: Severity) -> bool:
    """True when ``result`` is at least as severe as ``fail_on`` (known or not).

    A severity of the shapes' own (SHACL allows any IRI) counts as a violation.
    """
    order = list(Severity)
    try:
        severity = Severity(result.severity)
    except ValueError:
        severity = Severity.VIOLATION
    return order.index(severity) <= order.index(fail_on)


def _term(node: Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, URIRef):
        return str(node)
    if isinstance(node, Literal):
        return node.n3()
    return f"_:{node}"


def term_text(node: Node | None) -> str | None:
    """A term as results write it: an IRI as is, a literal in N-Triples form, a blank node as ``_:id``."""
    return _term(node)


def _path_text(graph: Graph, path: Node | None) -> str | None:
    """A SHACL path as SPARQL property-path text (sequence and alternative paths included)."""
    if path is None:
        return None
    if isinstance(path, URIRef):
        return f"<{path}>"
    if (path, RDF.first, None) in graph:
        return "/".join(_path_text(graph, p) or "?" for p in Collection(graph, path))
    for predicate, template in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "({})*"),
        (SH.oneOrMorePath, "({})+"),
        (SH.zeroOrOnePath, "({})?"),
    ):
        inner = graph.value(path, predicate)
        if inner is not None:
            return template.format(_path_text(graph, inner))
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(_path_text(graph, p) or "?" for p in Collection(graph, alternatives)) + ")"
    return _term(path)


def _named_shape(shapes: Graph, shape: Node | None) -> str:
    """The named shape a result comes from: the shape itself, or the named node shape that
    holds a blank property shape (so reports can say "ClaimShape" rather than a blank node)."""
    seen: set[Node] = set()
    while shape is not None and not isinstance(shape, URIRef) and shape not in seen:
        seen.add(shape)
        shape = shapes.value(predicate=SH.property, object=shape) or shapes.value(predicate=SH.node, object=shape)
    return _term(shape) or ""


def path_text(graph: Graph, path: Node | None) -> str | None:
    """A SHACL path in ``graph`` as results write it: SPARQL property-path text."""
    return _path_text(graph, path)


def named_shape(shapes: Graph, shape: Node | None) -> str:
    """The named shape a result is reported under: the shape, or the named shape holding a blank one."""
    return _named_shape(shapes, shape)


def load_shapes(paths: Iterable[Path] | None = None) -> Graph:
    """The shapes graph: the given files, or the project's own shapes."""
    files = list(paths) if paths is not None else shape_files()
    if not files:
        raise InputError("no shapes files found", location=Location("shapes/"))
    return read_graph(files)


def validate_graph(data: Graph, shapes: Graph | None = None) -> ValidationReport:
    """Validate ``data`` against ``shapes`` (default: the project's shapes)."""
    shapes = load_shapes() if shapes is None else shapes
    conforms, report_graph, _ = pyshacl_validate(
        data, shacl_graph=shapes, inference="none", abort_on_first=False, allow_warnings=False, meta_shacl=False
    )
    bind_prefixes(report_graph)
    results = []
    # Only the report's own results: those nested under sh:detail (from sh:node) are explanations.
    top_level = [r for report in report_graph.subjects(RDF.type, SH.ValidationReport) for r in report_graph.objects(report, SH.result)]
    for result in top_level:
        focus = report_graph.value(result, SH.focusNode)
        source = report_graph.value(result, SH.sourceShape)
        severity = report_graph.value(result, SH.resultSeverity)
        label = data.value(focus, RDFS.label) if focus is not None else None
        results.append(
            ValidationResult(
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                focus_node=_term(focus) or "",
                focus_label=str(label) if label is not None else None,
                path=_path_text(report_graph, report_graph.value(result, SH.resultPath)),
                value=_term(report_graph.value(result, SH.value)),
                source_shape=_term(source) or "",
                node_shape=_named_shape(shapes, source),
                constraint_component=_term(report_graph.value(result, SH.sourceConstraintComponent)) or "",
                message="; ".join(sorted(str(m) for m in report_graph.objects(result, SH.resultMessage))),
            )
        )
    results.sort(key=lambda r: (r.node_shape, r.focus_node, r.path or "", r.value or ""))
    shape_names = sorted(
        {_named_shape(shapes, s) for s in shapes.subjects(RDF.type, SH.NodeShape)}
        | {_named_shape(shapes, s) for s in shapes.subjects(RDF.type, SH.PropertyShape)}
    )
    return ValidationReport(bool(conforms), results, report_graph, shape_names)


def ontology_for_validation() -> Graph:
    """The ontology, mixed into data so ``sh:targetClass`` reaches subclass instances."""
    return read_graph([ontology_file()])
