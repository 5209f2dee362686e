"""Resident memory of the server and its query workers, watched from the server.

Why from the server and not with ``RLIMIT_AS`` in each worker: pyoxigraph opens RocksDB with
0.4–1.2 GB of *address space* before a query runs (thread arenas, table caches; measured on the
same store, one run to the next), while the *resident* size of an idle worker is about 50 MB.
A fixed address-space cap is therefore either loose or breaks the open, and when it bites Rust
aborts the process with no word about which limit it was. A query that sorts a cross product
grows by about 1 GB/s, so sampling every 0.1 s stops it within about 100 MB of its limit, and
the server knows which limit it was when it tells the client. Each worker still caps its
address space, measured after each open, as a backstop (:mod:`kg.server.worker_process`).

Linux only (it reads ``/proc``); elsewhere :func:`can_watch` is false and only the backstop holds.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

__all__ = ["MemoryWatch", "Watched", "can_watch", "resident_bytes"]

_log = logging.getLogger("kg.server")
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MIB = 2**20


def can_watch() -> bool:
    """True where resident sizes can be read (``/proc``)."""
    return Path("/proc/self/statm").is_file()


def resident_bytes(pid: int | None = None) -> int | None:
    """The resident set size of process ``pid`` (this process by default), or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid if pid is not None else 'self'}/statm").read_text().split()
    except OSError:
        return None
    return int(fields[1]) * _PAGE


class Watched(Protocol):
    """A worker as the watch sees it."""

    @property
    def pid(self) -> int | None: ...

    #: answering a query right now (the one to stop) rather than idle
    busy: bool


class MemoryWatch:
    """A thread that samples every ``interval`` seconds and stops what is over the limits.

    ``members`` gives the workers to look at; ``stop(worker, message)`` stops one, with the
    message the client whose query it was will read. ``worker_mb`` caps each worker;
    ``total_mb`` caps this process and every worker together, and stops the largest busy
    worker first (0: no such limit).
    """

    def __init__(
        self,
        *,
        worker_mb: int,
        total_mb: int,
        members: Callable[[], Sequence[Watched]],
        stop: Callable[[Watched, str], None],
        interval: float = 0.1,
    ) -> None:
        self.worker_mb = worker_mb
        self.total_mb = total_mb
        self._members = members
        self._stop = stop
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kg-memory-watch", daemon=True)
        #: the largest total (server and workers) seen, in bytes: for benchmarks and tests
        self.peak_total = 0
        self._warned = -60.0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the watch must outlive a surprise; say what happened
                _log.exception("the memory watch failed once; it keeps watching")

    def check(self) -> None:
        """One round: stop every worker over ``worker_mb``, then the largest busy ones while the
        total is over ``total_mb``."""
        sizes: list[tuple[Watched, int]] = []
        for worker in self._members():
            pid = worker.pid
            size = resident_bytes(pid) if pid is not None else None
            if size is not None:
                sizes.append((worker, size))
        for worker, size in sizes:
            if self.worker_mb and size > self.worker_mb * MIB:
                _log.warning("query worker %s (%s) holds %d MiB, over query_memory_mb = %d MiB: stopped",
                             worker.pid, "busy" if worker.busy else "idle", size // MIB, self.worker_mb)
                self._stop(worker, f"the query needed more memory than one query worker may use "
                                   f"(query_memory_mb = {self.worker_mb} MiB) and was stopped")
        own = resident_bytes() or 0
        total = own + sum(size for worker, size in sizes if not (self.worker_mb and size > self.worker_mb * MIB))
        self.peak_total = max(self.peak_total, total)
        if not self.total_mb or total <= self.total_mb * MIB:
            return
        if own >= self.total_mb * MIB:
            # Stopping queries cannot bring the total under the cap (the server itself holds it, or
            # the process that embeds it does): say so now and then rather than stop every query.
            if time.monotonic() - self._warned > 60:
                self._warned = time.monotonic()
                _log.warning("the server alone holds %d MiB, over max_rss_mb = %d MiB; queries are not stopped for it",
                             own // MIB, self.total_mb)
            return
        for worker, size in sorted(sizes, key=lambda pair: pair[1], reverse=True):
            if not worker.busy or (self.worker_mb and size > self.worker_mb * MIB):
                continue
            _log.warning("server and query workers hold %d MiB, over max_rss_mb = %d MiB: stopped worker %s (%d MiB)",
                         total // MIB, self.total_mb, worker.pid, size // MIB)
            self._stop(worker, f"the server and its query workers together went over their memory limit "
                               f"(max_rss_mb = {self.total_mb} MiB); the largest running query, this one, was stopped")
            total -= size
            if total <= self.total_mb * MIB:
                return
