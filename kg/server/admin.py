"""``/admin/…``: what local tools ask of the server that holds the store.

Only for local tools holding the control secret (see :mod:`kg.ops.control`), never for a
write token.

* ``POST /admin/backup``: the server writes a pyoxigraph checkpoint (hard links where it
  can) into a directory that must not exist yet, between two writes; the caller finishes
  the backup (recovery on open, rename into place: :mod:`kg.ops.backup`).
* ``POST /admin/write``: a command-line write (``kg build``, ``kg ingest``, ``kg update``,
  ``kg add-document``) the command cannot make itself while the server holds the store
  (:mod:`kg.ops.writes`). It runs like an HTTP write: serialized with the others, then fresh
  query workers. A rejection comes back as 422 with the SHACL report rendered in the format
  the command asked for; other errors name their class, so the command exits with its code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kg.errors import InputError, KGError, NotAllowedError, NotFoundError, StoreError, ValidationFailed
from kg.ops.control import Control
from kg.ops.writes import WriteOutcome, execute, rejection_text, request_from_json
from kg.server.responses import error_payload
from kg.server.writing import write_and_refresh
from kg.store import EmbeddedStore
from kg.validation.render import RENDERERS
from kg.write.apply import write_lock

__all__ = ["router"]

router = APIRouter()
_T = TypeVar("_T")


def _checkpoint(store: EmbeddedStore, directory: Path) -> None:
    with write_lock(store):  # no commit half-way: the checkpoint falls between two writes
        store.oxigraph.backup(str(directory))


async def _json_body(request: Request, read: Callable[[Any], _T], shape: str) -> _T:
    """What ``read`` takes from the JSON body; a body that is not JSON, or lacks what ``read``
    takes, is refused with the ``shape`` to send."""
    try:
        return read(await request.json())
    except (ValueError, KeyError, TypeError):
        raise InputError(f"send {shape}") from None


def _check_control(request: Request, what: str) -> None:
    """Refuse a caller without the control secret (and every caller of a server that holds none)."""
    control: Control | None = getattr(request.app.state, "control", None)
    if control is None:
        raise NotFoundError(f"this server does not hold the store for writing; {what} directly")
    if not control.accepts(request.headers.get("authorization")):
        raise NotAllowedError("only local tools that hold the server's control secret may ask this")


@router.post("/admin/backup", include_in_schema=False)
async def backup(request: Request) -> Response:
    """Write a checkpoint of the store into the new directory named by ``{"directory": PATH}``."""
    _check_control(request, "back it up")
    directory = await _json_body(request, lambda body: Path(body["directory"]),
                                 '{"directory": "/absolute/path/that/does/not/exist/yet"}')
    if not directory.is_absolute() or directory.exists() or not directory.parent.is_dir():
        raise InputError(f"{directory}: must be an absolute path that does not exist, in an existing folder")
    try:
        await run_in_threadpool(_checkpoint, request.app.state.store, directory)
    except OSError as exc:
        raise StoreError(f"the checkpoint into {directory} failed: {exc}")
    return JSONResponse({"directory": str(directory)})


@router.post("/admin/write", include_in_schema=False)
async def write(request: Request) -> Response:
    """Make the write ``{"request": …, "report_format": …}`` describes (:mod:`kg.ops.writes`)."""
    _check_control(request, "write to it")
    asked, report_format = await _json_body(
        request, lambda body: (request_from_json(body["request"]), str(body.get("report_format", "text"))),
        '{"request": {"kind": …}, "report_format": "text"}')
    if report_format not in RENDERERS:
        raise InputError(f"report_format {report_format!r}: one of {', '.join(RENDERERS)}")
    settings = request.app.state.settings

    def run() -> WriteOutcome:
        return write_and_refresh(request.app, lambda store: execute(store, asked, settings=settings, alone=False))

    try:
        done = await run_in_threadpool(run)
    except ValidationFailed as exc:
        return _refusal(exc, exc.message.split("\n", 1)[0], report=rejection_text(exc, report_format))
    except KGError as exc:
        return _refusal(exc, str(exc))
    return JSONResponse({"receipt": done.receipt, "summary": done.summary})


def _refusal(exc: KGError, message: str, **extra: str) -> JSONResponse:
    """The one error shape, plus the error's class (``kind``: the command exits with its code)
    and, for a rejected write, the rendered report."""
    payload = {**error_payload(exc.http_status, message), "kind": type(exc).__name__, **extra}
    return JSONResponse(payload, status_code=exc.http_status)
