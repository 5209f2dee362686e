"""What the OpenAPI document (``/openapi.json``, shown at ``/docs``) says of the two protocol
routes, whose handlers read their parameters and bodies themselves.

``/sparql`` and ``/graph-store`` take repeated parameters (``default-graph-uri``…), bodies in
several media types, a token for writes only, and for the Graph Store a parameter whose mere
presence counts (``?default``). FastAPI cannot infer any of that from the handlers'
signatures, so it is written here and attached to the routes as ``openapi_extra``;
:func:`install` adds what the whole document shares (the bearer token scheme). The document
is validated and the app fuzzed through it by ``tests/test_openapi.py``, so this description
cannot drift far from what the handlers accept.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from kg.formats import GRAPH_FORMATS, RDF_FORMATS, RESULT_FORMATS

__all__ = [
    "ErrorBody",
    "GET_DESCRIPTION",
    "GET_PARAMETERS",
    "GRAPH_PARAMETERS",
    "GRAPH_READ_RESPONSES",
    "GRAPH_WRITE_RESPONSES",
    "POST_BODY",
    "POST_DESCRIPTION",
    "POST_PARAMETERS",
    "POST_RESPONSES",
    "POST_SECURITY",
    "QUERY_RESPONSES",
    "RDF_BODY",
    "RDF_POST_BODY",
    "WRITE_SECURITY",
    "install",
]

_JSONObject = dict[str, Any]


class ErrorBody(BaseModel):
    """The one shape of every error the server answers (:mod:`kg.server.responses`)."""

    error: str
    status: int
    message: str


def _error(description: str) -> _JSONObject:
    return {"model": ErrorBody, "description": description}


_STRING = {"type": "string"}
_IRIS = {"type": "array", "items": {"type": "string", "format": "iri"}}


def _query(name: str, description: str, schema: _JSONObject) -> _JSONObject:
    parameter: _JSONObject = {"name": name, "in": "query", "required": False, "description": description,
                              "schema": schema}
    if schema.get("type") == "array":
        parameter.update(style="form", explode=True)
    return parameter


_FORMAT_NAMES = sorted({f.name for f in RESULT_FORMATS} | {f.name for f in GRAPH_FORMATS})
_QUERY = _query("query", "The SPARQL 1.1 query. Without one, the answer is the service description.", _STRING)
_DEFAULT_GRAPH = _query("default-graph-uri", "A graph of the query's default graph (repeatable); without "
                        "any, the default graph is the union of every graph.", _IRIS)
_NAMED_GRAPH = _query("named-graph-uri", "A graph the query may name with GRAPH (repeatable).", _IRIS)
_FORMAT = _query("format", "The result format, overriding Accept (for browsers): "
                 + ", ".join(_FORMAT_NAMES) + ", or a media type.", _STRING)
_TIMEOUT = _query("timeout", "Seconds the query may run: at least 1, at most the server's limit (query_timeout).",
                  {"type": "number", "minimum": 1})
_USING = _query("using-graph-uri", "A graph of the update's default graph (repeatable; acts as USING).", _IRIS)
_USING_NAMED = _query("using-named-graph-uri", "A graph the update may name (repeatable; acts as USING NAMED).",
                      _IRIS)

GET_PARAMETERS = [_QUERY, _DEFAULT_GRAPH, _NAMED_GRAPH, _FORMAT, _TIMEOUT]
#: a direct POST (the query or update is the body) keeps its dataset and options in the URL
POST_PARAMETERS = [_DEFAULT_GRAPH, _NAMED_GRAPH, _USING, _USING_NAMED, _FORMAT, _TIMEOUT]

GET_DESCRIPTION = (
    "A query by GET (SPARQL 1.1 Protocol 2.1.1). SELECT and ASK results as JSON, XML, CSV or TSV; "
    "CONSTRUCT and DESCRIBE as Turtle, N-Triples, JSON-LD, RDF/XML or N3, by Accept or `format`. "
    "SERVICE to hosts not allowed, nesting deeper than `max_nesting` and a query string over "
    "`max_query_bytes` are refused before the query is parsed."
)
POST_DESCRIPTION = (
    "A query (`application/sparql-query`, or a form with `query`) or, with a write token, an update "
    "(`application/sparql-update`, or a form with `update`), which goes through the SHACL gate and "
    "answers with its receipt. Bodies over `max_query_bytes` get 413 as soon as they pass it."
)

_FORM = {
    "type": "object",
    "properties": {
        "query": {**_STRING, "description": "A SPARQL 1.1 query."},
        "update": {**_STRING, "description": "A SPARQL 1.1 update (needs a write token)."},
        "default-graph-uri": _IRIS,
        "named-graph-uri": _IRIS,
        "using-graph-uri": _IRIS,
        "using-named-graph-uri": _IRIS,
        "format": _STRING,
        "timeout": {"type": "number", "minimum": 1},
    },
}
POST_BODY: _JSONObject = {
    "required": True,
    "content": {
        "application/sparql-query": {"schema": _STRING, "example": "ASK { ?s ?p ?o }"},
        "application/sparql-update": {"schema": _STRING,
                                      "example": "INSERT DATA { GRAPH <http://example.org/g> { "
                                                 "<http://example.org/a> <http://example.org/p> \"x\" } }"},
        "application/x-www-form-urlencoded": {
            "schema": _FORM,
            "encoding": {name: {"style": "form", "explode": True}
                         for name in ("default-graph-uri", "named-graph-uri", "using-graph-uri",
                                      "using-named-graph-uri")},
        },
    },
}

_RESULTS = {f.media_type: {"schema": _STRING} for f in RESULT_FORMATS}
_GRAPHS = {f.media_type: {"schema": _STRING} for f in GRAPH_FORMATS}
_RECEIPT = {"application/json": {"schema": {"type": "object", "description": "The write's receipt."}}}

QUERY_RESPONSES: dict[int | str, _JSONObject] = {
    200: {"description": "The result (or, without a query, the service description)",
          "content": {**_RESULTS, **_GRAPHS}},
    400: _error("The query does not parse, nests too deep, or a parameter is malformed"),
    403: _error("SERVICE to a host not in service_allow"),
    406: _error("No format offered fits Accept or format"),
    414: _error("The query string is over max_query_bytes"),
    503: _error("The query ran out of time"),
}
POST_RESPONSES: dict[int | str, _JSONObject] = {
    **QUERY_RESPONSES,
    200: {"description": "The result of a query, or the receipt of an update",
          "content": {**_RESULTS, **_GRAPHS, **_RECEIPT}},
    401: _error("An update without a token"),
    403: _error("SERVICE or LOAD to a host not allowed, a token unknown or revoked, or a protected graph"),
    404: _error("The update drops or clears a graph that does not exist (without SILENT)"),
    413: _error("The body is over max_query_bytes"),
    415: _error("A body that is not a query, an update or a form"),
    422: {"description": "The update would break the shapes; the SHACL report", "content": _RECEIPT},
}
#: queries need no token, updates do
POST_SECURITY: list[_JSONObject] = [{}, {"bearer": []}]
WRITE_SECURITY: list[_JSONObject] = [{"bearer": []}]

GRAPH_PARAMETERS = [
    _query("graph", "The graph's IRI (indirect identification).", {"type": "string", "format": "iri"}),
    {**_query("default", "Present (no value needed): the default graph a client writes to.", _STRING),
     "allowEmptyValue": True},
]
GRAPH_READ_RESPONSES: dict[int | str, _JSONObject] = {
    200: {"description": "The graph, or without graph or default the whole dataset",
          "content": {f.media_type: {"schema": _STRING} for f in RDF_FORMATS}},
    400: _error("A graph parameter that is no IRI, or both graph and default"),
    404: _error("No such graph"),
    406: _error("No format offered fits Accept"),
}
GRAPH_WRITE_RESPONSES: dict[int | str, _JSONObject] = {
    200: {"description": "The receipt: the graph existed", "content": _RECEIPT},
    201: {"description": "The receipt: a new graph", "content": _RECEIPT},
    400: _error("RDF that does not parse or nests too deep, triple terms, or a graph that is no IRI"),
    401: _error("No token"),
    403: _error("A token unknown or revoked, or a graph only the store writes"),
    404: _error("DELETE of a graph that does not exist"),
    413: _error("The body is over max_body_bytes"),
    415: _error("A body in a format that is not read"),
    422: {"description": "The write would break the shapes; the SHACL report", "content": _RECEIPT},
}
RDF_BODY: _JSONObject = {
    "required": True,
    "content": {f.media_type: {"schema": _STRING} for f in RDF_FORMATS},
}
#: a POST may also send several files at once, each part with its own RDF media type
RDF_POST_BODY: _JSONObject = {
    "required": True,
    "content": {
        **RDF_BODY["content"],
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "array", "items": {"type": "string", "format": "binary"}}}}},
    },
}


def install(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI document (built once, on first request) declare the bearer token
    that writes need, which the routes' ``security`` entries refer to."""

    def document() -> _JSONObject:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes["bearer"] = {"type": "http", "scheme": "bearer",
                                 "description": "A write token (`kg token create NAME`)."}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]  # FastAPI's documented way to customise it
