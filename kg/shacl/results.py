"""What a validation reports: solutions turned into result rows, rows into a W3C report graph.

A compiled query answers with solutions (variable → pyoxigraph term); a result needs more
than a solution says: the shape's severity and messages, the path as the shapes graph
writes it, a default message where the shape has none. That work is kept apart from
planning (:mod:`kg.shacl.plan`) and running (:mod:`kg.shacl.run`) because rows are made
in many places — this process, a twin, the per-group processes of
:mod:`kg.shacl.scale.groups` — and one report is written from all of them
(:func:`report_of_parts`), with pyshacl's own results merged in for the shapes the engine
leaves to it.

The outcome is a W3C ``sh:ValidationReport`` graph, the same thing pyshacl produces.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Node, URIRef
from rdflib.namespace import XSD

from kg.errors import InputError
from kg.namespaces import RDF, RDFS, SH
from kg.rdfio import to_rdflib_term
from kg.shacl.compiler import Check
from kg.shacl.literals import restore
from kg.shacl.messages import default_message, fill_template
from kg.shacl.model import TARGET_PREDICATES, Constraint, Shape, ShapesGraph
from kg.shacl.scale.parallel import Solutions

__all__ = [
    "ENGINE_PYSHACL",
    "ENGINE_SPARQL",
    "FLAG",
    "EngineReport",
    "Row",
    "RowMaker",
    "check_rows",
    "conclude",
    "flagged_rows",
    "merge_pyshacl",
    "report_of_parts",
    "sparql_rows",
    "write_rows",
]

ENGINE_SPARQL = "sparql"
ENGINE_PYSHACL = "pyshacl"

#: the name (without ``?``) every flag variable of a merged pass starts with (:func:`flagged_rows`)
FLAG = "_flag"
_TRUE = ox.Literal(True)


@dataclass
class EngineReport:
    """The report graph, and which engine checked each shape (by shape node)."""

    graph: Graph
    conforms: bool
    engines: dict[Node, str] = field(default_factory=dict)
    unsupported: dict[Node, str] = field(default_factory=dict)


@dataclass
class Row:
    """One result, before it is written into the report graph."""

    shape: Shape
    component: URIRef
    focus: Node
    path: Node | None
    value: Node | None
    messages: list[Literal]
    source_constraint: Node | None = None


#: what turns the solutions of one job's query into result rows
RowMaker = Callable[[Solutions], list[Row]]


def _rdflib(term: object) -> Node:
    node = to_rdflib_term(restore(term))  # type: ignore[arg-type]
    if isinstance(node, Literal) and node.datatype == XSD.string:
        return Literal(str(node))
    return node


def check_rows(check: Check, solutions: Solutions) -> list[Row]:
    """The rows of a compiled check: a solution each, with the shape's own path unless the
    check binds one (an ``sh:closed`` result names the predicate it found)."""
    out: list[Row] = []
    for solution in solutions:
        value = solution.get(check.value[1:]) if check.value else None
        path = solution.get(check.path[1:]) if check.path else None
        out.append(
            Row(
                check.shape,
                check.constraint.component,
                _rdflib(solution["focus"]),
                _rdflib(path) if path is not None else check.shape.path,
                _rdflib(value) if value is not None else None,
                check.shape.messages,
            )
        )
    return out


def flagged_rows(flags: Sequence[str], makers: Sequence[RowMaker], solutions: Solutions) -> list[Row]:
    """The rows of checks that shared one pass: each check (``makers``, in the order of
    ``flags``, variables named without ``?``) gets the distinct solutions its own flag
    selects, without the flags, so its results are those of its own query."""
    out: list[Row] = []
    for flag, to_rows in zip(flags, makers):
        selected: dict[tuple[object, ...], dict[str, object]] = {}
        for solution in solutions:
            if solution.get(flag) == _TRUE:
                kept = {k: v for k, v in solution.items() if not k.startswith(FLAG)}
                selected.setdefault(tuple(sorted((k, str(v)) for k, v in kept.items())), kept)
        out.extend(to_rows(list(selected.values())))
    return out


def sparql_rows(shapes_graph: Graph, shape: Shape, constraint: Constraint, solutions: Solutions, focus: object | None = None) -> list[Row]:
    """The rows of a SPARQL constraint (SHACL 5.3.2): one per distinct solution, ``$this``
    taken from the solution or, pre-bound, from ``focus``; ``?path``, ``?value`` and
    ``?message`` when the query binds them, messages filled from the constraint's templates.
    A solution with ``?failure`` true is a failure of the validation, not a result."""
    templates = [m for m in shapes_graph.objects(constraint.value, SH.message) if isinstance(m, Literal)] or shape.messages
    rows: list[Row] = []
    seen: set[tuple[object, ...]] = set()
    for bound in solutions:
        if "failure" in bound and to_rdflib_term(bound["failure"]) == Literal(True):
            raise InputError(f"the SPARQL constraint of shape {shape.node} reported a failure")
        this = bound.get("this", focus)
        if this is None:
            continue
        key = tuple(sorted((k, str(v)) for k, v in bound.items()))
        if key in seen:
            continue
        seen.add(key)
        focus_node = _rdflib(this)
        path = _rdflib(bound["path"]) if isinstance(bound.get("path"), ox.NamedNode) else shape.path
        value = _rdflib(bound["value"]) if "value" in bound else (None if shape.path is not None else focus_node)
        terms = {k: _rdflib(v) for k, v in bound.items()}
        if "message" in bound:
            messages = [Literal(str(bound["message"]))]
        else:
            messages = [fill_template(t, terms) for t in templates]
        rows.append(Row(shape, SH.SPARQLConstraintComponent, focus_node, path, value, messages, constraint.value))
    return rows


def _report_node(report: EngineReport) -> Node:
    node = report.graph.value(predicate=RDF.type, object=SH.ValidationReport)
    if node is None:
        node = BNode()
        report.graph.add((node, RDF.type, SH.ValidationReport))
    return node


_PATH_PREDICATES = (SH.inversePath, SH.alternativePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath)


def _copy_path(shapes: Graph, target: Graph, node: Node) -> None:
    """Copy a blank-node path into the report graph: the path as the compiler read it (a
    list first, else its one path predicate), not every triple that happens to be on it."""
    if not isinstance(node, BNode):
        return
    if (node, RDF.first, None) in shapes:
        for p in (RDF.first, RDF.rest):
            value = shapes.value(node, p)
            if value is not None:
                target.add((node, p, value))
                _copy_path(shapes, target, value)
        return
    for p in _PATH_PREDICATES:
        value = shapes.value(node, p)
        if value is not None:
            target.add((node, p, value))
            _copy_path(shapes, target, value)
            return


def write_rows(report: EngineReport, shapes: ShapesGraph, rows: list[Row]) -> None:
    """Add each row to the report graph as an ``sh:ValidationResult`` (any row makes the
    report non-conforming)."""
    g = report.graph
    root = _report_node(report)
    defaults: dict[tuple[Node, Node], Literal] = {}
    for row in rows:
        result = BNode()
        report.conforms = False
        g.add((root, SH.result, result))
        g.add((result, RDF.type, SH.ValidationResult))
        g.add((result, SH.focusNode, row.focus))
        g.add((result, SH.resultSeverity, row.shape.severity))
        g.add((result, SH.sourceShape, row.shape.node))
        g.add((result, SH.sourceConstraintComponent, row.component))
        if row.source_constraint is not None:
            g.add((result, SH.sourceConstraint, row.source_constraint))
        if row.path is not None:
            g.add((result, SH.resultPath, row.path))
            _copy_path(shapes.graph, g, row.path)
        if row.value is not None:
            g.add((result, SH.value, row.value))
        if not row.messages and (row.component, row.shape.node) not in defaults:
            defaults[(row.component, row.shape.node)] = Literal(default_message(row.component, row.shape, shapes.graph))
        messages = row.messages or [defaults[(row.component, row.shape.node)]]
        for message in messages:
            g.add((result, SH.resultMessage, message))


def conclude(report: EngineReport) -> EngineReport:
    """The report with its ``sh:conforms`` written: the last step, once every result is in."""
    report.graph.add((_report_node(report), SH.conforms, Literal(report.conforms)))
    return report


def merge_pyshacl(report: EngineReport, shapes: ShapesGraph, fallback: list[Shape], data: Graph, focus: Collection[Node] | None) -> None:
    """Let pyshacl check the ``fallback`` shapes (every other shape's targets removed)."""
    from pyshacl import validate as pyshacl_validate

    keep = {s.node for s in fallback}
    reduced = Graph()
    for triple in shapes.graph:
        s, p, o = triple
        if s not in keep and (p in TARGET_PREDICATES or p == SH.target or (p == RDF.type and o == RDFS.Class)):
            continue
        reduced.add(triple)
    # pyshacl raises NotImplementedError for what it does not implement either
    # ($shapesGraph): callers that read shapes files turn it into an error naming them
    _, graph, text = pyshacl_validate(
        data, shacl_graph=reduced, inference="none", abort_on_first=False, allow_warnings=False, meta_shacl=False
    )
    if not isinstance(graph, Graph):  # pyshacl's ValidationFailure: the shapes break a SHACL rule
        raise InputError(f"the shapes cannot be used: {' '.join(str(text).split())}")
    root = _report_node(report)
    wanted = set(focus) if focus is not None else None
    for pyreport in graph.subjects(RDF.type, SH.ValidationReport):
        for result in graph.objects(pyreport, SH.result):
            if wanted is not None and graph.value(result, SH.focusNode) not in wanted:
                continue
            report.conforms = False
            report.graph.add((root, SH.result, result))
            _copy_tree(graph, report.graph, result)


def _copy_tree(source: Graph, target: Graph, node: Node) -> None:
    for p, o in source.predicate_objects(node):
        target.add((node, p, o))
        if isinstance(o, BNode) and p != SH.sourceShape:
            _copy_tree(source, target, o)


def report_of_parts(shapes_graph: Graph, parts: Iterable[list[Row]]) -> EngineReport:
    """The report of a whole validation from the rows of each of its parts
    (:func:`kg.shacl.run.validate_part`), written as each part comes (while later parts
    are checked)."""
    shapes = ShapesGraph(shapes_graph)
    report = EngineReport(Graph(), True, {shape.node: ENGINE_SPARQL for shape in shapes.targeted()})
    for rows in parts:
        write_rows(report, shapes, rows)
    return conclude(report)
