"""Loading a new graph in place, under a journal: how large files go in fast.

Staging a large file and copying it into its graph at commit makes the commit one
transaction as large as the file, held in memory (300k triples: 81 s and 1.4 GB, against
4 s and 0.3 GB in place; ``bench/README.md``). So a writer may instead bulk-load a *new*
graph where it will live before the SHACL gate has decided — and, when it holds the store
alone (``kg ingest``), its union copy into the default graph too; the journal — a graph
under the staging prefix — lists the graph until the commit, in the same transaction as
the receipt, clears the entry (and, for a server, copies it into the union: its own
queries read the union, so that copy cannot go in before).

Nothing of this is visible to readers: those of other processes open the view published
before the load (:mod:`kg.store.views`), and the writer's own queries, listings and graph
reads leave out every graph the journal lists (:class:`~kg.store.embedded.EmbeddedStore`).
A writer that dies leaves the entry; the next writable open drops the listed graphs and
rebuilds the union from the named graphs (:func:`recover`).
"""

from __future__ import annotations

import pyoxigraph as ox

from kg.store.base import STAGING_PREFIX, GraphWrite, iri_ref

__all__ = ["JOURNAL", "abandon", "begin", "commit_ops", "pending", "recover"]

#: the journal of graphs loaded in place and not yet committed
JOURNAL = STAGING_PREFIX + "journal"
_PENDING = JOURNAL + "#pending"
#: recomputes the whole union from the named graphs (only after a load that did not commit)
_REBUILD_UNION = (
    "DROP SILENT DEFAULT ;\n"
    f'INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER (!STRSTARTS(STR(?g), "{STAGING_PREFIX}")) }}'
)


def _entry(graph: str) -> str:
    return f"GRAPH <{JOURNAL}> {{ {iri_ref(graph)} <{_PENDING}> true }}"


def pending(store: ox.Store) -> list[str]:
    """The graphs the journal lists as loading in place."""
    return [q.subject.value for q in store.quads_for_pattern(None, ox.NamedNode(_PENDING), None, ox.NamedNode(JOURNAL))
            if isinstance(q.subject, ox.NamedNode)]


def begin(store: ox.Store, graph: str) -> None:
    """Journal ``graph`` as being loaded in place, durably, before the load starts."""
    store.update(f"INSERT DATA {{ {_entry(graph)} }}")
    store.flush()


def commit_ops(write: GraphWrite, *, last: bool) -> list[str]:
    """The commit's operations for a graph loaded in place: its union copy unless already
    bulk-loaded, and its journal entry cleared — the whole journal when it is the ``last``
    entry, so that no empty graph is left behind."""
    ops = [] if write.union_loaded else [f"INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH {iri_ref(write.graph)} {{ ?s ?p ?o }} }}"]
    ops.append(f"DROP SILENT GRAPH <{JOURNAL}>" if last else f"DELETE DATA {{ {_entry(write.graph)} }}")
    return ops


def abandon(store: ox.Store, graph: str, *, union_touched: bool) -> None:
    """Undo a load that will not be committed: drop the graph (and rebuild the union when its
    copy went in). Only while the journal lists ``graph``: once a commit has cleared the entry
    the graph is committed data, and nothing may drop it."""
    listed = pending(store)
    if graph not in listed:
        return
    ops = [f"DROP SILENT GRAPH {iri_ref(graph)}",
           f"DROP SILENT GRAPH <{JOURNAL}>" if listed == [graph] else f"DELETE DATA {{ {_entry(graph)} }}"]
    if union_touched:
        ops.append(_REBUILD_UNION)
    store.update(" ;\n".join(ops))
    store.flush()


def recover(store: ox.Store) -> None:
    """Undo the loads a killed writer left journaled: drop their graphs, rebuild the union."""
    listed = pending(store)
    if listed:
        ops = [f"DROP SILENT GRAPH {iri_ref(g)}" for g in listed] + [f"DROP SILENT GRAPH <{JOURNAL}>", _REBUILD_UNION]
        store.update(" ;\n".join(ops))
        store.flush()
