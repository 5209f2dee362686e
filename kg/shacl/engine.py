"""Validation on a pyoxigraph store: compiled SPARQL first, pyshacl for the rest.

Each shape with targets is compiled (:mod:`kg.shacl.compiler`) into one SELECT per
constraint; pyoxigraph evaluates them over the store, two at a time. SPARQL-based
constraints run as written, with ``$this`` joined to the shape's targets when the query
allows it and pre-bound one focus node at a time when it does not. A shape the compiler
cannot translate faithfully is validated by pyshacl, the reference implementation, on an
rdflib copy of the data; the report says which engine checked which shape.

The outcome is a W3C ``sh:ValidationReport`` graph, the same thing pyshacl produces.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Node, URIRef
from rdflib.namespace import XSD

from kg.errors import InputError
from kg.namespaces import OWL, RDF, RDFS, SH
from kg.rdfio import to_rdflib_term
from kg.shacl.compiler import Check, Compiler, Unsupported, term_sparql
from kg.shacl.literals import restore
from kg.shacl.messages import default_message, fill_template
from kg.shacl.model import Constraint, Shape, ShapesGraph
from kg.shacl.prebinding import functions, pre_bind
from kg.shacl.scale.footprint import Reads, Unbounded, query_predicates, query_reads
from kg.shacl.scale.parallel import GraphQuery, Solutions, Twin, map_select, select, worker_pool

__all__ = [
    "ENGINE_PYSHACL",
    "ENGINE_SPARQL",
    "EngineReport",
    "JobKey",
    "job_reads",
    "native_predicates",
    "report_of_parts",
    "twin_plan",
    "validate_oxigraph",
    "validate_part",
]

ENGINE_SPARQL = "sparql"
ENGINE_PYSHACL = "pyshacl"

_SELECT_HEAD = re.compile(r"\bSELECT\s+(DISTINCT\s+|REDUCED\s+)?", re.IGNORECASE)
#: what may open a nested group without changing what ``$this`` means inside it
_SAFE_GROUP = re.compile(r"\b(EXISTS|OPTIONAL)\s*$", re.IGNORECASE)
_TOKENS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*|[{}]')


_TERM_TOKENS = r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|<[^<>"{}|^`\\\s]*>'


def _substitute(text: str, constants: dict[str, str]) -> str:
    """``text`` with each pre-bound variable (``$name`` or ``?name``) replaced by its
    constant everywhere outside strings and IRIs, and ``BOUND(?name)`` by ``(true)``."""
    for name in constants:
        text = re.sub(rf"\bBOUND\s*\(\s*[?$]{name}\s*\)", "(true)", text, flags=re.IGNORECASE)
    names = "|".join(re.escape(n) for n in constants)
    pattern = re.compile(rf"{_TERM_TOKENS}|[?$]({names})\b|[\s\S]")
    return "".join(constants[m.group(1)] if m.group(1) else m.group(0) for m in pattern.finditer(text))


def _joinable(query: str) -> bool:
    """True when joining ``?this`` with the targets at the top of the WHERE clause means
    the same as pre-binding it: no group below the top one opens a new scope for it
    (only ``EXISTS`` and ``OPTIONAL`` groups, which see the outer binding, are allowed)."""
    depth = 0
    for match in _TOKENS.finditer(query):
        token = match.group(0)
        if token == "{":
            if depth >= 1 and not _SAFE_GROUP.search(query[: match.start()]):
                return False
            depth += 1
        elif token == "}":
            depth -= 1
    return True


#: patterns that bind the focus variable themselves, so they can run before the targets
_VALUE_FIRST = ("?this ", "{ SELECT ?this ")
#: the flag of a target membership test (the compiler's variables are ``?_`` + stem + number)
_MEMBER = "?_targeted"
_TRUE = ox.Literal(True)


@dataclass(frozen=True)
class StoreLayout:
    """How a validation store holds what the engine reads, beyond the data in its default graph."""

    #: the directory of an on-disk store nobody writes meanwhile: worker processes open it
    path: Path | None = None
    #: how many worker processes evaluate the queries (with ``path``)
    processes: int = 1
    #: the graph holding the shapes (what ``$shapesGraph`` means in a SPARQL constraint)
    shapes_graph: str | None = None
    #: typed literals are under private datatypes (:func:`kg.shacl.literals.protect`)
    exact_literals: bool = False
    #: with exact literals: a copy of the data loaded as is, which SPARQL constraints
    #: (written against ordinary literals) read
    native_graph: str | None = None
    #: a process holding its own copy of this in-memory store, sharing the queries
    #: (:func:`twin_plan` plans them there)
    twin: Twin | None = None


@dataclass
class EngineReport:
    """The report graph, and which engine checked each shape (by shape node)."""

    graph: Graph
    conforms: bool
    engines: dict[Node, str] = field(default_factory=dict)
    unsupported: dict[Node, str] = field(default_factory=dict)


@dataclass
class _Job:
    """A query to evaluate (anywhere) and what turns its solutions into result rows;
    ``query`` None: ``rows`` does its own querying, in this process."""

    query: str | None
    rows: Callable[[Solutions], list[_Row]]
    #: the graph the query reads instead of the default graph (SPARQL constraints read
    #: the data with literals in their native types, see ``native_graph``)
    default_graph: str | None = None
    #: without ``query``: the query ``rows`` evaluates (once per focus node), for what it reads
    reads: str | None = None


@dataclass
class _Row:
    shape: Shape
    component: URIRef
    focus: Node
    path: Node | None
    value: Node | None
    messages: list[Literal]
    source_constraint: Node | None = None


def _rdflib(term: object) -> Node:
    node = to_rdflib_term(restore(term))  # type: ignore[arg-type]
    if isinstance(node, Literal) and node.datatype == XSD.string:
        return Literal(str(node))
    return node


def _sparql_term(term: Node) -> str | None:
    """A focus node written for a VALUES clause; None for blank nodes (cannot be named)."""
    try:
        return term_sparql(term)
    except Unsupported:
        return None


class _Run:
    """One validation run: the store, the compiled shapes and the rows they produce."""

    def __init__(
        self,
        store: ox.Store,
        shapes: ShapesGraph,
        focus: Collection[Node] | None,
        shapes_graph_name: str | None = None,
        exact: bool = False,
        native_graph: str | None = None,
    ) -> None:
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
            found = [s["c"] for s in self.store.query(query)]
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

    def merged_job(self, shape: Shape, checks: list[Check]) -> _Job:
        """Checks testing the same value nodes one by one (:attr:`Check.condition` on the
        same :attr:`Check.base`) in one pass over those values: each test is bound to a
        flag (an error counts as false, as it does in a filter) and a solution is kept
        when any flag is set. Each check then gets the solutions its own flag selects,
        so its results are those of its own query."""
        first = checks[0]
        flags = [f"?_flag{i}" for i in range(len(checks))]
        binds = " ".join(f"BIND (COALESCE({c.condition}, false) AS {f})" for c, f in zip(checks, flags))
        pattern = f"{first.base} {binds} FILTER ({' || '.join(flags)})"
        query = f"SELECT DISTINCT ({first.focus} AS ?focus) {self._keys(first)} {' '.join(flags)} WHERE {{ {self.where(shape, pattern)} }}"
        split = [self.check_job(shape, c).rows for c in checks]

        def rows(solutions: Solutions) -> list[_Row]:
            out: list[_Row] = []
            for i, (flag, to_rows) in enumerate(zip(flags, split)):
                selected: dict[tuple[object, ...], dict[str, object]] = {}
                for solution in solutions:
                    if solution.get(flag[1:]) == _TRUE:
                        kept = {k: v for k, v in solution.items() if not k.startswith("_flag")}
                        selected.setdefault(tuple(sorted((k, str(v)) for k, v in kept.items())), kept)
                out.extend(to_rows(list(selected.values())))
            return out

        return _Job(query, rows)

    def value_first(self, shape: Shape, pattern: str) -> str:
        """``pattern`` evaluated first, then joined with the shape's targets.

        Violations are rare: finding them from the values and testing target membership
        only for those beats joining every focus node first. The membership test is an
        ``OPTIONAL`` with a flag, not ``FILTER EXISTS``: pyoxigraph evaluates an ``EXISTS``
        filter before the pattern's own filters, an index lookup for every value (10-40×
        slower on a large on-disk store); an ``OPTIONAL`` is joined after them. A join
        with a required group means the same (the flag is bound exactly when it matches)."""
        return f"{{ {pattern} }} OPTIONAL {{ {self.targets(shape)} BIND (true AS {_MEMBER}) }} FILTER (BOUND({_MEMBER}))"

    def check_job(self, shape: Shape, check: Check) -> _Job:
        """The query of a compiled check, and how its solutions become result rows."""

        def rows(solutions: Solutions) -> list[_Row]:
            out: list[_Row] = []
            for solution in solutions:
                value = solution.get(check.value[1:]) if check.value else None
                path = solution.get(check.path[1:]) if check.path else None
                out.append(
                    _Row(
                        check.shape,
                        check.constraint.component,
                        _rdflib(solution["focus"]),
                        _rdflib(path) if path is not None else check.shape.path,
                        _rdflib(value) if value is not None else None,
                        check.shape.messages,
                    )
                )
            return out

        return _Job(self.check_query(shape, check), rows)

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
        if re.search(r"[$?]shapesGraph\b", text):
            if self.shapes_graph_name is None:
                raise Unsupported("$shapesGraph, and the shapes are not in the store")
            constants["shapesGraph"] = f"<{self.shapes_graph_name}>"
        if re.search(r"[$?]currentShape\b", text):
            if not isinstance(shape.node, URIRef):
                raise Unsupported("$currentShape of a blank-node shape")
            constants["currentShape"] = term_sparql(shape.node)
        if constants:
            text = _substitute(text, constants)
        if shape.path is not None:
            text = re.sub(r"\$PATH\b", self.compiler.path(shape.path), text)
        prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in self._prefixes(constraint.value))
        text = re.sub(r"\$this\b", "?this", text)
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

    def sparql_job(self, shape: Shape, constraint: Constraint) -> _Job:
        """A SPARQL constraint as one query joined with the targets when its text allows,
        else a local loop pre-binding one focus node at a time."""
        query, joinable = self.sparql_query(shape, constraint)
        # raises Unsupported now, while the shape can still go to pyshacl, for a shape
        # without targets of its own (a SPARQL constraint on a property shape)
        targets = self.targets(shape)
        if joinable:
            brace = query.index("{")
            head = query[:brace]
            if "*" not in head[_SELECT_HEAD.search(head).end() if _SELECT_HEAD.search(head) else 0 :] and "?this" not in head:
                head = _SELECT_HEAD.sub(lambda m: m.group(0) + "?this ", head, count=1)
            joined = f"{head}{{ {targets} {query[brace + 1:]}"
            return _Job(joined, lambda solutions: self._sparql_rows(shape, constraint, solutions, None), self.native_graph)

        def each_focus() -> list[_Row]:
            rows: list[_Row] = []
            graph = ox.NamedNode(self.native_graph) if self.native_graph else None
            text = pre_bind(query, ["this"])
            for focus in (restore(f) for f in self.focus_nodes(shape)):  # type: ignore[arg-type]
                solutions = self.store.query(text, custom_functions=functions({"this": focus}), default_graph=graph)  # type: ignore[arg-type]
                names = [v.value for v in solutions.variables]  # type: ignore[union-attr]
                found = [{n: s[n] for n in names if s[n] is not None} for s in solutions]  # type: ignore[union-attr]
                rows.extend(self._sparql_rows(shape, constraint, found, focus))
            return rows

        return _Job(None, lambda _: each_focus(), reads=query)

    def focus_nodes(self, shape: Shape) -> list[object]:
        return [s["this"] for s in self.store.query(f"SELECT DISTINCT ?this WHERE {{ {self.targets(shape)} }}")]

    def _sparql_rows(self, shape: Shape, constraint: Constraint, solutions: Solutions, focus: object | None) -> list[_Row]:
        g = self.shapes.graph
        templates = [m for m in g.objects(constraint.value, SH.message) if isinstance(m, Literal)] or shape.messages
        rows: list[_Row] = []
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
            rows.append(_Row(shape, SH.SPARQLConstraintComponent, focus_node, path, value, messages, constraint.value))
        return rows


def validate_oxigraph(
    store: ox.Store,
    shapes_graph: Graph,
    *,
    focus: Collection[Node] | None = None,
    rdflib_data: Callable[[], Graph] | None = None,
    layout: StoreLayout | None = None,
) -> EngineReport:
    """Validate the store's default graph against ``shapes_graph``.

    ``focus`` limits validation to those focus nodes (the incremental check of a change);
    ``rdflib_data`` gives the data as an rdflib graph for the shapes pyshacl must check
    (called only when there is such a shape); ``layout`` says what else the store holds.
    """
    shapes = ShapesGraph(shapes_graph)
    layout = layout or StoreLayout()
    if layout.exact_literals and layout.native_graph is None and any(True for _ in shapes_graph.subjects(SH.select, None)):
        raise ValueError("exact literals with SPARQL constraints need a native_graph")
    report, jobs, fallback = _plan(store, shapes, focus, layout)
    rows = _run_jobs(store, jobs, layout)
    _write_report(report, shapes, rows)
    if fallback:
        if rdflib_data is None:
            raise Unsupported("shapes need pyshacl but no rdflib copy of the data was given")
        for shape in fallback:
            report.engines[shape.node] = ENGINE_PYSHACL
        _merge_pyshacl(report, shapes, fallback, rdflib_data(), focus)
    report.graph.add((_report_node(report), SH.conforms, Literal(report.conforms)))
    return report


def twin_plan(shapes_graph: Graph, layout: StoreLayout) -> Callable[[ox.Store], list[GraphQuery]]:
    """The queries a :class:`~kg.shacl.scale.parallel.Twin` shares with this process once it has
    built its copy of the store: those of a whole validation, planned as this process
    plans them (the same data and shapes give the same queries; answers are matched by
    their text, so a twin that planned otherwise only costs time)."""

    def plan(store: ox.Store) -> list[GraphQuery]:
        _, jobs, _ = _plan(store, ShapesGraph(shapes_graph), None, layout)
        return [(j.query, j.default_graph) for j in jobs if j.query is not None]

    return plan


def _plan(store: ox.Store, shapes: ShapesGraph, focus: Collection[Node] | None, layout: StoreLayout) -> tuple[EngineReport, list[_Job], list[Shape]]:
    """The report to fill, the compiled jobs, and the shapes left to pyshacl."""
    run = _Run(store, shapes, focus, layout.shapes_graph, layout.exact_literals, layout.native_graph)
    report = EngineReport(Graph(), True)
    jobs: list[_Job] = []
    fallback: list[Shape] = []
    if shapes.has_sparql_targets():
        fallback.extend(s for s in shapes.targeted())
    for shape in shapes.targeted() if not fallback else []:
        if not run.has_focus_nodes(shape):
            report.engines[shape.node] = ENGINE_SPARQL  # nothing to check: no node is targeted
            continue
        try:
            shape_jobs = _jobs(run, shape)
        except Unsupported as exc:
            report.unsupported[shape.node] = str(exc)
            report.engines[shape.node] = ENGINE_PYSHACL
            fallback.append(shape)
            continue
        report.engines[shape.node] = ENGINE_SPARQL
        jobs.extend(shape_jobs)
    return report, jobs, fallback


def native_predicates(shapes_graph: Graph, shapes_graph_name: str | None = None) -> frozenset[str] | None:
    """The predicates the compiled SPARQL constraints of ``shapes_graph`` can read, with
    those their shapes' targets read: what a native copy of the data must hold
    (:attr:`StoreLayout.native_graph`). None when a constraint can read any predicate.

    Compiled on an empty store, as the run will compile them (a shape the engine leaves
    to pyshacl reads pyshacl's own copy of the data, not this one)."""
    shapes = ShapesGraph(shapes_graph)
    run = _Run(_EMPTY, shapes, None, shapes_graph_name)
    found = {str(RDF.type), str(RDFS.subClassOf)}
    for shape in shapes.targeted():
        try:
            checks = run.compiler.checks(shape)
            queries = [run.sparql_query(c.shape, c.constraint)[0] for c in checks if c.constraint.component == SH.SPARQLConstraintComponent]
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


#: a job of a whole validation: its shape, and its place among that shape's jobs (the
#: compiler plans the same jobs, in the same order, for the same shapes on any data)
JobKey = tuple[Node, int]


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
    run = _Run(_EMPTY, shapes, None)
    found: dict[JobKey, Reads] = {}
    try:
        for shape in shapes.targeted():
            targets = query_reads(f"SELECT * WHERE {{ {run.targets(shape)} }}")
            for index, job in enumerate(_jobs(run, shape)):
                found[(shape.node, index)] = targets | query_reads(job.query or job.reads or "")
    except (Unsupported, Unbounded):
        return None
    return found


def validate_part(store: ox.Store, shapes_graph: Graph, keys: Collection[JobKey], planned: Collection[JobKey]) -> list[_Row]:
    """The result rows of the jobs ``keys`` names, over ``store`` (which holds at least
    what they read, :func:`job_reads`): one part of a whole validation whose parts are
    checked on different stores (:mod:`kg.shacl.scale.groups`). Raises :class:`Unsupported` when
    this store plans a shape otherwise than ``planned`` (every job of the whole validation)
    says: the parts could not be matched."""
    shapes = ShapesGraph(shapes_graph)
    run = _Run(store, shapes, None)
    wanted = set(keys)
    rows: list[_Row] = []
    for shape in shapes.targeted():
        mine = sorted(i for node, i in wanted if node == shape.node)
        if not mine or not run.has_focus_nodes(shape):
            continue
        jobs = _jobs(run, shape)
        if len(jobs) != sum(1 for node, _ in planned if node == shape.node):
            raise Unsupported(f"shape {shape.node} is planned otherwise on this data")
        for index in mine:
            job = jobs[index]
            rows.extend(job.rows(select(store, job.query, job.default_graph) if job.query is not None else []))
    return rows


def report_of_parts(shapes_graph: Graph, parts: Iterable[list[_Row]]) -> EngineReport:
    """The report of a whole validation from the rows of each of its parts
    (:func:`validate_part`), written as each part comes (while later parts are checked)."""
    shapes = ShapesGraph(shapes_graph)
    report = EngineReport(Graph(), True, {shape.node: ENGINE_SPARQL for shape in shapes.targeted()})
    for rows in parts:
        _write_report(report, shapes, rows)
    report.graph.add((_report_node(report), SH.conforms, Literal(report.conforms)))
    return report


def _jobs(run: _Run, shape: Shape) -> list[_Job]:
    """Compile every check of ``shape`` (raising :class:`Unsupported` before any runs).

    One query per constraint, except that tests of each value node on its own share a
    pass over the same values (:meth:`_Run.merged_job`). Merging a property shape's
    counts with them into one grouped query was measured slower in pyoxigraph
    (aggregates over ``EXISTS`` are evaluated without joins)."""
    jobs: list[_Job] = []
    checks = list(run.compiler.checks(shape))
    same_values: dict[tuple[object, ...], list[Check]] = {}
    for check in checks:
        if check.condition is not None:
            key = (check.shape.node, check.base, check.focus, check.value, check.path, check.key)
            same_values.setdefault(key, []).append(check)
    merged: set[int] = set()
    for check in checks:
        if check.constraint.component == SH.SPARQLConstraintComponent:
            query, _ = run.sparql_query(check.shape, check.constraint)
            _parses(query)
            jobs.append(run.sparql_job(check.shape, check.constraint))
            continue
        group = same_values.get((check.shape.node, check.base, check.focus, check.value, check.path, check.key), [])
        if check.condition is not None and len(group) > 1:
            if id(group) not in merged:
                merged.add(id(group))
                job = run.merged_job(shape, group)
                _parses(job.query or "")
                jobs.append(job)
            continue
        job = run.check_job(shape, check)
        _parses(job.query or "")
        jobs.append(job)
    return jobs


_EMPTY = ox.Store()
#: the least time to wait for a twin's answers once this process has done its share (s)
_TWIN_PATIENCE = 5.0


def _parses(query: str) -> None:
    """Raise :class:`Unsupported` for a query pyoxigraph cannot parse (run on an empty
    store: parsing is all it costs), so the shape goes to pyshacl before anything runs."""
    try:
        _EMPTY.query(query)
    except SyntaxError as exc:
        raise Unsupported(f"the SPARQL of this shape does not parse in pyoxigraph: {exc}") from None


def _run_jobs(store: ox.Store, jobs: list[_Job], layout: StoreLayout) -> list[_Row]:
    """Evaluate the jobs' queries here, in worker processes over an on-disk store, or
    shared with the in-memory store's twin (each process takes the next query left).

    Workers forked from this process after an in-memory store is loaded were measured to
    copy most of it (reading it writes to its pages) for no gain in time on two shared
    cores; a twin loads its own copy at the same time as this process instead."""
    remote = [j for j in jobs if j.query is not None]
    rows: list[_Row] = []
    if layout.path is not None and layout.processes > 1 and len(jobs) > layout.processes and remote:
        with worker_pool(layout.path, layout.processes) as pool:
            for job, solutions in zip(remote, map_select(pool, [(j.query, j.default_graph) for j in remote if j.query])):
                rows.extend(job.rows(solutions))
    elif layout.twin is not None and remote:
        keys = [(j.query or "", j.default_graph) for j in remote]
        answered: dict[GraphQuery, Solutions] = {}
        started = time.monotonic()
        while (taken := layout.twin.claim()) < len(keys):
            answered[keys[taken]] = select(store, *keys[taken])
        if any(key not in answered for key in keys):
            # the twin began its share when this process did: waiting as long again is plenty
            theirs = layout.twin.answers(timeout=max(_TWIN_PATIENCE, time.monotonic() - started))
            answered.update((key, found) for key, found in theirs.items() if _same_blank_nodes(store, found))
        for job, key in zip(remote, keys):
            if key not in answered:  # the twin failed, or planned differently: evaluate here
                answered[key] = select(store, *key)
            rows.extend(job.rows(answered[key]))
    else:
        for job in remote:
            rows.extend(job.rows(select(store, job.query or "", job.default_graph)))
    for job in jobs:
        if job.query is None:
            rows.extend(job.rows([]))
    return rows


def _same_blank_nodes(store: ox.Store, solutions: Solutions) -> bool:
    """Whether every blank node in a twin's solutions is one this store holds too.

    The twin parsed the same files, and forked from this process it draws the same blank
    node identifiers; nothing in pyoxigraph promises that, so an answer naming a blank
    node this store does not know is evaluated again here."""
    def held(node: ox.BlankNode) -> bool:
        found = chain(store.quads_for_pattern(node, None, None), store.quads_for_pattern(None, None, node))
        return next(found, None) is not None

    return all(held(term) for solution in solutions for term in solution.values() if isinstance(term, ox.BlankNode))


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


def _write_report(report: EngineReport, shapes: ShapesGraph, rows: list[_Row]) -> None:
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


def _merge_pyshacl(report: EngineReport, shapes: ShapesGraph, fallback: list[Shape], data: Graph, focus: Collection[Node] | None) -> None:
    """Let pyshacl check the ``fallback`` shapes (every other shape's targets removed)."""
    from pyshacl import validate as pyshacl_validate

    from kg.shacl.model import TARGET_PREDICATES

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
