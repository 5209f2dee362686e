"""Run SELECT queries over an on-disk store in worker processes (both cores).

pyoxigraph keeps the GIL while it evaluates a query, so threads do not overlap; processes
that open the same store read-only do. Each worker opens the store once and answers
query texts with plain solution dictionaries (pyoxigraph terms pickle).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

__all__ = ["Solutions", "select", "worker_pool"]

Solutions = list[dict[str, object]]

_STORE: ox.Store | None = None


def select(store: ox.Store, query: str, default_graph: str | None = None) -> Solutions:
    """The solutions of a SELECT query as dictionaries of bound variables; ``default_graph``
    names the graph to read instead of the store's default graph."""
    result = store.query(query, default_graph=ox.NamedNode(default_graph) if default_graph else None)
    names = [v.value for v in result.variables]  # type: ignore[union-attr]
    return [{n: s[n] for n in names if s[n] is not None} for s in result]  # type: ignore[union-attr]


def _open(path: str) -> None:
    global _STORE
    _STORE = ox.Store.read_only(path)


def _remote_select(job: tuple[str, str | None]) -> Solutions:
    assert _STORE is not None
    return select(_STORE, *job)


@contextmanager
def worker_pool(path: Path, processes: int) -> Iterator[ProcessPoolExecutor]:
    """Processes that each hold ``path`` open read-only (the caller must not write meanwhile)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context, initializer=_open, initargs=(str(path),)) as pool:
        yield pool


def map_select(pool: ProcessPoolExecutor, queries: Iterable[tuple[str, str | None]]) -> Iterator[Solutions]:
    """The solutions of each (query, default graph) pair, in order, evaluated by the pool."""
    return pool.map(_remote_select, queries)
