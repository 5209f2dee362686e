"""Queries answered in the server's own process: those a worker has just shown to be cheap.

A query normally runs in a worker process, because pyoxigraph cannot stop a query and only a
process can be killed at the time limit. For a light query (an ``ASK``, one node's triples, a
short date range) that round trip — a pipe each way, two processes woken — costs more CPU
than the evaluation itself: about 0.6 ms against 0.15 ms (``bench/README.md``).

Whether a query is cheap cannot be read from its text (its cost depends on the data), but the
same text over the same store version does the same work and gives the same answer. So the
server remembers which short query texts a worker answered whole within ``inline_query_ms``
(:class:`InlineQueries`), per store version, and the next time such a text comes while the
version is unchanged, the server evaluates it itself, on the event loop, with the same code the
worker runs (:func:`kg.server.worker_process.answer_here`), so the bytes are the same. Nothing
new is ever evaluated here: a text not seen yet, one that was slow or whose answer was streamed,
and every text after a commit goes to a worker first. Neither is a query that names its own
dataset (``FROM``): in the writer's process it could name a graph still being loaded, which
workers never see. Off for a remote store (a request from the event loop would block it) and
with ``inline_query_ms = 0``.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from kg.config import Settings
from kg.server.worker_lease import QueryAnswer
from kg.server.worker_process import QueryJob, WorkerLimits, answer_here
from kg.sparql.lexer import declares_dataset
from kg.store.base import Store

__all__ = ["InlineQueries", "inline_for"]

_log = logging.getLogger("kg.server")

#: longest query text remembered, in characters: light queries are short, and the memory the
#: record takes stays bounded (entries × this)
MAX_TEXT = 4096
#: query texts remembered at once, least recently used forgotten first
MAX_ENTRIES = 1024


class InlineQueries:
    """The short query texts a worker answered whole within ``seconds`` at the current store
    version, and their answers made in this process."""

    def __init__(self, store: Store, version: Callable[[], Hashable], same_view: Callable[[], bool], *,
                 seconds: float, limits: WorkerLimits) -> None:
        self._store = store
        self._version = version
        self._same_view = same_view
        self._seconds = seconds
        self._limits = limits
        #: the keys of the cheap texts, least recently used first
        self._cheap: OrderedDict[Hashable, None] = OrderedDict()
        self._cheap_version: Hashable = None
        #: answers made here (counted for tests)
        self.answered = 0

    def version(self) -> Hashable:
        """The store version now (taken before a job is sent, compared when its cost is noted)."""
        return self._version()

    def _current(self) -> OrderedDict[Hashable, None]:
        """The cheap texts noted at the current version; all forgotten when it moved on."""
        now = self._version()
        if now != self._cheap_version:
            self._cheap.clear()
            self._cheap_version = now
        return self._cheap

    def answer(self, key: Hashable, job: QueryJob) -> QueryAnswer | None:
        """The answer to ``job`` made here when a worker answered the same ``key`` at this version
        whole within the limit; None otherwise (the job goes to a worker)."""
        cheap = self._current()
        if key not in cheap:
            return None
        cheap.move_to_end(key)
        started = time.monotonic()
        try:
            made = answer_here(self._store, job, self._limits)
        except Exception:  # noqa: BLE001 - whatever it is, a worker answers instead (and reports it)
            _log.exception("a query answered in the server's process failed; a worker answers it")
            made = None
        if made is None:  # not one whole answer this time: let a worker say what happened
            cheap.pop(key, None)
            return None
        if time.monotonic() - started > self._seconds:  # slower here than the worker was: a worker next time
            cheap.pop(key, None)
        self.answered += 1
        media_type, body = made
        return QueryAnswer(media_type, None, body)

    def note(self, key: Hashable, job: QueryJob, version: Hashable, seconds: float) -> None:
        """A worker answered ``job`` whole in ``seconds`` (its time, pipes included), starting at
        ``version``: remembered when that was within the limit, the version has not moved since
        and the text is short."""
        if seconds > self._seconds or len(job.query) > MAX_TEXT or declares_dataset(job.query):
            return
        cheap = self._current()
        if version != self._cheap_version:
            return  # a commit came while the worker answered: its view may have been either
        if not self._same_view():
            return  # the workers read another state than this process (a read-only server beside a writer)
        cheap[key] = None
        cheap.move_to_end(key)
        while len(cheap) > MAX_ENTRIES:
            cheap.popitem(last=False)


def inline_for(settings: Settings, store: Store, version: Callable[[], Hashable],
               views: Callable[[], set[str | None]]) -> InlineQueries | None:
    """The app's :class:`InlineQueries`, or None when it is off (``inline_query_ms = 0``) or the
    store is remote. ``views`` names the states the workers read: a cost is noted only while
    they all read the state this process's ``store`` reads."""
    if settings.inline_query_ms <= 0 or settings.store_is_remote:
        return None
    limits = WorkerLimits(memory_mb=0, result_bytes=settings.max_result_bytes)

    def same_view() -> bool:
        return views() == {getattr(store, "version", None)}

    return InlineQueries(store, version, same_view, seconds=settings.inline_query_ms / 1000, limits=limits)
