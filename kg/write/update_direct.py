"""A SPARQL 1.1 Update evaluated on the store itself: the quads it deletes and inserts, nothing copied.

pyoxigraph applies an update in place and cannot say beforehand what it would change, and
copying the dataset to find out costs what the store holds. So each operation is read here
and evaluated as the spec defines it (SPARQL 1.1 Update, section 3):

* ``INSERT DATA`` / ``DELETE DATA``: their quads, read as TriG (fresh blank nodes for
  ``INSERT DATA``);
* ``DELETE { T } INSERT { T' } WHERE { P }`` (with ``WITH``, ``USING``, ``USING NAMED``, and
  ``DELETE WHERE { P }``): ``P`` becomes a ``SELECT *`` run on the store over the dataset the
  operation names; each solution instantiates the templates (read as TriG with the variables
  as placeholder IRIs), a triple with an unbound variable or an impossible term (a literal
  subject) is skipped, every template blank node is fresh per solution, and the deletions
  apply before the insertions;
* ``CLEAR`` / ``DROP`` of one graph (or ``DEFAULT``), alone in its request: a graph-level write.

What the operations amount to is a difference per graph (the triples it gains, the triples it
loses, checked against the store), which :mod:`kg.write.staging` stages and the commit applies.
The dataset the ``WHERE`` reads: the union as its default graph (or the ``WITH``/``USING``
graphs), the committed graphs but the receipts as its named graphs.

Anything else — ``LOAD``, ``SERVICE``, ``CREATE``, ``COPY``/``MOVE``/``ADD``, ``CLEAR``/``DROP`` of
``NAMED``/``ALL``, or a request whose later operations read (``WHERE``) what earlier ones
wrote — answers None, and the update is evaluated on a copy instead (:mod:`kg.write.update`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.errors import InputError, NotFoundError, ProtectedGraphError, QueryError
from kg.iris import DEFAULT_GRAPH, PROVENANCE_GRAPH
from kg.sparql.explain import explain
from kg.sparql.lexer import Kind, Token, code_tokens, expand, group_end, iri_value
from kg.store.base import GraphWrite, Store, WriteMode
from kg.write.change import SparqlUpdate, is_protected

__all__ = ["plan_direct"]

_TERM = ox.NamedNode | ox.BlankNode | ox.Literal
_Quad = tuple[object, object, object, object]


@dataclass
class _Operation:
    """One operation of a request: its kind and the parts of its text."""

    kind: str  # "insert-data", "delete-data", "modify", "graph"
    prologue: str
    delete: str | None = None
    insert: str | None = None
    where: str | None = None
    with_graph: str | None = None
    using: list[str] = field(default_factory=list)
    using_named: list[str] = field(default_factory=list)
    graph_op: tuple[str, bool, str | None] | None = None  # (CLEAR|DROP, silent, graph)


#: operations (and SERVICE, which an extra evaluation would call twice) left to the copy
_ON_A_COPY = ("LOAD", "CREATE", "COPY", "MOVE", "ADD", "SERVICE")


class _Unsupported(Exception):
    """An operation this module leaves to the copy."""


def _group_end(code: list[Token], start: int) -> int:
    found = group_end(code, start)
    if found is None:
        raise _Unsupported("unclosed group")
    return found


def _iri(token: Token, declared: dict[str, str]) -> str:
    value = expand(token, declared)
    if value is None or ":" not in value:
        raise _Unsupported("an IRI that needs resolving")
    return value


def _operations(text: str) -> list[_Operation]:
    """The operations of ``text`` (already parsed by pyoxigraph: the syntax is valid)."""
    code = code_tokens(text)
    ops: list[_Operation] = []
    declared: dict[str, str] = {}
    prologue: list[str] = []
    i = 0
    while i < len(code):
        token = code[i]
        if token.is_punct(";"):
            i += 1
            continue
        if token.is_word("PREFIX"):
            declared[code[i + 1].text.rstrip(":")] = iri_value(code[i + 2])
            prologue.append(text[token.start:code[i + 2].end])
            i += 3
            continue
        if token.is_word("BASE"):
            raise _Unsupported("BASE")
        here = "\n".join(prologue)
        word = token.text.upper() if token.kind is Kind.WORD else ""
        nxt = code[i + 1] if i + 1 < len(code) else None
        if word in ("INSERT", "DELETE") and nxt is not None and nxt.is_word("DATA"):
            close = _group_end(code, i + 2)
            body = text[code[i + 2].end:code[close].start]
            ops.append(_Operation("insert-data" if word == "INSERT" else "delete-data", here, insert=body))
            i = close + 1
            continue
        if word == "DELETE" and nxt is not None and nxt.is_word("WHERE"):
            close = _group_end(code, i + 2)
            body = text[code[i + 2].end:code[close].start]
            ops.append(_Operation("modify", here, delete=body, where="{" + body + "}"))
            i = close + 1
            continue
        if word in ("WITH", "INSERT", "DELETE"):
            op = _Operation("modify", here)
            if word == "WITH":
                op.with_graph = _iri(code[i + 1], declared)
                i += 2
            for clause in ("DELETE", "INSERT"):
                if i < len(code) and code[i].is_word(clause):
                    close = _group_end(code, i + 1)
                    setattr(op, clause.lower(), text[code[i + 1].end:code[close].start])
                    i = close + 1
            while i < len(code) and code[i].is_word("USING"):
                if code[i + 1].is_word("NAMED"):
                    op.using_named.append(_iri(code[i + 2], declared))
                    i += 3
                else:
                    op.using.append(_iri(code[i + 1], declared))
                    i += 2
            if i >= len(code) or not code[i].is_word("WHERE"):
                raise _Unsupported("a WHERE clause was expected")
            close = _group_end(code, i + 1)
            op.where = text[code[i + 1].start:code[close].end]
            ops.append(op)
            i = close + 1
            continue
        if word in ("CLEAR", "DROP"):
            j = i + 1
            silent = j < len(code) and code[j].is_word("SILENT")
            j += silent
            if code[j].is_word("DEFAULT"):
                graph = str(DEFAULT_GRAPH)
                j += 1
            elif code[j].is_word("GRAPH"):
                graph = _iri(code[j + 1], declared)
                j += 2
            else:
                raise _Unsupported("NAMED or ALL")
            ops.append(_Operation("graph", here, graph_op=(word, silent, graph)))
            i = j
            continue
        raise _Unsupported(token.text)
    return ops


def _trig(prologue: str, body: str, variables: str) -> str:
    """A template (or quad data) as TriG: variables become placeholder IRIs under
    ``variables``; the ``.`` SPARQL allows after a ``GRAPH {…}`` block goes, and one is put
    between triples and a ``GRAPH`` block that follows them."""
    out: list[str] = [prologue, "\n"]
    last = 0
    previous: Token | None = None
    for token in code_tokens(body):
        replacement: str | None = None
        if token.kind is Kind.VAR:
            replacement = f"<{variables}{token.text[1:]}>"
        elif token.is_punct(".") and previous is not None and previous.is_punct("}"):
            replacement = " "
        elif token.is_word("GRAPH") and previous is not None and not previous.is_punct(".", "{", "}"):
            replacement = " . GRAPH"
        if replacement is not None:
            out.append(body[last:token.start])
            out.append(replacement)
            last = token.end
        previous = token
    out.append(body[last:])
    return "".join(out)


def _template(prologue: str, body: str, variables: str, *, fresh: bool, base_iri: str | None) -> list[ox.Quad]:
    try:
        return list(ox.parse(_trig(prologue, body, variables), format=ox.RdfFormat.TRIG, base_iri=base_iri,
                             rename_blank_nodes=fresh))
    except (SyntaxError, ValueError) as exc:
        raise _Unsupported(str(exc)) from None


class _Diff:
    """What the request does so far to each graph: triples gained and lost against the store."""

    def __init__(self, store: Store) -> None:
        differ = store.differ()
        assert differ is not None
        self.differ = differ
        self.added: dict[str, set[ox.Triple]] = {}
        self.lost: dict[str, set[ox.Triple]] = {}

    def holds(self, graph: str, t: ox.Triple) -> bool:
        if t in self.added.get(graph, ()):
            return True
        return t not in self.lost.get(graph, ()) and self.differ.contains(t, graph)

    def apply(self, deletions: Iterable[tuple[str, ox.Triple]], insertions: Iterable[tuple[str, ox.Triple]]) -> None:
        """One operation: its deletions, then its insertions (SPARQL 1.1 Update, 3.1.3)."""
        for graph, t in list(deletions):
            if self.holds(graph, t):
                if t in self.added.get(graph, ()):
                    self.added[graph].discard(t)
                else:
                    self.lost.setdefault(graph, set()).add(t)
        for graph, t in list(insertions):
            if not self.holds(graph, t):
                if t in self.lost.get(graph, ()):
                    self.lost[graph].discard(t)
                else:
                    self.added.setdefault(graph, set()).add(t)


def _target(graph_name: object, default: str) -> str | None:
    if isinstance(graph_name, ox.DefaultGraph):
        return default
    if isinstance(graph_name, ox.NamedNode):
        return graph_name.value
    return None


def _ground(quads: Iterable[ox.Quad], default: str) -> Iterator[tuple[str, ox.Triple]]:
    for q in quads:
        graph = _target(q.graph_name, default)
        if graph is not None:
            yield graph, ox.Triple(q.subject, q.predicate, q.object)


def _instances(template: list[ox.Quad], rows: Iterable[ox.QuerySolution], variables: str,
               default: str) -> Iterator[tuple[str, ox.Triple]]:
    """The template instantiated by each solution: unbound variables skip the triple, blank
    nodes are fresh per solution."""
    if not template:
        return
    for row in rows:
        fresh: dict[str, ox.BlankNode] = {}

        def term(t: object) -> object:
            if isinstance(t, ox.NamedNode) and t.value.startswith(variables):
                return row[t.value[len(variables):]]
            if isinstance(t, ox.BlankNode):
                return fresh.setdefault(t.value, ox.BlankNode())
            return t

        for q in template:
            s, p, o = term(q.subject), term(q.predicate), term(q.object)
            g = term(q.graph_name)
            if s is None or p is None or o is None or g is None:
                continue
            if not isinstance(s, (ox.NamedNode, ox.BlankNode)) or not isinstance(p, ox.NamedNode):
                continue
            if not isinstance(o, (ox.NamedNode, ox.BlankNode, ox.Literal)):
                continue
            graph = _target(g, default)
            if graph is not None:
                yield graph, ox.Triple(s, p, o)


def _solutions(store: Store, op: _Operation, using: Sequence[str], using_named: Sequence[str],
               base_iri: str | None) -> list[ox.QuerySolution]:
    """The solutions of the operation's WHERE, on the store, over the dataset it names."""
    oxstore = store.validation_store()
    assert oxstore is not None
    committed = [ox.NamedNode(g) for g in store.named_graphs() if g != str(PROVENANCE_GRAPH)]
    options: dict[str, object] = {"base_iri": base_iri, "named_graphs": committed}
    defaults = list(op.using or using)
    named = list(op.using_named or using_named)
    if defaults or named:
        options["default_graph"] = [ox.NamedNode(g) for g in defaults]
        options["named_graphs"] = [ox.NamedNode(g) for g in named]
    elif op.with_graph is not None:
        options["default_graph"] = [ox.NamedNode(op.with_graph)]
    query = f"{op.prologue}\nSELECT * WHERE {op.where}"
    try:
        return list(oxstore.query(query, **options))  # type: ignore[arg-type]
    except SyntaxError as exc:
        raise QueryError(explain(query, exc)) from None
    except ValueError as exc:
        raise InputError(f"the update failed: {exc}") from None


def _check_syntax(text: str, base_iri: str | None) -> None:
    """Let pyoxigraph's parser judge the text (on an empty store in memory: nothing to apply)."""
    try:
        ox.Store().update(text, base_iri=base_iri)
    except SyntaxError as exc:
        raise QueryError(explain(text, exc, update=True)) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"the update failed: {exc}") from None
    except RuntimeError:
        pass  # parsed, but not applicable to an empty dataset (a missing graph): judged below


def plan_direct(store: Store, change: SparqlUpdate, text: str,
                stage: Callable[[Iterable[ox.Triple]], tuple[str, ...]]) -> list[GraphWrite] | None:
    """The writes ``text`` amounts to, evaluated on ``store``; None when it needs the copy."""
    if store.differ() is None or any(t.is_word(*_ON_A_COPY) for t in code_tokens(text)):
        return None
    _check_syntax(text, change.base_iri)
    try:
        ops = _operations(text)
    except (_Unsupported, IndexError):
        return None
    if any(op.kind == "graph" for op in ops) and len(ops) > 1:
        return None
    if any(op.kind == "modify" for op in ops[1:]) and len(ops) > 1:
        return None  # a later operation would read what an earlier one wrote
    variables = f"urn:x-kg-variable:{uuid.uuid4().hex}:"
    diff = _Diff(store)
    for op in ops:
        if op.kind == "graph":
            assert op.graph_op is not None
            verb, silent, graph = op.graph_op
            return _graph_op(store, verb, silent, graph or str(DEFAULT_GRAPH))
        base = change.base_iri
        try:
            if op.kind == "insert-data":
                data = _template(op.prologue, op.insert or "", variables, fresh=True, base_iri=base)
                diff.apply((), _ground(data, str(DEFAULT_GRAPH)))
            elif op.kind == "delete-data":
                data = _template(op.prologue, op.insert or "", variables, fresh=False, base_iri=base)
                diff.apply(_ground(data, str(DEFAULT_GRAPH)), ())
            else:
                default = op.with_graph or str(DEFAULT_GRAPH)
                deleting = _template(op.prologue, op.delete or "", variables, fresh=False, base_iri=base)
                inserting = _template(op.prologue, op.insert or "", variables, fresh=False, base_iri=base)
                rows = _solutions(store, op, change.using_graphs, change.using_named_graphs, change.base_iri)
                diff.apply(_instances(deleting, rows, variables, default), _instances(inserting, rows, variables, default))
        except _Unsupported:
            return None
    return _writes(diff, stage)


def _graph_op(store: Store, verb: str, silent: bool, graph: str) -> list[GraphWrite]:
    if is_protected(graph):
        raise ProtectedGraphError(f"<{graph}> is written by the store itself and cannot be changed by an update")
    if not store.has_graph(graph):
        if silent or graph == str(DEFAULT_GRAPH):
            return []
        raise NotFoundError(f"the update names the graph <{graph}>, which does not exist; DROP, CLEAR, "
                            "MOVE and COPY of a missing graph fail unless SILENT (SPARQL 1.1 Update, section 3.2), "
                            "so nothing was written")
    # the default graph a client writes to is kept, emptied (the union stays a union of named graphs)
    drop = verb == "DROP" and graph != str(DEFAULT_GRAPH)
    return [GraphWrite(graph, WriteMode.DROP if drop else WriteMode.REPLACE)]


def _writes(diff: _Diff, stage: Callable[[Iterable[ox.Triple]], tuple[str, ...]]) -> list[GraphWrite]:
    writes: list[GraphWrite] = []
    for graph in sorted(set(diff.added) | set(diff.lost)):
        added, lost = diff.added.get(graph, set()), diff.lost.get(graph, set())
        if not added and not lost:
            continue
        if is_protected(graph):
            raise ProtectedGraphError(f"<{graph}> is written by the store itself and cannot be changed by an update")
        mode = WriteMode.REPLACE if lost else WriteMode.ADD
        writes.append(GraphWrite(graph, mode, stage(sorted(added, key=str)),
                                 diff=True, removed=stage(sorted(lost, key=str)) if lost else ()))
    return writes
