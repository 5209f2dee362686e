"""Query worker processes: SPARQL queries that can be stopped.

pyoxigraph cannot cancel a running query from Python, so each query runs in a worker
process that holds its own read-only view of the store. The server waits for the
answer with a deadline; when the deadline passes the worker is killed and a fresh
one takes its place, so a runaway query costs one process, not the server. Results
come back in chunks over a pipe, so a large result streams through the server
without being held in memory.

::

    request thread ──(QueryJob)──▶ worker: query → serialise → 64 KiB chunks
         ▲                                                    │
         └────────── header · chunk · chunk · … · end ◀───────┘

Workers open the store read-only, which for an embedded store is its newest committed
view (:mod:`kg.store.views`): a checkpoint nobody writes to, so opening it cannot race with
the writer (opening the live files could, just after a restart above all: "Corruption: …
.sst: No such file"), and it holds nothing staged or half-loaded. A view does not change,
so whoever writes calls :meth:`QueryPool.invalidate` after a commit: the next query first
replaces every worker (:meth:`QueryPool.restart`), which then open the view that commit
published, so no query is answered from a state older than the last committed write, and
a run of writes with no query between them costs one restart, not one per write.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import queue
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from kg.config import Settings
from kg.errors import KGError, QueryRejected, QueryTimeout

if TYPE_CHECKING:
    from kg.store.base import Store

__all__ = ["QueryJob", "QueryAnswer", "QueryPool"]

CHUNK_BYTES = 64 * 1024
_START_TIMEOUT = 60.0
#: every message from a worker is tagged: a control tuple, or a chunk of the answer's body
_CONTROL, _DATA = b"C", b"D"


def _send_control(conn: Connection, *message: object) -> None:
    conn.send_bytes(_CONTROL + pickle.dumps(message))


def _receive(conn: Connection) -> tuple[str, object]:
    """The next message from a worker: ("chunk", bytes) or (control word, rest of the tuple)."""
    raw = conn.recv_bytes()
    if raw[:1] == _DATA:
        return "chunk", raw[1:]
    control = pickle.loads(raw[1:])  # noqa: S301 - from our own child process
    return control[0], control[1:]


_T = TypeVar("_T")


def _field(payload: object, index: int, kind: type[_T]) -> _T:
    """Field ``index`` of a control message's payload (the tuple after its word), which is a ``kind``."""
    value = payload[index] if isinstance(payload, tuple) and len(payload) > index else None
    if not isinstance(value, kind):
        raise KGError(f"unexpected answer from a query worker: {payload!r}")
    return value


@dataclass(frozen=True)
class QueryJob:
    """What a worker needs to answer one request."""

    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    #: the base IRI relative IRIs in the query resolve against
    base_iri: str | None = None
    #: format name for SELECT results, or None when the client accepts none
    solutions_format: str | None = "json"
    #: format name for ASK results, or None when the client accepts none
    boolean_format: str | None = "json"
    #: format name for CONSTRUCT/DESCRIBE results, or None when the client accepts none
    graph_format: str | None = "turtle"


class _PipeWriter:
    """A binary file-like that sends what is written as chunks; the first chunk
    is preceded by the ``ok`` header, so errors found early still become a clean 4xx."""

    def __init__(self, conn: Connection, media_type: str) -> None:
        self.conn = conn
        self.media_type = media_type
        self.buffer = bytearray()
        self.started = False

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= CHUNK_BYTES:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if not self.started:
            _send_control(self.conn, "ok", self.media_type)
            self.started = True
        if self.buffer:
            self.conn.send_bytes(_DATA + bytes(self.buffer))
            self.buffer.clear()


def _answer(store: Store, conn: Connection, job: QueryJob) -> None:
    from kg.errors import QueryError
    from kg.formats import QueryKind, output_format

    try:
        outcome = store.query_dataset(
            job.query,
            default_graphs=list(job.default_graphs),
            named_graphs=list(job.named_graphs),
            base_iri=job.base_iri,
        )
    except KGError as exc:
        # a bad query (400), or a remote store that failed or cut its answer short (503)
        _send_control(conn, "error", exc.http_status, str(exc))
        return
    name = {
        QueryKind.GRAPH: job.graph_format,
        QueryKind.BOOLEAN: job.boolean_format,
        QueryKind.SOLUTIONS: job.solutions_format,
    }[outcome.kind]
    fmt = output_format(outcome.kind, name) if name else None
    if fmt is None:
        _send_control(conn, "error", 406, "none of the acceptable media types can express this result")
        return
    writer = _PipeWriter(conn, fmt.media_type)
    try:
        outcome.serialize(writer, format_name=fmt.name)
    except (OSError, ValueError, SyntaxError, QueryError) as exc:
        # Evaluation is lazy: errors can surface while results are written.
        if writer.started:
            _send_control(conn, "abort", f"query failed while streaming: {exc}")
        else:
            _send_control(conn, "error", 400, f"query failed: {exc}")
        return
    writer.flush()
    _send_control(conn, "end")


def _worker_main(conn: Connection, where: Path | Settings) -> None:
    """The loop of one worker process: open the store read-only, answer jobs until told to stop."""
    from kg.store import open_store
    from kg.store.embedded import EmbeddedStore

    try:
        store = EmbeddedStore(where, read_only=True) if isinstance(where, Path) else open_store(where, read_only=True)
    except KGError as exc:
        _send_control(conn, "failed", str(exc))
        return
    _send_control(conn, "ready")
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        _answer(store, conn, job)


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, context: multiprocessing.context.SpawnContext, store: Path | Settings) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.process: BaseProcess = context.Process(
            target=_worker_main, args=(child, store), name="kg-query-worker", daemon=True
        )
        self.process.start()
        child.close()
        self.ready = False

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout):
            self.kill()
            raise KGError(f"a query worker did not start within {timeout:.0f} s")
        kind, detail = _receive(self.conn)
        if kind != "ready":
            self.kill()
            raise KGError(f"a query worker could not open the store: {detail}")
        self.ready = True

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(timeout=2)
        self.kill()


class QueryAnswer:
    """A query's answer: the media type, then the body as an iterator of chunks.

    Iterating to the end gives the worker back; :meth:`close` (also called when the
    answer is dropped unread, e.g. the client went away) replaces a worker stopped
    mid-answer. A deadline that passes mid-stream kills the worker and ends the body.
    """

    def __init__(self, media_type: str, pool: "QueryPool", worker: _Worker | None, deadline: float, first: bytes) -> None:
        self.media_type = media_type
        self._pool = pool
        self._worker = worker
        self._deadline = deadline
        self._first: bytes | None = first

    @property
    def complete(self) -> bytes | None:
        """The whole body when it has already arrived (small answers), else None."""
        return self._first if self._worker is None and self._first is not None else None

    def __iter__(self) -> "QueryAnswer":
        return self

    def __next__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        if self._worker is None:
            raise StopIteration
        kind, payload = self._pool._next(self._worker, self._deadline)
        if kind == "chunk" and isinstance(payload, bytes):
            return payload
        worker, self._worker = self._worker, None
        if kind == "end":
            self._pool._release(worker)
            raise StopIteration
        self._pool._replace(worker)  # "abort" or a timeout mid-stream: the body is cut short
        raise QueryTimeout(str(payload)) if kind == "timeout" else KGError(str(payload))

    def close(self) -> None:
        """Give the worker back; one stopped mid-answer cannot be reused and is replaced."""
        worker, self._worker = self._worker, None
        if worker is not None:
            self._pool._replace(worker)

    def __del__(self) -> None:
        self.close()


class QueryPool:
    """A fixed number of query worker processes over one store: a directory (embedded), or
    the settings of a remote store (each worker then holds its own connections to the server).

    >>> pool = QueryPool(Path("store"), size=2, timeout=30.0)  # doctest: +SKIP
    >>> answer = pool.run(QueryJob("ASK {}"))                  # doctest: +SKIP
    >>> b"".join(answer)                                        # doctest: +SKIP
    b'{"head":{},"boolean":true}'
    """

    def __init__(self, store: Path | Settings, *, size: int, timeout: float) -> None:
        if size < 1:
            raise ValueError("a query pool needs at least one worker")
        self.store = store
        self.size = size
        self.timeout = timeout
        self._context = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._workers: set[_Worker] = set()
        self._closed = False
        self._stale = False
        self._restart_lock = threading.Lock()
        self._quiesce: contextlib.AbstractContextManager[object] | None = None

    def start(self) -> None:
        """Start every worker and wait until each has opened the store."""
        started = [self._spawn() for _ in range(self.size)]
        for worker in started:
            worker.wait_ready(_START_TIMEOUT)
            self._idle.put(worker)

    def _spawn(self) -> _Worker:
        worker = _Worker(self._context, self.store)
        with self._lock:
            self._workers.add(worker)
        return worker

    def _release(self, worker: _Worker) -> None:
        if self._closed:
            worker.stop()
        else:
            self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill ``worker`` and start another in the background, so the pool keeps its size."""
        worker.kill()
        with self._lock:
            self._workers.discard(worker)
        if self._closed:
            return

        def respawn() -> None:
            fresh = self._spawn()
            try:
                fresh.wait_ready(_START_TIMEOUT)
            except KGError:
                with self._lock:
                    self._workers.discard(fresh)
                return
            self._release(fresh)

        threading.Thread(target=respawn, name="kg-query-respawn", daemon=True).start()

    def _next(self, worker: _Worker, deadline: float) -> tuple[str, object]:
        """The worker's next message, or ("timeout", …) when the deadline passes first."""
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0 or not worker.conn.poll(remaining):
                return "timeout", "the query ran out of its time limit and was stopped"
            kind, payload = _receive(worker.conn)
        except (EOFError, OSError) as exc:
            return "abort", f"the query worker stopped unexpectedly ({exc})"
        if kind == "abort":
            return kind, _field(payload, 0, str)
        return kind, payload

    def run(self, job: QueryJob, *, timeout: float | None = None) -> QueryAnswer:
        """Answer ``job`` within ``timeout`` seconds (at most the pool's limit).

        Raises :class:`QueryRejected` (bad query, nothing acceptable) or
        :class:`QueryTimeout` before any byte of the answer is sent.
        """
        if self._stale:
            with self._restart_lock:
                if self._stale:
                    # between writes: the fresh workers' views hold no write half-staged
                    with self._quiesce or contextlib.nullcontext():
                        self._stale = False
                        self.restart()
        limit = self.timeout if timeout is None else min(timeout, self.timeout)
        deadline = time.monotonic() + limit
        try:
            worker = self._idle.get(timeout=max(limit, 0.001))
        except queue.Empty:
            raise QueryTimeout(f"every query worker stayed busy for the whole time limit ({limit:g} s)") from None
        try:
            worker.conn.send(job)
        except (OSError, ValueError) as exc:
            self._replace(worker)
            raise KGError(f"could not reach a query worker ({exc})") from None
        kind, payload = self._next(worker, deadline)
        if kind == "timeout":
            self._replace(worker)
            raise QueryTimeout(f"the query did not finish within its time limit of {limit:g} s and was stopped")
        if kind == "error":
            status, message = _field(payload, 0, int), _field(payload, 1, str)
            self._release(worker)
            raise QueryRejected(status, message)
        if kind == "abort":
            self._replace(worker)
            raise KGError(str(payload))
        if kind != "ok":
            self._replace(worker)
            raise KGError(f"unexpected answer from a query worker: {kind}")
        media_type = _field(payload, 0, str)
        first_kind, first = self._next(worker, deadline)
        if first_kind == "chunk" and isinstance(first, bytes):
            if len(first) < CHUNK_BYTES:
                # A short first chunk is the whole answer (the worker flushes early only at the end):
                # take the "end" now, so small answers are complete and the worker is free at once.
                end_kind, detail = self._next(worker, deadline)
                if end_kind == "end":
                    self._release(worker)
                    return QueryAnswer(media_type, self, None, deadline, first)
                self._replace(worker)
                raise QueryTimeout(str(detail)) if end_kind == "timeout" else KGError(str(detail))
            return QueryAnswer(media_type, self, worker, deadline, first)
        if first_kind == "end":
            self._release(worker)
            return QueryAnswer(media_type, self, None, deadline, b"")
        self._replace(worker)
        if first_kind == "timeout":
            raise QueryTimeout(f"the query did not finish within its time limit of {limit:g} s and was stopped")
        raise KGError(str(first))

    def invalidate(self, *, quiesce: contextlib.AbstractContextManager[object] | None = None) -> None:
        """Mark every worker's view as old (a write was committed): the next query restarts them,
        holding ``quiesce`` (the writers' lock) meanwhile, so no write is half-way then."""
        if quiesce is not None:
            self._quiesce = quiesce
        self._stale = True

    def restart(self) -> None:
        """Replace every worker (after a write, so queries see the new state)."""
        self.close()
        self._closed = False
        self._idle = queue.Queue()
        self.start()

    def close(self) -> None:
        """Stop every worker."""
        self._closed = True
        with self._lock:
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.stop()
