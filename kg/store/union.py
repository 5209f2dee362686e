"""The one SPARQL update that commits an embedded store's writes and keeps its union in step.

The embedded store keeps the union of its named graphs materialised in the default graph
(:mod:`kg.store.embedded` says why). A commit is one update — one pyoxigraph transaction — so
the graphs, the union and the staging graphs change together or not at all; this module writes
that update's text from the writes, and reads nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from kg.store import journal
from kg.store.base import READ_FROM, SOURCES_GRAPH, GraphWrite, WriteMode, iri_ref

__all__ = ["commit_update"]


def commit_update(writes: Sequence[GraphWrite], *, journaled: Sequence[str] = ()) -> str:
    """The one SPARQL update that applies ``writes`` and keeps the union in step;
    ``journaled``: the graphs the journal lists (:mod:`kg.store.journal`).

    A write of a difference (``diff``) touches only the triples it adds and removes: they
    leave and join its graph first, so that whatever follows sees the graphs as they will
    be; a triple it removes leaves the union last, when no graph holds it any more."""
    gone = [w.graph for w in writes if not w.diff and w.mode in (WriteMode.REPLACE, WriteMode.DROP)]
    staged = [s for w in writes if w.mode is not WriteMode.LOADED for s in (*w.staged, *w.removed)]
    ops: list[str] = []
    for w in writes:
        if not w.diff:
            continue
        if w.mode is WriteMode.REPLACE:
            ops.append(f"CREATE SILENT GRAPH {iri_ref(w.graph)}")
        ops.extend(f"DELETE {{ GRAPH {iri_ref(w.graph)} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {iri_ref(r)} {{ ?s ?p ?o }} }}"
                   for r in w.removed)
        ops.extend(f"INSERT {{ GRAPH {iri_ref(w.graph)} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {iri_ref(a)} {{ ?s ?p ?o }} }}"
                   for a in w.staged)
    if gone:
        keep_out = ", ".join(iri_ref(g) for g in gone + staged)
        ops.append(
            "DELETE { ?s ?p ?o } WHERE { VALUES ?g { " + " ".join(iri_ref(g) for g in gone) + " } "
            "GRAPH ?g { ?s ?p ?o } "
            f"FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} FILTER (?h NOT IN ({keep_out})) }} }}"
        )
        ops.extend(f"DROP SILENT GRAPH {iri_ref(g)}" for g in gone)
    loaded = {w.graph for w in writes if w.mode is WriteMode.LOADED}
    for w in writes:
        if w.mode is WriteMode.LOADED:
            ops.extend(journal.commit_ops(w, last=set(journaled) <= loaded))
            continue
        if w.diff:
            continue
        if w.mode is WriteMode.REPLACE:
            ops.append(f"CREATE SILENT GRAPH {iri_ref(w.graph)}")
        for s in w.staged:
            ops.append(f"INSERT {{ GRAPH {iri_ref(w.graph)} {{ ?s ?p ?o }} ?s ?p ?o }} WHERE {{ GRAPH {iri_ref(s)} {{ ?s ?p ?o }} }}")
    removed = [r for w in writes if w.diff for r in w.removed]
    if removed:
        keep_out = ", ".join(iri_ref(g) for g in [*staged, journal.JOURNAL])
        ops.append(
            "DELETE { ?s ?p ?o } WHERE { VALUES ?r { " + " ".join(iri_ref(r) for r in removed) + " } "
            f"GRAPH ?r {{ ?s ?p ?o }} FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} FILTER (?h NOT IN ({keep_out})) }} }}"
        )
    ops.extend(f"INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH {iri_ref(a)} {{ ?s ?p ?o }} }}"
               for w in writes if w.diff for a in w.staged)
    ops.extend(f"DROP SILENT GRAPH {iri_ref(s)}" for s in staged)
    ops.extend(_record_ops(writes))
    return " ;\n".join(ops)


def _record_ops(writes: Sequence[GraphWrite]) -> list[str]:
    """Every written graph forgets which files it was read from; a write from files records
    them (in the same transaction, so the record never outlives what it describes)."""
    graphs = " ".join(sorted({iri_ref(w.graph) for w in writes}))
    ops = [f"DELETE {{ GRAPH <{SOURCES_GRAPH}> {{ ?g <{READ_FROM}> ?r }} }} "
           f"WHERE {{ VALUES ?g {{ {graphs} }} GRAPH <{SOURCES_GRAPH}> {{ ?g <{READ_FROM}> ?r }} }}"]
    ops.extend(f'INSERT DATA {{ GRAPH <{SOURCES_GRAPH}> {{ {iri_ref(w.graph)} <{READ_FROM}> "{w.record}" }} }}'
               for w in writes if w.record is not None and w.mode is not WriteMode.DROP)
    return ops
