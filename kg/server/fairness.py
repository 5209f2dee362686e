"""A query-time budget per client address, so that one client cannot take every worker.

Each client address may use ``client_query_seconds`` of worker time in any sliding window of
``client_window_seconds`` (the Wikidata Query Service grants 60 s per 60 s the same way).
Worker time is what is scarce — there are ``workers`` of them — so that is what is counted:
from the moment a worker takes the query until it is free again, streaming included; a query
stopped at its time limit costs its whole limit. Queries still running count too, for the
time they have run so far, so a client cannot open fifty slow queries at once on a budget
it has not spent yet.

An answer kept by the answer cache (:mod:`kg.server.answer_cache`) takes no worker, so it costs
nothing and is served to a client over its budget too; only queries a worker must answer are refused.

A client over its budget gets 429 with ``Retry-After``: the seconds until enough of its
spending has left the window. The address is the one the server sees (``request.client``);
behind a reverse proxy, uvicorn puts the forwarded address there when the proxy is trusted
(``--forwarded-allow-ips``; loopback by default).

>>> budget = QueryBudget(seconds=1.0, window=60.0)
>>> ticket = budget.admit("192.0.2.1")
>>> ticket.end(1.5)
>>> budget.admit("192.0.2.1")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
kg.errors.RateLimited: client 192.0.2.1 used 1.5 s of query time in the last 60 s, ...; try again in 60 s
>>> budget.admit("198.51.100.7")  # doctest: +ELLIPSIS
<kg.server.fairness.Ticket object at ...>
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from kg.errors import RateLimited

__all__ = ["QueryBudget", "Ticket"]


class Ticket:
    """One admitted query; :meth:`end` charges its worker time (only the first call counts)."""

    def __init__(self, budget: QueryBudget | None, client: str, number: int) -> None:
        self._budget = budget
        self.client = client
        self.number = number

    def end(self, seconds: float) -> None:
        budget, self._budget = self._budget, None
        if budget is not None:
            budget._charge(self, seconds)


class QueryBudget:
    """Worker seconds per client address over a sliding window; ``seconds`` ≤ 0 admits everyone."""

    def __init__(self, *, seconds: float, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        #: per client: (when charged, seconds) oldest first
        self._spent: dict[str, deque[tuple[float, float]]] = {}
        #: per client: ticket number -> when admitted, for queries still running
        self._running: dict[str, dict[int, float]] = {}
        self._numbers = itertools.count()
        self._swept = clock()

    @property
    def enabled(self) -> bool:
        return self.seconds > 0 and self.window > 0

    def admit(self, client: str) -> Ticket:
        """A ticket for one query of ``client``; :class:`RateLimited` when its budget is spent."""
        if not self.enabled:
            return Ticket(None, client, 0)
        now = self._clock()
        with self._lock:
            self._sweep(now)
            charges = self._forget(client, now)
            running = self._running.get(client, {})
            used = sum(s for _, s in charges) + sum(now - t for t in running.values())
            if used >= self.seconds:
                retry = self._retry_after(charges, used, now)
                raise RateLimited(
                    f"client {client} used {used:.1f} s of query time in the last {self.window:g} s, its whole "
                    f"budget (client_query_seconds = {self.seconds:g} per client_window_seconds = {self.window:g}); "
                    f"try again in {retry} s",
                    retry_after=retry,
                )
            number = next(self._numbers)
            self._running.setdefault(client, {})[number] = now
            return Ticket(self, client, number)

    def _charge(self, ticket: Ticket, seconds: float) -> None:
        now = self._clock()
        with self._lock:
            running = self._running.get(ticket.client)
            if running is not None:
                running.pop(ticket.number, None)
                if not running:
                    del self._running[ticket.client]
            if seconds > 0:
                self._spent.setdefault(ticket.client, deque()).append((now, seconds))

    def _forget(self, client: str, now: float) -> deque[tuple[float, float]]:
        """``client``'s charges still inside the window (older ones dropped)."""
        charges = self._spent.get(client)
        if charges is None:
            return deque()
        while charges and charges[0][0] <= now - self.window:
            charges.popleft()
        if not charges:
            del self._spent[client]
        return charges

    def _sweep(self, now: float) -> None:
        """Once a window, drop every client whose charges have all left it (memory stays bounded
        by the clients of one window)."""
        if now - self._swept < self.window:
            return
        self._swept = now
        for client in list(self._spent):
            self._forget(client, now)

    def _retry_after(self, charges: deque[tuple[float, float]], used: float, now: float) -> int:
        """Whole seconds until the oldest charges have left the window and ``used`` is under budget;
        the whole window when queries still running are what fill it."""
        left = used
        for when, seconds in charges:
            left -= seconds
            if left < self.seconds:
                return max(1, math.ceil(when + self.window - now))
        return max(1, math.ceil(self.window))
