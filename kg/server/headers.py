"""Security headers on every response: one ASGI middleware, :class:`SecurityHeaders`.

* ``X-Content-Type-Options: nosniff`` — a browser takes each body as the type it is sent as
  (a Turtle or JSON answer holding ``<script>`` is never run as HTML);
* ``Content-Security-Policy`` — the pages (the query page, the resource, ontology, shapes and
  dumps pages) load scripts, styles and data from this server only and carry no inline script
  or style (:data:`PAGE_POLICY`), so markup slipped into a page through the data could not run;
* ``X-Frame-Options: DENY`` and ``frame-ancestors 'none'`` — no page can be framed (clickjacking);
* ``Referrer-Policy: strict-origin-when-cross-origin`` — a link out of a page (Wikidata, an
  IRI) tells the other site this server's origin, never the query in the URL.

FastAPI's own documentation pages (``/docs``, ``/redoc``) are the exception: they are built by
FastAPI, load Swagger UI or ReDoc from a CDN and start them with an inline script. They get
:data:`DOCS_POLICY`, which allows those sources and exactly the inline scripts of the page
as served (their SHA-256, computed from the body); no data of ours is in them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DOCS_POLICY", "PAGE_POLICY", "SecurityHeaders", "security_headers"]

PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
#: ``{scripts}``: the hashes of the page's inline scripts
DOCS_POLICY = ("default-src 'none'; script-src 'self' https://cdn.jsdelivr.net {scripts}; "
               "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
               "font-src 'self' data: https://fonts.gstatic.com; "
               "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.jsdelivr.net; "
               "connect-src 'self'; worker-src 'self' blob:; form-action 'self'; base-uri 'none'; "
               "frame-ancestors 'none'")

_COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def security_headers(policy: str = PAGE_POLICY) -> dict[str, str]:
    """The headers every response carries, with ``policy`` as its Content-Security-Policy."""
    return {**_COMMON, "content-security-policy": policy}


def _docs_policy(body: bytes) -> str:
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
                      for script in _INLINE_SCRIPT.findall(body))
    return DOCS_POLICY.format(scripts=hashes)


class SecurityHeaders:
    """Add :func:`security_headers` to every HTTP response that does not set them itself; the
    pages at ``docs_paths`` (FastAPI's, which this package does not write) get :data:`DOCS_POLICY`."""

    def __init__(self, app: ASGIApp, *, docs_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_paths:
            await self._docs_page(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _with_headers(message, security_headers())
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs_page(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hold a documentation page (a few KB) until its body is known, to hash its scripts."""
        start: Message | None = None
        body: list[bytes] = []

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body", False) and start is not None:
                    whole = b"".join(body)
                    await send(_with_headers(start, security_headers(_docs_policy(whole))))
                    await send({"type": "http.response.body", "body": whole})
                return
            await send(message)

        await self.app(scope, receive, hold)


def _with_headers(start: Message, headers: dict[str, str]) -> Message:
    """The response start ``start`` with ``headers`` added where it has none of that name."""
    present = {name.lower() for name, _ in start.get("headers", [])}
    added = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
             if name.encode("latin-1") not in present]
    return {**start, "headers": [*start.get("headers", []), *added]}
