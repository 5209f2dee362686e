"""The comparison point: a bare FastAPI app calling pyoxigraph in-process.

No worker processes, no time limits, no SERVICE guard, no content negotiation table:
``GET``/``POST /sparql`` → ``store.query`` → SPARQL JSON results (or Turtle for
CONSTRUCT/DESCRIBE when the client accepts it). The handler is a plain ``def``, so
FastAPI runs it in its threadpool, as most small endpoints are written. Served by
uvicorn with its defaults (access log on, like ``kg serve`` and rdflib-endpoint).

    python bench/bare_app.py --store DIR --port 8001

The store is opened read-only and queried as is (its default graph must hold the data).
"""

from __future__ import annotations

import argparse
import io
from urllib.parse import parse_qs

import pyoxigraph as ox
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool


def create_app(store_path: str) -> FastAPI:
    """A FastAPI app answering SPARQL queries from the pyoxigraph store at ``store_path``."""
    app = FastAPI(title="bare pyoxigraph endpoint")
    store = ox.Store.read_only(store_path)

    def answer(query: str, accept: str) -> Response:
        try:
            result = store.query(query)
        except (SyntaxError, ValueError, OSError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        out = io.BytesIO()
        if isinstance(result, ox.QueryTriples):
            fmt = ox.RdfFormat.N_TRIPLES if "n-triples" in accept else ox.RdfFormat.TURTLE
            ox.serialize(result, out, fmt)
            return Response(out.getvalue(), media_type=fmt.media_type)
        result.serialize(out, ox.QueryResultsFormat.JSON)
        return Response(out.getvalue(), media_type="application/sparql-results+json")

    @app.get("/sparql")
    def sparql_get(request: Request, query: str) -> Response:
        return answer(query, request.headers.get("accept", ""))

    @app.post("/sparql")
    async def sparql_post(request: Request) -> Response:
        body = (await request.body()).decode("utf-8")
        if request.headers.get("content-type", "").startswith("application/sparql-query"):
            query = body
        else:
            query = (parse_qs(body).get("query") or [""])[0]
        return await run_in_threadpool(answer, query, request.headers.get("accept", ""))

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="pyoxigraph store directory")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(create_app(args.store), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
