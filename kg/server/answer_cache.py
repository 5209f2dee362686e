"""Answers kept while the store does not change: query results and pages, with validators.

Evaluating a query on pyoxigraph on disk is the floor of what an answer costs; what has not
changed need not be evaluated again. :class:`AnswerCache` keeps whole answers (body, media
type, the headers that go with them) under a key that says what was asked — the SPARQL
endpoint's own key (normalised query text, dataset, result formats, base IRI) or, for pages,
the path, query string and ``Accept`` (:class:`PageCache`, one ASGI middleware for every GET
page that reads the store: resources, indexes, search, views, ontology, shapes, VoID).

**When an answer stops being valid.** Every answer is stored with the *version* of the store
that was current when its request began, and served only while that version is current. The
version is the query pool's (:attr:`kg.server.workers.QueryPool.version`): it moves on every
commit the server makes — Graph Store and SPARQL Update requests, and the writes of
``kg build``, ``kg ingest``, ``kg update`` and ``kg add-document`` that a running server makes for
them over its control channel — after the commit and before the write is answered, and when a
query worker is replaced (a read-only server's new worker opens the newest view, which another
process may have moved on). The first request that sees a new version drops every answer. A
remote store can be written by anyone behind the server's back, so there the cache is off.

**Bounded.** At most ``answer_cache_mb`` of bodies and keys, least recently used dropped first;
an answer over ``answer_cache_entry_kb`` is never kept (it is evaluated every time).

**Compressed once.** A kept answer of a textual type and at least a kilobyte is gzipped the
first time a client that takes gzip asks for it, and those bytes are kept beside it (and counted
against the bound): every later such client gets them without a compression of its own
(:mod:`kg.server.encoding`). Such an answer says ``Vary: Accept-Encoding`` in either coding.

**Validators.** Every answer the cache could hold carries a strong ``ETag`` (a hash of its
bytes; its gzip representation the same tag marked ``-gzip``), ``Cache-Control: no-cache`` (``private, no-cache`` when reads need a token: a shared
cache must not keep them) and ``X-Cache: hit`` or ``miss``, with ``Age`` on hits. A request whose
``If-None-Match`` names the current tag gets 304 and no body.

**Readers with tokens.** Every reader allowed to read may read everything, so one answer serves
every allowed reader; but a request must be allowed *before* it is served. The SPARQL route's
token check (a dependency of the app) runs before its handler looks in the cache; for pages the
middleware checks the token itself before serving a hit, and a request it cannot admit goes on
to the app, which refuses it as usual.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.config import Settings
from kg.server.auth import require_reader
from kg.server.encoding import (
    GzipSend,
    HeldSend,
    accepts_gzip,
    gzip_body,
    gzip_etag,
    start_headers,
    with_headers,
    with_vary,
    worth_gzip,
)

__all__ = ["PAGE_PREFIXES", "AnswerCache", "Cached", "Kept", "PageCache", "cache_for", "etag_of", "not_modified"]

#: paths of GET pages that read the store (or files that change only with the package); the
#: SPARQL endpoint keeps its own answers, dumps have their own tags, writes are never cached
PAGE_PREFIXES = ("/id/", "/search", "/views/", "/ontology", "/shapes", "/.well-known/void")
#: response headers replayed from a cached page (the rest are the app's or the server's own)
_KEPT = frozenset({b"content-type", b"vary", b"content-language", b"link", b"content-location"})
#: what one entry costs beyond its body and key (objects, dictionaries): counted against the bound
_OVERHEAD = 512


@dataclass
class Cached:
    """One kept answer."""

    body: bytes
    media_type: str
    etag: str
    #: extra headers to replay, lower-case names
    headers: tuple[tuple[str, str], ...] = ()
    stored: float = 0.0
    #: the body gzipped, once a client that takes gzip has asked for it (:meth:`AnswerCache.coded`)
    gzipped: bytes | None = None

    @property
    def packable(self) -> bool:
        """Whether a client that takes gzip gets it gzipped (textual, at least a kilobyte)."""
        return worth_gzip(self.body, self.media_type)


def etag_of(body: bytes) -> str:
    """A strong entity tag for ``body``: the same bytes, the same tag, from any process."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """True when ``If-None-Match`` names ``etag`` (weak or strong) or is ``*``: the client's
    copy is current (304). Every conditional GET of the server asks this."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return etag in tags or "*" in tags


class AnswerCache:
    """Answers by key, valid while ``version()`` returns what it returned when they were made.

    >>> now = [1]
    >>> cache = AnswerCache(max_bytes=10_000, entry_bytes=1_000, version=lambda: now[0])
    >>> v = cache.version()
    >>> cache.put(("q", "ASK {}"), v, Cached(b'{"boolean":true}', "application/json", etag_of(b"x")))
    True
    >>> cache.get(("q", "ASK {}")).body
    b'{"boolean":true}'
    >>> now[0] = 2  # a commit
    >>> cache.get(("q", "ASK {}")) is None
    True
    """

    def __init__(self, *, max_bytes: int, entry_bytes: int, version: Callable[[], Hashable],
                 private: bool = False) -> None:
        self.max_bytes = max_bytes
        self.entry_bytes = entry_bytes
        self.version = version
        #: reads need a token: answers are ``private`` and vary with ``Authorization``
        self.private = private
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Cached, int]] = OrderedDict()
        self._bytes = 0
        self._seen: Hashable = version()
        self.hits = self.misses = self.evictions = self.invalidations = 0

    @property
    def size_bytes(self) -> int:
        """What the kept answers cost now, in bytes (bodies, keys, overhead)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def _current(self) -> None:
        """Drop everything when the version moved (called with the lock held)."""
        now = self.version()
        if now != self._seen:
            self._seen = now
            self._entries.clear()
            self._bytes = 0
            self.invalidations += 1

    def get(self, key: Hashable) -> Cached | None:
        """The answer kept under ``key`` for the current version, or None (counted as a miss)."""
        return self._find(key, miss=True)

    def peek(self, key: Hashable) -> Cached | None:
        """:meth:`get`, counting only hits (a miss here is looked up, and counted, by the route)."""
        return self._find(key, miss=False)

    def _find(self, key: Hashable, *, miss: bool) -> Cached | None:
        with self._lock:
            self._current()
            found = self._entries.get(key)
            if found is None:
                if miss:
                    self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0]

    def fits(self, size: int) -> bool:
        """True when an answer of ``size`` bytes may be kept."""
        return size <= self.entry_bytes

    def put(self, key: Hashable, version: Hashable, answer: Cached) -> bool:
        """Keep ``answer`` under ``key`` if ``version`` (read when its request began) is still the
        current one and it is small enough; the least recently used answers make room."""
        cost = len(answer.body) + _key_size(key) + _OVERHEAD
        if not self.fits(len(answer.body)) or cost > self.max_bytes:
            return False
        with self._lock:
            self._current()
            if version != self._seen:
                return False  # made from a state older (or newer) than the current one
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            stamped = Cached(answer.body, answer.media_type, answer.etag, answer.headers, time.monotonic())
            self._entries[key] = (stamped, cost)
            self._bytes += cost
            self._make_room()
        return True

    def _make_room(self) -> None:
        """Drop the least recently used answers until the kept ones fit (called with the lock held)."""
        while self._bytes > self.max_bytes and self._entries:
            _, (_, freed) = self._entries.popitem(last=False)
            self._bytes -= freed
            self.evictions += 1

    def coded(self, key: Hashable, found: Cached, *, gzip: bool) -> tuple[bytes, dict[str, str]]:
        """The body to send of ``found`` (kept under ``key``) and the headers that go with its
        coding (``etag``, ``vary``, ``content-encoding``): gzipped when ``gzip`` (the client takes
        it) and the answer is :attr:`~Cached.packable`; the gzip is made once and kept with it."""
        headers = {"etag": found.etag}
        if not found.packable:
            return found.body, headers
        headers["vary"] = with_vary(dict(found.headers).get("vary"))
        if not gzip:
            return found.body, headers
        packed = found.gzipped
        if packed is None:
            packed = gzip_body(found.body)
            with self._lock:
                entry = self._entries.get(key)
                if found.gzipped is None:
                    found.gzipped = packed
                    if entry is not None and entry[0] is found:  # still kept: it costs its gzip too
                        self._entries[key] = (found, entry[1] + len(packed))
                        self._bytes += len(packed)
                        self._make_room()
        return packed, {**headers, "etag": gzip_etag(found.etag), "content-encoding": "gzip"}

    def validators(self, etag: str) -> dict[str, str]:
        """The headers of every answer the cache may hold (``X-Cache`` apart)."""
        return {"etag": etag, "cache-control": "private, no-cache" if self.private else "no-cache"}

    def vary(self, *names: str) -> str:
        """The ``Vary`` header for an answer negotiated on ``names`` (plus ``Authorization`` when
        reads need a token)."""
        return ", ".join([*names, "Authorization"] if self.private else names)

    def response(self, key: Hashable, found: Cached, *, if_none_match: str | None, head: bool = False,
                 gzip: bool = False, hit: bool = True) -> Response:
        """A kept answer (``hit``) or one just kept as a response, gzipped when ``gzip`` and it is
        worth it (:meth:`coded`): 304 when the client holds that representation already."""
        body, coding = self.coded(key, found, gzip=gzip)
        headers = {**dict(found.headers), **self.validators(found.etag), **coding, "x-cache": "hit" if hit else "miss"}
        if hit:
            headers["age"] = str(int(time.monotonic() - found.stored))
        if not_modified(if_none_match, coding["etag"]):
            headers.pop("content-type", None)
            headers.pop("content-encoding", None)
            return Response(status_code=304, headers=headers)
        response = Response(body, headers=headers, media_type=found.media_type)
        if head:
            response.body = b""  # the length stays that of the body a GET would have
        return response


class Kept:
    """One request's side of the cache, for a route that makes its answer itself (the SPARQL
    endpoint): look the answer up, or keep the answer made for it. The version is read when the
    request begins, so an answer made while a write commits is kept under the state before."""

    def __init__(self, cache: AnswerCache, key: Hashable, request: Request) -> None:
        self.cache, self.key = cache, key
        self.version = cache.version()
        self.head = request.method == "HEAD"
        # a 304 answers conditional GET and HEAD only; a POST always gets the answer
        self.if_none_match = request.headers.get("if-none-match") if request.method in ("GET", "HEAD") else None
        self.gzip = accepts_gzip(request.headers.get("accept-encoding"))
        self.vary = cache.vary("Accept")

    def lookup(self) -> Response | None:
        """The kept answer as a response (``X-Cache: hit``), or None."""
        found = self.cache.get(self.key)
        return None if found is None else self.cache.response(self.key, found, if_none_match=self.if_none_match,
                                                              head=self.head, gzip=self.gzip)

    def store(self, body: bytes, media_type: str) -> Response:
        """Keep a whole answer just made, and send it with its validators (``X-Cache: miss``)."""
        made = Cached(body, media_type, etag_of(body), (("vary", self.vary),))
        self.cache.put(self.key, self.version, made)
        return self.cache.response(self.key, made, if_none_match=self.if_none_match, gzip=self.gzip, hit=False)

    def collect(self, chunks: Iterator[bytes], media_type: str) -> Iterator[bytes]:
        """Pass a streamed answer on, and keep it once it has ended whole, if it is small enough
        (a stream cut by a limit or a client that left is never kept)."""
        parts: list[bytes] | None = []
        size = 0
        for chunk in chunks:
            if parts is not None:
                size += len(chunk)
                if self.cache.fits(size):
                    parts.append(chunk)
                else:
                    parts = None
            yield chunk
        if parts is not None:
            body = b"".join(parts)
            self.cache.put(self.key, self.version, Cached(body, media_type, etag_of(body), (("vary", self.vary),)))

    def streamed_headers(self) -> dict[str, str]:
        """The headers of a streamed answer (its tag is known only at its end)."""
        return {"cache-control": self.cache.validators("")["cache-control"], "vary": self.vary, "x-cache": "miss"}


def _key_size(key: Hashable) -> int:
    if isinstance(key, tuple):
        return sum(_key_size(part) for part in key) + 8
    if isinstance(key, (str, bytes)):
        return len(key)
    return 8


def cache_for(settings: Settings, version: Callable[[], Hashable]) -> AnswerCache | None:
    """The app's answer cache, or None when it is off (``answer_cache_mb = 0``) or the store is
    remote (written by others, so no version this server could watch)."""
    if settings.answer_cache_mb <= 0 or settings.store_is_remote:
        return None
    return AnswerCache(max_bytes=settings.answer_cache_mb * 2**20, entry_bytes=settings.answer_cache_entry_kb * 1024,
                       version=version, private=settings.read_token_required)


class PageCache:
    """ASGI middleware: GET and HEAD of the pages under :data:`PAGE_PREFIXES` answered from the
    app's :class:`AnswerCache` (``app.state.answers``) while the store is unchanged, and kept.

    ``endpoints`` maps a path to a function that computes a request's key as the route there
    keeps its answers (the SPARQL endpoint): a kept answer is then served before routing, which
    saves the framework's work on the answers a client asks for again and again; anything else
    goes to the route, which keeps what it makes itself."""

    def __init__(self, app: ASGIApp, *, prefixes: tuple[str, ...] = PAGE_PREFIXES,
                 endpoints: dict[str, Callable[[Scope], Hashable | None]] | None = None) -> None:
        self.app = app
        self.prefixes = prefixes
        self.endpoints = endpoints or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cache: AnswerCache | None = None
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            cache = getattr(scope["app"].state, "answers", None)
        keyer = self.endpoints.get(scope["path"]) if cache is not None else None
        if keyer is not None and cache is not None:
            await self._endpoint(cache, keyer(scope), scope, receive, send)
            return
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        gzip = accepts_gzip(headers.get("accept-encoding"))
        if cache is None:  # nothing kept: a page is compressed as it is sent
            await self.app(scope, receive, GzipSend(send) if gzip else send)
            return
        key = ("page", scope["path"], scope.get("query_string", b""), headers.get("accept", ""),
               headers.get("host", ""), scope.get("scheme", "http"))
        version = cache.version()
        found = cache.get(key)
        if found is not None and await _admitted(scope):
            response = cache.response(key, found, if_none_match=headers.get("if-none-match"),
                                      head=scope["method"] == "HEAD", gzip=gzip)
            await response(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _Keeper(cache, key, version, send, headers.get("if-none-match"), gzip))

    async def _endpoint(self, cache: AnswerCache, key: Hashable | None, scope: Scope, receive: Receive,
                        send: Send) -> None:
        found = cache.peek(key) if key is not None else None
        if found is not None and await _admitted(scope):
            headers = Headers(scope=scope)
            response = cache.response(key, found, if_none_match=headers.get("if-none-match"),
                                      head=scope["method"] == "HEAD", gzip=accepts_gzip(headers.get("accept-encoding")))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _admitted(scope: Scope) -> bool:
    """True when the request may read: the app's own dependency (:func:`~kg.server.auth.require_reader`)
    asked before routing; a refused request goes on to the app, to be refused there as usual."""
    try:
        await require_reader(Request(scope))
    except HTTPException:  # fastapi's is a subclass
        return False
    return True


class _Keeper(HeldSend):
    """The ``send`` of a page's response on a miss: holds the response (up to the entry limit) to
    tag it and keep it, then sends it with its validators (304 when the client holds it already)."""

    def __init__(self, cache: AnswerCache, key: Hashable, version: Hashable, send: Send,
                 if_none_match: str | None, gzip: bool) -> None:
        super().__init__(send)
        self.cache, self.key, self.version = cache, key, version
        self.if_none_match = if_none_match
        self.gzip = gzip
        self.parts: list[bytes] = []
        self.size = 0

    def lets_pass(self, status: int, headers: dict[bytes, bytes]) -> bool:
        # a route marks an answer it knows to be provisional (a search on an index being
        # rebuilt) with no-store: kept, it would outlive the rebuild until the next commit
        return (status != 200 or b"set-cookie" in headers or b"etag" in headers
                or b"no-store" in headers.get(b"cache-control", b"").lower())

    def pass_on(self) -> None:
        """Everything from now on goes as it is, gzipped on its way when the client takes it."""
        super().pass_on()
        if self.gzip:
            self._send = GzipSend(self._send)

    async def body(self, start: Message, message: Message) -> None:
        body = message.get("body", b"")
        self.parts.append(body)
        self.size += len(body)
        if not self.cache.fits(self.size):
            self.pass_on()  # too large to keep: send what was held, then the rest as it comes
            await self._send(with_headers(start, {"x-cache": "miss"}))
            await self._send({"type": "http.response.body", "body": b"".join(self.parts),
                              "more_body": message.get("more_body", False)})
            return
        if message.get("more_body", False):
            return
        await self._finish(start)

    async def _finish(self, start: Message) -> None:
        body = b"".join(self.parts)
        etag = etag_of(body)
        raw = start.get("headers", [])
        kept = tuple((n.decode("latin-1").lower(), v.decode("latin-1")) for n, v in raw
                     if n.lower() in _KEPT and n.lower() != b"content-type")
        media = start_headers(start).get(b"content-type", b"").decode("latin-1")
        extra = {**self.cache.validators(etag), "x-cache": "miss"}
        if self.cache.private:
            vary = next((v for n, v in kept if n == "vary"), "")
            extra["vary"] = ", ".join(filter(None, (vary, "Authorization")))
            kept = tuple((n, v) for n, v in kept if n != "vary") + (("vary", extra["vary"]),)
        made = Cached(body, media, etag, kept)
        self.cache.put(self.key, self.version, made)
        body, coding = self.cache.coded(self.key, made, gzip=self.gzip)
        extra.update(coding)
        if not_modified(self.if_none_match, coding["etag"]):
            extra.pop("content-encoding", None)
            await self._send(with_headers({**start, "status": 304}, extra,
                                          drop={b"content-length", b"content-type", b"content-encoding"}))
            await self._send({"type": "http.response.body", "body": b""})
            return
        await self._send(with_headers(start, {**extra, "content-length": str(len(body))}))
        await self._send({"type": "http.response.body", "body": body})

