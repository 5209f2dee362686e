"""``POST /admin/backup``: a checkpoint of the store, made by the process that holds it.

Only for local tools holding the control secret (see :mod:`kg.ops.control`), never for a
write token. The server writes a pyoxigraph checkpoint (hard links where it can) into
a directory that must not exist yet, between two writes; the caller finishes the
backup (recovery on open, rename into place: :mod:`kg.ops.backup`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kg.errors import InputError, NotAllowedError, NotFoundError, StoreError
from kg.ops.control import Control
from kg.store import EmbeddedStore
from kg.write.apply import write_lock

__all__ = ["router"]

router = APIRouter()


def _checkpoint(store: EmbeddedStore, directory: Path) -> None:
    with write_lock(store):  # no commit half-way: the checkpoint falls between two writes
        store.oxigraph.backup(str(directory))


@router.post("/admin/backup", include_in_schema=False)
async def backup(request: Request) -> Response:
    """Write a checkpoint of the store into the new directory named by ``{"directory": PATH}``."""
    control: Control | None = getattr(request.app.state, "control", None)
    if control is None:
        raise NotFoundError("this server does not hold the store for writing; back it up directly")
    if not control.accepts(request.headers.get("authorization")):
        raise NotAllowedError("backups are made for local tools that hold the server's control secret")
    try:
        body = await request.json()
        directory = Path(body["directory"])
    except (ValueError, KeyError, TypeError):
        raise InputError('send {"directory": "/absolute/path/that/does/not/exist/yet"}')
    if not directory.is_absolute() or directory.exists() or not directory.parent.is_dir():
        raise InputError(f"{directory}: must be an absolute path that does not exist, in an existing folder")
    try:
        await run_in_threadpool(_checkpoint, request.app.state.store, directory)
    except OSError as exc:
        raise StoreError(f"the checkpoint into {directory} failed: {exc}")
    return JSONResponse({"directory": str(directory)})
