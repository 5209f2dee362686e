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
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Node, URIRef
from rdflib.namespace import XSD

from ..errors import InputError
from ..namespaces import OWL, RDF, RDFS, SH
from ..rdfio import to_rdflib_term
from .literals import restore
from .compiler import Check, Compiler, Unsupported, term_sparql
from .messages import default_message, fill_template
from .model import Constraint, Shape, ShapesGraph

__all__ = ["EngineReport", "validate_oxigraph", "ENGINE_SPARQL", "ENGINE_PYSHACL"]

ENGINE_SPARQL = "sparql"
ENGINE_PYSHACL = "pyshacl"

_SELECT_HEAD = re.compile(r"\bSELECT\s+(DISTINCT\s+|REDUCED\s+)?", re.IGNORECASE)
#: what may open a nested group without changing what ``$this`` means inside it
_SAFE_GROUP = re.compile(r"\b(EXISTS|OPTIONAL)\s*$", re.IGNORECASE)
_TOKENS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*|[{}]')


def _pre_bound(query: str, focus: object) -> tuple[str, dict[ox.Variable, object] | None]:
    """The query with ``?this`` replaced by the focus node everywhere, nested groups
    included (SHACL's pre-binding); pyoxigraph's substitution, which stops at nested
    groups, only for blank focus nodes, which cannot be written in a query."""
    if isinstance(focus, ox.BlankNode):
        return query, {ox.Variable("this"): focus}
    constant = str(focus)
    brace = query.index("{")
    head, body = query[:brace], re.sub(r"\bBOUND\s*\(\s*\?this\s*\)", "(true)", query[brace:], flags=re.IGNORECASE)
    head = re.sub(r"\?this\b", "", head)
    if re.search(r"\bSELECT\s+(DISTINCT\s+|REDUCED\s+)?(WHERE\s*)?$", head, re.IGNORECASE):
        head = _SELECT_HEAD.sub(lambda m: m.group(0) + "* ", head, count=1)
    body = "".join(
        constant if token.group(0) == "?this" else token.group(0)
        for token in re.finditer(r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|<[^<>"{}|^`\\\s]*>|\?this\b|[\s\S]', body)
    )
    return head + body, None


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


@dataclass
class EngineReport:
    """The report graph, and which engine checked each shape (by shape node)."""

    graph: Graph
    conforms: bool
    engines: dict[Node, str] = field(default_factory=dict)
    unsupported: dict[Node, str] = field(default_factory=dict)


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

    def __init__(self, store: ox.Store, shapes: ShapesGraph, focus: Collection[Node] | None) -> None:
        self.store = store
        self.shapes = shapes
        self.compiler = Compiler(shapes, subclasses=self.subclasses)
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

    def targets(self, shape: Shape) -> str:
        target = self.compiler.target_pattern(shape)
        return f"{self.focus_values} {{ {target} }}" if self.focus_values else target

    # ----------------------------------------------------------------- compiled checks

    def check_query(self, shape: Shape, check: Check) -> str:
        # ?this stays in the projection: a node reached from two focus nodes is reported twice
        keys = " ".join(v for v in ("?this" if check.focus != "?this" else None, check.value, check.path, check.key) if v)
        return f"SELECT DISTINCT ({check.focus} AS ?focus) {keys} WHERE {{ {self.targets(shape)} {check.pattern} }}"

    def run_check(self, shape: Shape, check: Check) -> list[_Row]:
        query = self.check_query(shape, check)
        rows: list[_Row] = []
        for solution in self.store.query(query):
            value = solution[check.value[1:]] if check.value else None
            path = solution[check.path[1:]] if check.path else None
            rows.append(
                _Row(
                    check.shape,
                    check.constraint.component,
                    _rdflib(solution["focus"]),
                    _rdflib(path) if path is not None else check.shape.path,
                    _rdflib(value) if value is not None else None,
                    check.shape.messages,
                )
            )
        return rows

    # ----------------------------------------------------------------- grouped checks

    def _group_parts(self, checks: list[Check]) -> tuple[Shape, str, str, list[Check], list[Check]]:
        shape = checks[0].shape
        assert shape.path is not None
        _, value = self.compiler._values(shape, "?this")
        tests = [c for c in checks if c.condition]
        counts = [c for c in checks if c.bounds]
        return shape, value, self.compiler.path(shape.path), tests, counts

    def group_query(self, top: Shape, checks: list[Check]) -> str:
        """One pass over the focus nodes: the number of values and, per value test, how
        many values fail it; only focus nodes with a problem come back."""
        shape, v, path, tests, counts = self._group_parts(checks)
        count = f"COUNT(DISTINCT {v})" if not isinstance(shape.path, URIRef) else f"COUNT({v})"
        flags = [f"SUM(IF(COALESCE({c.condition}, false), 1, 0))" for c in tests]
        having = [f"{count} < {c.bounds[0]}" for c in counts if c.bounds and c.bounds[0] is not None]
        having += [f"{count} > {c.bounds[1]}" for c in counts if c.bounds and c.bounds[1] is not None]
        having += [f"{f} > 0" for f in flags]
        projection = " ".join([f"({count} AS ?_n)"] + [f"({f} AS ?_f{i})" for i, f in enumerate(flags)])
        values = f"OPTIONAL {{ ?this {path} {v} }}" if counts else f"?this {path} {v} ."
        return (
            f"SELECT ?this {projection} WHERE {{ {{ SELECT DISTINCT ?this WHERE {{ {self.targets(top)} }} }} {values} }} "
            f"GROUP BY ?this HAVING ({' || '.join(having)})"
        )

    def run_group(self, top: Shape, checks: list[Check]) -> list[_Row]:
        shape, v, path, tests, counts = self._group_parts(checks)
        rows: list[_Row] = []
        flagged: list[object] = []
        for solution in self.store.query(self.group_query(top, checks)):
            focus, n = solution["this"], int(solution["_n"].value)
            for c in counts:
                low, high = c.bounds or (None, None)
                if (low is not None and n < low) or (high is not None and n > high):
                    rows.append(_Row(shape, c.constraint.component, _rdflib(focus), shape.path, None, shape.messages))
            if any(int(solution[f"_f{i}"].value) > 0 for i in range(len(tests))):
                flagged.append(focus)
        if flagged:
            rows.extend(self._failing_values(top, shape, v, path, tests, flagged))
        return rows

    def _failing_values(self, top: Shape, shape: Shape, v: str, path: str, tests: list[Check], foci: list[object]) -> list[_Row]:
        """The values behind the flags of :meth:`group_query`, for the flagged focus nodes."""
        binds = " ".join(f"BIND (COALESCE({c.condition}, false) AS ?_g{i})" for i, c in enumerate(tests))
        fired = " || ".join(f"?_g{i}" for i in range(len(tests)))
        names = " ".join(f"?_g{i}" for i in range(len(tests)))
        written = [_sparql_term(_rdflib(f)) for f in foci]
        batches = [written[i : i + 2000] for i in range(0, len(written), 2000)] if all(written) else [None]
        rows: list[_Row] = []
        for batch in batches:
            focus = f"VALUES ?this {{ {' '.join(batch)} }}" if batch else f"{{ SELECT DISTINCT ?this WHERE {{ {self.targets(top)} }} }}"
            query = f"SELECT DISTINCT ?this {v} {names} WHERE {{ {focus} ?this {path} {v} . {binds} FILTER ({fired}) }}"
            for solution in self.store.query(query):
                for i, c in enumerate(tests):
                    if solution[f"_g{i}"].value == "true":
                        rows.append(
                            _Row(shape, c.constraint.component, _rdflib(solution["this"]), shape.path, _rdflib(solution[v[1:]]), shape.messages)
                        )
        return rows

    # ----------------------------------------------------------------- SPARQL constraints

    def sparql_query(self, shape: Shape, constraint: Constraint) -> tuple[str, bool]:
        """The constraint's query with prefixes and ``$PATH`` filled in, and whether
        ``$this`` can be joined with the targets (else it is pre-bound node by node)."""
        g = self.shapes.graph
        select = g.value(constraint.value, SH.select)
        if select is None:
            raise Unsupported("a SPARQL constraint without sh:select")
        text = str(select)
        if re.search(r"[$?](shapesGraph|currentShape)\b", text):
            raise Unsupported("$shapesGraph / $currentShape")
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

    def run_sparql(self, shape: Shape, constraint: Constraint) -> list[_Row]:
        query, joinable = self.sparql_query(shape, constraint)
        if joinable:
            brace = query.index("{")
            head = query[:brace]
            if "*" not in head[_SELECT_HEAD.search(head).end() if _SELECT_HEAD.search(head) else 0 :] and "?this" not in head:
                head = _SELECT_HEAD.sub(lambda m: m.group(0) + "?this ", head, count=1)
            solutions: Iterable[ox.QuerySolution] = self.store.query(
                f"{head}{{ {self.targets(shape)} {query[brace + 1:]}"
            )
            return self._sparql_rows(shape, constraint, solutions, None)
        rows: list[_Row] = []
        for focus in self.focus_nodes(shape):
            text, substitutions = _pre_bound(query, focus)
            try:
                solutions = self.store.query(text, substitutions=substitutions)
            except SyntaxError:  # ?this where only a variable may stand: let pyoxigraph bind it
                solutions = self.store.query(query, substitutions={ox.Variable("this"): focus})
            rows.extend(self._sparql_rows(shape, constraint, solutions, focus))
        return rows

    def focus_nodes(self, shape: Shape) -> list[object]:
        return [s["this"] for s in self.store.query(f"SELECT DISTINCT ?this WHERE {{ {self.targets(shape)} }}")]

    def _sparql_rows(
        self, shape: Shape, constraint: Constraint, solutions: Iterable[ox.QuerySolution], focus: object | None
    ) -> list[_Row]:
        g = self.shapes.graph
        templates = [m for m in g.objects(constraint.value, SH.message) if isinstance(m, Literal)] or shape.messages
        variables = [v.value for v in solutions.variables]  # type: ignore[attr-defined]
        rows: list[_Row] = []
        seen: set[tuple[object, ...]] = set()
        for solution in solutions:
            bound = {name: solution[name] for name in variables if solution[name] is not None}
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
            value = _rdflib(bound["value"]) if "value" in bound else (None if shape.path is not None else focus_node)
            path = _rdflib(bound["path"]) if isinstance(bound.get("path"), ox.NamedNode) else shape.path
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
    threads: int = 2,
) -> EngineReport:
    """Validate the store's default graph against ``shapes_graph``.

    ``focus`` limits validation to those focus nodes (the incremental check of a change);
    ``rdflib_data`` gives the data as an rdflib graph for the shapes pyshacl must check
    (called only when there is such a shape).
    """
    shapes = ShapesGraph(shapes_graph)
    run = _Run(store, shapes, focus)
    report = EngineReport(Graph(), True)
    jobs: list[Callable[[], list[_Row]]] = []
    fallback: list[Shape] = []
    if shapes.has_sparql_targets():
        fallback.extend(s for s in shapes.targeted())
    for shape in shapes.targeted() if not fallback else []:
        try:
            shape_jobs = _jobs(run, shape)
        except Unsupported as exc:
            report.unsupported[shape.node] = str(exc)
            report.engines[shape.node] = ENGINE_PYSHACL
            fallback.append(shape)
            continue
        report.engines[shape.node] = ENGINE_SPARQL
        jobs.extend(shape_jobs)
    rows: list[_Row] = []
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for chunk in pool.map(lambda job: job(), jobs):
            rows.extend(chunk)
    _write_report(report, shapes, rows)
    if fallback:
        if rdflib_data is None:
            raise Unsupported("shapes need pyshacl but no rdflib copy of the data was given")
        for shape in fallback:
            report.engines[shape.node] = ENGINE_PYSHACL
        _merge_pyshacl(report, shapes, fallback, rdflib_data(), focus)
    report.graph.add((_report_node(report), SH.conforms, Literal(report.conforms)))
    return report


def _jobs(run: _Run, shape: Shape) -> list[Callable[[], list[_Row]]]:
    """Compile every check of ``shape`` (raising :class:`Unsupported` before any runs).

    The value tests and counts of one property shape become one grouped query (one pass
    over the focus nodes and their values instead of one per constraint)."""
    jobs: list[Callable[[], list[_Row]]] = []
    groups: dict[Node, list[Check]] = {}
    for check in run.compiler.checks(shape):
        mergeable = check.focus == "?this" and check.shape.path is not None and (check.condition or check.bounds)
        if mergeable:
            groups.setdefault(check.shape.node, []).append(check)
        elif check.constraint.component == SH.SPARQLConstraintComponent:
            query, _ = run.sparql_query(check.shape, check.constraint)
            _parses(query)
            jobs.append(lambda s=check.shape, c=check.constraint: run.run_sparql(s, c))
        else:
            _parses(run.check_query(shape, check))
            jobs.append(lambda s=shape, c=check: run.run_check(s, c))
    for checks in groups.values():
        _parses(run.group_query(shape, checks))
        jobs.append(lambda s=shape, cs=checks: run.run_group(s, cs))
    return jobs


_EMPTY = ox.Store()


def _parses(query: str) -> None:
    """Raise :class:`Unsupported` for a query pyoxigraph cannot parse (run on an empty
    store: parsing is all it costs), so the shape goes to pyshacl before anything runs."""
    try:
        _EMPTY.query(query)
    except SyntaxError as exc:
        raise Unsupported(f"the SPARQL of this shape does not parse in pyoxigraph: {exc}") from None


def _report_node(report: EngineReport) -> Node:
    node = report.graph.value(predicate=RDF.type, object=SH.ValidationReport)
    if node is None:
        node = BNode()
        report.graph.add((node, RDF.type, SH.ValidationReport))
    return node


def _copy_path(shapes: Graph, target: Graph, node: Node) -> None:
    """Copy a blank-node path structure (and RDF lists in it) into the report graph."""
    if not isinstance(node, BNode):
        return
    for p, o in shapes.predicate_objects(node):
        target.add((node, p, o))
        _copy_path(shapes, target, o)


def _write_report(report: EngineReport, shapes: ShapesGraph, rows: list[_Row]) -> None:
    g = report.graph
    root = _report_node(report)
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
        messages = row.messages or [Literal(default_message(row.component, row.shape, shapes.graph))]
        for message in messages:
            g.add((result, SH.resultMessage, message))


def _merge_pyshacl(report: EngineReport, shapes: ShapesGraph, fallback: list[Shape], data: Graph, focus: Collection[Node] | None) -> None:
    """Let pyshacl check the ``fallback`` shapes (every other shape's targets removed)."""
    from pyshacl import validate as pyshacl_validate

    from .model import TARGET_PREDICATES

    keep = {s.node for s in fallback}
    reduced = Graph()
    for triple in shapes.graph:
        s, p, o = triple
        if s not in keep and (p in TARGET_PREDICATES or p == SH.target or (p == RDF.type and o == RDFS.Class)):
            continue
        reduced.add(triple)
    try:
        conforms, graph, _ = pyshacl_validate(
            data, shacl_graph=reduced, inference="none", abort_on_first=False, allow_warnings=False, meta_shacl=False
        )
    except NotImplementedError as exc:
        reasons = "; ".join(f"{node}: {why}" for node, why in report.unsupported.items())
        raise InputError(f"these shapes use SHACL features no engine here implements ({reasons}): {exc}") from None
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
