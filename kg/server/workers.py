"""Query worker processes: SPARQL queries that can be stopped, answered while writes commit.

pyoxigraph cannot cancel a running query from Python, so each query runs in a worker
process that holds its own read-only view of the store. The server waits for the answer
with a deadline; when the deadline passes, the worker grows past its memory limit or the
client goes away before its answer begins (:class:`~kg.server.worker_lease.Cancel`), the
worker is killed and a fresh one takes its place, so a runaway query costs one process, not
the server. Results come back in chunks over a pipe, so a large result streams through the
server without being held in memory (:mod:`kg.server.worker_process` is the other end).

**Drain, then swap.** pyoxigraph does not keep a read-only view in step with a writer, so
after each committed write the writer calls :meth:`QueryPool.refresh`, still holding the
writers' lock: the pool moves to a new *generation*, and every idle worker opens the store
again (tens of milliseconds) before the write is answered. A worker that was streaming an
answer at that moment finishes it from the old view, then opens the new one as soon as no
write is half-way (the lock again) before it takes another query. So no query that starts
after a write was answered sees an older state, no answer is cut by a write, and nothing
waiting for a worker is dropped: waiters wait on one condition that outlives every swap.
The same processes open the store again rather than new ones: a new process costs over half
a second of CPU, an open tens of milliseconds, and writes may come every few seconds.

A view can still lose a table file the writer's background compaction removed (pyoxigraph
says a read-only open beside a writer is undefined): an open that fails is asked again, and a
query that fails to read before its first byte runs again on reopened workers.

Threads, and who may touch what::

    request thread ─ acquire ─▶ owns the worker (a lease) ─ end of answer ─▶ idle, or stale
    event loop     ─ takes an idle worker when nobody waits for one, sends the query and waits
                     for the first message without a thread; a whole answer ends the lease
                     there, anything longer goes on in a request thread (:meth:`QueryPool.run_async`)
    keeper thread  ─ starts every process (so PR_SET_PDEATHSIG ties them to a thread that lives
                     as long as the pool) and reopens stale workers under the writers' lock
    memory watch   ─ may kill a process (never close its pipe): the owner reads EOF and cleans up

Only the thread that owns a worker uses or closes its pipe, so no descriptor is ever closed
under a reader.

Workers open the store read-only, which for an embedded store is its newest committed view
(:mod:`kg.store.views`): a checkpoint nobody writes to, so opening it cannot race with the
writer's compactions, and it holds nothing staged or half-loaded; a reopen after a commit
takes the view that commit published.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path

from anyio import CapacityLimiter, to_thread

from kg.config import Settings
from kg.errors import KGError, QueryLimitExceeded, QueryTimeout, StoreError
from kg.server.memory_watch import MemoryWatch, Watched, can_watch
from kg.server.worker_lease import (
    CLIENT_GONE,
    Cancel,
    Lease,
    OpenFailed,
    QueryAnswer,
    StaleView,
    Worker,
    answer,
    answer_after,
    first_message,
    send_job,
)
from kg.server.worker_process import QueryJob, WorkerLimits

__all__ = ["QueryJob", "QueryAnswer", "QueryPool"]

_log = logging.getLogger("kg.server")
_START_TIMEOUT = 60.0
_OPEN_TIMEOUT = 30.0
#: seconds before starting a worker again after a start failed, doubling up to the second
_RETRY = (1.0, 30.0)
#: how often a query whose worker's view lost a file runs again on another worker
_STALE_RETRIES = 2
#: how often a worker that could not open the store (a compaction under way) asks again
_OPEN_ATTEMPTS = 4


class QueryPool:
    """A fixed number of query worker processes over one store: a directory (embedded), or
    the settings of a remote store (each worker then holds its own connections to the server).

    ``quiesce`` is the writers' lock of an embedded store that this process writes: workers
    open the store only while holding it, so no view shows a write half-way (its staging
    graphs). ``memory_mb`` caps each worker's resident memory, ``total_mb`` the server's and
    every worker's together, ``result_bytes`` each result (0: no limit).

    >>> pool = QueryPool(Path("store"), size=2, timeout=30.0)  # doctest: +SKIP
    >>> pool.start()                                            # doctest: +SKIP
    >>> b"".join(pool.run(QueryJob("ASK {}")))                  # doctest: +SKIP
    b'{"head":{},"boolean":true}'
    """

    def __init__(
        self,
        store: Path | Settings,
        *,
        size: int,
        timeout: float,
        quiesce: contextlib.AbstractContextManager[object] | None = None,
        memory_mb: int = 0,
        total_mb: int = 0,
        result_bytes: int = 0,
    ) -> None:
        if size < 1:
            raise ValueError("a query pool needs at least one worker")
        self.store = store
        self.size = size
        self.timeout = timeout
        self.limits = WorkerLimits(memory_mb=max(memory_mb, 0), result_bytes=max(result_bytes, 0))
        self._total_mb = max(total_mb, 0)
        self._quiesce = quiesce
        self._context = multiprocessing.get_context("spawn")
        self._cond = threading.Condition()
        self._idle: deque[Worker] = deque()
        self._stale: list[Worker] = []
        self._workers: set[Worker] = set()
        self._generation = 0
        self._closed = False
        self._tasks: queue.Queue[tuple[str, int, Future[None] | None] | None] = queue.Queue()
        self._keeper = threading.Thread(target=self._keep, name="kg-query-keeper", daemon=True)
        self._failures = 0
        self._refresh_queued = False
        #: request threads waiting in :meth:`_acquire`: the event loop takes no idle worker before them
        self._waiting = 0
        #: moves with every state of the store a new answer may show (:attr:`version`)
        self._version = 0
        self.watch: MemoryWatch | None = None

    # -- the life of the pool ---------------------------------------------------------------------

    def start(self) -> None:
        """Start every worker, wait until each has opened the store, and start the memory watch."""
        self._keeper.start()
        started: Future[None] = Future()
        self._tasks.put(("spawn", self.size, started))
        try:
            started.result(timeout=_START_TIMEOUT + _OPEN_TIMEOUT + 10)
        except TimeoutError:
            raise StoreError(f"the query workers did not start within {_START_TIMEOUT + _OPEN_TIMEOUT:.0f} s") from None
        if (self.limits.memory_mb or self._total_mb) and can_watch():
            self.watch = MemoryWatch(worker_mb=self.limits.memory_mb, total_mb=self._total_mb,
                                     members=self._members, stop=self._stop_for)
            self.watch.start()

    @property
    def version(self) -> int:
        """A number that moves whenever answers may change: every :meth:`refresh` (a committed
        write), and every time workers open the store (a replaced worker opens the newest view,
        which another process may have moved on). Answers kept under an older number are stale
        (:mod:`kg.server.answer_cache`)."""
        return self._version

    @property
    def idle(self) -> int:
        """How many workers wait for a query now."""
        return len(self._idle)

    def views(self) -> set[str | None]:
        """The store states the workers read (each view's name, :attr:`Worker.view`)."""
        with self._cond:
            return {w.view for w in self._workers if not w.gone}

    def refresh(self) -> None:
        """A write was committed: idle workers open the store again now, busy ones once their
        answer ends. Call it holding the writers' lock (it takes ``quiesce`` itself too)."""
        with self._quiesce or contextlib.nullcontext():
            with self._cond:
                if self._closed:
                    return
                self._generation += 1
                self._version += 1
                taken = [*self._idle, *self._stale]
                self._idle.clear()
                self._stale.clear()
            _, failed = self._open(taken)
        if failed:
            self._tasks.put(("spawn", failed, None))

    def close(self) -> None:
        """Stop every worker: idle ones are told to stop, busy ones killed (their owners clean up)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            quiet = [*self._idle, *self._stale]
            self._idle.clear()
            self._stale.clear()
            for worker in quiet:
                worker.gone = True
                self._workers.discard(worker)
            busy = [w for w in self._workers if not w.gone]
            self._cond.notify_all()
            for worker in busy:
                worker.process.kill()
        if self.watch is not None:
            self.watch.stop()
        for worker in quiet:
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        for worker in quiet:
            worker.process.join(timeout=2)
            worker.kill()
        self._tasks.put(None)
        if self._keeper.is_alive():
            self._keeper.join(timeout=10)

    # -- answering a query ------------------------------------------------------------------------

    def run(
        self,
        job: QueryJob,
        *,
        timeout: float | None = None,
        since: float | None = None,
        on_done: Callable[[float], None] | None = None,
        cancel: Cancel | None = None,
    ) -> QueryAnswer:
        """Answer ``job`` within ``timeout`` seconds (at most the pool's limit), counted from
        ``since`` (a :func:`time.monotonic` reading; default now). ``on_done`` receives the
        seconds a worker spent on the query, once, when the worker is given back; ``cancel`` see :meth:`canceller`.

        Raises :class:`QueryRejected` (bad query, nothing acceptable), :class:`QueryTimeout`,
        :class:`QueryLimitExceeded` or :class:`StoreError` before any byte of the answer is sent.
        """
        limit = self.timeout if timeout is None else min(timeout, self.timeout)
        deadline = (time.monotonic() if since is None else since) + limit
        attempt = 0
        while True:
            worker = self._acquire(deadline, limit, cancel)
            lease = Lease(self, worker, deadline, memory_mb=self.limits.memory_mb, on_done=on_done, cancel=cancel)
            try:
                return answer(lease, job, limit)
            except StaleView as exc:
                # The views opened with that one list the same files: every worker opens the store
                # again (the keeper, under the writers' lock), and the query waits for one of them.
                self._refresh_soon()
                _log.info("a query worker's view lost a file (%s); the query runs again on reopened workers", exc)
                attempt += 1
                if attempt > _STALE_RETRIES:
                    raise StoreError(f"{exc}; the store changed under the query {attempt} times, try again") from None
            except BaseException:
                lease.finish(reusable=False)  # a no-op when the answer already gave the worker back
                raise

    async def run_async(
        self,
        job: QueryJob,
        *,
        timeout: float,
        since: float,
        on_done: Callable[[float], None] | None,
        limiter: CapacityLimiter,
        cancel: Cancel | None = None,
    ) -> QueryAnswer:
        """:meth:`run` from the event loop. When a worker is idle and no request thread waits for
        one, the query is sent and its first message awaited on the loop itself: a small answer
        (one message, most of them) costs no thread at all. Anything else — waiting for a worker,
        a long answer, an error to sort out, a view to reopen — goes to :meth:`run` or goes on in
        a thread of ``limiter``, with the same limits and the same ways to end."""
        run = functools.partial(self.run, job, timeout=timeout, since=since, on_done=on_done, cancel=cancel)
        worker = self._take_idle(cancel)
        if worker is None:
            return await to_thread.run_sync(run, limiter=limiter)
        limit = min(timeout, self.timeout)
        lease = Lease(self, worker, since + limit, memory_mb=self.limits.memory_mb, on_done=on_done, cancel=cancel)
        try:
            send_job(lease, job)
            kind, payload = await first_message(lease)
            if kind == "whole":
                return answer_after(lease, kind, payload, limit)
            return await to_thread.run_sync(answer_after, lease, kind, payload, limit, limiter=limiter)
        except StaleView:
            self._refresh_soon()  # as in run(): every worker opens the store again, the query waits for one
            return await to_thread.run_sync(run, limiter=limiter)
        except BaseException:
            lease.finish(reusable=False)  # a no-op when the answer already gave the worker back
            raise

    def _take_idle(self, cancel: Cancel | None = None) -> Worker | None:
        """An idle worker, unless none is idle, request threads are waiting for one (they go
        first) or the client has gone away."""
        with self._cond:
            if self._closed or not self._idle or self._waiting or (cancel is not None and cancel.stopped):
                return None
            worker = self._idle.popleft()
            worker.busy = True
            return worker

    def _refresh_soon(self) -> None:
        with self._cond:
            if self._refresh_queued:
                return
            self._refresh_queued = True
        self._tasks.put(("refresh", 0, None))

    def canceller(self) -> Cancel:
        """A :class:`Cancel` for one request, to stop its query (or its wait) when its client leaves."""
        return Cancel(self._cond)

    def _acquire(self, deadline: float, limit: float, cancel: Cancel | None = None) -> Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise StoreError("the query service is shutting down")
                if cancel is not None and cancel.stopped:
                    raise QueryLimitExceeded(CLIENT_GONE)
                if self._idle:
                    worker = self._idle.popleft()
                    worker.busy = True
                    return worker
                remaining = deadline - time.monotonic()
                if remaining <= 0 and not self._workers:
                    raise StoreError(f"no query worker could be started within the time limit ({limit:g} s); "
                                     "the server log says why")
                if remaining <= 0:
                    raise QueryTimeout(f"every query worker stayed busy for the whole time limit ({limit:g} s)")
                self._waiting += 1
                try:
                    self._cond.wait(remaining)
                finally:
                    self._waiting -= 1

    # -- giving workers back, replacing them ------------------------------------------------------

    def give_back(self, worker: Worker) -> None:
        """A worker that answered to the end: idle again, or stale (a write came meanwhile), or
        replaced (the memory watch killed it as the answer ended)."""
        with self._cond:
            if worker.stopped_for is not None:
                outcome = "killed"
            elif self._closed:
                outcome = "closed"
                worker.gone = True
                self._workers.discard(worker)
            elif worker.generation == self._generation:
                worker.busy = False
                self._idle.append(worker)
                self._cond.notify()
                return
            else:
                outcome = "stale"
                worker.busy = False
                self._stale.append(worker)
        if outcome == "killed":
            self.retire(worker)
        elif outcome == "closed":
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
            worker.kill()
        else:
            self._tasks.put(("reopen", 0, None))

    def retire(self, worker: Worker, *, respawn: bool = True) -> None:
        """Kill ``worker`` (owned by the caller) and have the keeper start another."""
        with self._cond:
            worker.gone = True
            worker.busy = False
            self._workers.discard(worker)
            closed = self._closed
        worker.kill()
        if respawn and not closed:
            self._tasks.put(("spawn", 1, None))

    def _members(self) -> Sequence[Watched]:
        with self._cond:
            return [w for w in self._workers if not w.gone]

    def _stop_for(self, watched: Watched, message: str) -> None:
        """The memory watch found ``watched`` over a limit: stop its query, or recycle it if idle."""
        with self._cond:
            worker = next((w for w in self._workers if w is watched and not w.gone), None)
            if worker is None:
                return
            busy = worker.busy
            if busy:
                worker.stop(message)
            elif worker in self._idle:
                self._idle.remove(worker)  # grown while answering, and kept it: start a lean one
            else:
                return  # being opened by the keeper or a writer: it is checked again next round
        if not busy:
            self.retire(worker)

    # -- the keeper: starting processes, opening the store ----------------------------------------

    def _keep(self) -> None:
        while (task := self._tasks.get()) is not None:
            word, count, done = task
            try:
                if word == "spawn":
                    error, failed = self._spawn(count)
                elif word == "refresh":
                    with self._cond:
                        self._refresh_queued = False
                    self.refresh()
                    error, failed = None, 0
                else:
                    with self._cond:
                        stale, self._stale = self._stale, []
                    error, failed = self._open(stale)
            except Exception as exc:  # noqa: BLE001 - e.g. no more processes: keep the keeper alive
                error, failed = StoreError(f"could not start a query worker: {exc}"), count if word == "spawn" else 0
            if done is not None and error is not None:
                done.set_exception(error)
            elif done is not None:
                done.set_result(None)
            elif failed and not self._closed:
                self._failures += 1
                delay = min(_RETRY[0] * 2 ** (self._failures - 1), _RETRY[1])
                _log.error("could not start %d query worker(s) (%s); trying again in %.0f s", failed, error, delay)
                timer = threading.Timer(delay, self._tasks.put, args=(("spawn", failed, None),))
                timer.daemon = True
                timer.start()
            elif word == "spawn":
                self._failures = 0

    def _spawn(self, count: int) -> tuple[KGError | None, int]:
        """Start ``count`` processes (in this thread: the keeper), wait for them, open the store;
        the first error and how many failed."""
        with self._cond:
            if self._closed:
                return None, 0
        fresh = [Worker(self._context, self.store, self.limits) for _ in range(count)]
        with self._cond:
            self._workers.update(fresh)
        error: KGError | None = None
        loaded = []
        for worker in fresh:
            try:
                worker.expect("loaded", _START_TIMEOUT)
                loaded.append(worker)
            except KGError as exc:
                error = error or exc
                self.retire(worker, respawn=False)
        opened_error, failed = self._open(loaded)
        return error or opened_error, failed + count - len(loaded)

    def _open(self, workers: list[Worker]) -> tuple[KGError | None, int]:
        """Have ``workers`` (owned by the caller) open the store while no write is half-way, then
        make them idle; a worker that fails is killed. The first error and how many failed (the
        caller has them replaced)."""
        if not workers:
            return None, 0
        error: KGError | None = None
        opened: list[Worker] = []
        with self._quiesce or contextlib.nullcontext():
            with self._cond:
                generation = self._generation
            sent = []
            for worker in workers:
                try:
                    worker.conn.send(("open",))
                    sent.append(worker)
                except (OSError, ValueError):
                    self.retire(worker, respawn=False)
            for worker in sent:
                try:
                    try:
                        worker.expect("ready", _OPEN_TIMEOUT)
                    except OpenFailed as failed:  # about one open in ten while writes come every 0.5 s
                        _log.info("%s; asking again", failed)
                        worker.reopen(_OPEN_TIMEOUT, attempts=_OPEN_ATTEMPTS)
                except KGError as exc:
                    error = error or exc
                    self.retire(worker, respawn=False)
                    continue
                worker.generation = generation
                opened.append(worker)
        with self._cond:
            closed = self._closed
            behind = [w for w in opened if w.generation != self._generation]
            if not closed:
                self._version += bool(opened)  # a view opened now may be newer than the others'
                self._idle.extend(w for w in opened if w.generation == self._generation)
                self._stale.extend(behind)  # only when a refresh came without the lock: open again
                self._cond.notify_all()
        if closed:
            for worker in opened:
                self.retire(worker, respawn=False)
        elif behind:
            self._tasks.put(("reopen", 0, None))
        return error, len(workers) - len(opened)

