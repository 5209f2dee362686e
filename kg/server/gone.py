"""Noticing that a client went away while its request waits, so the server can stop working for it.

A SPARQL query runs in a worker process until its answer begins; a client that gives up first —
Cancel on the query page, a closed tab, a script's own timeout — would otherwise leave the
worker busy until the query's time limit. :func:`stop_when_gone` watches the request's ASGI
``receive`` channel for ``http.disconnect`` and calls back (the query pool's
:meth:`~kg.server.worker_lease.Cancel.stop`, which kills the worker as a time limit does).

Most queries are answered within milliseconds, and watching costs a task; so the watch begins
only once the request has waited :data:`GRACE` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

from starlette.requests import Request

__all__ = ["GRACE", "stop_when_gone"]

#: seconds a request waits before its client is watched (a timer costs far less than a task)
GRACE = 0.05


@contextlib.contextmanager
def stop_when_gone(request: Request, stop: Callable[[], None], *, grace: float = GRACE) -> Iterator[None]:
    """Call ``stop`` if the client disconnects while the block runs (after ``grace`` seconds).
    The request's body must have been read: the watch takes the messages that come after it."""
    loop = asyncio.get_running_loop()
    watching: list[asyncio.Task[None]] = []

    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        stop()

    timer = loop.call_later(grace, lambda: watching.append(loop.create_task(watch())))
    try:
        yield
    finally:
        timer.cancel()
        for task in watching:
            task.cancel()
