"""A SPARQL 1.1 Update turned into per-graph writes, so it passes the same gate as every write.

pyoxigraph applies an update to a store in one transaction but cannot tell what it
would change without changing it. On the embedded store most updates are evaluated on the
store itself (:mod:`kg.write.update_direct`: the quads they delete and insert, nothing
copied). The others (``LOAD``, ``COPY``/``MOVE``/``ADD``, requests whose later operations
read what earlier ones wrote) and every update of a remote store run on an in-memory copy of the
dataset — named graphs as they are, and as default graph their union; the protocol's
``using-graph-uri``/``using-named-graph-uri`` become ``USING``/``USING NAMED`` clauses
(:func:`with_dataset`) — and the copy is compared with the store afterwards:

- triples an update adds to the default graph go to :data:`kg.iris.DEFAULT_GRAPH`, and
  triples it deletes from the default graph leave that graph (a triple another named
  graph holds stays in the union: delete it from that graph, ``GRAPH <g> { … }``);
- the default graph each operation of a request sees is the union as the request
  found it, with the request's own default-graph changes; name graphs (``GRAPH``,
  ``USING``) to see what earlier operations of the same request wrote to them;
- a graph that only gained triples is an ``add``; one that lost any is a ``replace``
  by its new content; one that no longer exists is a ``drop``;
- the provenance graph (the receipts) is left out of the copy: updates neither see
  nor change it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

import pyoxigraph as ox

from kg.errors import InputError, KGError, NotFoundError, ProtectedGraphError, QueryError
from kg.iris import DEFAULT_GRAPH, PROVENANCE_GRAPH
from kg.sparql.explain import explain
from kg.sparql.lexer import Token, code_tokens, group_end, tokens
from kg.store.base import GraphWrite, Store, WriteMode
from kg.write.change import SparqlUpdate, is_protected
from kg.write.update_direct import plan_direct

__all__ = ["declares_dataset", "plan_update", "with_dataset"]

_DEFAULT = ox.DefaultGraph()
def declares_dataset(update: str) -> bool:
    """True when the update names its own dataset (``USING``/``USING NAMED``/``WITH``), which
    the protocol's ``using-graph-uri``/``using-named-graph-uri`` must not contradict."""
    return any(token.is_word("USING", "WITH") for token in tokens(update))


def with_dataset(update: str, using: Sequence[str], using_named: Sequence[str]) -> str:
    """``update`` with the protocol's dataset written into every operation that has a WHERE
    clause, as ``USING``/``USING NAMED`` (SPARQL 1.1 Protocol 2.2.3: the parameters act as
    those clauses). ``DELETE WHERE { P }`` becomes ``DELETE { P } USING … WHERE { P }``."""
    clauses = "".join(f" USING <{g}>" for g in using) + "".join(f" USING NAMED <{g}>" for g in using_named) + " "
    code = code_tokens(update)
    out: list[str] = []
    last = 0
    depth = 0
    previous: Token | None = None
    index = 0
    while index < len(code):
        token = code[index]
        if token.is_punct("{"):
            depth += 1
        elif token.is_punct("}"):
            depth -= 1
        elif depth == 0 and token.is_word("WHERE"):
            if previous is not None and previous.is_word("DELETE"):
                # DELETE WHERE { P }: P is the template and the pattern
                # an unclosed group ends with the text (the parser then names the error)
                found = group_end(code, index + 1)
                close = len(code) - 1 if found is None else found
                pattern = update[code[index + 1].start:code[close].end] if close > index else ""
                out.append(update[last:token.start] + pattern + clauses + "WHERE " + pattern)
                last = code[close].end
                previous, index = code[close], close + 1
                continue
            out.append(update[last:token.start] + clauses.lstrip())
            last = token.start
        previous = token
        index += 1
    out.append(update[last:])
    return "".join(out)


_MISSING_GRAPH = re.compile(r"graph <([^>]*)> does not exist")


def _not_applicable(exc: RuntimeError) -> KGError:
    """pyoxigraph's complaint about an update that parsed but cannot be applied, in our words.

    The SPARQL 1.1 Update spec (section 3.2) makes ``DROP``, ``CLEAR``, ``MOVE``… of a graph
    that does not exist an error unless ``SILENT``; pyoxigraph raises a bare ``RuntimeError``
    for it, which used to escape as a 500. It is the client's update that names the graph,
    so the answer is a 404 that says which graph and how to write the update instead."""
    message = str(exc)
    missing = _MISSING_GRAPH.search(message)
    if missing is not None:
        return NotFoundError(f"the update names the graph <{missing.group(1)}>, which does not exist; DROP, CLEAR, "
                             "MOVE and COPY of a missing graph fail unless SILENT (SPARQL 1.1 Update, section 3.2), "
                             "so nothing was written")
    return InputError(f"the update cannot be applied, so nothing was written: {message}")


def _triples(store: ox.Store, graph: ox.NamedNode | ox.DefaultGraph) -> set[ox.Triple]:
    return {ox.Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, graph)}


def plan_update(store: Store, change: SparqlUpdate,
                stage: Callable[[Iterable[ox.Triple]], tuple[str, ...]]) -> list[GraphWrite]:
    """The writes ``change.update`` amounts to, their content staged with ``stage``: evaluated
    on the store where :func:`kg.write.update_direct.plan_direct` can, else on a copy."""
    text = change.update or ""
    if (change.using_graphs or change.using_named_graphs) and declares_dataset(text):
        raise QueryError("the update names its dataset (USING/WITH) and the request names one too "
                         "(using-graph-uri/using-named-graph-uri); give only one")
    direct = plan_direct(store, change, text, stage)
    if direct is not None:
        return direct
    return [GraphWrite(g, mode, stage(ts) if ts is not None else ()) for g, mode, ts in _plan_by_copy(store, change)]


def _plan_by_copy(store: Store, change: SparqlUpdate) -> list[tuple[str, WriteMode, list[ox.Triple] | None]]:
    """The writes ``change.update`` amounts to, from a copy of the dataset: (graph, mode, new
    triples or None for a drop)."""
    text = change.update or ""
    # the receipts are the store's own record: an update neither sees nor changes them
    names = [g for g in store.named_graphs() if g != str(PROVENANCE_GRAPH)]
    before = {g: set(store.graph_triples(g)) for g in names}
    if change.using_graphs or change.using_named_graphs:
        text = with_dataset(text, change.using_graphs, change.using_named_graphs)
    memory = ox.Store()
    for g in names:
        node = ox.NamedNode(g)
        memory.add_graph(node)
        memory.extend(ox.Quad(t.subject, t.predicate, t.object, node) for t in before[g])
    default = set().union(*before.values()) if before else set()
    memory.extend(ox.Quad(t.subject, t.predicate, t.object, _DEFAULT) for t in default)
    try:
        memory.update(text, base_iri=change.base_iri)
    except SyntaxError as exc:
        raise QueryError(explain(text, exc, update=True)) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"the update failed: {exc}") from None
    except RuntimeError as exc:  # parsed, but cannot be applied to this dataset
        raise _not_applicable(exc) from None
    after_names = {g.value for g in memory.named_graphs() if isinstance(g, ox.NamedNode)}
    after = {g: _triples(memory, ox.NamedNode(g)) for g in after_names}
    new_default = _triples(memory, _DEFAULT)
    lost, gained = default - new_default, new_default - default
    target = str(DEFAULT_GRAPH)
    if (lost or gained) and (target in after_names or gained):
        after.setdefault(target, set()).difference_update(lost)
        after[target].update(gained)
        after_names.add(target)
    stored_blank = {n for ts in before.values() for t in ts for n in (t.subject, t.object) if isinstance(n, ox.BlankNode)}
    plan: list[tuple[str, WriteMode, list[ox.Triple] | None]] = []
    for g in sorted(set(names) | after_names):
        if is_protected(g):
            raise ProtectedGraphError(f"<{g}> is written by the store itself and cannot be changed by an update")
        if g not in after_names:
            plan.append((g, WriteMode.DROP, None))
        elif g not in before:
            plan.append((g, WriteMode.REPLACE, sorted(after[g], key=str)))
        elif after[g] != before[g]:
            gained_g = after[g] - before[g]
            # new triples about a blank node the store already holds replace the graph: a remote
            # server gives every upload fresh blank nodes, so added alone they would hang off a copy
            if before[g] <= after[g] and not any(n in stored_blank for t in gained_g for n in (t.subject, t.object)):
                plan.append((g, WriteMode.ADD, sorted(gained_g, key=str)))
            else:
                plan.append((g, WriteMode.REPLACE, sorted(after[g], key=str)))
    return plan
