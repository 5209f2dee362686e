"""gzip for the answers that gain from it, done once where their bytes are made or kept.

A page of the server is mostly repeated markup (``/views/stances`` is about 85 KB, 10 KB
gzipped), and a SPARQL answer mostly repeated IRIs. There is no middleware that compresses every
response: the few places that make or keep bodies ask this module — the answer cache
(:mod:`kg.server.answer_cache`) compresses a kept page or answer once, the first time a client
takes gzip, and serves those bytes from then on; the static files (:mod:`kg.server.page`) keep
theirs beside the file; a page made while the cache is off, a page too large to keep and a
streamed SPARQL answer are compressed as they pass (:class:`GzipSend`, :func:`gzip_chunks`).

**What is compressed.** Bodies of :data:`MIN_BYTES` or more of a textual type
(:func:`compressible`), for a client whose ``Accept-Encoding`` takes gzip (:func:`accepts_gzip`,
``q=0`` honoured). Smaller answers — an ``ASK``, most ``SELECT`` answers of a few rows — go as
they are, and their headers say nothing of encodings: compressing them would cost more time
than the bytes it saves.

**Validators** (RFC 9110 §8.8.3): the gzip bytes are another representation, so they carry
another strong tag — the identity tag with ``-gzip`` inside the quotes (:func:`gzip_etag`) —
and a conditional request is compared with the tag of the representation it would get. Every
response that could have been compressed says ``Vary: Accept-Encoding``, whichever coding it has.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator

from starlette.types import Message, Send

__all__ = ["MIN_BYTES", "GzipSend", "HeldSend", "accepts_gzip", "compressible", "gzip_body", "gzip_chunks",
           "gzip_etag", "start_headers", "streamed", "whole", "with_headers", "with_vary", "worth_gzip"]

#: bodies smaller than this are never compressed (a TCP packet or two either way)
MIN_BYTES = 1024
#: zlib level for a body compressed once and kept (pages, kept answers, static files)
LEVEL = 6
#: zlib level for a body compressed as it streams (every byte costs time on each request)
STREAM_LEVEL = 1
_TEXTUAL_SUFFIXES = ("+xml", "+json", "/json", "/xml", "/javascript", "/turtle", "/n-triples", "/n-quads",
                     "/trig", "/n3", "/sparql-results+json", "/csv", "/tab-separated-values")


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header takes gzip (``gzip`` or ``x-gzip``, or ``*`` without
    either named) with a weight above zero (RFC 9110 §12.5.3)."""
    if not accept_encoding or ("gzip" not in accept_encoding and "*" not in accept_encoding):
        return False
    star = None
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        coding = coding.strip()
        if coding in ("gzip", "x-gzip"):
            return weight > 0
        if coding == "*":
            star = weight > 0
    return bool(star)


def compressible(media_type: str) -> bool:
    """Whether a body of ``media_type`` is text that gzip shrinks (not an image or an archive)."""
    essence = media_type.split(";", 1)[0].strip().lower()
    return essence.startswith("text/") or essence.endswith(_TEXTUAL_SUFFIXES)


def worth_gzip(body: bytes, media_type: str) -> bool:
    """Whether ``body`` of ``media_type`` is worth gzipping: textual, at least :data:`MIN_BYTES`."""
    return len(body) >= MIN_BYTES and compressible(media_type)


def gzip_body(body: bytes) -> bytes:
    """``body`` gzipped, the same bytes every time (no timestamp in the header)."""
    return gzip.compress(body, compresslevel=LEVEL, mtime=0)


def gzip_etag(etag: str) -> str:
    """The tag of the gzip representation of the body tagged ``etag`` (``"ab12"`` → ``"ab12-gzip"``;
    a weak tag stays weak); empty for no tag."""
    if not etag.endswith('"'):
        return etag
    return etag[:-1] + '-gzip"'


def with_vary(vary: str | None, name: str = "Accept-Encoding") -> str:
    """A ``Vary`` value that names ``name`` too (once)."""
    names = [v.strip() for v in (vary or "").split(",") if v.strip()]
    if name.lower() not in {n.lower() for n in names} and "*" not in names:
        names.append(name)
    return ", ".join(names)


def gzip_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """A streamed body gzipped as it goes; each chunk flushed, so a slow answer keeps arriving.
    A stream that raises midway stops without the gzip trailer: the client sees it cut."""
    packer = zlib.compressobj(STREAM_LEVEL, zlib.DEFLATED, 31)  # 31: the gzip container
    for chunk in chunks:
        out = packer.compress(chunk) + packer.flush(zlib.Z_SYNC_FLUSH)
        if out:
            yield out
    yield packer.flush(zlib.Z_FINISH)


def whole(body: bytes, media_type: str, *, accept_encoding: str | None) -> tuple[bytes, dict[str, str]]:
    """A body made for one request and not kept: gzipped when the client takes it and it is
    worth it; the headers that go with its coding."""
    if not worth_gzip(body, media_type):
        return body, {}
    if not accepts_gzip(accept_encoding):
        return body, {"vary": "Accept-Encoding"}
    return gzip_body(body), {"vary": "Accept-Encoding", "content-encoding": "gzip"}


def streamed(chunks: Iterable[bytes], media_type: str, headers: dict[str, str] | None, *,
             accept_encoding: str | None) -> tuple[Iterable[bytes], dict[str, str]]:
    """A streamed body (too long to hold: at least a chunk, far over :data:`MIN_BYTES`) and its
    ``headers``, gzipped as it goes when the client takes it (:func:`gzip_chunks`)."""
    headers = dict(headers or {})
    if not compressible(media_type):
        return chunks, headers
    headers["vary"] = with_vary(headers.get("vary"))
    if not accepts_gzip(accept_encoding):
        return chunks, headers
    return gzip_chunks(chunks), {**headers, "content-encoding": "gzip"}


class HeldSend:
    """The ``send`` of a response whose start is held until its body shows what to do with it.

    A response that :meth:`lets_pass` (judged on its status and :func:`start_headers`), and
    one given up on midway (:meth:`pass_on`), goes through as it is from then on; messages
    other than the body before a start is held go through too. :meth:`body` gets each body
    message of a held response."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._start: Message | None = None
        self._passing = False

    async def __call__(self, message: Message) -> None:
        if self._passing:
            await self._send(message)
            return
        if message["type"] == "http.response.start":
            if self.lets_pass(message["status"], start_headers(message)):
                self.pass_on()
                await self._send(message)
                return
            self._start = message
            return
        if message["type"] != "http.response.body" or self._start is None:
            await self._send(message)
            return
        await self.body(self._start, message)

    def lets_pass(self, status: int, headers: dict[bytes, bytes]) -> bool:
        """Whether a response that starts so goes through untouched."""
        raise NotImplementedError

    def pass_on(self) -> None:
        """Let everything from now on go through as it is."""
        self._passing = True

    async def body(self, start: Message, message: Message) -> None:
        """One body message of the held response that starts with ``start``."""
        raise NotImplementedError


class GzipSend(HeldSend):
    """The ``send`` of an ASGI response that is compressed on its way out, when it should be:
    status 200, a :func:`compressible` type, no coding yet, and at least :data:`MIN_BYTES`
    (a body that arrives in one message is measured first; a stream is compressed as it goes).
    Anything else passes as it is. ``Vary: Accept-Encoding`` on everything compressible."""

    def __init__(self, send: Send) -> None:
        super().__init__(send)
        self._packer: zlib._Compress | None = None

    def lets_pass(self, status: int, headers: dict[bytes, bytes]) -> bool:
        media = headers.get(b"content-type", b"").decode("latin-1")
        return status != 200 or b"content-encoding" in headers or not compressible(media)

    async def body(self, start: Message, message: Message) -> None:
        body, more = message.get("body", b""), message.get("more_body", False)
        if self._packer is None and not more:  # the whole body at once: measure it, then one gzip
            self.pass_on()
            if len(body) < MIN_BYTES:
                await self._send(with_headers(start, {"vary": _vary(start)}))
                await self._send(message)
                return
            packed = gzip_body(body)
            await self._send(with_headers(start, {"content-encoding": "gzip", "vary": _vary(start),
                                                  "content-length": str(len(packed)), **_tag(start)}))
            await self._send({"type": "http.response.body", "body": packed})
            return
        if self._packer is None:
            self._packer = zlib.compressobj(STREAM_LEVEL, zlib.DEFLATED, 31)
            await self._send(with_headers(start, {"content-encoding": "gzip", "vary": _vary(start),
                                                  **_tag(start)}, drop={b"content-length"}))
        out = self._packer.compress(body)
        if more:
            out += self._packer.flush(zlib.Z_SYNC_FLUSH)
        else:
            out += self._packer.flush(zlib.Z_FINISH)
        await self._send({"type": "http.response.body", "body": out, "more_body": more})


def start_headers(start: Message) -> dict[bytes, bytes]:
    """The headers of a response's start message by lower-cased name (the first of a repeated
    name), for the ``send`` wrappers that decide from them what to do with the response."""
    found: dict[bytes, bytes] = {}
    for name, value in start.get("headers", []):
        found.setdefault(name.lower(), value)
    return found


def _vary(start: Message) -> str:
    return with_vary(start_headers(start).get(b"vary", b"").decode("latin-1"))


def _tag(start: Message) -> dict[str, str]:
    """The ``ETag`` of the gzip representation, when the route tagged its body."""
    etag = start_headers(start).get(b"etag")
    return {} if etag is None else {"etag": gzip_etag(etag.decode("latin-1"))}


def with_headers(start: Message, headers: dict[str, str], *, drop: frozenset[bytes] | set[bytes] = frozenset()) -> Message:
    """``start`` with ``headers`` set (replacing any of the same name) and the ``drop`` names removed."""
    names = {n.encode("latin-1") for n in headers} | set(drop)
    kept = [(n, v) for n, v in start.get("headers", []) if n.lower() not in names]
    return {**start, "headers": kept + [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers.items()]}
