"""What runs inside a query worker process, and the messages it exchanges with the server.

A worker starts without a store and says ``loaded``; the server then tells it to ``open``
the store (read-only) at a moment when no write is half-way, and to open it again after
each committed write, so that one process serves many states of the store without being
started again (an open costs tens of milliseconds; a new process about a second of CPU).
Then it answers :class:`QueryJob` after :class:`QueryJob`, streaming each result back in
chunks, until it receives ``None`` or its pipe closes::

    server ──("open",)──▶ worker ──("ready", the view's name)──▶
    server ──QueryJob───▶ worker ──("ok", media type) · chunk · chunk · … · ("end",)──▶
                                 ──whole (media type and body, one message: an answer under one chunk)──▶
                                 ──("error", status, message) | ("limit", message) | ("stale", message)──▶

``stale``: an embedded store's files could not be read before any byte was sent. pyoxigraph's
read-only view opens its table files lazily, and the writer's background compaction may
remove one after the view was opened; the server then has the worker open the store again
and runs the query on another worker.

A worker dies with the server: on Linux the kernel kills it when the thread that started it
ends (``PR_SET_PDEATHSIG``; the pool starts every worker from one long-lived thread), so a
server killed with SIGKILL leaves no query running behind it.

The server watches each worker's *resident* memory (:mod:`kg.server.memory_watch`); the
worker also caps its *address space* (``RLIMIT_AS``) as a backstop, should the server not
watch. The cap cannot be the limit itself: opening the store takes 0.4–1.2 GB of address
space (measured: the same store, one run to the next), of which 50 MB are resident. So each
time the store is opened the worker measures what the open took and allows the query
``query_memory_mb`` plus a margin above that; past it, allocations fail and Rust aborts the
process, which the server reports as the memory limit.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import resource
import signal
import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

from kg.config import Settings
from kg.errors import KGError

if TYPE_CHECKING:
    from kg.store.base import Store

__all__ = ["CHUNK_BYTES", "QueryJob", "WorkerLimits", "answer_here", "receive", "send_control", "worker_main"]

CHUNK_BYTES = 64 * 1024
#: every message from a worker is tagged: a control tuple, a chunk of the answer's body, or a
#: whole answer (media type, NUL, body): most answers are small, and one message is one read
_CONTROL, _DATA, _WHOLE = b"C", b"D", b"W"
#: address space beyond what the open took plus ``query_memory_mb``, before allocations fail
_ADDRESS_MARGIN_MB = 512
_PR_SET_PDEATHSIG = 1


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


@dataclass(frozen=True)
class WorkerLimits:
    """The limits a worker enforces itself (0: none)."""

    #: ``query_memory_mb``: sizes the address-space backstop (the server watches the resident size);
    #: 0 leaves the address space alone
    memory_mb: int = 0
    #: ``max_result_bytes``: the most bytes of one result sent to the server
    result_bytes: int = 0


class _Sender(Protocol):
    """Where a worker's messages go: its pipe, or :class:`_Kept` for an answer made in the server."""

    def send_bytes(self, buf: bytes) -> None: ...


def send_control(conn: _Sender, *message: object) -> None:
    """Send a control message (a tuple whose first item is its word)."""
    conn.send_bytes(_CONTROL + pickle.dumps(message))


def receive(conn: Connection) -> tuple[str, object]:
    """The next message from a worker: ("chunk", bytes), ("whole", (media type, body)) or
    (control word, rest of the tuple)."""
    return _decode(conn.recv_bytes())


def _decode(raw: bytes) -> tuple[str, object]:
    """One message of a worker's, as :func:`receive` gives it."""
    if raw[:1] == _DATA:
        return "chunk", raw[1:]
    if raw[:1] == _WHOLE:
        media, _, body = raw[1:].partition(b"\0")
        return "whole", (media.decode("ascii"), body)
    control = pickle.loads(raw[1:])  # noqa: S301 - from our own child process
    return control[0], control[1:]


class _ResultTooLarge(Exception):
    """Raised from inside the serializer to stop a result at ``max_result_bytes``."""


class _PipeWriter:
    """A binary file-like that sends what is written as chunks; the first chunk is preceded by
    the ``ok`` header, so errors found early (and a result over the limit while still small)
    still become a clean error answer."""

    def __init__(self, conn: _Sender, media_type: str, limit: int) -> None:
        self.conn = conn
        self.media_type = media_type
        self.limit = limit
        self.buffer = bytearray()
        self.written = 0
        self.started = False

    def write(self, data: bytes) -> int:
        self.written += len(data)
        if self.limit and self.written > self.limit:
            raise _ResultTooLarge()
        self.buffer += data
        if len(self.buffer) >= CHUNK_BYTES:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if not self.started:
            send_control(self.conn, "ok", self.media_type)
            self.started = True
        if self.buffer:
            self.conn.send_bytes(_DATA + bytes(self.buffer))
            self.buffer.clear()


class _Kept:
    """The messages of one answer, kept in memory instead of sent."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    def send_bytes(self, buf: bytes) -> None:
        self.messages.append(buf)


def answer_here(store: Store, job: QueryJob, limits: WorkerLimits) -> tuple[str, bytes] | None:
    """``job`` answered in this process by the code a worker runs: (media type, body), or None
    when the outcome is anything but a whole answer (an error, a limit, a view to reopen)."""
    kept = _Kept()
    _answer(store, kept, job, limits)
    messages = [_decode(raw) for raw in kept.messages]
    (first, head), (last, _) = messages[0], messages[-1]
    if first == "whole" and len(messages) == 1:
        media, body = cast(tuple[str, bytes], head)
        return media, body
    chunks = messages[1:-1]
    if first != "ok" or last != "end" or any(kind != "chunk" for kind, _ in chunks):
        return None
    return str(cast(tuple[object, ...], head)[0]), b"".join(cast(bytes, chunk) for _, chunk in chunks)


def _answer(store: Store, conn: _Sender, job: QueryJob, limits: WorkerLimits) -> None:
    from kg.errors import QueryError, StoreError
    from kg.formats import QueryKind, output_format
    from kg.store.embedded import EmbeddedStore

    embedded = isinstance(store, EmbeddedStore)
    try:
        outcome = store.query_dataset(
            job.query,
            default_graphs=list(job.default_graphs),
            named_graphs=list(job.named_graphs),
            base_iri=job.base_iri,
        )
    except StoreError as exc:
        if embedded:  # a view that lost a file: open it again and retry (a remote store has retried already)
            send_control(conn, "stale", str(exc))
        else:
            send_control(conn, "error", exc.http_status, str(exc))
        return
    except KGError as exc:
        # a bad query (400), or a remote store that failed or cut its answer short (503)
        send_control(conn, "error", exc.http_status, str(exc))
        return
    name = {
        QueryKind.GRAPH: job.graph_format,
        QueryKind.BOOLEAN: job.boolean_format,
        QueryKind.SOLUTIONS: job.solutions_format,
    }[outcome.kind]
    fmt = output_format(outcome.kind, name) if name else None
    if fmt is None:
        send_control(conn, "error", 406, "none of the acceptable media types can express this result")
        return
    writer = _PipeWriter(conn, fmt.media_type, limits.result_bytes)
    try:
        outcome.serialize(writer, format_name=fmt.name)
    except _ResultTooLarge:
        # before the first chunk the server answers 503; after it, it cuts the body short
        send_control(conn, "limit", f"the result is larger than this endpoint sends (max_result_bytes = "
                                    f"{limits.result_bytes:,} bytes); ask for fewer rows (LIMIT) or use the dumps")
        return
    except (OSError, RuntimeError) as exc:
        # Evaluation is lazy: a lost table file can surface while results are written.
        if writer.started:
            send_control(conn, "abort", f"reading the store failed while the result was being sent: {exc}")
        elif embedded:
            send_control(conn, "stale", f"reading the store failed: {exc}")
        else:
            send_control(conn, "error", 503, f"reading the store failed: {exc}")
        return
    except (ValueError, SyntaxError, QueryError) as exc:
        # Evaluation is lazy: errors can surface while results are written.
        if writer.started:
            send_control(conn, "abort", f"query failed while streaming: {exc}")
        else:
            send_control(conn, "error", 400, f"query failed: {exc}")
        return
    if not writer.started:  # the whole answer is in the buffer: one message
        conn.send_bytes(_WHOLE + fmt.media_type.encode("ascii") + b"\0" + bytes(writer.buffer))
        return
    writer.flush()
    send_control(conn, "end")


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when the thread that started it ends (SIGKILL included);
    exit at once if that already happened before the request took effect."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


def _address_space() -> int | None:
    """This process's address space in bytes (``VmSize``), where ``/proc`` says."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def _cap_address_space(memory_mb: int) -> None:
    """Lift the cap (before an open) when ``memory_mb`` is 0, else set it above what the process
    maps now (after an open) by the query's allowance and a margin."""
    with contextlib.suppress(ValueError, OSError):
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        now = _address_space() if memory_mb > 0 else None
        if now is None:
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
            return
        cap = now + (memory_mb + _ADDRESS_MARGIN_MB) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))


def _open(where: Path | Settings) -> Store:
    from kg.store import open_store
    from kg.store.embedded import EmbeddedStore

    return EmbeddedStore(where, read_only=True) if isinstance(where, Path) else open_store(where, read_only=True)


def worker_main(conn: Connection, where: Path | Settings, limits: WorkerLimits, parent: int) -> None:
    """The loop of one worker process: (re)open the store when told, answer jobs until told to stop."""
    _die_with_parent(parent)
    import kg.formats  # noqa: F401 - imported before "loaded", so the first answer does not wait for it
    import kg.store.embedded  # noqa: F401

    store: Store | None = None
    send_control(conn, "loaded")
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        if isinstance(message, QueryJob):
            if store is None:
                send_control(conn, "error", 503, "the query worker has no store open")
            else:
                _answer(store, conn, message, limits)
            continue
        # ("open",): let go of the old view first, so two views never coexist in one process
        if store is not None:
            store.close()
            store = None
        _cap_address_space(0)
        try:
            store = _open(where)
        except Exception as exc:  # noqa: BLE001 - e.g. RuntimeError "Corruption": a compaction removed a file meanwhile
            send_control(conn, "failed", str(exc))
            continue
        _cap_address_space(limits.memory_mb)
        send_control(conn, "ready", getattr(store, "version", None))
