"""Security headers on every response: one ASGI middleware, :class:`SecurityHeaders`.

* ``X-Content-Type-Options: nosniff`` — a browser takes each body as the type it is sent as
  (a Turtle or JSON answer holding ``<script>`` is never run as HTML);
* ``Content-Security-Policy`` — every page (the query page, ``/docs``, the resource, ontology,
  shapes and dumps pages) loads scripts, styles and data from this server only and carries no
  inline script or style (:data:`PAGE_POLICY`), so markup slipped into a page through the data
  could not run. No page needs more: ``/docs`` is the bundled Swagger UI started by a script
  file, and the query page's editor (CodeMirror) lives in a shadow root, where it adds its
  styles as constructed style sheets instead of an inline ``<style>``. No ``'unsafe-inline'``,
  no ``'unsafe-eval'``, no other host;
* ``X-Frame-Options: DENY`` and ``frame-ancestors 'none'`` — no page can be framed (clickjacking);
* ``Referrer-Policy: strict-origin-when-cross-origin`` — a link out of a page (Wikidata, an
  IRI) tells the other site this server's origin, never the query in the URL.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["PAGE_POLICY", "SecurityHeaders", "security_headers"]

PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")

_COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}


def security_headers(policy: str = PAGE_POLICY) -> dict[str, str]:
    """The headers every response carries, with ``policy`` as its Content-Security-Policy."""
    return {**_COMMON, "content-security-policy": policy}


class SecurityHeaders:
    """Add :func:`security_headers` to every HTTP response that does not set them itself
    (encoded once, here: every response carries them)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._headers = [(name.encode("latin-1"), value.encode("latin-1"))
                         for name, value in security_headers().items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _with_headers(message, self._headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_headers(start: Message, headers: list[tuple[bytes, bytes]]) -> Message:
    """The response start ``start`` with ``headers`` (lower-case names, encoded) added where it
    has none of that name."""
    present = {name.lower() for name, _ in start.get("headers", [])}
    added = [(name, value) for name, value in headers if name not in present]
    return {**start, "headers": [*start.get("headers", []), *added]}
