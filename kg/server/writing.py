"""Running a write for an HTTP request: serialized, off the event loop, then fresh query views.

Query workers of an embedded store hold read-only views of it, which pyoxigraph does not
keep in step with a writer; so after every committed write, still holding the writers'
lock, the pool's idle workers open the store again
(:meth:`~kg.server.workers.QueryPool.refresh`) before the write is answered, and busy ones
do so when their answer ends: a query sent after the write's answer sees the write, and no
reader waits for the writer or loses its answer to it. A rejected write changes nothing and
keeps the views. Workers of a remote store send every query to the server, which is always
current.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kg.errors import ValidationFailed
from kg.formats import negotiate
from kg.server.responses import error_payload
from kg.server.workers import QueryPool
from kg.store.base import Store
from kg.validation.model import ValidationReport
from kg.validation.render import render_json, render_turtle
from kg.write.apply import apply_write, write_lock
from kg.write.change import Change
from kg.write.provenance import Receipt, SourceInfo

__all__ = ["receipt_response", "rejection_response", "run_write", "write_and_refresh"]

T = TypeVar("T")


def write_and_refresh(app: FastAPI, write: Callable[[Store], T]) -> T:
    """Run ``write`` on the app's store under its write lock, then refresh the query workers
    (blocking; call it off the event loop). Every write the server makes goes through here."""
    store = app.state.store
    pool: QueryPool = app.state.pool
    lock = write_lock(store)
    with lock:
        done = write(store)
        if not app.state.settings.store_is_remote:  # workers of a remote store ask the server itself
            pool.refresh()
    return done


def _write_and_refresh(request: Request, change: Change, agent: str, source: SourceInfo | None) -> Receipt:
    return write_and_refresh(request.app, lambda store: apply_write(store, change, agent=agent, source=source))


async def run_write(request: Request, change: Change, *, agent: str, source: SourceInfo | None) -> Receipt:
    """Apply ``change`` for ``agent``; raises what :func:`kg.write.apply.apply_write` raises."""
    return await run_in_threadpool(_write_and_refresh, request, change, agent, source)


def receipt_response(receipt: Receipt, *, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    """The receipt as the JSON body of a successful write."""
    return JSONResponse(receipt.to_json(), status_code=status, headers=headers)


def rejection_response(request: Request, exc: ValidationFailed) -> Response:
    """422 with the SHACL report: Turtle (``sh:ValidationReport``) or JSON, by Accept."""
    report: ValidationReport = exc.report  # type: ignore[assignment]
    chosen = negotiate(request.headers.get("accept"), ["application/json", "text/turtle"])
    if chosen == "text/turtle":
        return Response(render_turtle(report), status_code=422, media_type="text/turtle; charset=utf-8")
    payload = {**error_payload(422, exc.message.split("\n", 1)[0]), "report": json.loads(render_json(report))}
    return JSONResponse(payload, status_code=422)
