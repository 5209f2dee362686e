"""The HTTP surface: ``create_app(settings)`` builds a FastAPI app with its store.

No module-level app or store: each app owns the store it opens in its lifespan,
so tests and embedders can run several side by side. Importing this package is cheap (the
app's modules load when :func:`create_app` is called), because every query worker process
imports :mod:`kg.server.worker_process`, and with it this package.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kg.config import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["create_app"]

_LOG = logging.getLogger(__name__)



def create_app(settings: Settings) -> FastAPI:
    """The app serving ``settings.store`` (which must already be built)."""
    # Imported here, not above: query worker processes import modules of this package, and
    # should not pay for FastAPI and every router (about 2 s and 30 MB each) to answer queries.
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from anyio import CapacityLimiter
    from fastapi import Depends, FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.middleware.cors import CORSMiddleware
    from fastapi.responses import Response
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from kg import __version__
    from kg.errors import KGError, RateLimited, ValidationFailed
    from kg.ops.control import publish_control, withdraw_control
    from kg.ops.leftovers import remove_leftovers
    from kg.server import api_docs
    from kg.server.admin import router as admin_router
    from kg.server.answer_cache import PageCache, cache_for
    from kg.server.auth import require_reader
    from kg.server.docs import router as docs_router
    from kg.server.dumps import router as dumps_router
    from kg.server.fairness import QueryBudget
    from kg.server.graph_store import router as graph_store_router
    from kg.server.head import HeadAsGet
    from kg.server.headers import SecurityHeaders, security_headers
    from kg.server.inline import inline_for
    from kg.server.linked_data import router as linked_data_router
    from kg.server.page import router as page_router
    from kg.server.responses import error_response
    from kg.server.service_description import router as void_router
    from kg.server.sparql import cache_key as sparql_cache_key
    from kg.server.sparql import router as sparql_router
    from kg.server.validate import router as validate_router
    from kg.server.views import router as views_router
    from kg.server.workers import QueryPool
    from kg.server.writing import rejection_response
    from kg.store import open_store
    from kg.write.apply import write_lock

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # a server killed before (SIGKILL) left its control file and temporary files behind
        for path in remove_leftovers(settings):
            _LOG.info("removed %s, left by a server that no longer runs", path)
        app.state.store = open_store(settings, read_only=settings.read_only)
        app.state.settings = settings
        where = settings if settings.store_is_remote else app.state.store.path
        # workers open an embedded store this process writes only between writes (its staging graphs)
        writers = None if settings.store_is_remote or settings.read_only else write_lock(app.state.store)
        app.state.pool = QueryPool(
            where, size=settings.workers, timeout=settings.query_timeout, quiesce=writers,
            memory_mb=settings.query_memory_mb, total_mb=settings.max_rss_mb, result_bytes=settings.max_result_bytes,
        )
        # the workers' version moves with every commit the server makes; the store's own view
        # also with a commit made on its handle by other code (pages and search read that handle)
        def version() -> tuple[int, object]:
            return app.state.pool.version, getattr(app.state.store, "version", None)

        app.state.answers = cache_for(settings, version)
        # light query texts a worker answered at this version are answered here the next times
        app.state.inline = inline_for(settings, app.state.store, version, app.state.pool.views)
        app.state.query_budget = QueryBudget(seconds=settings.client_query_seconds,
                                             window=settings.client_window_seconds)
        # threads that wait for a query worker: apart from the default ones, which streaming answers use
        app.state.query_limiter = CapacityLimiter(max(64, 16 * settings.workers))
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
        # /docs is the package's own page (kg.server.page: Swagger UI bundled, nothing from a CDN);
        # ReDoc is not offered: its styles are injected inline, which the pages' policy forbids
        docs_url=None,
        redoc_url=None,
        # open unless settings.read_token_required; write routes add require_writer themselves
        dependencies=[Depends(require_reader)],
    )
    # pages kept while the store is unchanged: inside CORS and the security headers, which kept pages get too
    app.add_middleware(PageCache, endpoints={"/sparql": sparql_cache_key})
    # Authorization must pass a preflight so that browser clients can send their token.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
    )

    # outermost of our middleware, so that every response passes it (errors, redirects, files)
    app.add_middleware(SecurityHeaders)
    # outside even that: a HEAD is answered as a GET whose body is dropped, headers and all kept
    app.add_middleware(HeadAsGet)

    @app.exception_handler(KGError)
    async def kg_error(request: Request, exc: KGError) -> Response:
        # Every refusal is raised as an error of kg.errors and answered here, in one shape; a
        # write the shapes reject carries its SHACL report. A KGError with a 5xx status is ours
        # to fix; its message names no internals.
        if isinstance(exc, ValidationFailed):
            return rejection_response(request, exc)
        if isinstance(exc, RateLimited):
            return error_response(exc.http_status, str(exc), headers={"Retry-After": str(exc.retry_after)},
                                  request=request)
        return error_response(exc.http_status, str(exc), request=request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None),
                              request=request)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> Response:
        # A bug: the one error shape, no internals (the traceback goes to the server's log).
        # Starlette answers this outside every middleware, so the security headers come here.
        return error_response(500, "internal error: the server could not answer this request; it has been "
                                   "logged", headers=security_headers(), request=request)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return error_response(400, f"invalid request: {where}", request=request)

    app.include_router(sparql_router)
    app.include_router(admin_router)
    app.include_router(graph_store_router)
    app.include_router(linked_data_router)
    app.include_router(page_router)
    app.include_router(docs_router)
    app.include_router(dumps_router)
    app.include_router(void_router)
    app.include_router(validate_router)
    app.include_router(views_router)
    api_docs.install(app)
    return app
