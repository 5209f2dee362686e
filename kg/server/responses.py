"""One JSON shape for every error the HTTP surface returns.

``{"error": "<HTTP reason phrase>", "status": <code>, "message": "<what and where>"}`` —
the same for a bad query, an unknown resource, a refused SERVICE or a time limit,
so clients handle errors one way.
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi.responses import JSONResponse

__all__ = ["error_response"]


def error_response(status: int, message: str, *, headers: dict[str, str] | None = None) -> JSONResponse:
    """The error response for ``status`` with a message that says what went wrong and where."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return JSONResponse({"error": phrase, "status": status, "message": message}, status_code=status, headers=headers)
