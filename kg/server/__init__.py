"""The HTTP surface: ``create_app(settings)`` builds a FastAPI app with its store.

No module-level app or store: each app owns the store it opens in its lifespan,
so tests and embedders can run several side by side.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from kg import __version__
from kg.config import Settings
from kg.errors import KGError, ValidationFailed
from kg.ops.control import publish_control, withdraw_control
from kg.ops.leftovers import remove_leftovers
from kg.server.admin import router as admin_router
from kg.server.auth import require_reader
from kg.server.docs import router as docs_router
from kg.server.dumps import router as dumps_router
from kg.server.graph_store import router as graph_store_router
from kg.server.linked_data import router as linked_data_router
from kg.server.page import router as page_router
from kg.server.responses import error_response
from kg.server.service_description import router as void_router
from kg.server.sparql import router as sparql_router
from kg.server.workers import QueryPool
from kg.server.writing import rejection_response
from kg.store import open_store

__all__ = ["create_app"]

_LOG = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """The app serving ``settings.store`` (which must already be built)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # a server killed before (SIGKILL) left its control file and temporary files behind
        for path in remove_leftovers(settings):
            _LOG.info("removed %s, left by a server that no longer runs", path)
        app.state.store = open_store(settings, read_only=settings.read_only)
        app.state.settings = settings
        where = settings if settings.store_is_remote else app.state.store.path
        app.state.pool = QueryPool(where, size=settings.workers, timeout=settings.query_timeout)
        # a writable server is the only process that can checkpoint an embedded store: tell local tools
        app.state.control = None if settings.read_only or settings.store_is_remote else publish_control(settings)
        try:
            await run_in_threadpool(app.state.pool.start)
            yield
        finally:
            if app.state.control is not None:
                withdraw_control(settings, app.state.control)
            app.state.pool.close()
            app.state.store.close()

    app = FastAPI(
        title="negotiation-kg",
        version=__version__,
        description="SPARQL 1.1 endpoint and linked data for a knowledge graph of diplomatic negotiations.",
        lifespan=lifespan,
        # open unless settings.read_token_required; write routes add require_writer themselves
        dependencies=[Depends(require_reader)],
    )
    # Authorization must pass a preflight so that browser clients can send their token.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
    )

    @app.exception_handler(KGError)
    async def kg_error(request: Request, exc: KGError) -> Response:
        # Every refusal is raised as an error of kg.errors and answered here, in one shape; a
        # write the shapes reject carries its SHACL report. A KGError with a 5xx status is ours
        # to fix; its message names no internals.
        if isinstance(exc, ValidationFailed):
            return rejection_response(request, exc)
        return error_response(exc.http_status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return error_response(400, f"invalid request: {where}")

    app.include_router(sparql_router)
    app.include_router(admin_router)
    app.include_router(graph_store_router)
    app.include_router(linked_data_router)
    app.include_router(page_router)
    app.include_router(docs_router)
    app.include_router(dumps_router)
    app.include_router(void_router)
    return app
