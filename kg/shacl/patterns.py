"""How SHACL's notions are written in SPARQL: terms, fresh variables, property paths,
targets, value nodes, instances of a class, counts, literals under private datatypes.

:class:`PatternWriter` is the vocabulary the compiler (:mod:`kg.shacl.compiler`) writes
each constraint component's check in; it is apart from the components so that each file
reads as one thing: here how a notion is spelled in SPARQL (and which spelling is fast in
pyoxigraph), there what each component checks. What cannot be written faithfully raises
:class:`Unsupported`, and the engine hands that shape to pyshacl instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from rdflib import Literal, Node, URIRef
from rdflib.namespace import XSD

from kg.namespaces import RDF, RDFS, SH
from kg.shacl.literals import CAST, PROTECTED, protected_iri
from kg.shacl.model import Shape, ShapesGraph

__all__ = ["MAX_PAIRWISE", "PatternWriter", "Unsupported", "sparql_string", "term_sparql"]

#: the largest count written as pairwise-distinct values inside a nested shape
MAX_PAIRWISE = 4


class Unsupported(Exception):
    """A constraint the compiler does not turn into SPARQL (pyshacl checks it)."""


def term_sparql(term: Node) -> str:
    """An rdflib term written as SPARQL; blank nodes cannot be named in a query."""
    if isinstance(term, URIRef):
        if any(c in str(term) for c in '<>"{}|^`\\ '):
            raise Unsupported(f"IRI {term!r} cannot be written in SPARQL")
        return f"<{term}>"
    if isinstance(term, Literal):
        return term.n3()
    raise Unsupported("a blank node used as a constraint parameter")


def sparql_string(text: str) -> str:
    """A SPARQL string literal holding ``text`` exactly."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


class PatternWriter:
    """SPARQL patterns for the shapes of one :class:`ShapesGraph`; variables are numbered per writer."""

    def __init__(
        self,
        shapes: ShapesGraph,
        *,
        subclasses: Callable[[URIRef], list[str] | None] | None = None,
        exact: bool = False,
        whole: bool = False,
    ) -> None:
        """``subclasses`` gives a class and its subclasses in the data (as SPARQL terms):
        ``?x rdf:type ?t`` with the classes listed is much faster than the property path
        ``rdf:type/rdfs:subClassOf*`` on every node. ``exact``: the store holds typed
        literals under private datatypes (:mod:`kg.shacl.literals`). ``whole``: the
        checks run over every focus node (not a few named ones), so set-at-a-time forms
        pay off: ``MINUS`` (one hashed anti-join) instead of ``NOT EXISTS`` (an index
        lookup per row, which dominates on a large on-disk store) and ``GROUP BY``
        counts instead of self-joins."""
        self.shapes = shapes
        self.exact = exact
        self.whole = whole
        self._counter = itertools.count()
        self._subclasses = subclasses
        self._value_vars: dict[tuple[Node, str], str] = {}

    def constant(self, term: Node) -> str:
        """A term compared by identity with the data (sh:in, sh:hasValue)."""
        if self.exact and isinstance(term, Literal) and term.datatype is not None:
            private = protected_iri(str(term.datatype))
            if private is not None:
                return f"{sparql_string(str(term))}^^<{private}>"
        return term_sparql(term)

    def value(self, var: str, bound: Node | None = None) -> str:
        """The value of the term in ``var`` for comparisons: a protected literal cast back
        to its type; anything else as it is. With a ``bound`` to compare against, only the
        types comparable with it are tried (numbers with numbers, dates with dates)."""
        if not self.exact:
            return var
        casts = sorted(set(CAST.values()))
        if isinstance(bound, Literal) and bound.datatype is not None:
            own = CAST.get(str(bound.datatype).rsplit("#", 1)[-1])
            numeric = {str(XSD[n]) for n in ("integer", "decimal", "float", "double")}
            if own in numeric:
                casts = sorted(numeric)
            elif own is not None:
                casts = [own]
        expression = var
        for cast in casts:
            names = sorted(n for n, c in CAST.items() if c == cast)
            test = " || ".join(f"DATATYPE({var}) = <{PROTECTED}{n}>" for n in names)
            expression = f"IF({test}, <{cast}>(STR({var})), {expression})"
        return f"IF(isLiteral({var}) && STRSTARTS(STR(DATATYPE({var})), \"{PROTECTED}\"), {expression}, {var})"

    def instance_of(self, var: str, klass: Node) -> str:
        """A pattern matching when the node in ``var`` is an instance of ``klass`` (SHACL instance)."""
        classes = self._subclasses(klass) if self._subclasses is not None and isinstance(klass, URIRef) else None
        if classes is None:
            return f"{var} <{RDF.type}>/<{RDFS.subClassOf}>* {term_sparql(klass)} ."
        if len(classes) == 1:
            return f"{var} <{RDF.type}> {classes[0]} ."
        t = self.fresh("t")
        return f"VALUES {t} {{ {' '.join(classes)} }} {var} <{RDF.type}> {t} ."

    # ----------------------------------------------------------------- helpers

    def fresh(self, stem: str = "v") -> str:
        """A variable name no other pattern of this writer uses."""
        return f"?_{stem}{next(self._counter)}"

    def path(self, node: Node) -> str:
        """A SHACL property path as a SPARQL property path."""
        g = self.shapes.graph
        if isinstance(node, URIRef):
            return term_sparql(node)
        if (node, RDF.first, None) in g:
            items = self.shapes.list_items(node)
            if len(items) < 2:
                raise Unsupported("a sequence path needs at least two members")
            return "(" + "/".join(self.path(p) for p in items) + ")"
        for predicate, template in (
            (SH.inversePath, "^({})"),
            (SH.zeroOrMorePath, "({})*"),
            (SH.oneOrMorePath, "({})+"),
            (SH.zeroOrOnePath, "({})?"),
        ):
            inner = g.value(node, predicate)
            if inner is not None:
                return template.format(self.path(inner))
        alternatives = g.value(node, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(self.path(p) for p in self.shapes.list_items(alternatives)) + ")"
        raise Unsupported(f"{node} is not a SHACL path")

    def target_pattern(self, shape: Shape, var: str = "?this") -> str:
        """A pattern binding ``var`` to each focus node of ``shape`` (duplicates possible)."""
        branches: list[str] = []
        for kind, value in shape.targets:
            if kind == SH.targetNode:
                branches.append(f"VALUES {var} {{ {self.constant(value)} }}")
            elif kind == SH.targetClass:
                branches.append(self.instance_of(var, value))
            elif kind == SH.targetSubjectsOf:
                branches.append(f"{var} {term_sparql(value)} {self.fresh('o')} .")
            elif kind == SH.targetObjectsOf:
                branches.append(f"{self.fresh('s')} {term_sparql(value)} {var} .")
        if not branches:
            raise Unsupported("a shape without targets")
        return " UNION ".join(f"{{ {b} }}" for b in branches)

    def value_nodes(self, shape: Shape, focus: str) -> tuple[str, str]:
        """The pattern that binds the value nodes of ``shape`` at ``focus``, and their variable."""
        if shape.path is None:
            return "", focus
        # one variable per (shape, focus): the checks of one property shape read alike
        value = self._value_vars.get((shape.node, focus))
        if value is None:
            value = self._value_vars[(shape.node, focus)] = self.fresh()
        return f"{focus} {self.path(shape.path)} {value} .", value

    def set_at_a_time(self, shape: Shape, nested: bool) -> bool:
        """Whether a top-level check of ``shape`` may use the set-at-a-time forms (see
        ``whole``): only on a one-step path, whose whole relation is no bigger than the data."""
        return not nested and self.whole and self.one_step(shape)

    def one_step(self, shape: Shape) -> bool:
        """Whether the path of ``shape`` is one predicate or its inverse: over one graph
        it gives each (focus node, value) pair once, as a set."""
        path = shape.path
        if isinstance(path, URIRef):
            return True
        inverse = self.shapes.graph.value(path, SH.inversePath) if path is not None else None
        return isinstance(inverse, URIRef)

    def count_at_least(self, shape: Shape, focus: str, n: int, extra: Callable[[str], str] | None = None) -> str:
        """A pattern matching when ``focus`` has at least ``n`` distinct value nodes (nested form)."""
        if n > MAX_PAIRWISE:
            raise Unsupported(f"a count of {n} inside a nested shape")
        if shape.path is None:
            raise Unsupported("a count on a node shape")
        path = self.path(shape.path)
        names = [self.fresh() for _ in range(n)]
        parts = [f"{focus} {path} {v} ." for v in names]
        conditions = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2)]
        if extra is not None:
            conditions += [extra(v) for v in names]
        return " ".join(parts) + (f" FILTER ({' && '.join(conditions)})" if conditions else "")
