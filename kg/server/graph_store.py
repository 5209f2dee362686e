"""``/graph-store``: the SPARQL 1.1 Graph Store HTTP Protocol.

``?graph=IRI`` names a graph (indirect identification), as does a URL below
``/graph-store/`` (direct identification: the graph's IRI is that URL); ``?default`` names the default graph (the graph that holds
triples written to it, :data:`kg.iris.DEFAULT_GRAPH`; queries still see the union).
Without either, ``GET`` returns the whole dataset and ``POST`` either creates a new
graph from triples (201 with its IRI in ``Location``) or, with N-Quads/TriG, adds to
the graphs the quads name. A ``POST`` to a graph may send several files at once as
``multipart/form-data``, each part with its own RDF content type.

Writes need a token (``Authorization: Bearer``), go through :func:`kg.write.apply.apply_write`
(the SHACL gate, one transaction, a receipt) and answer with the receipt as JSON: 201
when the graph is new, 200 otherwise. Bodies are streamed to a temporary file, never
past ``max_body_bytes`` (413), and loaded from there without being held in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import default as email_policy
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kg.config import Settings
from kg.errors import InputError, Location, NotFoundError
from kg.formats import (
    GRAPH_FORMATS,
    RDF_FORMATS,
    QueryKind,
    RdfFormatInfo,
    choose_format,
    format_aliases,
    graph_offers,
    rdf_format_by_name,
    rdf_format_of_body,
)
from kg.iris import DEFAULT_GRAPH, check_iri, graph_iri
from kg.namespaces import PREFIXES
from kg.rdfguard import refuse_triple_terms, screen_rdf
from kg.server import api_docs
from kg.server.auth import require_writer
from kg.server.bodies import spool_body
from kg.server.encoding import whole
from kg.server.writing import receipt_response, run_write
from kg.write.change import Change
from kg.write.provenance import SourceInfo
from kg.write.staging import syntax_error

__all__ = ["router"]

router = APIRouter()

_BODY = "request body"


def _target(request: Request) -> str | None:
    """The graph a request names: an IRI, DEFAULT_GRAPH for ``?default``, None for neither.

    A request below ``/graph-store/`` names its own URL (direct identification)."""
    params = parse_qs(request.url.query, keep_blank_values=True)
    graphs = params.get("graph", [])
    if "path" in request.path_params:
        if graphs or "default" in params:
            raise InputError("a graph named by its URL takes no ?graph or ?default")
        return check_iri(str(request.url.replace(query="", fragment="")), what="graph URL")
    if "default" in params and graphs:
        raise InputError("give either ?graph=IRI or ?default, not both")
    if len(graphs) > 1:
        raise InputError("more than one 'graph' parameter")
    if "default" in params:
        return str(DEFAULT_GRAPH)
    if not graphs:
        return None
    return check_iri(graphs[0], what="graph")


def _source(request: Request, digest: str) -> SourceInfo:
    return SourceInfo(f"{request.method} {request.url.path}?{request.url.query}".rstrip("?"), digest)


def _parse_quads(path: Path, fmt: RdfFormatInfo, base: str, max_nesting: int) -> list[ox.Quad]:
    """The quads of a body (screened first: :func:`kg.rdfguard.screen_rdf`), triple terms refused."""
    screen_rdf(path, fmt, _BODY, max_nesting=max_nesting)
    try:
        quads = list(ox.parse(path=str(path), format=fmt.oxigraph, base_iri=base))
    except SyntaxError as exc:
        raise syntax_error(_BODY, fmt, exc) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{fmt.name}: {exc}", location=Location(_BODY)) from None
    refuse_triple_terms(quads, _BODY)
    return quads


def _flatten(path: Path, fmt: RdfFormatInfo, base: str, max_nesting: int) -> Path:
    """The triples of a dataset-format body for one graph, streamed into an N-Triples file
    beside it (never a list in memory); a body that names graphs is refused."""
    screen_rdf(path, fmt, _BODY, max_nesting=max_nesting)
    flat = path.with_name(path.name + ".nt")
    try:
        with flat.open("wb") as handle:
            def triples() -> Iterator[ox.Triple]:
                for q in ox.parse(path=str(path), format=fmt.oxigraph, base_iri=base):
                    if not isinstance(q.graph_name, ox.DefaultGraph):
                        raise InputError(f"{fmt.name} body names graphs; a request for one graph takes triples")
                    yield ox.Triple(q.subject, q.predicate, q.object)
            ox.serialize(triples(), handle, format=ox.RdfFormat.N_TRIPLES)
    except SyntaxError as exc:
        flat.unlink(missing_ok=True)
        raise syntax_error(_BODY, fmt, exc) from None
    except (ValueError, UnicodeDecodeError) as exc:
        flat.unlink(missing_ok=True)
        raise InputError(f"{fmt.name}: {exc}", location=Location(_BODY)) from None
    except BaseException:
        flat.unlink(missing_ok=True)
        raise
    return flat


def _multipart_triples(path: Path, content_type: str, base: str, max_nesting: int) -> list[ox.Triple]:
    """The triples of every part of a ``multipart/form-data`` body (a POST of several files),
    each part screened and parsed by its own content type."""
    message = BytesParser(policy=email_policy).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + path.read_bytes()
    )
    if not message.is_multipart():
        raise InputError("the multipart body has no parts", location=Location(_BODY))
    triples: list[ox.Triple] = []
    for number, part in enumerate(message.iter_parts(), start=1):
        media = part.get_content_type()
        fmt = next((f for f in GRAPH_FORMATS if f.media_type == media), None)
        label = f"{_BODY}, part {number} ({part.get_filename() or media})"
        if fmt is None:
            raise InputError(f"unsupported content type {media} in a multipart body", location=Location(label))
        payload = part.get_payload(decode=True)  # bytes for a part that is not itself multipart, else None
        data = payload if isinstance(payload, bytes) else b""
        screen_rdf(data, fmt, label, max_nesting=max_nesting)
        try:
            parsed = [ox.Triple(q.subject, q.predicate, q.object)
                      for q in ox.parse(data, format=fmt.oxigraph, base_iri=base)]
        except SyntaxError as exc:
            raise syntax_error(label, fmt, exc) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{fmt.name}: {exc}", location=Location(label)) from None
        refuse_triple_terms(parsed, label)
        triples.extend(parsed)
    return triples


async def _write(request: Request, agent: str, graph: str | None, *, add: bool) -> Response:
    settings: Settings = request.app.state.settings
    content_type = request.headers.get("content-type", "")
    multipart = add and graph is not None and content_type.lower().startswith("multipart/form-data")
    fmt = GRAPH_FORMATS[0] if multipart else rdf_format_of_body(request.headers.get("content-type"))
    path, digest = await spool_body(request, settings.max_body_bytes)
    extra: list[Path] = []
    try:
        store = request.app.state.store
        created_iri: str | None = None
        change: Change
        if multipart:
            change = Change.add(graph, await run_in_threadpool(_multipart_triples, path, content_type, graph or "",
                                                           settings.max_nesting))
        elif graph is None and fmt.datasets and fmt.name != "jsonld":
            quads = await run_in_threadpool(_parse_quads, path, fmt, str(request.url_for("graph_store")),
                                           settings.max_nesting)
            change = Change.dataset(quads)
        else:
            if graph is None:  # POST to the store: a new graph
                created_iri = graph = str(graph_iri(f"upload-{digest[:16]}-{ox.BlankNode().value[:8]}"))
            body, body_fmt = path, fmt
            if fmt.datasets:  # one graph's triples in a dataset format: flattened to N-Triples on disk
                flat = await run_in_threadpool(_flatten, path, fmt, graph, settings.max_nesting)
                extra.append(flat)
                body, body_fmt = flat, rdf_format_by_name("ntriples")
            # a new graph is loaded where it will live, hidden from queries until the commit
            change = Change.from_files(graph, [(body, body_fmt)], add=add, labels=[_BODY], base_iri=graph,
                                       in_place=True, shared=True, max_nesting=settings.max_nesting)
        existed = graph is not None and await run_in_threadpool(store.has_graph, graph)
        receipt = await run_write(request, change, agent=agent, source=_source(request, digest))
    finally:
        for spooled in (path, *extra):
            spooled.unlink(missing_ok=True)
    created = created_iri is not None or (graph is not None and not existed)
    headers = {"Location": created_iri} if created_iri else None
    return receipt_response(receipt, status=201 if created else 200, headers=headers)


def _serialize(triples: list[ox.Triple] | list[ox.Quad], fmt: RdfFormatInfo) -> bytes:
    # cast: pyoxigraph's stub says bytes | None for every call; without an output it returns the bytes
    if fmt.prefixes:
        return cast(bytes, ox.serialize(triples, format=fmt.oxigraph, prefixes=PREFIXES))
    return cast(bytes, ox.serialize(triples, format=fmt.oxigraph))


_READ_EXTRA: dict[str, Any] = {"parameters": api_docs.GRAPH_PARAMETERS}


def _write_extra(body: dict[str, Any] | None, *, parameters: bool = True) -> dict[str, Any]:
    """The OpenAPI of a write beyond its responses: its token, its body and (for
    ``/graph-store`` itself) the ``graph``/``default`` parameters."""
    extra: dict[str, Any] = {"security": api_docs.WRITE_SECURITY}
    if body is not None:
        extra["requestBody"] = body
    if parameters:
        extra["parameters"] = api_docs.GRAPH_PARAMETERS
    return extra


@router.get("/graph-store", name="graph_store", operation_id="graph_store_get",
            summary="Graph Store: read a graph, or the whole dataset",
            response_class=Response, responses=api_docs.GRAPH_READ_RESPONSES, openapi_extra=_READ_EXTRA)
@router.head("/graph-store", name="graph_store_head", operation_id="graph_store_head",
             summary="Graph Store: the headers of reading a graph",
             response_class=Response, responses=api_docs.GRAPH_READ_RESPONSES, openapi_extra=_READ_EXTRA)
async def read_graph(request: Request) -> Response:
    """The graph ``?graph=IRI`` or ``?default`` names (404 if there is none), or the whole dataset."""
    target = _target(request)
    store = request.app.state.store
    if target is None:
        offers = {f.name: f.media_type for f in RDF_FORMATS if f.datasets}
        fmt = rdf_format_by_name(choose_format(request.query_params.get("format"), request.headers.get("accept"),
                                               offers, what="the whole dataset"))
        dataset_fmt = fmt
        body = await run_in_threadpool(lambda: _serialize(list(store.named_quads()), dataset_fmt))
    else:
        exists = await run_in_threadpool(store.has_graph, target)
        if not exists and target != str(DEFAULT_GRAPH):
            raise NotFoundError(f"no graph <{target}> in this store")
        fmt = rdf_format_by_name(choose_format(request.query_params.get("format"), request.headers.get("accept"),
                                               graph_offers(html=False), aliases=format_aliases(QueryKind.GRAPH),
                                               what="a graph"))
        body = await run_in_threadpool(lambda: _serialize(list(store.graph_triples(target)) if exists else [], fmt))
    media = fmt.media_type + ("" if "json" in fmt.media_type else "; charset=utf-8")
    # a graph is most often large and made for this request alone: gzipped for a client that takes it
    body, coding = await run_in_threadpool(whole, body, media, accept_encoding=request.headers.get("accept-encoding"))
    return Response(body, media_type=media, headers=coding)  # for HEAD too: HEAD drops the body, keeps its length


@router.put("/graph-store", operation_id="graph_store_put", summary="Graph Store: replace a graph",
            responses=api_docs.GRAPH_WRITE_RESPONSES, openapi_extra=_write_extra(api_docs.RDF_BODY))
async def put_graph(request: Request, agent: str = Depends(require_writer)) -> Response:
    """Replace ``?graph=IRI`` (or ``?default``) by the body: 201 when new, 200 with the receipt."""
    target = _target(request)
    if target is None:
        raise InputError("PUT needs ?graph=IRI or ?default")
    return await _write(request, agent, target, add=False)


@router.post("/graph-store", operation_id="graph_store_post",
             summary="Graph Store: add to a graph, create one, or add a dataset",
             responses=api_docs.GRAPH_WRITE_RESPONSES, openapi_extra=_write_extra(api_docs.RDF_POST_BODY))
async def post_graph(request: Request, agent: str = Depends(require_writer)) -> Response:
    """Add the body to ``?graph=IRI``/``?default``; without either, a new graph (triples) or a dataset (quads)."""
    target = _target(request)
    return await _write(request, agent, target, add=True)


@router.delete("/graph-store", operation_id="graph_store_delete", summary="Graph Store: delete a graph",
               responses=api_docs.GRAPH_WRITE_RESPONSES, openapi_extra=_write_extra(None))
async def delete_graph(request: Request, agent: str = Depends(require_writer)) -> Response:
    """Delete ``?graph=IRI`` (or ``?default``): 200 with the receipt, 404 if there is no such graph."""
    target = _target(request)
    if target is None:
        raise InputError("DELETE needs ?graph=IRI or ?default")
    store = request.app.state.store
    if not await run_in_threadpool(store.has_graph, target):
        raise NotFoundError(f"no graph <{target}> in this store")
    receipt = await run_write(request, Change.delete(target), agent=agent, source=_source(request, ""))
    return receipt_response(receipt)


# Direct identification: the graph's IRI is the URL below /graph-store/ (``path`` names it in the
# OpenAPI document; the handlers above read the URL itself).

_PATH = "/graph-store/{path:path}"
_DIRECT_WRITE = _write_extra(api_docs.RDF_BODY, parameters=False)
_DIRECT_ADD = _write_extra(api_docs.RDF_POST_BODY, parameters=False)
_DIRECT_DELETE = _write_extra(None, parameters=False)


@router.get(_PATH, name="graph_store_direct", operation_id="graph_store_direct_get",
            summary="Graph Store: read the graph this URL names",
            response_class=Response, responses=api_docs.GRAPH_READ_RESPONSES)
async def read_graph_direct(request: Request, path: str) -> Response:
    """The graph whose IRI is this URL (404 if there is none)."""
    return await read_graph(request)


@router.head(_PATH, name="graph_store_direct_head", operation_id="graph_store_direct_head",
             summary="Graph Store: the headers of reading the graph this URL names",
             response_class=Response, responses=api_docs.GRAPH_READ_RESPONSES)
async def head_graph_direct(request: Request, path: str) -> Response:
    """:func:`read_graph_direct` without the body."""
    return await read_graph(request)


@router.put(_PATH, operation_id="graph_store_direct_put", summary="Graph Store: replace the graph this URL names",
            responses=api_docs.GRAPH_WRITE_RESPONSES, openapi_extra=_DIRECT_WRITE)
async def put_graph_direct(request: Request, path: str, agent: str = Depends(require_writer)) -> Response:
    """Replace the graph whose IRI is this URL by the body."""
    return await put_graph(request, agent)


@router.post(_PATH, operation_id="graph_store_direct_post", summary="Graph Store: add to the graph this URL names",
             responses=api_docs.GRAPH_WRITE_RESPONSES, openapi_extra=_DIRECT_ADD)
async def post_graph_direct(request: Request, path: str, agent: str = Depends(require_writer)) -> Response:
    """Add the body to the graph whose IRI is this URL."""
    return await post_graph(request, agent)


@router.delete(_PATH, operation_id="graph_store_direct_delete", summary="Graph Store: delete the graph this URL names",
               responses=api_docs.GRAPH_WRITE_RESPONSES, openapi_extra=_DIRECT_DELETE)
async def delete_graph_direct(request: Request, path: str, agent: str = Depends(require_writer)) -> Response:
    """Delete the graph whose IRI is this URL."""
    return await delete_graph(request, agent)
