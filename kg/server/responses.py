"""One shape for every error the HTTP surface returns: JSON for programs, a page for browsers.

``{"error": "<HTTP reason phrase>", "status": <code>, "message": "<what and where>"}`` —
the same for a bad query, an unknown resource, a refused SERVICE or a time limit,
so clients handle errors one way. A client that ranks ``text/html`` above JSON in its
``Accept`` header (a browser following a link) gets the same three things as an HTML page.
"""

from __future__ import annotations

from html import escape
from http import HTTPStatus
from urllib.parse import quote

from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.requests import Request

from kg.formats import negotiate
from kg.iris import Kind
from kg.server.markup import html_page

__all__ = ["error_payload", "error_response", "prefers_html"]


def prefers_html(request: Request | None) -> bool:
    """Whether the client ranks ``text/html`` above JSON (no Accept, or ``*/*``: JSON)."""
    if request is None:
        return False
    return negotiate(request.headers.get("accept"), ["application/json", "text/html"]) == "text/html"


def _ways_on(status: int, request: Request | None) -> str:
    """For a resource that is not there (``/id/{kind}/{slug}``): its kind's index, and a search
    for the words of its slug — a mistyped or renamed IRI is most often found that way."""
    path = request.url.path if request is not None else ""
    parts = path.split("/")
    if status != 404 or len(parts) != 4 or parts[1] != "id" or parts[2] not in {k.value for k in Kind} or not parts[3]:
        return ""
    words = " ".join(w for w in parts[3].replace("_", "-").split("-") if w)[:200]
    return (f"Look for <a href=\"/search?q={quote(words)}\">{escape(words)}</a>, "
            f"or in <a href=\"/id/{quote(parts[2])}/\">every {escape(parts[2])}</a>. ")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_payload(status: int, message: str) -> dict[str, object]:
    """The JSON shape of an error, for a response that adds its own fields (a SHACL report,
    the error's class) to it."""
    return {"error": _phrase(status), "status": status, "message": message}


def error_response(status: int, message: str, *, headers: dict[str, str] | None = None,
                   request: Request | None = None) -> Response:
    """The error response for ``status`` with a message that says what went wrong and where;
    an HTML page when ``request`` prefers HTML (:func:`prefers_html`), else the JSON shape."""
    phrase = _phrase(status)
    if prefers_html(request):
        body = (f"<p class='error error-message'>{escape(message)}</p>"
                f"<p>Status {status} ({escape(phrase)}). {_ways_on(status, request)}"
                "Start again from <a href=/>the query page</a>.</p>")
        return HTMLResponse(html_page(f"{status} {phrase}", body), status_code=status, headers=headers)
    return JSONResponse(error_payload(status, message), status_code=status, headers=headers)
