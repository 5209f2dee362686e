"""SHACL validation as a result, not an exception, with text/Turtle/JSON/JUnit renderers.

The compiled engine (:mod:`kg.shacl`: SHACL Core as SPARQL on pyoxigraph, pyshacl for
what it does not compile) checks files, rdflib graphs or a store; non-conformance is an
ordinary :class:`ValidationReport` that callers render or turn into an exit code. pyshacl
alone stays available as the reference (``Engine.PYSHACL``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from xml.etree import ElementTree as ET

import pyoxigraph as ox
from pyshacl import validate as pyshacl_validate
from rdflib import Graph, Literal, Node, URIRef
from rdflib.collection import Collection as RDFList

from .errors import InputError, Location
from .namespaces import RDF, RDFS, SH, bind_prefixes
from .rdfio import graph_to_store, load_for_validation, quads_to_graph, read_graph, to_oxigraph_term, to_rdflib_term
from .resources import ontology_file, shape_files
from .shacl import ENGINE_PYSHACL, validate_oxigraph
from .shacl.incremental import touched_focus_candidates
from .shacl.literals import protect
from .shacl.model import ShapesGraph

__all__ = ["RENDERERS", "Engine", "Severity", "ValidationReport", "ValidationResult", "load_shapes", "validate_change", "validate_files", "validate_graph", "validate_store"]


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
    engine: str = "pyshacl"


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
        """True when a result is at least as severe as ``fail_on``."""
        order = list(Severity)
        limit = order.index(fail_on)
        return any(order.index(Severity(r.severity)) <= limit for r in self.results)


def _term(node: Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, URIRef):
        return str(node)
    if isinstance(node, Literal):
        return node.n3()
    return f"_:{node}"


def _path_text(graph: Graph, path: Node | None) -> str | None:
    """A SHACL path as SPARQL property-path text (sequence and alternative paths included)."""
    if path is None:
        return None
    if isinstance(path, URIRef):
        return f"<{path}>"
    if (path, RDF.first, None) in graph:
        return "/".join(_path_text(graph, p) or "?" for p in RDFList(graph, path))
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
        return "(" + "|".join(_path_text(graph, p) or "?" for p in RDFList(graph, alternatives)) + ")"
    return _term(path)


def _named_shape(shapes: Graph, shape: Node | None) -> str:
    """The named shape a result comes from: the shape itself, or the named node shape that
    holds a blank property shape (so reports can say "ClaimShape" rather than a blank node)."""
    seen: set[Node] = set()
    while shape is not None and not isinstance(shape, URIRef) and shape not in seen:
        seen.add(shape)
        shape = shapes.value(predicate=SH.property, object=shape) or shapes.value(predicate=SH.node, object=shape)
    return _term(shape) or ""


def load_shapes(paths: Iterable[Path] | None = None) -> Graph:
    """The shapes graph: the given files, or the project's own shapes."""
    files = list(paths) if paths is not None else shape_files()
    if not files:
        raise InputError("no shapes files found", location=Location("shapes/"))
    return read_graph(files)


class Engine(str, Enum):
    """Which validator runs: the compiled-SPARQL engine (pyshacl for what it does not
    compile), or pyshacl alone (the reference)."""

    AUTO = "auto"
    PYSHACL = "pyshacl"


def validate_graph(data: Graph, shapes: Graph | None = None, *, engine: Engine = Engine.AUTO) -> ValidationReport:
    """Validate ``data`` against ``shapes`` (default: the project's shapes)."""
    shapes = load_shapes() if shapes is None else shapes
    if engine is Engine.PYSHACL:
        conforms, report_graph, _ = pyshacl_validate(
            data, shacl_graph=shapes, inference="none", abort_on_first=False, allow_warnings=False, meta_shacl=False
        )
        engines = {str(s.node): ENGINE_PYSHACL for s in ShapesGraph(shapes).targeted()}
    else:
        outcome = validate_oxigraph(graph_to_store(data, convert=lambda t: protect(to_oxigraph_term(t))), shapes, rdflib_data=lambda: data)
        conforms, report_graph = outcome.conforms, outcome.graph
        engines = {str(node): name for node, name in outcome.engines.items()}
    return _report(bool(conforms), report_graph, shapes, lambda focus: data.value(focus, RDFS.label), engines)


def validate_store(
    store: ox.Store,
    shapes: Graph | None = None,
    *,
    focus: Collection[Node] | None = None,
    rdflib_data: Callable[[], Graph] | None = None,
    store_path: Path | None = None,
    processes: int = 1,
) -> ValidationReport:
    """Validate the default graph of a pyoxigraph store; ``focus`` limits the check to
    those focus nodes (what a change touched). pyshacl, for shapes the engine does not
    compile, gets ``rdflib_data()`` or, without it, a copy of the store's default graph."""
    shapes = load_shapes() if shapes is None else shapes
    data_copy = rdflib_data or (lambda: quads_to_graph(store.quads_for_pattern(None, None, None, ox.DefaultGraph())))
    outcome = validate_oxigraph(store, shapes, focus=focus, rdflib_data=data_copy, store_path=store_path, processes=processes)

    def label(focus_node: Node) -> Node | None:
        if not isinstance(focus_node, URIRef):
            return None
        found = next(iter(store.quads_for_pattern(ox.NamedNode(str(focus_node)), ox.NamedNode(str(RDFS.label)), None, ox.DefaultGraph())), None)
        return to_rdflib_term(found.object) if found is not None else None

    return _report(outcome.conforms, outcome.graph, shapes, label, {str(n): e for n, e in outcome.engines.items()})


def validate_change(
    store: ox.Store, changed: Iterable[ox.Triple | ox.Quad], shapes: Graph | None = None
) -> ValidationReport:
    """Validate the store after a change, looking only at the focus nodes the changed
    triples can affect (:mod:`kg.shacl.incremental`); the whole store when that cannot
    be bounded."""
    shapes = load_shapes() if shapes is None else shapes
    return validate_store(store, shapes, focus=touched_focus_candidates(store, changed, shapes))


#: above this many bytes of input, files are bulk-loaded into a temporary on-disk store
#: (bounded memory) rather than into memory
ON_DISK_BYTES = 64 * 1024 * 1024


def validate_files(paths: Iterable[Path], shapes: Graph | None = None) -> ValidationReport:
    """Validate RDF files: loaded into pyoxigraph (on disk past :data:`ON_DISK_BYTES`),
    checked by the compiled engine; an rdflib copy is read only if pyshacl must help."""
    files = list(paths)
    shapes = load_shapes() if shapes is None else shapes
    size = sum(p.stat().st_size for p in files if p.is_file())
    with tempfile.TemporaryDirectory(prefix="kg-validate-") as tmp:
        on_disk = size > ON_DISK_BYTES
        store = ox.Store(tmp) if on_disk else ox.Store()
        for path in files:
            load_for_validation(store, path)
        if on_disk:
            store.flush()
        return validate_store(
            store,
            shapes,
            rdflib_data=lambda: read_graph(files),
            store_path=Path(tmp) if on_disk else None,
            processes=min(2, os.cpu_count() or 1),
        )


def _report(
    conforms: bool, report_graph: Graph, shapes: Graph, label_of: Callable[[Node], Node | None], engines: dict[str, str]
) -> ValidationReport:
    """A :class:`ValidationReport` from a W3C report graph (either engine's)."""
    bind_prefixes(report_graph)
    results = []
    # Only the report's own results: those nested under sh:detail (from sh:node) are explanations.
    top_level = [r for report in report_graph.subjects(RDF.type, SH.ValidationReport) for r in report_graph.objects(report, SH.result)]
    for result in top_level:
        focus = report_graph.value(result, SH.focusNode)
        source = report_graph.value(result, SH.sourceShape)
        severity = report_graph.value(result, SH.resultSeverity)
        label = label_of(focus) if focus is not None else None
        node_shape = _named_shape(shapes, source)
        results.append(
            ValidationResult(
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                focus_node=_term(focus) or "",
                focus_label=str(label) if label is not None else None,
                path=_path_text(report_graph, report_graph.value(result, SH.resultPath)),
                value=_term(report_graph.value(result, SH.value)),
                source_shape=_term(source) or "",
                node_shape=node_shape,
                constraint_component=_term(report_graph.value(result, SH.sourceConstraintComponent)) or "",
                message="; ".join(sorted(str(m) for m in report_graph.objects(result, SH.resultMessage))),
                engine=engines.get(node_shape, engines.get(_term(source) or "", ENGINE_PYSHACL)),
            )
        )
    results.sort(key=lambda r: (r.node_shape, r.focus_node, r.path or "", r.value or ""))
    shape_names = sorted(
        {_named_shape(shapes, s) for s in shapes.subjects(RDF.type, SH.NodeShape)}
        | {_named_shape(shapes, s) for s in shapes.subjects(RDF.type, SH.PropertyShape)}
    )
    return ValidationReport(bool(conforms), results, report_graph, shape_names, engines)


# --------------------------------------------------------------------------- renderers


def render_text(report: ValidationReport) -> str:
    """Human-readable, grouped by shape."""
    if report.conforms:
        return "Conforms: yes (0 results)\n"
    lines = [f"Conforms: no ({len(report.results)} results)"]
    by_shape: dict[str, list[ValidationResult]] = defaultdict(list)
    for r in report.results:
        by_shape[r.node_shape].append(r)
    for shape, rows in by_shape.items():
        lines.append(f"\n{shape}  ({len(rows)})")
        for r in rows:
            focus = f"{r.focus_node} ({r.focus_label})" if r.focus_label else r.focus_node
            lines.append(f"  [{r.severity}] {focus}")
            if r.path:
                lines.append(f"    path:  {r.path}")
            if r.value:
                lines.append(f"    value: {r.value[:200]}")
            lines.append(f"    {r.message or r.constraint_component}")
    return "\n".join(lines) + "\n"


def render_turtle(report: ValidationReport) -> str:
    """The W3C ``sh:ValidationReport`` as Turtle."""
    return report.graph.serialize(format="turtle")


def render_json(report: ValidationReport) -> str:
    """Machine-readable JSON: conformance and one object per result."""
    return json.dumps({"conforms": report.conforms, "results": [asdict(r) for r in report.results]}, indent=2) + "\n"


def render_junit(report: ValidationReport) -> str:
    """JUnit XML: one test case per shape, one failure per result on that shape."""
    by_shape: dict[str, list[ValidationResult]] = defaultdict(list)
    for r in report.results:
        by_shape[r.node_shape].append(r)
    shapes = sorted(set(report.shapes) | set(by_shape))
    failures = sum(1 for s in shapes if by_shape.get(s))
    suite = ET.Element("testsuite", name="shacl", tests=str(len(shapes)), failures=str(failures), errors="0")
    for shape in shapes:
        case = ET.SubElement(suite, "testcase", classname="shacl", name=shape)
        for r in by_shape.get(shape, []):
            failure = ET.SubElement(
                case, "failure", type=r.constraint_component, message=f"{r.focus_node}: {r.message}"[:500]
            )
            failure.text = f"severity={r.severity}\nfocus={r.focus_node}\npath={r.path}\nvalue={r.value}\n"
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


RENDERERS = {"text": render_text, "turtle": render_turtle, "json": render_json, "junit": render_junit}


def ontology_for_validation() -> Graph:
    """The ontology, mixed into data so ``sh:targetClass`` reaches subclass instances."""
    return read_graph([ontology_file()])
