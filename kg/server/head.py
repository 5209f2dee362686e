"""``HEAD`` wherever ``GET`` is: one ASGI middleware, :class:`HeadAsGet`.

FastAPI's routes answer only the methods they declare, and HTTP wants every ``GET`` resource
to answer ``HEAD`` with the same status and headers (RFC 9110 §9.3.2). Rather than declare a
second route for each, a ``HEAD`` that no route takes (405) is passed on again as a ``GET`` and
its body dropped on the way out: the status and every header, ``Content-Length`` included, are
those of the ``GET``. Routes that declare ``HEAD`` themselves (a dump, which is then not read
from disk) answer it directly.

A route that streams its answer can ask :func:`is_head` and stop before computing the body
(``/sparql`` gives its query worker back after the first chunk instead of streaming the rest).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HeadAsGet", "is_head"]

#: the key in the ASGI scope (and so in ``request.scope``) that marks a HEAD answered as a GET
HEAD_KEY = "kg.head"


def is_head(request: Request) -> bool:
    """Whether ``request`` is a ``HEAD`` answered by the ``GET`` route (only the headers are sent)."""
    return bool(request.scope.get(HEAD_KEY))


class HeadAsGet:
    """Answer ``HEAD`` with the route's own ``HEAD`` where it has one (a file is then not read),
    else by running ``GET``; only the status and headers are sent either way."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        refused = False  # no route answers HEAD at this path (405): the GET route will
        ended = retried = False

        async def headers_only(message: Message) -> None:
            nonlocal refused, ended
            if refused:
                return
            if message["type"] == "http.response.start" and message["status"] == 405 and not retried:
                refused = True
            elif message["type"] != "http.response.body":
                await send(message)
            elif not ended:
                ended = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app(scope, receive, headers_only)
        if not refused:
            return
        refused, retried = False, True
        # a copy: the server keeps its own scope, whose method says HEAD (so it sends no body)
        await self.app({**scope, "method": "GET", HEAD_KEY: True}, receive, headers_only)
