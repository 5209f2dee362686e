"""Run SELECT queries in other processes (both cores).

pyoxigraph keeps the GIL while it evaluates a query, so threads do not overlap; processes
do. An on-disk store is opened read-only by worker processes, each answering query texts
with plain solution dictionaries (pyoxigraph terms pickle). An in-memory store cannot be
shared: a :class:`Twin` process builds its own copy at the same time as this one and
answers its share of the queries. :class:`ForkedTasks` runs other work (splitting files,
checking groups of queries on stores of their own) in forked processes.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Generic, TypeVar

import pyoxigraph as ox

__all__ = ["ForkedTasks", "GraphQuery", "Solutions", "TaskFailed", "Twin", "can_fork", "select", "worker_pool"]

T = TypeVar("T")

#: a query text and the graph it reads instead of the default graph
GraphQuery = tuple[str, str | None]

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


def _remote_select(job: GraphQuery) -> Solutions:
    assert _STORE is not None
    return select(_STORE, *job)


@contextmanager
def worker_pool(path: Path, processes: int) -> Iterator[ProcessPoolExecutor]:
    """Processes that each hold ``path`` open read-only (the caller must not write meanwhile)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context, initializer=_open, initargs=(str(path),)) as pool:
        yield pool


def map_select(pool: ProcessPoolExecutor, queries: Iterable[GraphQuery]) -> Iterator[Solutions]:
    """The solutions of each (query, default graph) pair, in order, evaluated by the pool."""
    return pool.map(_remote_select, queries)


def can_fork() -> bool:
    """Whether work can go to forked processes here (a :class:`Twin`, :class:`ForkedTasks`):
    they inherit the shapes and the code already imported, which only Linux does safely."""
    return sys.platform.startswith("linux")


#: how long taking the next query may wait for the counter (held for a few instructions) (s)
_CLAIM_PATIENCE = 5.0


class Twin:
    """A forked process holding its own copy of an in-memory validation store.

    It builds the store with the same function this process uses, at the same time (two
    loads on two cores take the time of one), plans the same queries, and then both
    processes take the next query not yet taken (:meth:`claim`) until none is left: the
    one that finishes its work first does more of it. Whatever goes wrong in the twin — an
    error, a crash, running out of memory — only means this process evaluates the queries
    it took itself.
    """

    def __init__(self, build: Callable[[], ox.Store], plan: Callable[[ox.Store], list[GraphQuery]]) -> None:
        context = multiprocessing.get_context("fork")
        self._next = context.Value("i", 0)
        self._answers, sending = context.Pipe(duplex=False)
        self._process = context.Process(target=self._main, args=(sending, build, plan), daemon=True)
        self._process.start()
        sending.close()

    def claim(self) -> int:
        """The index of the next query nobody has taken (in either process); past the end
        of any list when the counter stays locked (the other process died holding it:
        what it took is then evaluated by whoever collects the answers)."""
        lock = self._next.get_lock()
        if not lock.acquire(timeout=_CLAIM_PATIENCE):
            return sys.maxsize
        try:
            taken: int = self._next.value
            self._next.value = taken + 1
        finally:
            lock.release()
        return taken

    def answers(self, timeout: float) -> dict[GraphQuery, Solutions]:
        """The solutions of the queries the twin took, by query; empty if it could not
        answer, or did not within ``timeout`` seconds (a twin stuck for any reason —
        a fork can inherit a lock another thread held — must not hold this process up:
        it evaluates what is missing itself)."""
        try:
            if not self._answers.poll(timeout):
                return {}
            status, found = self._answers.recv()
        except (EOFError, OSError):
            return {}
        return dict(found) if status == "ok" else {}

    def __enter__(self) -> Twin:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the twin if it still runs, and wait for it."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._answers.close()

    def _main(self, sending: Connection, build: Callable[[], ox.Store], plan: Callable[[ox.Store], list[GraphQuery]]) -> None:
        try:
            store = build()
            jobs = plan(store)
            found = []
            while (taken := self.claim()) < len(jobs):
                found.append((jobs[taken], select(store, *jobs[taken])))
            sending.send(("ok", found))
        except BaseException as exc:  # noqa: BLE001 - reported, and the parent evaluates the queries itself
            sending.send(("error", repr(exc)))
        finally:
            sending.close()


def _task_main(sending: Connection, task: Callable[[], T]) -> None:
    try:
        sending.send(("ok", task()))
    except BaseException as exc:  # noqa: BLE001 - reported; the caller validates the usual way
        sending.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        sending.close()


class TaskFailed(Exception):
    """A task of :class:`ForkedTasks` raised or died."""


class ForkedTasks(Generic[T]):
    """Tasks run in forked processes, at most ``processes`` at a time, from construction
    on (a process per task: the memory a task's in-memory store took goes back to the
    system with it). A task that raises or dies makes :meth:`answers` None: the caller
    does the work another way."""

    def __init__(self, tasks: Sequence[Callable[[], T]], processes: int) -> None:
        self._context = multiprocessing.get_context("fork")
        self._waiting = list(enumerate(tasks))
        self._count = len(tasks)
        self._processes = processes
        self._running: dict[Connection, tuple[int, multiprocessing.process.BaseProcess]] = {}
        self._start()

    def _start(self) -> None:
        while self._waiting and len(self._running) < self._processes:
            index, task = self._waiting.pop(0)
            receiving, sending = self._context.Pipe(duplex=False)
            process = self._context.Process(target=_task_main, args=(sending, task), daemon=True)
            process.start()
            sending.close()
            self._running[receiving] = (index, process)

    def answers(self, timeout: float | None = None) -> list[T] | None:
        """Each task's answer; None as soon as one fails or dies (the others are stopped), or
        when none ends for ``timeout`` seconds (a forked process can inherit a lock another
        thread held: one stuck so must not hold the caller up)."""
        found: dict[int, T] = {}
        try:
            for index, answer in self.each(timeout):
                found[index] = answer
        except TaskFailed:
            return None
        return [found[i] for i in range(self._count)]

    def each(self, timeout: float | None = None) -> Iterator[tuple[int, T]]:
        """Each task's place and answer, as soon as it ends (so the caller works on the first
        while the others run); :class:`TaskFailed` as soon as one fails or dies, or none ends
        for ``timeout`` seconds (the others are stopped)."""
        try:
            while self._running:
                ready_ones = wait(list(self._running), timeout)
                if not ready_ones:
                    raise TaskFailed(f"no task ended within {timeout} s")
                for ready in ready_ones:
                    assert isinstance(ready, Connection)
                    index, process = self._running.pop(ready)
                    try:
                        status, answer = ready.recv()
                    except (EOFError, OSError):
                        status, answer = "died", None
                    ready.close()
                    process.join()
                    if status != "ok":
                        raise TaskFailed(f"task {index}: {status} {answer or ''}".strip())
                    self._start()
                    yield index, answer
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop what still runs, and start nothing more."""
        self._waiting.clear()
        for receiving, (_, process) in list(self._running.items()):
            process.kill()
            process.join()
            receiving.close()
        self._running.clear()
