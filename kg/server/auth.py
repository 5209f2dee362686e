"""Tokens at the HTTP door: FastAPI dependencies for write routes and, optionally, reads.

``require_writer`` goes on every route that changes the store and gives the route the
agent (the token's name) to record. ``require_reader`` is installed on the whole app and
does nothing unless ``read_token_required`` is set. Both answer 401 (no usable
``Authorization: Bearer`` header) or 403 (unknown or revoked token) with a
``WWW-Authenticate`` challenge, in the one JSON error shape; neither ever repeats the
header's value.
"""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from kg.config import Settings
from kg.errors import AuthError, ForbiddenError
from kg.ops.control import Control
from kg.ops.tokens import agent_for

__all__ = ["REALM", "check_reader", "require_reader", "require_writer"]

#: the protection space named in ``WWW-Authenticate`` challenges
REALM = "negotiation-kg"


def _challenge(exc: AuthError) -> HTTPException:
    """The HTTP error for ``exc``, with the Bearer challenge RFC 6750 asks for."""
    value = f'Bearer realm="{REALM}"'
    if isinstance(exc, ForbiddenError):
        value += ', error="invalid_token"'
    return HTTPException(exc.http_status, exc.message, headers={"WWW-Authenticate": value})


def _agent(request: Request) -> str:
    settings: Settings = request.app.state.settings
    try:
        return agent_for(settings, request.headers.get("authorization"))
    except AuthError as exc:
        raise _challenge(exc) from None


def require_writer(request: Request) -> str:
    """The agent (token name) of a request that may write; 401/403 otherwise.

    Use as ``agent: str = Depends(require_writer)`` on every route that changes the store.
    A plain function, so FastAPI runs its file read in the thread pool.
    """
    return _agent(request)


async def require_reader(request: Request) -> str | None:
    """When ``read_token_required`` is on, the agent of the request (401/403 without a valid
    token); otherwise ``None`` and reads stay open.

    A coroutine, so that an open read costs no thread; the token file is read in one."""
    settings: Settings = request.app.state.settings
    if not settings.read_token_required:
        return None
    return await run_in_threadpool(check_reader, request)


def check_reader(request: Request) -> str | None:
    """:func:`require_reader` when reads need a token (blocking: it reads the token file)."""
    control: Control | None = getattr(request.app.state, "control", None)
    if control is not None and control.accepts(request.headers.get("authorization")):
        return None  # a local tool with the control secret may already read the store's files
    return _agent(request)
