"""SHACL Core constraints compiled to SPARQL patterns that pyoxigraph evaluates.

Every constraint becomes a SPARQL group pattern with one solution per violation: the
focus node is bound to a variable the caller chooses, the offending value node (when
the component reports one) to another. The same patterns serve twice:

* at the top of a validation, joined with a shape's targets, they list the results;
* inside another shape (``sh:node``, ``sh:not``, ``sh:and``, ``sh:or``, ``sh:xone``,
  ``sh:qualifiedValueShape``), ``EXISTS { pattern }`` says "this node does not conform".

Nested patterns never use sub-selects (their correlation with the outer binding differs
between engines), so counts there are written as "n pairwise distinct values". What
cannot be compiled faithfully raises :class:`~kg.shacl.patterns.Unsupported`, and the
engine hands that shape to pyshacl instead.

Here is what each component checks, a builder each (the table at the end); how terms,
paths, targets, value nodes and counts are spelled in SPARQL is :mod:`kg.shacl.patterns`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import NamedTuple

from rdflib import Literal, Node, URIRef
from rdflib.namespace import XSD

from kg.namespaces import RDF, SH
from kg.shacl.literals import CAST, INTEGER_RANGES, protected_iri
from kg.shacl.model import Constraint, Shape
from kg.shacl.patterns import MAX_PAIRWISE, PatternWriter, Unsupported, sparql_string, term_sparql

__all__ = ["Check", "Compiler"]


_NODE_KINDS = {
    SH.IRI: "isIRI({v})",
    SH.BlankNode: "isBlank({v})",
    SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))",
    SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
    SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
}

_COMPARISONS = {
    SH.MinExclusiveConstraintComponent: ">",
    SH.MinInclusiveConstraintComponent: ">=",
    SH.MaxExclusiveConstraintComponent: "<",
    SH.MaxInclusiveConstraintComponent: "<=",
}


def _comparable(term: Node) -> str:
    """A bound of sh:minInclusive & co., typed so that it compares by value (an integer
    subtype as xsd:integer, which is what SPARQL's operators know)."""
    if isinstance(term, Literal) and term.datatype is not None and str(term.datatype).rsplit("#", 1)[-1] in INTEGER_RANGES:
        return f"{sparql_string(str(term))}^^<{XSD.integer}>"
    return term_sparql(term)


def _int(term: Node, what: str) -> int:
    if isinstance(term, Literal) and isinstance(term.toPython(), int) and not isinstance(term.toPython(), bool):
        return int(term.toPython())
    raise Unsupported(f"{what} is not an integer")


@dataclass(frozen=True)
class Check:
    """One compiled constraint, ready to be joined with a shape's focus nodes.

    ``pattern`` has one solution per violation; ``focus`` names the variable bound to the
    result's focus node, ``value`` and ``path`` the variables of ``sh:value`` and
    ``sh:resultPath`` when the component reports them.
    """

    shape: Shape
    constraint: Constraint
    pattern: str
    focus: str
    value: str | None = None
    path: str | None = None
    key: str | None = None
    #: for a test of each value node on its own: ``pattern`` is ``base FILTER (condition)``,
    #: so checks on the same values can share one pass (:meth:`kg.shacl.plan.Planner.merged_job`)
    base: str | None = None
    condition: str | None = None


class Built(NamedTuple):
    """What a component builder returns; the :class:`Check` fields without shape and focus."""

    pattern: str
    value: str | None = None
    path: str | None = None
    key: str | None = None
    base: str | None = None
    condition: str | None = None


class Compiler(PatternWriter):
    """Compiles the shapes of one :class:`ShapesGraph` into :class:`Check` objects;
    variables are numbered per compiler."""

    # ----------------------------------------------------------------- top level

    def checks(self, shape: Shape, focus: str = "?this") -> Iterator[Check]:
        """The checks reporting ``shape``'s own results at ``focus``, then those of its
        property shapes (which report under their own ``sh:sourceShape``)."""
        if shape.deactivated:
            return
        if shape.custom:
            raise Unsupported(f"constraint components declared in the shapes graph ({', '.join(shape.custom)})")
        for constraint in shape.constraints:
            if constraint.component == SH.SPARQLConstraintComponent:
                if focus != "?this":
                    raise Unsupported("a SPARQL constraint on the value nodes of a property shape")
                yield Check(shape, constraint, "", focus)  # already a query: the engine runs it
                continue
            if constraint.component == SH.PropertyConstraintComponent:
                child = self.shapes.shape(constraint.value)
                if child.path is None:
                    raise Unsupported("sh:property names a shape without sh:path")
                values, var = self.value_nodes(shape, focus)
                for check in self.checks(child, var):
                    if values:
                        base = f"{values} {check.base}" if check.base is not None else None
                        check = replace(check, pattern=f"{values} {check.pattern}", base=base)
                    yield check
                continue
            yield from self._check(shape, constraint, focus, nested=False)

    # ----------------------------------------------------------------- nested

    def violates(self, shape: Shape, var: str, stack: tuple[Node, ...] = ()) -> str:
        """A SPARQL expression: true when the node in ``var`` does not conform to ``shape``."""
        if shape.node in stack:
            raise Unsupported("recursive shapes")
        if shape.deactivated:
            return "false"
        if shape.custom:
            raise Unsupported("constraint components declared in the shapes graph")
        stack = (*stack, shape.node)
        parts: list[str] = []
        for constraint in shape.constraints:
            if constraint.component == SH.SPARQLConstraintComponent:
                raise Unsupported("a SPARQL constraint inside sh:node/sh:and/sh:or/sh:not/sh:xone")
            if constraint.component == SH.PropertyConstraintComponent:
                child = self.shapes.shape(constraint.value)
                values, inner = self.value_nodes(shape, var)
                body = self.violates(child, inner, stack)
                parts.append(f"EXISTS {{ {values} FILTER ({body}) }}" if values else f"({body})")
                continue
            parts.extend(f"EXISTS {{ {check.pattern} }}" for check in self._check(shape, constraint, var, nested=True, stack=stack))
        return "(" + " || ".join(parts) + ")" if parts else "false"

    # ----------------------------------------------------------------- components

    def _check(self, shape: Shape, c: Constraint, focus: str, *, nested: bool, stack: tuple[Node, ...] = ()) -> list[Check]:
        """The checks of one constraint (most components need one pattern, sh:equals two)."""
        build = _BUILDERS.get(c.component)
        if build is None:
            raise Unsupported(f"{c.component} is not compiled")
        built = build(self, shape, c, focus, nested, stack)
        branches = [b if isinstance(b, Built) else Built(*b) for b in (built if isinstance(built, list) else [built])]
        return [Check(shape, c, b.pattern, focus, b.value, b.path, b.key, b.base, b.condition) for b in branches]

    def _filtered(self, shape: Shape, focus: str, condition: Callable[[str], str]) -> Built:
        """Value nodes for which ``condition`` (a violation test) holds."""
        values, v = self.value_nodes(shape, focus)
        test = condition(v)
        return Built(f"{values} FILTER ({test})", v, base=values, condition=test)


def _value_type(condition: Callable[[Compiler, Shape, Constraint], Callable[[str], str]]):  # type: ignore[no-untyped-def]
    """A builder for components that test each value node on its own."""

    def build(comp: Compiler, shape: Shape, c: Constraint, focus: str, nested: bool, stack: tuple[Node, ...]):  # type: ignore[no-untyped-def]
        return comp._filtered(shape, focus, condition(comp, shape, c))

    return build


def _class(comp: Compiler, shape: Shape, c: Constraint) -> Callable[[str], str]:
    term_sparql(c.value)  # a blank class cannot be named
    return lambda v: f"NOT EXISTS {{ {comp.instance_of(v, c.value)} }}"


def _datatype(comp: Compiler, shape: Shape, c: Constraint) -> Callable[[str], str]:
    name = str(c.value).rsplit("#", 1)[-1] if str(c.value).startswith(str(XSD)) else None
    stored = protected_iri(str(c.value)) if comp.exact else None
    if c.value == RDF.langString:
        return lambda v: f"!isLiteral({v}) || lang({v}) = \"\""
    if name in CAST:
        dt = f"<{stored}>" if stored else term_sparql(c.value)
        number = f"<{CAST[name]}>(STR({{v}}))"
        tests = [f"!COALESCE(isLiteral({number}), false)"]
        low, high = INTEGER_RANGES.get(name, (None, None))
        tests += [f"{number} < {low}"] if low is not None else []
        tests += [f"{number} > {high}"] if high is not None else []
        tail = " || ".join(tests)
        return lambda v: f"!isLiteral({v}) || datatype({v}) != {dt} || " + tail.replace("{v}", v)
    dt = term_sparql(c.value)
    return lambda v: f"!isLiteral({v}) || lang({v}) != \"\" || datatype({v}) != {dt}"


def _class_check(comp: Compiler, shape: Shape, c: Constraint, focus: str, nested: bool, stack: tuple[Node, ...]):  # type: ignore[no-untyped-def]
    if not (comp.set_at_a_time(shape, nested) or (comp.whole and not nested and shape.path is None)):
        return comp._filtered(shape, focus, _class(comp, shape, c))
    term_sparql(c.value)  # a blank class cannot be named
    values, v = comp.value_nodes(shape, focus)
    # the instances of the class are few next to the values: one hashed anti-join
    return Built(f"{values} MINUS {{ {comp.instance_of(v, c.value)} }}", v)


def _node_kind(comp: Compiler, shape: Shape, c: Constraint) -> Callable[[str], str]:
    template = _NODE_KINDS.get(c.value)  # type: ignore[call-overload]
    if template is None:
        raise Unsupported(f"sh:nodeKind {c.value}")
    return lambda v: "!" + template.format(v=v)


def _comparison(comp: Compiler, shape: Shape, c: Constraint) -> Callable[[str], str]:
    op = _COMPARISONS[c.component]
    bound = _comparable(c.value)
    return lambda v: f"!COALESCE({comp.value(v, c.value)} {op} {bound}, false)"


def _length(comp: Compiler, shape: Shape, c: Constraint) -> Callable[[str], str]:
    n = _int(c.value, "the length")
    op = "<" if c.component == SH.MinLengthConstraintComponent else ">"
    return lambda v: f"isBlank({v}) || STRLEN(STR({v})) {op} {n}"


def _pattern(comp: Compiler, shape: Shape, c: Constraint) -> Callable[[str], str]:
    flags = c.params.get(SH.flags)
    regex = sparql_string(str(c.value))
    flag_text = f", {sparql_string(str(flags))}" if flags is not None else ""
    return lambda v: f"isBlank({v}) || !REGEX(STR({v}), {regex}{flag_text})"


def _language_in(comp: Compiler, shape: Shape, c: Constraint) -> Callable[[str], str]:
    tags = [sparql_string(str(t)) for t in c.items]

    def condition(v: str) -> str:
        matches = " || ".join(f"langMatches(lang({v}), {t})" for t in tags) or "false"
        return f"!isLiteral({v}) || !({matches})"

    return condition


def _in(comp: Compiler, shape: Shape, c: Constraint) -> Callable[[str], str]:
    members = [comp.constant(t) for t in c.items]
    return lambda v: "!(" + (" || ".join(f"sameTerm({v}, {m})" for m in members) or "false") + ")"


def _nested_shape(comp: Compiler, node: Node, stack: tuple[Node, ...]) -> Callable[[str], str]:
    return lambda v: comp.violates(comp.shapes.shape(node), v, stack)


def _node(comp: Compiler, shape: Shape, c: Constraint, focus: str, nested: bool, stack: tuple[Node, ...]):  # type: ignore[no-untyped-def]
    return comp._filtered(shape, focus, _nested_shape(comp, c.value, stack))


def _not(comp: Compiler, shape: Shape, c: Constraint, focus: str, nested: bool, stack: tuple[Node, ...]):  # type: ignore[no-untyped-def]
    inner = _nested_shape(comp, c.value, stack)
    return comp._filtered(shape, focus, lambda v: f"!{inner(v)}")


def _logical(comp: Compiler, shape: Shape, c: Constraint, focus: str, nested: bool, stack: tuple[Node, ...]):  # type: ignore[no-untyped-def]
    members = [_nested_shape(comp, m, stack) for m in c.items]

    def condition(v: str) -> str:
        failures = [m(v) for m in members]
        if c.component == SH.AndConstraintComponent:
            return " || ".join(failures) or "false"
        if c.component == SH.OrConstraintComponent:
            return " && ".join(failures) or "true"
        conforming = " + ".join(f"IF({f}, 0, 1)" for f in failures) or "0"
        return f"({conforming}) != 1"

    return comp._filtered(shape, focus, condition)


def _min_count(comp: Compiler, shape: Shape, c: Constraint, focus: str, nested: bool, stack: tuple[Node, ...]):  # type: ignore[no-untyped-def]
    n = _int(c.value, "sh:minCount")
    if shape.path is None:
        raise Unsupported("sh:minCount on a node shape")
    if n == 0:
        return "FILTER (false)", None, None
    if n == 1 and comp.set_at_a_time(shape, nested):
        return Built(f"MINUS {{ {comp.count_at_least(shape, focus, n)} }}")
    if n == 1 or nested:
        return Built(f"FILTER NOT EXISTS {{ {comp.count_at_least(shape, focus, n)} }}")
    x, count = comp.fresh(), comp.fresh("n")
    path = comp.path(shape.path)
    sub = f"{{ SELECT {focus} (COUNT(DISTINCT {x}) AS {count}) WHERE {{ {focus} {path} {x} }} GROUP BY {focus} }}"
    return Built(f"OPTIONAL {sub} FILTER (COALESCE({count}, 0) < {n})")


def _max_count(comp: Compiler, shape: Shape, c: Constraint, focus: str, nested: bool, stack: tuple[Node, ...]):  # type: ignore[no-untyped-def]
    n = _int(c.value, "sh:maxCount")
    if shape.path is None:
        raise Unsupported("sh:maxCount on a node shape")
    if nested or n == 0 or (n == 1 and not comp.set_at_a_time(shape, nested)):
        return Built(comp.count_at_least(shape, focus, n + 1))
    x = comp.fresh()
    path = comp.path(shape.path)
    # a one-step path gives each (focus, value) pair once: counting rows counts the
    # distinct values without a set per focus node (10M: 1.5 s -> 1.2 s a check)
    counted = "*" if comp.one_step(shape) else f"DISTINCT {x}"
    return Built(f"{{ SELECT {focus} WHERE {{ {focus} {path} {x} }} GROUP BY {focus} HAVING (COUNT({counted}) > {n}) }}")


def _qualified(comp: Compiler, shape: Shape, c: Constraint, focus: str, nested: bool, stack: tuple[Node, ...]):  # type: ignore[no-untyped-def]
    if shape.path is None:
        raise Unsupported("a qualified count on a node shape")
    n = _int(c.value, "the qualified count")
    qvs = c.params[SH.qualifiedValueShape]
    own = _nested_shape(comp, qvs, stack)
    siblings: list[Node] = []
    disjoint = c.params.get(SH.qualifiedValueShapesDisjoint)
    if isinstance(disjoint, Literal) and disjoint.toPython() is True:
        for parent in comp.shapes.parent_shapes(shape.node):
            for sibling_property in comp.shapes.graph.objects(parent, SH.property):
                for sibling in comp.shapes.graph.objects(sibling_property, SH.qualifiedValueShape):
                    if sibling != qvs and sibling not in siblings:
                        siblings.append(sibling)
    others = [_nested_shape(comp, s, stack) for s in siblings]

    def qualifies(v: str) -> str:
        return "(!" + own(v) + "".join(f" && {o(v)}" for o in others) + ")"

    if c.component == SH.QualifiedMinCountConstraintComponent:
        if n == 0:
            return "FILTER (false)", None, None
        if n <= MAX_PAIRWISE:
            return f"FILTER NOT EXISTS {{ {comp.count_at_least(shape, focus, n, qualifies)} }}", None, None
        if nested:
            raise Unsupported("a large qualified count inside a nested shape")
        x, count = comp.fresh(), comp.fresh("n")
        sub = (
            f"{{ SELECT {focus} (COUNT(DISTINCT {x}) AS {count}) WHERE {{ {focus} {comp.path(shape.path)} {x} "
            f"FILTER ({qualifies(x)}) }} GROUP BY {focus} }}"
        )
        return f"OPTIONAL {sub} FILTER (COALESCE({count}, 0) < {n})", None, None
    return comp.count_at_least(shape, focus, n + 1, qualifies), None, None


def _has_value(comp: Compiler, shape: Shape, c: Constraint, focus: str, nested: bool, stack: tuple[Node, ...]):  # type: ignore[no-untyped-def]
    value = comp.constant(c.value)
    if shape.path is None:
        return f"FILTER (!sameTerm({focus}, {value}))", None, None
    return f"FILTER NOT EXISTS {{ {focus} {comp.path(shape.path)} {value} }}", None, None


def _unique_lang(comp: Compiler, shape: Shape, c: Constraint, focus: str, nested: bool, stack: tuple[Node, ...]):  # type: ignore[no-untyped-def]
    if not (isinstance(c.value, Literal) and c.value.toPython() is True):
        return "FILTER (false)", None, None
    if shape.path is None:
        raise Unsupported("sh:uniqueLang on a node shape")
    path = comp.path(shape.path)
    a, b = comp.fresh(), comp.fresh()
    pattern = (
        f"{focus} {path} {a} . {focus} {path} {b} . "
        f"FILTER (!sameTerm({a}, {b}) && lang({a}) != \"\" && LCASE(lang({a})) = LCASE(lang({b})))"
    )
    if nested:
        return pattern, None, None
    lang = comp.fresh("lang")
    return f"{{ SELECT DISTINCT {focus} {lang} WHERE {{ {pattern} BIND (LCASE(lang({a})) AS {lang}) }} }}", None, None, lang


def _property_pair(comp: Compiler, shape: Shape, c: Constraint, focus: str, nested: bool, stack: tuple[Node, ...]):  # type: ignore[no-untyped-def]
    other = term_sparql(c.value)
    values, v = comp.value_nodes(shape, focus)
    if c.component == SH.DisjointConstraintComponent:
        return f"{values} {focus} {other} {v} .", v, None
    if c.component == SH.EqualsConstraintComponent:
        # two checks, not a UNION: a UNION branch would not see the focus node bound outside it
        missing = f"{values} FILTER NOT EXISTS {{ {focus} {other} {v} }}"
        w = comp.fresh()
        if shape.path is None:
            extra = f"{focus} {other} {w} FILTER (!sameTerm({w}, {focus}))"
        else:
            extra = f"{focus} {other} {w} FILTER NOT EXISTS {{ {focus} {comp.path(shape.path)} {w} }}"
        return [(missing, v, None), (extra, w, None)]
    op = "<" if c.component == SH.LessThanConstraintComponent else "<="
    o = comp.fresh()
    left, right = comp.value(v), comp.value(o)
    # one result per pair of values (the other value is a key, not reported)
    return f"{values} {focus} {other} {o} . FILTER (!COALESCE({left} {op} {right}, false))", v, None, o


def _closed(comp: Compiler, shape: Shape, c: Constraint, focus: str, nested: bool, stack: tuple[Node, ...]):  # type: ignore[no-untyped-def]
    if not (isinstance(c.value, Literal) and c.value.toPython() is True):
        return "FILTER (false)", None, None
    allowed: list[Node] = []
    for prop in comp.shapes.graph.objects(shape.node, SH.property):
        path = comp.shapes.graph.value(prop, SH.path)
        if isinstance(path, URIRef):
            allowed.append(path)
    ignored = c.params.get(SH.ignoredProperties)
    if ignored is not None:
        allowed.extend(comp.shapes.list_items(ignored))
    values, v = comp.value_nodes(shape, focus)
    p, o = comp.fresh("p"), comp.fresh("o")
    keep = ", ".join(term_sparql(a) for a in allowed)
    condition = f" FILTER ({p} NOT IN ({keep}))" if keep else ""
    return f"{values} {v} {p} {o} .{condition}", o, p


_BUILDERS = {
    SH.ClassConstraintComponent: _class_check,
    SH.DatatypeConstraintComponent: _value_type(_datatype),
    SH.NodeKindConstraintComponent: _value_type(_node_kind),
    SH.MinExclusiveConstraintComponent: _value_type(_comparison),
    SH.MinInclusiveConstraintComponent: _value_type(_comparison),
    SH.MaxExclusiveConstraintComponent: _value_type(_comparison),
    SH.MaxInclusiveConstraintComponent: _value_type(_comparison),
    SH.MinLengthConstraintComponent: _value_type(_length),
    SH.MaxLengthConstraintComponent: _value_type(_length),
    SH.PatternConstraintComponent: _value_type(_pattern),
    SH.LanguageInConstraintComponent: _value_type(_language_in),
    SH.InConstraintComponent: _value_type(_in),
    SH.NodeConstraintComponent: _node,
    SH.NotConstraintComponent: _not,
    SH.AndConstraintComponent: _logical,
    SH.OrConstraintComponent: _logical,
    SH.XoneConstraintComponent: _logical,
    SH.MinCountConstraintComponent: _min_count,
    SH.MaxCountConstraintComponent: _max_count,
    SH.QualifiedMinCountConstraintComponent: _qualified,
    SH.QualifiedMaxCountConstraintComponent: _qualified,
    SH.HasValueConstraintComponent: _has_value,
    SH.UniqueLangConstraintComponent: _unique_lang,
    SH.EqualsConstraintComponent: _property_pair,
    SH.DisjointConstraintComponent: _property_pair,
    SH.LessThanConstraintComponent: _property_pair,
    SH.LessThanOrEqualsConstraintComponent: _property_pair,
    SH.ClosedConstraintComponent: _closed,
}
