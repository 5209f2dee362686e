"""``/sparql``: the SPARQL 1.1 Protocol for queries (GET, POST form, POST direct).

Content negotiation comes from :mod:`kg.formats`; a ``format`` parameter (a format
name such as ``csv`` or ``turtle``) overrides Accept for browsers.
"""

from __future__ import annotations

import io
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ..errors import QueryError
from ..formats import RESULT_MEDIA_ALIASES, QueryKind, negotiate, output_format, output_formats
from .service_description import service_description

router = APIRouter()

_MAX_QUERY_BYTES = 1_000_000


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": "bad request" if status == 400 else "error", "message": message}, status_code=status)


async def _params(request: Request) -> tuple[dict[str, list[str]], str | None] | JSONResponse:
    params = parse_qs(request.url.query, keep_blank_values=True)
    if request.method != "POST":
        return params, None
    body = await request.body()
    if len(body) > _MAX_QUERY_BYTES:
        return _error(413, f"request body over {_MAX_QUERY_BYTES} bytes")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _error(400, f"the request body is not UTF-8 (byte {exc.start})")
    if ctype == "application/x-www-form-urlencoded":
        for key, values in parse_qs(text, keep_blank_values=True).items():
            params.setdefault(key, []).extend(values)
        return params, None
    if ctype == "application/sparql-query":
        return params, text
    if ctype == "application/sparql-update":
        return _error(403, "SPARQL Update is not enabled on this endpoint")
    return _error(415, f"unsupported content type {ctype or '(none)'}; use application/sparql-query "
                       "or application/x-www-form-urlencoded")


def _offers(kind: QueryKind) -> list[str]:
    """Media types a result of ``kind`` can be sent as, preferred first."""
    types = [f.media_type for f in output_formats(kind)]
    return types if kind is QueryKind.GRAPH else types + list(RESULT_MEDIA_ALIASES)


@router.api_route("/sparql", methods=["GET", "POST"], summary="SPARQL 1.1 query endpoint")
async def sparql(request: Request) -> Response:
    """Answer a SPARQL query; without one, return the service description."""
    parsed = await _params(request)
    if isinstance(parsed, JSONResponse):
        return parsed
    params, direct = parsed
    if "update" in params:
        return _error(403, "SPARQL Update is not enabled on this endpoint")
    queries = params.get("query", [])
    if direct is not None:
        if queries:
            return _error(400, "give the query either in the body or as 'query', not both")
        queries = [direct]
    if len(queries) > 1:
        return _error(400, "more than one 'query' parameter")
    if not queries:
        return service_description(request)
    store = request.app.state.store
    default_graphs = params.get("default-graph-uri", [])
    named_graphs = params.get("named-graph-uri", [])
    try:
        outcome = store.query_dataset(queries[0], default_graphs=default_graphs, named_graphs=named_graphs)
    except QueryError as exc:
        return _error(400, str(exc))
    requested = (params.get("format") or [None])[0]
    key = requested or negotiate(request.headers.get("accept"), _offers(outcome.kind))
    fmt = output_format(outcome.kind, key) if key else None
    if fmt is None:
        return _error(406, "none of the acceptable media types can express this result")
    buffer = io.BytesIO()
    outcome.serialize(buffer, format_name=fmt.name)
    charset = "" if "json" in fmt.media_type else "; charset=utf-8"
    return Response(buffer.getvalue(), media_type=fmt.media_type + charset)
