"""Request bodies read as they stream, refused (413) as soon as they pass a limit.

``request.body()`` holds the whole body before anyone can look at its size, so a chunked
upload of gigabytes would be in memory before the 413; here at most ``limit`` bytes ever are.
A SPARQL query or update is kept in memory (:func:`read_body`); RDF for the Graph Store and
``POST /validate`` goes to a temporary file (:func:`spool_body`) named after this process, so
the next server removes it if this one is killed (:mod:`kg.ops.leftovers`).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.requests import Request

from kg.errors import InputError, Location, TooLargeError
from kg.ops.leftovers import scratch_prefix

__all__ = ["read_body", "spool_body"]

_BODY = "request body"


async def _chunks(request: Request, limit: int, setting: str) -> AsyncIterator[bytes]:
    """The body's chunks, refused when its declared or its read length passes ``limit``
    (the message names ``setting``, the limit's setting, when given)."""
    named = f" (setting {setting})" if setting else ""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLargeError(f"request body of {declared} bytes is over the limit of {limit} bytes{named}")
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLargeError(f"request body over the limit of {limit} bytes{named}")
        yield chunk


async def read_body(request: Request, limit: int, *, setting: str = "") -> bytes:
    """The whole body, in memory, never past ``limit`` bytes."""
    return b"".join([chunk async for chunk in _chunks(request, limit, setting)])


async def spool_body(request: Request, limit: int, *, suffix: str = "", allow_empty: bool = False) -> tuple[Path, str]:
    """Stream the body to a temporary file (never past ``limit`` bytes); its path and sha256.
    The file ends in ``suffix`` (for readers that go by extension); an empty body is refused
    unless ``allow_empty``."""
    digest = hashlib.sha256()
    size = 0
    handle = tempfile.NamedTemporaryFile(prefix=scratch_prefix("body"), suffix=suffix, delete=False)
    path = Path(handle.name)
    try:
        with handle:
            async for chunk in _chunks(request, limit, ""):
                size += len(chunk)
                digest.update(chunk)
                handle.write(chunk)
        if size == 0 and not allow_empty:
            raise InputError("the request body is empty; send RDF", location=Location(_BODY))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest()
