"""A validation report as data: results a renderer, a baseline or an exit code reads.

Non-conformance is a result, never an exception: :class:`ValidationReport` holds one
:class:`ValidationResult` per W3C ``sh:ValidationResult`` (either engine's), with its terms
written as text, the shape named for people, and the engine that found it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from rdflib import Graph, Literal, Node, URIRef
from rdflib.collection import Collection as RDFList
from rdflib.namespace import XSD

from kg.namespaces import RDF, SH, bind_prefixes
from kg.shacl import ENGINE_PYSHACL

__all__ = [
    "Severity",
    "ValidationReport",
    "ValidationResult",
    "fails",
    "named_shape",
    "path_text",
    "report_from_graph",
    "term_text",
]


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
    #: which engine checked each shape with targets (shape → "sparql" or "pyshacl")
    engines: dict[str, str] = field(default_factory=dict)

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


def term_text(node: Node | None) -> str | None:
    """A term as results write it: an IRI as is, a literal in N-Triples form, a blank node as ``_:id``."""
    if node is None:
        return None
    if isinstance(node, URIRef):
        return str(node)
    if isinstance(node, Literal):
        if node.datatype == XSD.string:  # RDF 1.1: "x" and "x"^^xsd:string are one term
            return Literal(str(node)).n3()
        return node.n3()
    return f"_:{node}"


def path_text(graph: Graph, path: Node | None) -> str | None:
    """A SHACL path in ``graph`` as results write it: SPARQL property-path text (sequence
    and alternative paths included)."""
    if path is None:
        return None
    if isinstance(path, URIRef):
        return f"<{path}>"
    if (path, RDF.first, None) in graph:
        return "/".join(path_text(graph, p) or "?" for p in RDFList(graph, path))
    for predicate, template in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "({})*"),
        (SH.oneOrMorePath, "({})+"),
        (SH.zeroOrOnePath, "({})?"),
    ):
        inner = graph.value(path, predicate)
        if inner is not None:
            return template.format(path_text(graph, inner))
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(path_text(graph, p) or "?" for p in RDFList(graph, alternatives)) + ")"
    return term_text(path)


def named_shape(shapes: Graph, shape: Node | None) -> str:
    """The named shape a result is reported under: the shape itself, or the named node shape that
    holds a blank property shape (so reports can say "ClaimShape" rather than a blank node)."""
    seen: set[Node] = set()
    while shape is not None and not isinstance(shape, URIRef) and shape not in seen:
        seen.add(shape)
        shape = shapes.value(predicate=SH.property, object=shape) or shapes.value(predicate=SH.node, object=shape)
    return term_text(shape) or ""


_RESULT_FIELDS = frozenset(
    {SH.focusNode, SH.sourceShape, SH.resultSeverity, SH.resultPath, SH.value, SH.sourceConstraintComponent, SH.resultMessage}
)


def report_from_graph(
    conforms: bool, report_graph: Graph, shapes: Graph, label_of: Callable[[Node], Node | None], engines: dict[str, str]
) -> ValidationReport:
    """A :class:`ValidationReport` from a W3C report graph (either engine's)."""
    bind_prefixes(report_graph)
    results = []
    # Only the report's own results: those nested under sh:detail (from sh:node) are explanations.
    top_level = [r for report in report_graph.subjects(RDF.type, SH.ValidationReport) for r in report_graph.objects(report, SH.result)]
    # one pass over the report graph rather than a lookup per field (large reports have
    # tens of thousands of results)
    fields: dict[Node, dict[Node, list[Node]]] = {r: {} for r in top_level}
    for subject, predicate, obj in report_graph:
        found = fields.get(subject)
        if found is not None and predicate in _RESULT_FIELDS:
            found.setdefault(predicate, []).append(obj)
    named: dict[Node | None, str] = {}
    paths: dict[Node | None, str | None] = {}
    for result in top_level:
        own = fields[result]
        first = {predicate: values[0] for predicate, values in own.items()}
        focus, source, severity, path = (first.get(p) for p in (SH.focusNode, SH.sourceShape, SH.resultSeverity, SH.resultPath))
        label = label_of(focus) if focus is not None else None
        if source not in named:
            named[source] = named_shape(shapes, source)
        node_shape = named[source]
        if path not in paths:
            paths[path] = path_text(report_graph, path)
        results.append(
            ValidationResult(
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                focus_node=term_text(focus) or "",
                focus_label=str(label) if label is not None else None,
                path=paths[path],
                value=term_text(first.get(SH.value)),
                source_shape=term_text(source) or "",
                node_shape=node_shape,
                constraint_component=term_text(first.get(SH.sourceConstraintComponent)) or "",
                message="; ".join(sorted(str(m) for m in own.get(SH.resultMessage, []))),
                engine=engines.get(node_shape, engines.get(term_text(source) or "", ENGINE_PYSHACL)),
            )
        )
    results.sort(key=lambda r: (r.node_shape, r.focus_node, r.path or "", r.value or ""))
    shape_names = sorted(
        {named_shape(shapes, s) for s in shapes.subjects(RDF.type, SH.NodeShape)}
        | {named_shape(shapes, s) for s in shapes.subjects(RDF.type, SH.PropertyShape)}
    )
    return ValidationReport(bool(conforms), results, report_graph, shape_names, engines)
