"""SHACL-SPARQL constraints (``sh:sparql``) run by pyoxigraph, with SHACL's pre-binding.

SHACL pre-binds ``$this``, ``$shapesGraph`` and ``$currentShape`` everywhere in a constraint's
query, nested groups included (SHACL 5.2.1). pyshacl hands ``$this`` to rdflib as an initial
binding, which a ``FILTER`` in a nested group does not see, and does not offer ``$shapesGraph``
at all. Here every group of the query starts by binding each pre-bound variable to its value
(through a function of the query, so blank nodes of the data work too); the syntax rules that
:mod:`kg.shapes_check` enforces (no MINUS, VALUES, SERVICE, no re-binding, subqueries that
return ``$this``) are what make that the same as substituting the value. The shapes graph is a
named graph of the store, so ``GRAPH $shapesGraph { … }`` reads it.

The constraints of shapes that are validated on their own (node shapes, and their property
shapes) run here; a shape reached through ``sh:node``, ``sh:not``, ``sh:and``/``sh:or``/
``sh:xone`` or ``sh:qualifiedValueShape`` is part of another shape's check and keeps its
constraints in pyshacl, with everything else. Results carry ``engine="pyoxigraph-sparql"``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Node, URIRef
from rdflib.collection import Collection

from .errors import InputError
from .namespaces import OWL, RDF, RDFS, SH
from .rdfio import to_oxigraph_term, to_rdflib_term
from .validate import ValidationReport, ValidationResult, named_shape, path_text, term_text, validate_graph

__all__ = ["ENGINE", "SparqlConstraint", "validate_with_sparql", "own_constraints", "pre_bind"]

ENGINE = "pyoxigraph-sparql"

#: the named graph the shapes are loaded into, for ``$shapesGraph``
_SHAPES_GRAPH = "urn:x-kg:shapes-graph"
_PREBOUND = ("this", "shapesGraph", "currentShape")
_FUNCTION = "urn:x-kg:pre-bound#"


@dataclass(frozen=True)
class SparqlConstraint:
    """One ``sh:sparql`` constraint of a shape, with the shape's path when it is a property shape."""

    shape: Node
    constraint: Node
    #: the property shape's path, None for a node shape
    path: Node | None


# --------------------------------------------------------------------------- which constraints


def _list(shapes: Graph, head: Node) -> list[Node]:
    return list(Collection(shapes, head)) if (head, RDF.first, None) in shapes or head == RDF.nil else []


def _nested_shapes(shapes: Graph) -> set[Node]:
    """Shapes checked as part of another shape (and their property shapes)."""
    nested: set[Node] = set()
    for p in (SH.node, SH["not"], SH.qualifiedValueShape):
        nested.update(shapes.objects(None, p))
    for p in (SH["and"], SH["or"], SH.xone):
        for head in shapes.objects(None, p):
            nested.update(_list(shapes, head))
    todo = list(nested)
    while todo:
        for child in shapes.objects(todo.pop(), SH.property):
            if child not in nested:
                nested.add(child)
                todo.append(child)
    return nested


def _active(shapes: Graph, node: Node) -> bool:
    return not any(str(v) == "true" for v in shapes.objects(node, SH.deactivated))


def own_constraints(shapes: Graph) -> list[SparqlConstraint]:
    """The ``sh:sparql`` constraints of shapes validated on their own, which run here."""
    nested = _nested_shapes(shapes)
    out = []
    for shape, constraint in sorted(shapes.subject_objects(SH.sparql)):
        if shape in nested:
            continue
        out.append(SparqlConstraint(shape, constraint, shapes.value(shape, SH.path)))
    return out


# --------------------------------------------------------------------------- queries


def _prefixes(shapes: Graph, constraint: Node) -> str:
    """PREFIX lines from ``sh:prefixes/owl:imports*/sh:declare``."""
    lines = {}
    seen: set[Node] = set()
    todo = list(shapes.objects(constraint, SH.prefixes))
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for declaration in shapes.objects(node, SH.declare):
            prefix, namespace = shapes.value(declaration, SH.prefix), shapes.value(declaration, SH.namespace)
            if prefix is not None and namespace is not None:
                lines[str(prefix)] = f"PREFIX {prefix}: <{namespace}>\n"
        todo.extend(shapes.objects(node, OWL.imports))
    return "".join(lines[k] for k in sorted(lines))


def _path_sparql(shapes: Graph, path: Node) -> str:
    """A SHACL path as a SPARQL property path (for ``$PATH``)."""
    if isinstance(path, URIRef):
        return f"<{path}>"
    if (path, RDF.first, None) in shapes:
        return "(" + "/".join(_path_sparql(shapes, p) for p in _list(shapes, path)) + ")"
    for predicate, template in (
        (SH.inversePath, "^{}"), (SH.zeroOrMorePath, "{}*"), (SH.oneOrMorePath, "{}+"), (SH.zeroOrOnePath, "{}?"),
    ):
        inner = shapes.value(path, predicate)
        if inner is not None:
            return "(" + template.format(_path_sparql(shapes, inner)) + ")"
    alternatives = shapes.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(_path_sparql(shapes, p) for p in _list(shapes, alternatives)) + ")"
    raise InputError(f"not a SHACL path: {term_text(path)}")


_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''  # long strings
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''  # strings
    r"|<[^<>\"{}|^`\\\s]*>"  # IRIs
    r"|#[^\n]*"  # comments
    r"|\{"
)
_SELECT_NEXT = re.compile(r"\s*(?:#[^\n]*\n\s*)*SELECT\b", re.IGNORECASE)


def pre_bind(query: str, variables: list[str]) -> str:
    """``query`` with every group starting with ``BIND(fn() AS ?var)`` for each pre-bound
    variable (not the brace of a subquery, whose own WHERE group gets them)."""
    binds = " ".join(f"BIND(<{_FUNCTION}{v}>() AS ?{v})" for v in variables)
    out, last = [], 0
    for match in _TOKENS.finditer(query):
        if match.group() != "{":
            continue
        out.append(query[last : match.end()])
        last = match.end()
        if not _SELECT_NEXT.match(query, match.end()):
            out.append(f" {binds} ")
    out.append(query[last:])
    return "".join(out)


# --------------------------------------------------------------------------- focus nodes


def _focus_nodes(store: ox.Store, shapes: Graph, shape: Node) -> Iterator[ox.NamedNode | ox.BlankNode | ox.Literal]:
    seen: set[object] = set()

    def once(terms: Iterator[object]) -> Iterator[ox.NamedNode | ox.BlankNode | ox.Literal]:
        for term in terms:
            if term not in seen:
                seen.add(term)
                yield term  # type: ignore[misc]

    yield from once(to_oxigraph_term(n) for n in shapes.objects(shape, SH.targetNode))
    classes = list(shapes.objects(shape, SH.targetClass))
    if isinstance(shape, URIRef) and ((shape, RDF.type, RDFS.Class) in shapes or (shape, RDF.type, OWL.Class) in shapes):
        classes.append(shape)
    rdf_type, sub_class = f"<{RDF.type}>", f"<{RDFS.subClassOf}>"
    for cls in classes:
        query = f"SELECT DISTINCT ?n WHERE {{ ?n {rdf_type}/{sub_class}* <{cls}> }}"
        yield from once(s["n"] for s in store.query(query))  # type: ignore[union-attr,index]
    for predicate in shapes.objects(shape, SH.targetSubjectsOf):
        yield from once(s["n"] for s in store.query(f"SELECT DISTINCT ?n WHERE {{ ?n <{predicate}> ?o }}"))  # type: ignore[union-attr,index]
    for predicate in shapes.objects(shape, SH.targetObjectsOf):
        yield from once(s["n"] for s in store.query(f"SELECT DISTINCT ?n WHERE {{ ?s <{predicate}> ?n }}"))  # type: ignore[union-attr,index]


def _focus_of(store: ox.Store, shapes: Graph, shape: Node) -> Iterator[ox.NamedNode | ox.BlankNode | ox.Literal]:
    """The focus nodes of a shape: its own targets, and for a property shape those of the
    (active) node shapes that hold it."""
    seen: set[object] = set()
    owners = [shape, *(s for s in shapes.subjects(SH.property, shape) if _active(shapes, s))]
    for owner in owners:
        for focus in _focus_nodes(store, shapes, owner):
            if focus not in seen:
                seen.add(focus)
                yield focus


# --------------------------------------------------------------------------- running


def _text(term: object) -> str:
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.NamedNode):
        return term.value
    return str(term)


def _messages(shapes: Graph, constraint: Node, solution: ox.QuerySolution, variables: list[str]) -> list[Literal]:
    bound = {v: solution[v] for v in variables if solution[v] is not None}
    if "message" in bound:
        return [to_rdflib_term(bound["message"])]  # type: ignore[list-item]
    out = []
    for message in shapes.objects(constraint, SH.message):
        text = re.sub(r"\{[?$](\w+)\}", lambda m: _text(bound[m.group(1)]) if m.group(1) in bound else m.group(0), str(message))
        out.append(Literal(text, lang=message.language, datatype=message.datatype) if isinstance(message, Literal) else Literal(text))
    return out


def _copy_path(shapes: Graph, path: Node, out: Graph) -> Node:
    if not isinstance(path, BNode):
        return path
    copy = BNode()
    for p, o in shapes.predicate_objects(path):
        out.add((copy, p, _copy_path(shapes, o, out)))
    return copy


def _check(store: ox.Store, shapes: Graph, data: Graph, item: SparqlConstraint, report: Graph, node: Node) -> list[ValidationResult]:
    query_text = shapes.value(item.constraint, SH.select)
    if query_text is None or not _active(shapes, item.constraint) or not _active(shapes, item.shape):
        return []
    query = str(query_text)
    if item.path is not None:
        query = re.sub(r"\$PATH\b", lambda _: _path_sparql(shapes, item.path), query)  # type: ignore[arg-type]
    variables = [v for v in _PREBOUND if re.search(rf"[?$]{v}\b", query)]
    query = _prefixes(shapes, item.constraint) + pre_bind(query, variables)
    severity = shapes.value(item.shape, SH.severity) or SH.Violation
    shape_term = to_oxigraph_term(item.shape)
    results = []
    for focus in _focus_of(store, shapes, item.shape):
        values = {"this": focus, "shapesGraph": ox.NamedNode(_SHAPES_GRAPH), "currentShape": shape_term}
        functions = {ox.NamedNode(_FUNCTION + v): (lambda t=values[v]: t) for v in variables}
        try:
            solutions = store.query(query, custom_functions=functions)
        except SyntaxError as exc:
            raise InputError(f"the SPARQL constraint {term_text(item.constraint)} of {term_text(item.shape)} does not parse: {exc}") from None
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        for solution in solutions:
            failure = solution["failure"] if "failure" in names else None
            if failure is not None and _text(failure) == "true":
                raise InputError(f"the SPARQL constraint {term_text(item.constraint)} reported a failure on {focus}")
            result = BNode()
            report.add((node, SH.result, result))
            report.add((result, RDF.type, SH.ValidationResult))
            focus_node = to_rdflib_term(focus)
            report.add((result, SH.focusNode, focus_node))
            path: Node | None = item.path
            if path is None and "path" in names and isinstance(solution["path"], ox.NamedNode):
                path = URIRef(solution["path"].value)
            if path is not None:
                report.add((result, SH.resultPath, _copy_path(shapes, path, report)))
            value: Node | None = to_rdflib_term(solution["value"]) if "value" in names and solution["value"] is not None else None
            if value is None and item.path is None:
                value = focus_node
            if value is not None:
                report.add((result, SH.value, value))
            report.add((result, SH.resultSeverity, severity))
            report.add((result, SH.sourceShape, item.shape))
            report.add((result, SH.sourceConstraint, item.constraint))
            report.add((result, SH.sourceConstraintComponent, SH.SPARQLConstraintComponent))
            messages = _messages(shapes, item.constraint, solution, names)
            for message in messages:
                report.add((result, SH.resultMessage, message))
            label = data.value(focus_node, RDFS.label)
            results.append(
                ValidationResult(
                    severity=str(severity).rsplit("#", 1)[-1],
                    focus_node=term_text(focus_node) or "",
                    focus_label=str(label) if label is not None else None,
                    path=path_text(shapes, path),
                    value=term_text(value),
                    source_shape=term_text(item.shape) or "",
                    node_shape=named_shape(shapes, item.shape),
                    constraint_component=str(SH.SPARQLConstraintComponent),
                    message="; ".join(sorted(str(m) for m in messages)),
                    engine=ENGINE,
                )
            )
    return results


def _store(data: Graph, shapes: Graph) -> ox.Store:
    store = ox.Store()
    store.bulk_extend(ox.Quad(*(to_oxigraph_term(t) for t in triple)) for triple in data)  # type: ignore[misc]
    graph = ox.NamedNode(_SHAPES_GRAPH)
    store.bulk_extend(ox.Quad(*(to_oxigraph_term(t) for t in triple), graph) for triple in shapes)  # type: ignore[misc]
    return store


def validate_with_sparql(data: Graph, shapes: Graph) -> ValidationReport:
    """Validate ``data``: the ``sh:sparql`` constraints of shapes validated on their own here,
    everything else by :func:`kg.validate.validate_graph`; one report."""
    own = own_constraints(shapes)
    if not own:
        return validate_graph(data, shapes)
    rest = Graph()
    rest += shapes
    for item in own:
        rest.remove((item.shape, SH.sparql, item.constraint))
    report = validate_graph(data, rest)
    store = _store(data, shapes)
    graph = report.graph
    node = graph.value(predicate=RDF.type, object=SH.ValidationReport)
    extra = [r for item in own for r in _check(store, shapes, data, item, graph, node)]
    if not extra:
        return report
    graph.set((node, SH.conforms, Literal(False)))
    results = sorted([*report.results, *extra], key=lambda r: (r.node_shape, r.focus_node, r.path or "", r.value or ""))
    return dataclasses.replace(report, conforms=False, results=results)
