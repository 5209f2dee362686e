"""What a validation runs: every targeted shape compiled into jobs, before any of them runs.

A job is one query and what turns its solutions into result rows (:mod:`kg.shacl.results`).
Each shape with targets becomes jobs here (:class:`Planner`): one SELECT per compiled
constraint (:mod:`kg.shacl.compiler`), joined with the shape's targets; tests of each value
node on its own share one pass; a SPARQL constraint runs as written, with ``$this`` joined
to the targets when its text allows it and pre-bound one focus node at a time when it does
not. A shape that cannot be compiled faithfully, or whose queries pyoxigraph does not
parse, is left to pyshacl before anything runs.

Planning is apart from running (:mod:`kg.shacl.run`) because the same plan is made in
several places that must agree: this process, a twin process holding its own copy of the
store, the processes that check groups of jobs on stores of their own, and on an empty
store, for what each job reads (:func:`job_reads`, :func:`native_predicates`) before
any data is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import partial

import pyoxigraph as ox
from rdflib import BNode, Graph, Node, URIRef

from kg.namespaces import OWL, RDF, RDFS, SH
from kg.shacl.compiler import Check, Compiler
from kg.shacl.literals import restore
from kg.shacl.model import Constraint, Shape, ShapesGraph
from kg.shacl.patterns import Unsupported, term_sparql
from kg.shacl.prebinding import functions, pre_bind
from kg.shacl.results import (
    ENGINE_PYSHACL,
    ENGINE_SPARQL,
    FLAG,
    EngineReport,
    Row,
    RowMaker,
    check_rows,
    flagged_rows,
    sparql_rows,
)
from kg.shacl.scale.footprint import Reads, Unbounded, query_predicates, query_reads
from kg.sparql.lexer import Kind, Token, code_tokens, rewrite, tokens

__all__ = ["Job", "JobKey", "Planner", "job_reads", "native_predicates"]

# --------------------------------------------------------------------- SPARQL text
# What the planner reads in the text of a SPARQL constraint, with regular expressions
# (the tokenizers below, kept together until one shared lexer reads SPARQL text).

_SELECT_HEAD = re.compile(r"\bSELECT\s+(DISTINCT\s+|REDUCED\s+)?", re.IGNORECASE)


def _variable(token: Token) -> str | None:
    """The name of a variable token (without ``?``/``$``), else None."""
    return token.text[1:] if token.kind is Kind.VAR else None


def _substitute(text: str, constants: dict[str, str]) -> str:
    """``text`` with each pre-bound variable (``$name`` or ``?name``) replaced by its
    constant wherever it is code (never inside a string, an IRI or a comment), and
    ``BOUND(?name)`` by ``(true)``."""
    code = code_tokens(text)
    bound: dict[int, str] = {}  # start of a BOUND call's first token -> its replacement; its other tokens -> ""
    for i in range(len(code) - 3):
        if code[i].is_word("BOUND") and code[i + 1].is_punct("(") and _variable(code[i + 2]) in constants \
                and code[i + 3].is_punct(")"):
            bound[code[i].start] = "(true)"
            bound.update({code[j].start: "" for j in (i + 1, i + 2, i + 3)})

    def replace(token: Token) -> str | None:
        if token.start in bound:
            return bound[token.start]
        name = _variable(token)
        return constants[name] if name in constants else None

    return rewrite(text, replace)


def _mentions(text: str, name: str) -> bool:
    """True when ``text`` uses the variable ``?name``/``$name`` as code."""
    return any(_variable(token) == name for token in tokens(text))


def _joinable(query: str) -> bool:
    """True when joining ``?this`` with the targets at the top of the WHERE clause means
    the same as pre-binding it: no group below the top one opens a new scope for it
    (only ``EXISTS`` and ``OPTIONAL`` groups, which see the outer binding, are allowed)."""
    depth = 0
    previous: Token | None = None
    for token in tokens(query):
        if token.is_punct("{"):
            if depth >= 1 and not (previous is not None and previous.is_word("EXISTS", "OPTIONAL")):
                return False
            depth += 1
        elif token.is_punct("}"):
            depth -= 1
        previous = token
    return True


# --------------------------------------------------------------------- jobs

#: patterns that bind the focus variable themselves, so they can run before the targets
_VALUE_FIRST = ("?this ", "{ SELECT ?this ")
#: the flag of a target membership test (the compiler's variables are ``?_`` + stem + number)
_MEMBER = "?_targeted"


@dataclass
class Job:
    """A query to evaluate (anywhere) and what turns its solutions into result rows;
    ``query`` None: ``rows`` does its own querying, in this process."""

    query: str | None
    rows: RowMaker
    #: the graph the query reads instead of the default graph (SPARQL constraints read
    #: the data with literals in their native types, see ``StoreLayout.native_graph``)
    default_graph: str | None = None
    #: without ``query``: the query ``rows`` evaluates (once per focus node), for what it reads
    reads: str | None = None


#: a job of a whole validation: its shape, and its place among that shape's jobs (the
#: compiler plans the same jobs, in the same order, for the same shapes on any data)
JobKey = tuple[Node, int]


def _sparql_term(term: Node) -> str | None:
    """A focus node written for a VALUES clause; None for blank nodes (cannot be named)."""
    try:
        return term_sparql(term)
    except Unsupported:
        return None


class Planner:
    """The jobs of one validation: the store (its classes and focus nodes decide the
    queries), the compiled shapes, and the focus nodes to check (None: every one)."""

    def __init__(
        self,
        store: ox.Store,
        shapes: ShapesGraph,
        focus: Collection[Node] | None,
        *,
        shapes_graph_name: str | None = None,
        exact: bool = False,
        native_graph: str | None = None,
    ) -> None:
        """``shapes_graph_name``: the graph of the store holding the shapes (``$shapesGraph``);
        ``exact``: typed literals under private datatypes; ``native_graph``: the copy of the
        data SPARQL constraints read (see ``kg.shacl.run.StoreLayout``)."""
        self.store = store
        self.shapes_graph_name = shapes_graph_name
        self.native_graph = native_graph
        self.shapes = shapes
        self.compiler = Compiler(shapes, subclasses=self.subclasses, exact=exact, whole=focus is None)
        self._subclasses: dict[URIRef, list[str] | None] = {}
        self.focus_values = self._focus_clause(focus)

    def subclasses(self, klass: URIRef) -> list[str] | None:
        """``klass`` and every class below it in the data's ``rdfs:subClassOf``, as SPARQL
        terms; None when one is a blank node (which a query cannot name)."""
        if klass not in self._subclasses:
            query = f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS.subClassOf}>* {term_sparql(klass)} }}"
            found = [s["c"] for s in self.store.query(query)]  # type: ignore[union-attr]
            named = all(isinstance(c, ox.NamedNode) for c in found)
            self._subclasses[klass] = sorted({term_sparql(klass)} | {f"<{c.value}>" for c in found}) if named else None
        return self._subclasses[klass]

    @staticmethod
    def _focus_clause(focus: Collection[Node] | None) -> str | None:
        if focus is None:
            return None
        written = [_sparql_term(f) for f in focus]
        if any(w is None for w in written):
            return None  # a blank focus node cannot be named: check every focus node
        return "VALUES ?this { " + " ".join(w for w in written if w) + " }"

    def has_focus_nodes(self, shape: Shape) -> bool:
        """Whether any node is targeted (one cheap ASK per target instead of a query per
        constraint: large shapes graphs such as schema.org's mostly target absent classes)."""
        for kind, value in shape.targets:
            if kind == SH.targetNode:
                return True
            if isinstance(value, BNode):
                return True  # cannot be asked about by name: let the checks run
            term = term_sparql(value)
            if kind == SH.targetClass:
                classes = self.subclasses(value) if isinstance(value, URIRef) else None
                if classes is None or any(self.store.query(f"ASK {{ ?x <{RDF.type}> {c} }}") for c in classes):
                    return True
            elif kind == SH.targetSubjectsOf and self.store.query(f"ASK {{ ?x {term} ?y }}") or kind == SH.targetObjectsOf and self.store.query(f"ASK {{ ?x {term} ?y }}"):
                return True
        return False

    def targets(self, shape: Shape) -> str:
        target = self.compiler.target_pattern(shape)
        return f"{self.focus_values} {{ {target} }}" if self.focus_values else target

    def plan(self) -> tuple[EngineReport, list[Job], list[Shape]]:
        """The report to fill (which engine checks each shape), the compiled jobs, and the
        shapes left to pyshacl (all of them when some shape has a SPARQL-based target)."""
        report = EngineReport(Graph(), True)
        jobs: list[Job] = []
        fallback: list[Shape] = []
        if self.shapes.has_sparql_targets():
            fallback.extend(s for s in self.shapes.targeted())
        for shape in self.shapes.targeted() if not fallback else []:
            if not self.has_focus_nodes(shape):
                report.engines[shape.node] = ENGINE_SPARQL  # nothing to check: no node is targeted
                continue
            try:
                shape_jobs = self.jobs(shape)
            except Unsupported as exc:
                report.unsupported[shape.node] = str(exc)
                report.engines[shape.node] = ENGINE_PYSHACL
                fallback.append(shape)
                continue
            report.engines[shape.node] = ENGINE_SPARQL
            jobs.extend(shape_jobs)
        return report, jobs, fallback

    def jobs(self, shape: Shape) -> list[Job]:
        """Compile every check of ``shape`` (raising :class:`Unsupported` before any runs).

        One query per constraint, except that tests of each value node on its own share a
        pass over the same values (:meth:`merged_job`). Merging a property shape's
        counts with them into one grouped query was measured slower in pyoxigraph
        (aggregates over ``EXISTS`` are evaluated without joins)."""
        jobs: list[Job] = []
        checks = list(self.compiler.checks(shape))
        same_values: dict[tuple[object, ...], list[Check]] = {}
        for check in checks:
            if check.condition is not None:
                key = (check.shape.node, check.base, check.focus, check.value, check.path, check.key)
                same_values.setdefault(key, []).append(check)
        merged: set[int] = set()
        for check in checks:
            if check.constraint.component == SH.SPARQLConstraintComponent:
                query, _ = self.sparql_query(check.shape, check.constraint)
                _parses(query)
                jobs.append(self.sparql_job(check.shape, check.constraint))
                continue
            group = same_values.get((check.shape.node, check.base, check.focus, check.value, check.path, check.key), [])
            if check.condition is not None and len(group) > 1:
                if id(group) not in merged:
                    merged.add(id(group))
                    job = self.merged_job(shape, group)
                    _parses(job.query or "")
                    jobs.append(job)
                continue
            job = self.check_job(shape, check)
            _parses(job.query or "")
            jobs.append(job)
        return jobs

    # ----------------------------------------------------------------- compiled checks

    def check_query(self, shape: Shape, check: Check) -> str:
        # ?this stays in the projection: a node reached from two focus nodes is reported twice
        return f"SELECT DISTINCT ({check.focus} AS ?focus) {self._keys(check)} WHERE {{ {self.where(shape, check.pattern)} }}"

    @staticmethod
    def _keys(check: Check) -> str:
        return " ".join(v for v in ("?this" if check.focus != "?this" else None, check.value, check.path, check.key) if v)

    def where(self, shape: Shape, pattern: str) -> str:
        """``pattern`` joined with the targets of ``shape``, in the faster order."""
        if self.focus_values is None and pattern.lstrip().startswith(_VALUE_FIRST):
            return self.value_first(shape, pattern)
        return f"{self.targets(shape)} {pattern}"

    def merged_job(self, shape: Shape, checks: list[Check]) -> Job:
        """Checks testing the same value nodes one by one (:attr:`Check.condition` on the
        same :attr:`Check.base`) in one pass over those values: each test is bound to a
        flag (an error counts as false, as it does in a filter) and a solution is kept
        when any flag is set. Each check then gets the solutions its own flag selects
        (:func:`~kg.shacl.results.flagged_rows`), so its results are those of its own query."""
        first = checks[0]
        names = [f"{FLAG}{i}" for i in range(len(checks))]
        flags = ["?" + name for name in names]
        binds = " ".join(f"BIND (COALESCE({c.condition}, false) AS {f})" for c, f in zip(checks, flags))
        pattern = f"{first.base} {binds} FILTER ({' || '.join(flags)})"
        query = f"SELECT DISTINCT ({first.focus} AS ?focus) {self._keys(first)} {' '.join(flags)} WHERE {{ {self.where(shape, pattern)} }}"
        return Job(query, partial(flagged_rows, names, [self.check_job(shape, c).rows for c in checks]))

    def value_first(self, shape: Shape, pattern: str) -> str:
        """``pattern`` evaluated first, then joined with the shape's targets.

        Violations are rare: finding them from the values and testing target membership
        only for those beats joining every focus node first. The membership test is an
        ``OPTIONAL`` with a flag, not ``FILTER EXISTS``: pyoxigraph evaluates an ``EXISTS``
        filter before the pattern's own filters, an index lookup for every value (10-40×
        slower on a large on-disk store); an ``OPTIONAL`` is joined after them. A join
        with a required group means the same (the flag is bound exactly when it matches)."""
        return f"{{ {pattern} }} OPTIONAL {{ {self.targets(shape)} BIND (true AS {_MEMBER}) }} FILTER (BOUND({_MEMBER}))"

    def check_job(self, shape: Shape, check: Check) -> Job:
        """The query of a compiled check, and how its solutions become result rows."""
        return Job(self.check_query(shape, check), partial(check_rows, check))

    # ----------------------------------------------------------------- SPARQL constraints

    def sparql_query(self, shape: Shape, constraint: Constraint) -> tuple[str, bool]:
        """The constraint's query with prefixes and ``$PATH`` filled in, and whether
        ``$this`` can be joined with the targets (else it is pre-bound node by node)."""
        g = self.shapes.graph
        select = g.value(constraint.value, SH.select)
        if select is None:
            raise Unsupported("a SPARQL constraint without sh:select")
        text = str(select)
        constants: dict[str, str] = {}
        if _mentions(text, "shapesGraph"):
            if self.shapes_graph_name is None:
                raise Unsupported("$shapesGraph, and the shapes are not in the store")
            constants["shapesGraph"] = f"<{self.shapes_graph_name}>"
        if _mentions(text, "currentShape"):
            if not isinstance(shape.node, URIRef):
                raise Unsupported("$currentShape of a blank-node shape")
            constants["currentShape"] = term_sparql(shape.node)
        if constants:
            text = _substitute(text, constants)
        if shape.path is not None:
            path = self.compiler.path(shape.path)
            text = rewrite(text, lambda token: path if token.text == "$PATH" and token.kind is Kind.VAR else None)
        prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in self._prefixes(constraint.value))
        text = rewrite(text, lambda token: "?this" if token.text == "$this" and token.kind is Kind.VAR else None)
        return prologue + text, _joinable(text)

    def _prefixes(self, node: Node) -> Iterator[tuple[str, str]]:
        """The declarations of ``sh:prefixes``, following ``owl:imports`` between holders."""
        g = self.shapes.graph
        todo, seen = list(g.objects(node, SH.prefixes)), set()
        while todo:
            holder = todo.pop()
            if holder in seen:
                continue
            seen.add(holder)
            todo.extend(g.objects(holder, OWL.imports))
            for declaration in g.objects(holder, SH.declare):
                prefix, namespace = g.value(declaration, SH.prefix), g.value(declaration, SH.namespace)
                if prefix is not None and namespace is not None:
                    yield str(prefix), str(namespace)

    def sparql_job(self, shape: Shape, constraint: Constraint) -> Job:
        """A SPARQL constraint as one query joined with the targets when its text allows,
        else a local loop pre-binding one focus node at a time."""
        query, joinable = self.sparql_query(shape, constraint)
        # raises Unsupported now, while the shape can still go to pyshacl, for a shape
        # without targets of its own (a SPARQL constraint on a property shape)
        targets = self.targets(shape)
        if joinable:
            brace = next(token.start for token in tokens(query) if token.is_punct("{"))
            head = query[:brace]
            selected = _SELECT_HEAD.search(head)
            if "*" not in head[selected.end() if selected else 0 :] and "?this" not in head:
                head = _SELECT_HEAD.sub(lambda m: m.group(0) + "?this ", head, count=1)
            joined = f"{head}{{ {targets} {query[brace + 1:]}"
            return Job(joined, partial(sparql_rows, self.shapes.graph, shape, constraint), self.native_graph)

        def each_focus() -> list[Row]:
            rows: list[Row] = []
            graph = ox.NamedNode(self.native_graph) if self.native_graph else None
            text = pre_bind(query, ["this"])
            for focus in (restore(f) for f in self.focus_nodes(shape)):  # type: ignore[arg-type]
                solutions = self.store.query(text, custom_functions=functions({"this": focus}), default_graph=graph)  # type: ignore[arg-type]
                names = [v.value for v in solutions.variables]  # type: ignore[union-attr]
                found = [{n: s[n] for n in names if s[n] is not None} for s in solutions]  # type: ignore[union-attr]
                rows.extend(sparql_rows(self.shapes.graph, shape, constraint, found, focus))
            return rows

        return Job(None, lambda _: each_focus(), reads=query)

    def focus_nodes(self, shape: Shape) -> list[object]:
        return [s["this"] for s in self.store.query(f"SELECT DISTINCT ?this WHERE {{ {self.targets(shape)} }}")]  # type: ignore[union-attr]


# --------------------------------------------------------------------- footprints


def native_predicates(shapes_graph: Graph, shapes_graph_name: str | None = None) -> frozenset[str] | None:
    """The predicates the compiled SPARQL constraints of ``shapes_graph`` can read, with
    those their shapes' targets read: what a native copy of the data must hold
    (``StoreLayout.native_graph``). None when a constraint can read any predicate.

    Compiled on an empty store, as the run will compile them (a shape the engine leaves
    to pyshacl reads pyshacl's own copy of the data, not this one)."""
    shapes = ShapesGraph(shapes_graph)
    planner = Planner(_EMPTY, shapes, None, shapes_graph_name=shapes_graph_name)
    found = {str(RDF.type), str(RDFS.subClassOf)}
    for shape in shapes.targeted():
        try:
            checks = planner.compiler.checks(shape)
            queries = [planner.sparql_query(c.shape, c.constraint)[0] for c in checks if c.constraint.component == SH.SPARQLConstraintComponent]
        except Unsupported:
            continue
        if not queries:
            continue
        found.update(str(value) for kind, value in shape.targets if kind in (SH.targetSubjectsOf, SH.targetObjectsOf))
        for query in queries:
            try:
                found |= query_predicates(query)
            except Unbounded:
                return None
    return frozenset(found)


def job_reads(shapes_graph: Graph) -> dict[JobKey, Reads] | None:
    """What each job of a whole validation reads: every IRI its query names, its shape's
    targets included (a superset of the predicates), and the classes of the type triples
    it reads (:func:`~kg.shacl.scale.footprint.query_reads`). None when the jobs cannot be split
    by what they read: some job can read any predicate, or a shape is left to pyshacl
    (which reads the whole data).

    Planned on an empty store: on data, a shape may have no focus nodes (its jobs are then
    skipped) and a class's subclasses are listed (the type triples of a class are read
    with those of its subclasses), neither of which changes the predicates."""
    shapes = ShapesGraph(shapes_graph)
    if shapes.has_sparql_targets():
        return None
    planner = Planner(_EMPTY, shapes, None)
    found: dict[JobKey, Reads] = {}
    try:
        for shape in shapes.targeted():
            targets = query_reads(f"SELECT * WHERE {{ {planner.targets(shape)} }}")
            for index, job in enumerate(planner.jobs(shape)):
                found[(shape.node, index)] = targets | query_reads(job.query or job.reads or "")
    except (Unsupported, Unbounded):
        return None
    return found


_EMPTY = ox.Store()


def _parses(query: str) -> None:
    """Raise :class:`Unsupported` for a query pyoxigraph cannot parse (run on an empty
    store: parsing is all it costs), so the shape goes to pyshacl before anything runs."""
    try:
        _EMPTY.query(query)
    except SyntaxError as exc:
        raise Unsupported(f"the SPARQL of this shape does not parse in pyoxigraph: {exc}") from None
