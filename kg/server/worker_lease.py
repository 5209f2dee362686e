"""One query worker seen from the server: its process and pipe (:class:`Worker`), the request
that owns it while a query runs (:class:`Lease`), and the answer streamed from it
(:class:`QueryAnswer`). The pool that hands workers out is :mod:`kg.server.workers`.
A request whose client goes away before its answer begins stops its query through
:class:`Cancel`, the way the memory watch stops one: the worker is killed, and replaced.

Every way a query can end is decided here, once: answered (the worker goes back to the
pool), refused before a byte was sent (a clean 4xx/503 and the worker goes back), stopped
at a limit or a deadline, or its worker gone (the worker is killed and replaced). A worker
killed by the memory watch carries the reason, so the client reads which setting stopped it.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from kg.config import Settings
from kg.errors import KGError, QueryLimitExceeded, QueryRejected, QueryTimeout, StoreError
from kg.server.worker_process import CHUNK_BYTES, QueryJob, WorkerLimits, receive, worker_main

__all__ = ["Cancel", "Lease", "OpenFailed", "Owner", "QueryAnswer", "StaleView", "Worker", "answer", "answer_after",
           "first_message", "send_job"]

#: what a query stopped because its client went away reads (in the log: nobody else reads it)
CLIENT_GONE = "the client went away before the answer began; its query was stopped"

_T = TypeVar("_T")


def _field(payload: object, index: int, kind: type[_T]) -> _T:
    """Field ``index`` of a control message's payload (the tuple after its word), which is a ``kind``."""
    value = payload[index] if isinstance(payload, tuple) and len(payload) > index else None
    if not isinstance(value, kind):
        raise StoreError(f"unexpected answer from a query worker: {payload!r}")
    return value


class OpenFailed(StoreError):
    """A worker is alive but could not open the store (it says why). The pool's own signal:
    it asks again, and reports a :class:`StoreError` if that fails too."""


class StaleView(StoreError):
    """A worker's view of an embedded store lost a file before the answer began: the worker
    opens the store again, and the query runs on another worker. The pool's own signal: a
    client reads a :class:`StoreError` only when every try failed."""


class Worker:
    """One worker process and the server's end of its pipe."""

    def __init__(self, context: multiprocessing.context.SpawnContext, store: Path | Settings,
                 limits: WorkerLimits) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(
            target=worker_main, args=(child, store, limits, os.getpid()), name="kg-query-worker", daemon=True
        )
        self.process.start()
        child.close()
        #: the pool generation whose store state this worker's view shows (-1: none open)
        self.generation = -1
        #: the name of the store state its view shows (``Store.version``), said with "ready"
        self.view: str | None = None
        self.busy = False
        #: set (under the pool's lock) once the process is being killed and reaped: never signal it again
        self.gone = False
        #: why the memory watch killed it: what the client whose query it was will read
        self.stopped_for: str | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def expect(self, word: str, timeout: float) -> None:
        """Wait for the control message ``word``; :class:`StoreError` with what came instead."""
        try:
            if not self.conn.poll(timeout):
                raise StoreError(f"a query worker did not say '{word}' within {timeout:.0f} s")
            kind, detail = receive(self.conn)
        except (EOFError, OSError):
            raise StoreError("a query worker stopped while starting") from None
        if kind != word:
            text = detail[0] if isinstance(detail, tuple) and detail else detail
            raise OpenFailed(f"a query worker could not open the store: {text}")
        if word == "ready":
            self.view = str(detail[0]) if isinstance(detail, tuple) and detail else None

    def stop(self, reason: str) -> None:
        """Stop the query it runs (under the pool's lock): the process is killed, and its owner
        reads the end of the pipe, tells its client ``reason`` and has it replaced. Once: the
        first reason is the one told."""
        if not self.gone and self.stopped_for is None:
            self.stopped_for = reason
            self.process.kill()

    def reopen(self, timeout: float, *, attempts: int) -> None:
        """Ask again, a little later each time, after an :class:`OpenFailed`: opening while the
        writer's compaction removes files fails now and then, and passes a moment later."""
        for attempt in range(attempts):
            time.sleep(0.05 * 2**attempt)
            try:
                self.conn.send(("open",))
            except (OSError, ValueError):
                raise StoreError("a query worker stopped before it could open the store") from None
            try:
                self.expect("ready", timeout)
                return
            except OpenFailed:
                if attempt == attempts - 1:
                    raise

    def kill(self) -> None:
        """Kill the process, reap it, close the pipe (only its owner may)."""
        with contextlib.suppress(OSError, ValueError):
            if self.process.is_alive():
                self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()


class Cancel:
    """One request's way to stop its query when its client goes away (:meth:`stop`, from the
    event loop). The worker that runs the query is known from the moment a lease takes it
    until the lease ends (:meth:`hold`, :meth:`release`), under the pool's lock, so a worker
    given back and taken by another request is never stopped for this one. Stopping kills the
    process as the memory watch does: the lease's owner reads the end of the pipe, answers with
    :data:`CLIENT_GONE` and has the worker replaced; a request still waiting for a worker stops
    waiting."""

    def __init__(self, lock: threading.Condition) -> None:
        self._lock = lock
        self._worker: Worker | None = None
        self.stopped = False

    def hold(self, worker: Worker) -> None:
        with self._lock:
            self._worker = worker
            if self.stopped:
                worker.stop(CLIENT_GONE)

    def release(self) -> None:
        with self._lock:
            self._worker = None

    def stop(self) -> None:
        """The client went away: kill the worker running its query, or stop waiting for one."""
        with self._lock:
            self.stopped = True
            if self._worker is not None:
                self._worker.stop(CLIENT_GONE)
            self._lock.notify_all()  # a request waiting for a worker sees it is no longer wanted


class Owner(Protocol):
    """Where a lease gives its worker back: the pool."""

    def give_back(self, worker: Worker) -> None:
        """``worker`` answered to the end and nothing is left in its pipe."""

    def retire(self, worker: Worker) -> None:
        """``worker`` cannot be reused: kill it and start another."""


class Lease:
    """A worker owned by one request from the moment it is taken until its answer ends; the
    time between is charged to the request's client (``on_done``, called exactly once)."""

    def __init__(self, owner: Owner, worker: Worker, deadline: float, *, memory_mb: int,
                 on_done: Callable[[float], None] | None, cancel: Cancel | None = None) -> None:
        self.owner = owner
        self.worker = worker
        self.deadline = deadline
        self.memory_mb = memory_mb
        self.started = time.monotonic()
        self._on_done = on_done
        self._cancel = cancel
        self.open = True
        if cancel is not None:
            cancel.hold(worker)

    def next(self) -> tuple[str, object]:
        """The worker's next message; ("timeout", None) when the deadline passes first, ("gone",
        error) when the process died (killed at a limit, or crashed)."""
        remaining = self.deadline - time.monotonic()
        try:
            if remaining <= 0 or not self.worker.conn.poll(remaining):
                return "timeout", None
            return receive(self.worker.conn)
        except (EOFError, OSError):
            return "gone", self._why_gone()

    def _why_gone(self) -> KGError:
        worker = self.worker
        if worker.stopped_for is not None:
            return QueryLimitExceeded(worker.stopped_for)
        worker.process.join(timeout=1)
        code = worker.process.exitcode
        if code == -signal.SIGABRT and self.memory_mb:
            # the address-space backstop: Rust aborts when an allocation fails
            return QueryLimitExceeded(f"the query ran out of memory in its worker (query_memory_mb = "
                                      f"{self.memory_mb} MiB) and was stopped")
        return StoreError(f"the query worker stopped unexpectedly (exit code {code}); the query was not answered")

    def finish(self, *, reusable: bool, charge: bool = True) -> None:
        """Give the worker back (``reusable``: it answered to the end, nothing is left in its pipe)
        or have it replaced; charge the client unless the failure was ours (``charge``). Only the
        first call counts."""
        if not self.open:
            return
        self.open = False
        if self._cancel is not None:
            self._cancel.release()  # before the worker can go to anyone else
        if reusable:
            self.owner.give_back(self.worker)
        else:
            self.owner.retire(self.worker)
        if self._on_done is not None and charge:
            self._on_done(time.monotonic() - self.started)


def _ended(lease: Lease, kind: str, payload: object, limit: float) -> KGError:
    """The error for a query that ended with ``kind`` before its answer was complete; the
    worker has been given back or retired."""
    if kind == "stale":
        lease.worker.generation = -1  # given back, the pool has it open the store again first
        lease.finish(reusable=True, charge=False)
        return StaleView(_field(payload, 0, str))
    if kind in ("limit", "abort", "error"):  # the worker stopped by itself and is ready for another query
        lease.finish(reusable=True)
        if kind == "error":
            return QueryRejected(_field(payload, 0, int), _field(payload, 1, str))
        message = _field(payload, 0, str)
        return QueryLimitExceeded(message) if kind == "limit" else QueryRejected(400, message)
    lease.finish(reusable=False)
    if kind == "gone" and isinstance(payload, KGError):
        return payload
    if kind == "timeout":
        return QueryTimeout(f"the query did not finish within its time limit of {limit:g} s and was stopped")
    return StoreError(f"unexpected answer from a query worker: {kind}")


def answer(lease: Lease, job: QueryJob, limit: float) -> QueryAnswer:
    """Send ``job`` to the leased worker and wait for its answer to begin (or end, when small).

    Raises before any byte is sent: :class:`QueryRejected` (bad query, nothing acceptable),
    :class:`QueryTimeout`, :class:`QueryLimitExceeded` or :class:`StoreError`.
    """
    send_job(lease, job)
    kind, payload = lease.next()
    return answer_after(lease, kind, payload, limit)


def send_job(lease: Lease, job: QueryJob) -> None:
    """Send ``job`` to the leased worker (:class:`StoreError` when it cannot be reached)."""
    try:
        lease.worker.conn.send(job)
    except (OSError, ValueError) as exc:
        raise StoreError(f"could not reach a query worker ({exc}); the query was not run") from None


def answer_after(lease: Lease, kind: str, payload: object, limit: float) -> QueryAnswer:
    """The answer that begins with the worker's first message (``kind``, ``payload``); may read
    more messages (blocking) unless that one held the whole answer."""
    if kind == "whole":
        media_type, body = _field(payload, 0, str), _field(payload, 1, bytes)
        lease.finish(reusable=True)
        return QueryAnswer(media_type, None, body)
    if kind != "ok":
        raise _ended(lease, kind, payload, limit)
    media_type = _field(payload, 0, str)
    kind, first = lease.next()
    if kind == "chunk" and isinstance(first, bytes):
        if len(first) >= CHUNK_BYTES:
            return QueryAnswer(media_type, lease, first)
        # A short first chunk is the whole answer (the worker flushes early only at the end):
        # take the "end" now, so small answers are complete and the worker is free at once.
        kind, payload = lease.next()
        if kind == "end":
            lease.finish(reusable=True)
            return QueryAnswer(media_type, None, first)
        raise _ended(lease, kind, payload, limit)
    if kind == "end":
        lease.finish(reusable=True)
        return QueryAnswer(media_type, None, b"")
    raise _ended(lease, kind, first, limit)


class QueryAnswer:
    """A query's answer: the media type, then the body as an iterator of chunks.

    Iterating to the end gives the worker back; :meth:`close` (also called when the answer is
    dropped unread, e.g. the client went away) kills a worker stopped mid-answer and starts
    another. A deadline that passes mid-stream, or a limit reached, ends the body with an
    error, so the client sees a cut answer, never a short one that looks whole.
    """

    def __init__(self, media_type: str, lease: Lease | None, first: bytes) -> None:
        self.media_type = media_type
        self._lease = lease
        self._first: bytes | None = first
        self._limit = lease.deadline - lease.started if lease is not None else 0.0

    @property
    def complete(self) -> bytes | None:
        """The whole body when it has already arrived (small answers), else None."""
        return self._first if self._lease is None and self._first is not None else None

    def __iter__(self) -> QueryAnswer:
        return self

    def __next__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        lease = self._lease
        if lease is None:
            raise StopIteration
        kind, payload = lease.next()
        if kind == "chunk" and isinstance(payload, bytes):
            return payload
        self._lease = None
        if kind == "end":
            lease.finish(reusable=True)
            raise StopIteration
        if kind == "timeout":
            lease.finish(reusable=False)
            raise QueryTimeout("the query ran out of its time limit while its result was being sent; "
                               "the result is cut short")
        raise _ended(lease, kind, payload, self._limit)

    def close(self) -> None:
        """Give the worker back; one stopped mid-answer cannot be reused and is replaced."""
        lease, self._lease = self._lease, None
        if lease is not None:
            lease.finish(reusable=False)

    def __del__(self) -> None:
        self.close()


async def first_message(lease: Lease) -> tuple[str, object]:
    """The leased worker's first message, awaited on the event loop (its pipe's descriptor
    watched, no thread blocked); ("timeout", None) when the lease's deadline passes first."""
    conn = lease.worker.conn
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    fd = conn.fileno()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)  # the answer cannot be there yet: no poll before
    try:
        await asyncio.wait_for(ready, max(lease.deadline - time.monotonic(), 0.0))
    except TimeoutError:
        return "timeout", None
    finally:
        loop.remove_reader(fd)
    try:
        return receive(conn)  # readable: a message, or the end of the pipe
    except (EOFError, OSError):
        return lease.next()  # says why the worker is gone
