"""Make a shapes graph safe to validate with: refuse ill-formed shapes, read the rest as SHACL says.

SHACL gives a shapes graph with an ill-formed shape no validation result: a validator must
refuse it rather than report on data (https://www.w3.org/TR/shacl/#syntax-rules). pyshacl
reads many ill-formed shapes leniently, so the syntax rules are checked here, each error
naming the file and line of the offending triple and the rule it breaks. The same goes for
SPARQL-based constraints, whose queries may not use what pre-binding cannot give a meaning
(MINUS, VALUES, SERVICE, subqueries, re-binding a pre-bound variable; section 5.2.1).

Two readings where pyshacl and the specification differ are applied to the graph:
``sh:prefixes`` also reaches the declarations of what its value ``owl:imports``
(``sh:prefixes/owl:imports*/sh:declare``), and ``sh:uniqueLang`` is active only for the
literal ``true``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pyparsing import ParseException, ParseResults
from pyshacl.errors import ReportableRuntimeError
from rdflib import BNode, Graph, Literal, Node, URIRef, Variable
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Identifier

from kg.errors import InputError, Location
from kg.namespaces import OWL, RDF, SH
from kg.validation.model import term_text
from kg.validation.sources import SourceIndex
from kg.walks import reachable

__all__ = ["prepare_shapes", "shapes_errors"]

_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER = URIRef(_XSD + "integer")
_BOOLEAN = URIRef(_XSD + "boolean")
_SPEC = "https://www.w3.org/TR/shacl/"

_NODE_KINDS = {SH.IRI, SH.BlankNode, SH.Literal, SH.BlankNodeOrIRI, SH.BlankNodeOrLiteral, SH.IRIOrLiteral}
_PATH_OPERATORS = (SH.inversePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath)

#: parameters whose value is a non-negative xsd:integer, at most one per shape
_COUNTS = (SH.minCount, SH.maxCount, SH.minLength, SH.maxLength, SH.qualifiedMinCount, SH.qualifiedMaxCount)
#: parameters with at most one value per shape
_SINGLE = (
    *_COUNTS, SH.datatype, SH.nodeKind, SH["in"], SH.languageIn, SH.flags, SH.minInclusive, SH.maxInclusive,
    SH.minExclusive, SH.maxExclusive, SH.uniqueLang, SH.closed, SH.ignoredProperties, SH.qualifiedValueShape,
    SH.qualifiedValueShapesDisjoint, SH.path, SH.severity,
)
#: parameters whose values are IRIs
_IRIS = (SH.datatype, SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.equals, SH.disjoint, SH.lessThan,
         SH.lessThanOrEquals, SH.severity)
#: parameters whose value is a SHACL list
_LISTS = (SH["in"], SH.languageIn, SH["and"], SH["or"], SH.xone, SH.ignoredProperties)
#: parameters whose values are literals
_LITERALS = (SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive, SH.pattern, SH.flags)
#: parameters whose value is a boolean literal
_BOOLEANS = (SH.closed, SH.deactivated, SH.qualifiedValueShapesDisjoint)

#: SPARQL forms that pre-binding gives no meaning to (SHACL 5.2.1), by parse-tree node
_UNSUPPORTED_SPARQL = {
    "MinusGraphPattern": "MINUS",
    "InlineData": "VALUES",
    "ServiceGraphPattern": "SERVICE (federated query)",
}
#: pre-bound variables a subquery need not return (SHACL 5.2.1)
_OPTIONAL_PREBOUND = {"shapesGraph", "currentShape"}


class _Checker:
    def __init__(self, shapes: Graph, index: SourceIndex) -> None:
        self.g = shapes
        self.index = index

    def fail(self, triple: tuple[Node, Node, Node], message: str, section: str) -> InputError:
        s, p, o = (term_text(t) or "" for t in triple)
        where = self.index.triple(s, p, o)
        location = Location(where.file, where.line) if where is not None else None
        shown = "" if location is not None else f" (on {s})"
        return InputError(f"ill-formed shape{shown}: {message} (see {_SPEC}#{section})", location=location)

    def is_list(self, node: Node) -> bool:
        seen: set[Node] = set()
        current: Node | None = node
        while current != RDF.nil:
            if current in seen or not isinstance(current, BNode):
                return False
            seen.add(current)
            if len(list(self.g.objects(current, RDF.first))) != 1 or len(list(self.g.objects(current, RDF.rest))) != 1:
                return False
            current = self.g.value(current, RDF.rest)
        return True

    def members(self, node: Node) -> list[Node]:
        """The items of a list :meth:`is_list` accepted (every cell has one ``rdf:first``)."""
        out: list[Node] = []
        current: Node | None = node
        while current != RDF.nil and current is not None:
            first = self.g.value(current, RDF.first)
            if first is not None:
                out.append(first)
            current = self.g.value(current, RDF.rest)
        return out

    def is_path(self, node: Node, depth: int = 0) -> bool:
        if isinstance(node, URIRef):
            return True
        if not isinstance(node, BNode) or depth > 50:
            return False
        if (node, RDF.first, None) in self.g:
            items = self.members(node) if self.is_list(node) else []
            return len(items) >= 2 and all(self.is_path(i, depth + 1) for i in items)
        used = [(p, o) for p, o in self.g.predicate_objects(node) if p in (*_PATH_OPERATORS, SH.alternativePath)]
        if len(used) != 1 or len(list(self.g.predicate_objects(node))) != 1:
            return False
        p, o = used[0]
        if p == SH.alternativePath:
            items = self.members(o) if self.is_list(o) else []
            return len(items) >= 2 and all(self.is_path(i, depth + 1) for i in items)
        return self.is_path(o, depth + 1)

    def check_core(self) -> None:
        g = self.g
        for p in _SINGLE:
            for s in set(g.subjects(p, None)):
                values = sorted(o for o in g.objects(s, p) if isinstance(o, Identifier))  # a parsed graph: terms only
                if len(values) > 1:
                    raise self.fail((s, p, values[1]), f"{g.qname(p)} may have one value per shape, not {len(values)}", "syntax-rules")
        for s, _, o in g.triples((None, SH.path, None)):
            if not self.is_path(o):
                raise self.fail((s, SH.path, o), "sh:path is not a well-formed SHACL property path", "property-paths")
        for p in _COUNTS:
            for s, o in g.subject_objects(p):
                if not (isinstance(o, Literal) and o.datatype == _INTEGER and isinstance(o.toPython(), int) and o.toPython() >= 0):
                    raise self.fail((s, p, o), f"{g.qname(p)} must be a non-negative xsd:integer, not {o.n3()}", "syntax-rules")
        for p in _IRIS:
            for s, o in g.subject_objects(p):
                if not isinstance(o, URIRef):
                    raise self.fail((s, p, o), f"{g.qname(p)} must be an IRI, not {term_text(o)}", "syntax-rules")
        for s, o in g.subject_objects(SH["class"]):
            if isinstance(o, Literal):
                raise self.fail((s, SH["class"], o), f"sh:class must be an IRI, not {o.n3()}", "ClassConstraintComponent")
        for s, o in g.subject_objects(SH.nodeKind):
            if o not in _NODE_KINDS:
                raise self.fail((s, SH.nodeKind, o), f"sh:nodeKind must be one of sh:IRI, sh:BlankNode, sh:Literal, "
                                f"sh:BlankNodeOrIRI, sh:BlankNodeOrLiteral, sh:IRIOrLiteral, not {term_text(o)}",
                                "NodeKindConstraintComponent")
        for p in _LISTS:
            for s, o in g.subject_objects(p):
                if not self.is_list(o):
                    raise self.fail((s, p, o), f"{g.qname(p)} must be a SHACL list", "syntax-rules")
        for s, o in g.subject_objects(SH.languageIn):
            if any(not isinstance(m, Literal) for m in self.members(o)):
                raise self.fail((s, SH.languageIn, o), "sh:languageIn must list literals", "LanguageInConstraintComponent")
        for p in _LITERALS:
            for s, o in g.subject_objects(p):
                if not isinstance(o, Literal):
                    raise self.fail((s, p, o), f"{g.qname(p)} must be a literal, not {term_text(o)}", "syntax-rules")
        for p in _BOOLEANS:
            for s, o in g.subject_objects(p):
                if not (isinstance(o, Literal) and o.datatype == _BOOLEAN):
                    raise self.fail((s, p, o), f"{g.qname(p)} must be true or false, not {term_text(o)}", "syntax-rules")
        for s, o in g.subject_objects(SH.targetNode):
            if isinstance(o, BNode):
                raise self.fail((s, SH.targetNode, o), "sh:targetNode must be an IRI or a literal", "targetNode")

    def check_sparql(self) -> None:
        g = self.g
        for s, p, o in [*g.triples((None, SH.select, None)), *g.triples((None, SH.ask, None))]:
            # constraints pre-bind $this, $shapesGraph, $currentShape; validators of a constraint
            # component also pre-bind $value and the component's parameters
            prebound = {"this", "shapesGraph", "currentShape"}
            for component in set(g.subjects(SH.validator, s)) | set(g.subjects(SH.nodeValidator, s)) | set(
                g.subjects(SH.propertyValidator, s)
            ):
                prebound.add("value")
                for parameter in g.objects(component, SH.parameter):
                    path = g.value(parameter, SH.path)
                    if isinstance(path, URIRef):
                        prebound.add(_local_name(path))
            try:
                tree = parseQuery(str(o))
            except ParseException as exc:
                raise self.fail((s, p, o), f"the SPARQL query does not parse: {exc}", "sparql-constraints") from None
            problem = _unsupported(tree, prebound)
            if problem:
                raise self.fail((s, p, o), f"the SPARQL query uses {problem}, which pre-binding does not allow", "pre-binding")


def _local_name(iri: URIRef) -> str:
    text = str(iri)
    for sep in ("#", "/", ":"):
        if sep in text:
            text = text.rsplit(sep, 1)[-1]
    return text


def _variables(tree: Any, out: set[str]) -> set[str]:
    if isinstance(tree, Variable):
        out.add(str(tree))
    elif isinstance(tree, CompValue):
        for child in tree.values():
            _variables(child, out)
    elif isinstance(tree, (list, tuple, ParseResults)):
        for child in tree:
            _variables(child, out)
    return out


def _projected(select: CompValue) -> set[str]:
    """The variables a subquery returns: its projection, or for ``SELECT *`` the variables of
    its triple patterns (a variable only in a FILTER is not in scope)."""
    projection = select.get("projection")
    if projection and all(isinstance(v, CompValue) for v in projection):
        return {str(v.get("var") or v.get("evar")) for v in projection}
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, CompValue):
            if node.name == "TriplesBlock":
                _variables(node, found)
            elif node.name not in ("Filter", "SubSelect"):
                for child in node.values():
                    walk(child)
        elif isinstance(node, (list, tuple, ParseResults)):
            for child in node:
                walk(child)

    walk(select.get("where"))
    return found


def _unsupported(tree: Any, prebound: set[str]) -> str | None:
    """The first form in a parsed query that SHACL's pre-binding rules out, or None."""
    if isinstance(tree, CompValue):
        if tree.name in _UNSUPPORTED_SPARQL:
            return _UNSUPPORTED_SPARQL[tree.name]
        if tree.name == "SubSelect":
            missing = sorted(prebound - _OPTIONAL_PREBOUND - _projected(tree))
            if missing:
                return f"a subquery that does not return the pre-bound {', '.join('$' + m for m in missing)}"
        bound = tree.get("var") if tree.name == "Bind" else tree.get("evar") if tree.name == "vars" else None
        if isinstance(bound, Variable) and str(bound) in prebound:
            return f"AS ?{bound} (it is pre-bound)"
        children: Any = tree.values()
    elif isinstance(tree, (list, tuple, ParseResults)):
        children = tree
    else:
        return None
    for child in children:
        found = _unsupported(child, prebound)
        if found:
            return found
    return None


def _apply_spec_readings(shapes: Graph) -> Graph:
    out = Graph()
    out += shapes
    for holder, prefixes in shapes.subject_objects(SH.prefixes):
        for node in reachable([prefixes], lambda n: shapes.objects(n, OWL.imports)):
            for declaration in shapes.objects(node, SH.declare):
                out.add((prefixes, SH.declare, declaration))
    for s, o in shapes.subject_objects(SH.uniqueLang):
        if not (isinstance(o, Literal) and o.datatype == _BOOLEAN and str(o) == "true"):
            out.remove((s, SH.uniqueLang, o))
    return out


def prepare_shapes(shapes: Graph, index: SourceIndex) -> Graph:
    """The shapes graph to validate with; :class:`InputError` (exit 2) for the first ill-formed
    shape, at the file and line ``index`` knows for the offending triple."""
    checker = _Checker(shapes, index)
    checker.check_core()
    checker.check_sparql()
    return _apply_spec_readings(shapes)


@contextmanager
def shapes_errors(files: Sequence[Path]) -> Iterator[None]:
    """Turn the validator's refusal of a shape into an :class:`InputError` naming the shapes files."""
    try:
        yield
    except ReportableRuntimeError as exc:
        raise InputError(f"the shapes are not valid SHACL: {exc}", location=_where(files)) from None
    except NotImplementedError as exc:
        raise InputError(f"the shapes use a SHACL feature this validator does not support: {exc}", location=_where(files)) from None


def _where(files: Sequence[Path]) -> Location:
    return Location(", ".join(str(f) for f in files) or "shapes/")
