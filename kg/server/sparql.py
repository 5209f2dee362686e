"""``/sparql``: the SPARQL 1.1 Protocol for queries (GET, POST form, POST direct) and, with a
token, updates (POST form ``update=``, POST ``application/sparql-update``), which go through
the same gate as every write (:mod:`kg.write.apply`) and answer with the receipt as JSON.

Content negotiation comes from :mod:`kg.formats`; a ``format`` parameter (a format
name such as ``csv`` or ``turtle``) overrides Accept for browsers.

Before any text reaches pyoxigraph it is screened (:mod:`kg.sparql.guard`): nesting deeper
than ``max_nesting`` and ``SERVICE``/``LOAD`` to hosts not in ``service_allow`` are refused,
for queries and updates alike; graph IRIs of the dataset parameters pass
:func:`kg.iris.check_iri`; bodies are read as they stream, never past ``max_query_bytes``.
What the OpenAPI document says of this route is in :mod:`kg.server.api_docs`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Hashable
from functools import lru_cache
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope, Send

from kg.config import Settings
from kg.errors import InputError, KGError, NotAcceptableError, UnsupportedMediaTypeError, UriTooLongError
from kg.formats import (
    RESULT_MEDIA_ALIASES,
    QueryKind,
    choose_format,
    format_aliases,
    negotiate,
    output_format,
    output_formats,
)
from kg.iris import check_iri
from kg.server import api_docs
from kg.server.answer_cache import AnswerCache, Kept
from kg.server.auth import require_writer
from kg.server.bodies import read_body
from kg.server.encoding import streamed, whole
from kg.server.fairness import QueryBudget
from kg.server.gone import stop_when_gone
from kg.server.head import is_head
from kg.server.inline import InlineQueries
from kg.server.service_description import service_description
from kg.server.workers import QueryAnswer, QueryJob, QueryPool
from kg.server.writing import receipt_response, run_write
from kg.sparql.guard import check_nesting, check_remote_calls
from kg.write.change import Change
from kg.write.provenance import SourceInfo

router = APIRouter()
_log = logging.getLogger("kg.server")


#: marks an update that came as the request body (its dataset parameters are in the URL)
_DIRECT_UPDATE = "\0direct-update"


async def _params(request: Request, limit: int) -> tuple[dict[str, list[str]], str | None]:
    """The request's parameters (query string and form) and a query sent directly, if any;
    an update sent directly (``application/sparql-update``) joins the parameters as ``update``."""
    if len(request.scope["query_string"]) > limit:
        raise UriTooLongError(f"query string over {limit} bytes; send long queries by POST")
    params = _query_params(request)
    if request.method != "POST":
        return params, None
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in _POST_TYPES:
        raise UnsupportedMediaTypeError(f"unsupported content type {ctype or '(none)'}; use "
                                        + ", ".join(_POST_TYPES))
    body = await read_body(request, limit, setting="max_query_bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"the request body is not UTF-8 (byte {exc.start})")
    if ctype == "application/x-www-form-urlencoded":
        for key, values in parse_qs(text, keep_blank_values=True).items():
            params.setdefault(key, []).extend(values)
        return params, None
    if ctype == "application/sparql-query":
        return params, text
    if "update" in params:
        raise InputError("give the update either in the body or as 'update', not both")
    params["update"] = [text]
    params[_DIRECT_UPDATE] = []
    return params, None


def _query_params(request: Request) -> dict[str, list[str]]:
    """The query string's parameters, each with its values in order: read from the parse the
    framework made already (a long query is slow to unquote, and it would be unquoted twice)."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def endpoint_url(request: Request) -> str:
    """The endpoint's own URL (the base IRI of the texts sent to it): the app's base URL and
    ``sparql``, as ``url_for`` would give without searching the routes for it."""
    return f"{request.base_url}sparql"


#: the bodies a POST to /sparql may have (SPARQL 1.1 Protocol 2.1.2, 2.1.3, 2.2.1, 2.2.2)
_POST_TYPES = ("application/sparql-query", "application/sparql-update", "application/x-www-form-urlencoded")


def _graphs(params: dict[str, list[str]], name: str) -> tuple[str, ...]:
    """The IRIs of the dataset parameter ``name`` (``default-graph-uri``…), each checked:
    they name graphs to pyoxigraph and are written into an update's text as ``USING <…>``."""
    return tuple(check_iri(value, what=name) for value in params.get(name, []))


def _screen(text: str, settings: Settings, base_iri: str, what: str, nests: bool, calls: bool) -> None:
    """Refuse, before any parser sees it, text nested deeper than ``max_nesting`` and any
    ``SERVICE``/``LOAD`` to a host ``service_allow`` does not cover (relative IRIs resolved
    against the endpoint, as pyoxigraph resolves them); ``nests`` and ``calls`` say which
    checks :func:`_may_refuse` found could refuse it."""
    if nests:
        check_nesting(text, limit=settings.max_nesting, what=what)
    if calls:
        check_remote_calls(text, settings.service_allow_list, base_iri=base_iri)


def _may_refuse(text: str, settings: Settings) -> tuple[bool, bool]:
    """Whether the screen's two checks could refuse ``text`` at all: lexing costs about a
    millisecond for an ordinary query, these tests a few microseconds. Depth counts opening
    marks (``{``, ``(``, ``[``, a ``<`` of ``<<``), so text holding no more of them than the limit
    cannot nest deeper; a ``SERVICE`` or ``LOAD`` keyword is those letters as written (the parser
    decodes no escape outside IRIs and strings), so text without them calls nothing."""
    openers = text.count("{") + text.count("(") + text.count("[") + text.count("<")
    lowered = text.lower()
    return openers > settings.max_nesting, "service" in lowered or "load" in lowered


async def _screened(text: str, settings: Settings, base_iri: str, what: str) -> None:
    """:func:`_screen`, on the event loop when it needs no lexing, else off it (a long text)."""
    nests, calls = _may_refuse(text, settings)
    if nests or calls:
        await run_in_threadpool(_screen, text, settings, base_iri, what, nests, calls)


def _offers(kind: QueryKind) -> list[str]:
    """Media types a result of ``kind`` can be sent as, preferred first."""
    types = [f.media_type for f in output_formats(kind)]
    return types if kind is QueryKind.GRAPH else types + list(RESULT_MEDIA_ALIASES)


@router.get("/sparql", operation_id="sparql_query", summary="SPARQL 1.1 Protocol: a query by GET",
            description=api_docs.GET_DESCRIPTION, response_class=Response, responses=api_docs.QUERY_RESPONSES,
            openapi_extra={"parameters": api_docs.GET_PARAMETERS})
@router.post("/sparql", operation_id="sparql_post", summary="SPARQL 1.1 Protocol: a query or an update by POST",
             description=api_docs.POST_DESCRIPTION, response_class=Response,
             responses=api_docs.POST_RESPONSES,
             openapi_extra={"parameters": api_docs.POST_PARAMETERS, "requestBody": api_docs.POST_BODY,
                            "security": api_docs.POST_SECURITY})
async def sparql(request: Request) -> Response:
    """Answer a SPARQL query; without one, return the service description."""
    settings: Settings = request.app.state.settings
    params, direct = await _params(request, settings.max_query_bytes)
    if "update" in params:
        return await _update(request, params)
    queries = params.get("query", [])
    if direct is not None:
        if queries:
            raise InputError("give the query either in the body or as 'query', not both")
        queries = [direct]
    if len(queries) > 1:
        raise InputError("more than one 'query' parameter")
    cache: AnswerCache | None = getattr(request.app.state, "answers", None)
    if not queries:
        return await _service_description(request, cache)
    query = queries[0]
    base_iri = endpoint_url(request)
    default_graphs, named_graphs = _graphs(params, "default-graph-uri"), _graphs(params, "named-graph-uri")
    timeout = _timeout(params, settings.query_timeout)
    solutions, boolean, graph = _formats(tuple(params.get("format", [])), request.headers.get("accept"))
    job = QueryJob(
        query=query,
        default_graphs=default_graphs,
        named_graphs=named_graphs,
        base_iri=base_iri,
        solutions_format=solutions,
        boolean_format=boolean,
        graph_format=graph,
    )
    # The same text, dataset, base and formats passed the same screen before: a kept answer
    # needs neither the screen nor a worker.
    key = _cache_key(job, str(request.base_url))
    kept = Kept(cache, key, request) if cache is not None else None
    found = kept.lookup() if kept is not None else None
    if found is not None:
        return found
    await _screened(query, settings, base_iri, "query")
    return await _respond(request, await _run(request, job, timeout, key), kept)


def _cache_key(job: QueryJob, base_url: str) -> tuple[object, ...]:
    """What a query's answer depends on besides the store: its text (line ends and the space
    around it normalised), dataset, the server's URL (the base IRI derives from it) and the
    formats the client accepts."""
    text = job.query.replace("\r\n", "\n").strip()
    return ("query", text, job.default_graphs, job.named_graphs, base_url,
            job.solutions_format, job.boolean_format, job.graph_format)


def cache_key(scope: Scope) -> Hashable | None:
    """The answer-cache key of a ``GET /sparql`` query, computed from the request alone, as the
    route computes it (so :class:`~kg.server.answer_cache.PageCache` can answer a kept query before
    routing, token checks aside); None for anything the route must see (an update, no query or
    several, a parameter it would refuse, a body)."""
    if scope["method"] not in ("GET", "HEAD"):
        return None
    request = Request(scope)
    settings: Settings = request.app.state.settings
    if len(scope["query_string"]) > settings.max_query_bytes:
        return None
    params = _query_params(request)
    queries = params.get("query", [])
    if len(queries) != 1 or "update" in params:
        return None
    try:
        _timeout(params, settings.query_timeout)
        solutions, boolean, graph = _formats(tuple(params.get("format", [])), request.headers.get("accept"))
        graphs = _graphs(params, "default-graph-uri"), _graphs(params, "named-graph-uri")
    except KGError:
        return None
    job = QueryJob(query=queries[0], default_graphs=graphs[0], named_graphs=graphs[1],
                   solutions_format=solutions, boolean_format=boolean, graph_format=graph)
    return _cache_key(job, str(request.base_url))


async def _respond(request: Request, answer: QueryAnswer, kept: Kept | None) -> Response:
    """The answer as a response: whole when it is small (and kept), streamed otherwise."""
    media_type = answer.media_type + ("" if "json" in answer.media_type else "; charset=utf-8")
    body = answer.complete
    if body is not None and kept is not None:  # small answers: one plain response, no streaming machinery
        return kept.store(body, media_type)
    accept_encoding = request.headers.get("accept-encoding")
    if body is not None:  # not kept (the cache is off): gzipped, if worth it, for this request alone
        body, coding = whole(body, media_type, accept_encoding=accept_encoding)
        return Response(body, media_type=media_type, headers=coding)
    chunks, headers = streamed(answer if kept is None else kept.collect(answer, media_type), media_type,
                               None if kept is None else kept.streamed_headers(), accept_encoding=accept_encoding)
    if is_head(request):  # the headers only: give the worker back instead of streaming the rest
        await run_in_threadpool(answer.close)
        head = Response(media_type=media_type, headers=headers)
        del head.headers["content-length"]  # unknown, as for the streamed GET: not 0
        return head
    # The background task gives the worker back even if the client leaves before the body.
    return _AnswerStream(chunks, media_type=media_type, background=BackgroundTask(answer.close), headers=headers)


async def _service_description(request: Request, cache: AnswerCache | None) -> Response:
    """The service description (count queries, maybe a dump: off the loop), kept like an answer."""
    if cache is None:
        return await run_in_threadpool(service_description, request)
    key = ("service", request.query_params.get("format") or "", request.headers.get("accept") or "",
           str(request.base_url))
    kept = Kept(cache, key, request)
    found = kept.lookup()
    if found is not None:
        return found
    made = await run_in_threadpool(service_description, request)
    return kept.store(bytes(made.body), made.headers["content-type"])


class _AnswerStream(StreamingResponse):
    """A streamed answer that, when it is cut (a time or size limit reached after the status
    was sent), ends without the closing chunk: the client sees an incomplete body, never a
    short one that looks whole, and the server logs one line instead of a traceback."""

    async def stream_response(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        try:
            async for chunk in self.body_iterator:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except KGError as exc:
            _log.warning("a SPARQL answer was cut short: %s", exc)
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _run(request: Request, job: QueryJob, timeout: float, key: Hashable) -> QueryAnswer:
    """Run ``job`` on a query worker — or here, when a worker has just shown that its text is
    cheap at this store version (:mod:`kg.server.inline`) — within the client's query-time budget.

    Waiting for a worker happens on threads of the pool's own limiter: were they the default
    threads, requests waiting for a worker could take every thread that streaming answers need
    to go on, and the workers those answers hold would never come free. A client that goes away
    before its answer begins (Cancel on the query page) has its query stopped and its worker
    replaced, as at the time limit, instead of keeping the worker busy until then.
    """
    budget: QueryBudget = request.app.state.query_budget
    ticket = budget.admit(request.client.host if request.client else "unknown")
    inline: InlineQueries | None = getattr(request.app.state, "inline", None)
    version = None
    if inline is not None:
        started = time.monotonic()
        made = inline.answer(key, job)
        if made is not None:
            ticket.end(time.monotonic() - started)
            return made
        version = inline.version()
    spent: list[float] = []

    def done(seconds: float) -> None:
        spent.append(seconds)
        ticket.end(seconds)

    pool: QueryPool = request.app.state.pool
    cancel = pool.canceller()
    try:
        with stop_when_gone(request, cancel.stop):
            answer = await pool.run_async(job, timeout=timeout, since=time.monotonic(), on_done=done,
                                          limiter=request.app.state.query_limiter, cancel=cancel)
    except BaseException:
        ticket.end(0.0)  # nothing to charge when no worker took it (a no-op when the pool charged already)
        raise
    if inline is not None and answer.complete is not None and spent:
        inline.note(key, job, version, spent[0])
    return answer


async def _update(request: Request, params: dict[str, list[str]]) -> Response:
    """Run a SPARQL Update (POST only, with a token) through the gate; the receipt as JSON.

    The update is screened like a query first (nesting, ``LOAD`` and ``SERVICE`` targets):
    it is evaluated in this process, so a crash in its parser would take the server down,
    and a ``LOAD`` would fetch whatever URL a token holder names."""
    if request.method != "POST":
        raise InputError("a SPARQL Update must be sent by POST (form 'update=' or application/sparql-update)")
    agent = await run_in_threadpool(require_writer, request)
    updates = params.get("update", [])
    if len(updates) > 1:
        raise InputError("more than one 'update' parameter")
    if "query" in params:
        raise InputError("give either a query or an update, not both")
    # a form-encoded update may carry its dataset in the form; a direct one only in the URL
    source = params if _DIRECT_UPDATE not in params else _query_params(request)
    using, named = _graphs(source, "using-graph-uri"), _graphs(source, "using-named-graph-uri")
    text = updates[0]
    settings: Settings = request.app.state.settings
    base_iri = endpoint_url(request)
    await _screened(text, settings, base_iri, "update")
    change = Change.sparql_update(text, using_graphs=using, using_named_graphs=named, base_iri=base_iri)
    receipt_source = SourceInfo("SPARQL Update", hashlib.sha256(text.encode("utf-8")).hexdigest())
    return receipt_response(await run_write(request, change, agent=agent, source=receipt_source))


@lru_cache(maxsize=256)
def _formats(requested: tuple[str, ...], accept: str | None) -> tuple[str | None, str | None, str | None]:
    """The formats a SELECT, an ASK and a CONSTRUCT answer would be sent in (:func:`_choose`),
    after :func:`_check_formats`. Clients send the same few ``format=`` values and Accept
    headers over and over, so each pair is negotiated once (a refusal is raised, not kept);
    the bound keeps varied headers from growing it."""
    _check_formats(requested)
    return (_choose(QueryKind.SOLUTIONS, requested, accept), _choose(QueryKind.BOOLEAN, requested, accept),
            _choose(QueryKind.GRAPH, requested, accept))


def _check_formats(requested: tuple[str, ...]) -> None:
    """Each ``format=`` value names a format some answer can be sent in: a name nothing answers
    in is refused (406 listing the names), never replaced by a default. A value that is a list
    of media types (SPARQLWrapper sends its Accept header as a second ``format=``) needs one."""
    offers = {f.name: f.media_type for kind in QueryKind for f in output_formats(kind)}
    aliases = {**format_aliases(QueryKind.SOLUTIONS), **format_aliases(QueryKind.GRAPH)}

    def offered(value: str) -> bool:
        try:
            choose_format(value, None, offers, aliases=aliases)
        except NotAcceptableError:
            return False
        return True

    for key in requested:
        if not any(offered(part) for part in key.split(",")):
            choose_format(key, None, offers, aliases=aliases, what="a SPARQL answer")  # the 406, naming the value


def _choose(kind: QueryKind, requested: tuple[str, ...], accept: str | None) -> str | None:
    """The format a result of ``kind`` would be sent in, or None when the client accepts none.

    The first ``format=`` value that names a format for this kind wins (clients such as
    SPARQLWrapper send one per kind of query); otherwise the Accept header decides.
    """
    for key in requested:
        fmt = output_format(kind, key)
        if fmt is not None:
            return fmt.name
    negotiated = negotiate(accept, _offers(kind))
    chosen = output_format(kind, negotiated) if negotiated else None
    return chosen.name if chosen else None


#: the shortest time limit a request may ask for, in seconds: below it the limit would run out
#: before the worker has even parsed the query, and a query that does not parse would be
#: answered "out of time" (a 503) instead of with its syntax error (fuzzing found 5e-324 s)
MIN_TIMEOUT = 1.0


def _timeout(params: dict[str, list[str]], limit: float) -> float:
    """The request's own time limit (``timeout=`` seconds, at least :data:`MIN_TIMEOUT`), never
    above the server's."""
    values = params.get("timeout")
    given = values[0] if values else None
    if given is None:
        return limit
    try:
        value = float(given)
    except ValueError:
        raise InputError(f"timeout {given!r} is not a number of seconds")
    if not value >= MIN_TIMEOUT:  # NaN too
        raise InputError(f"timeout {given!r} is too short: a query may be given {MIN_TIMEOUT:g} s or more")
    return min(value, limit)
