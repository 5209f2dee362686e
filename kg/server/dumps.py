"""``/dumps/``: the whole dataset (named graphs only) as N-Quads and TriG files.

Each dump is written once per store state into a temporary file while its SHA-256 and
size are computed, then served from that file (range requests, ``ETag``, ``Digest``,
``304 Not Modified``), so memory never holds a serialisation. The store state is the
quad count of every named graph plus, for an embedded store, the names, sizes and
modification times of its files: a rebuild that changes anything changes the state.
:func:`dump_index` is what the service description's VoID and the ``/dumps/`` page list.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import IO, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from kg.errors import NotFoundError
from kg.formats import choose_format, rdf_format_by_name
from kg.ops.leftovers import scratch_prefix
from kg.server.answer_cache import not_modified
from kg.server.markup import href, html_page
from kg.store.base import Store

__all__ = ["router", "DUMPS", "DumpFile", "dump_files", "dump_index"]

#: file name under ``/dumps/`` → format name (:data:`kg.formats.RDF_FORMATS`)
DUMPS: dict[str, str] = {"dataset.nq": "nquads", "dataset.trig": "trig"}
_GRAPH_COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"


@dataclass(frozen=True)
class DumpFile:
    """One dump written to disk, with its fixity."""

    name: str
    format_name: str
    media_type: str
    path: Path
    sha256: str
    bytes: int

    @property
    def url_path(self) -> str:
        """Where the server publishes it."""
        return f"/dumps/{self.name}"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.url_path, "format": self.format_name,
                "media_type": self.media_type, "sha256": self.sha256, "bytes": self.bytes}


class _HashingWriter:
    """A binary file that also hashes and counts what is written to it."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file, self.digest, self.size = file, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()


class _Cache:
    """The dumps of one store, in a private temporary directory removed when the store goes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: Hashable = None
        self.files: dict[str, DumpFile] = {}
        self.stale: list[Path] = []
        # named after this process, so the next server removes it if this one is killed (kg.ops.leftovers)
        self.directory = Path(tempfile.mkdtemp(prefix=scratch_prefix("dumps")))
        self.finalizer = weakref.finalize(self, shutil.rmtree, self.directory, True)


_CACHES: weakref.WeakKeyDictionary[object, _Cache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _state(store: Store) -> Hashable:
    """What must change for the dumps to change: graph sizes, and the store's files on disk."""
    counts = tuple(
        (row["g"].value, int(row["n"].value))
        for row in store.query(_GRAPH_COUNTS, union_default_graph=False).solutions()
    )
    path = getattr(store, "path", None)
    files: tuple[tuple[str, int, int], ...] = ()
    if isinstance(path, Path) and path.is_dir():
        entries = [e for e in os.scandir(path) if e.is_file() and not e.name.startswith(("LOG", "LOCK"))]
        files = tuple(sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in entries))
    return counts, files


def _write(store: Store, directory: Path, name: str, format_name: str) -> DumpFile:
    fmt = rdf_format_by_name(format_name)
    handle, temp = tempfile.mkstemp(prefix=f"{name}.", dir=directory)
    with os.fdopen(handle, "wb") as file:
        writer = _HashingWriter(file)
        store.dump(writer, format_name=format_name)
    return DumpFile(name, format_name, fmt.media_type, Path(temp), writer.digest.hexdigest(), writer.size)


def dump_files(store: Store) -> dict[str, DumpFile]:
    """Every dump of ``store``'s current state, written (once per state) to temporary files."""
    with _CACHES_LOCK:
        cache = _CACHES.get(store)
        if cache is None:
            cache = _CACHES[store] = _Cache()
    with cache.lock:
        key = _state(store)
        if key != cache.key or not all(f.path.is_file() for f in cache.files.values()):
            # files of the state before last stay until now, so a response that already
            # picked one up can still open it
            for old in cache.stale:
                old.unlink(missing_ok=True)
            cache.stale = [f.path for f in cache.files.values()]
            cache.files = {name: _write(store, cache.directory, name, fmt) for name, fmt in DUMPS.items()}
            cache.key = key
        return dict(cache.files)


def dump_index(store: Store) -> list[dict[str, Any]]:
    """The dumps of the dataset: url ``path``, ``media_type``, ``sha256``, ``bytes`` (and name, format)."""
    return [f.as_dict() for f in dump_files(store).values()]


def forget(store: Store) -> None:
    """Delete the dump files of ``store`` (when the app that serves it shuts down)."""
    with _CACHES_LOCK:
        cache = _CACHES.pop(store, None)
    if cache is not None:
        cache.finalizer()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    try:
        yield
    finally:
        store = getattr(app.state, "store", None)
        if store is not None:
            forget(store)


router = APIRouter(lifespan=_lifespan)


def _digest_headers(dump: DumpFile) -> dict[str, str]:
    b64 = base64.b64encode(bytes.fromhex(dump.sha256)).decode("ascii")
    return {
        "ETag": f'"{dump.sha256}"',
        "Digest": f"sha-256={b64}",  # RFC 3230
        "Repr-Digest": f"sha-256=:{b64}:",  # RFC 9530
        "Cache-Control": "no-cache",
    }


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size:,} bytes" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{size:,} bytes"


@router.get("/dumps/", summary="The dataset dumps, with media type, size and SHA-256")
def list_dumps(request: Request, format: str | None = None) -> Response:
    """The dumps as an HTML page, or as JSON (``Accept: application/json`` or ``?format=json``)."""
    store = request.app.state.store
    files = dump_files(store)
    key = choose_format(format, request.headers.get("accept"), {"html": "text/html", "json": "application/json"},
                        what="the list of dumps")
    if key == "json":
        return JSONResponse([f.as_dict() for f in files.values()], headers={"Vary": "Accept"})
    rows = "".join(
        f"<tr><td><a href='{escape(f.url_path)}' type='{escape(f.media_type)}' download>{escape(f.name)}</a></td>"
        f"<td><code>{escape(f.media_type)}</code></td><td title='{f.bytes} bytes'>{escape(_human(f.bytes))}</td>"
        f"<td><code>{f.sha256}</code></td></tr>"
        for f in files.values()
    )
    graphs = "".join(
        f"<li><a href='{escape(href(row['g'].value))}'>{escape(row['g'].value)}</a>: "
        f"{int(row['n'].value):,} triples</li>"
        for row in store.query(_GRAPH_COUNTS, union_default_graph=False).result
    )
    first = next(iter(files.values()), None)
    howto = ""
    if first is not None:
        url = str(request.url_for("dump", name=first.name))
        howto = (f"<p>Check a download against its digest:</p><pre>curl -sS -O {escape(url)}\n"
                 f"echo '{first.sha256}  {escape(first.name)}' | sha256sum -c</pre>")
    body = (
        "<p>The whole dataset, every named graph, in one file per format. The same list is in the "
        "<a href=/sparql>service description</a> (VoID <code>void:dataDump</code> with SPDX checksums) and "
        "<a href='/dumps/?format=json'>as JSON</a>. Downloads support ranges and conditional requests "
        "(the <code>ETag</code> is the SHA-256).</p>"
        f"<table><tr><th>file</th><th>media type</th><th>size</th><th>SHA-256</th></tr>{rows}</table>"
        f"{howto}<h2>Named graphs</h2><ul>{graphs}</ul>"
    )
    return HTMLResponse(html_page("Dataset dumps", body), headers={"Vary": "Accept"})


@router.get("/dumps/{name}", name="dump", operation_id="dump_get", summary="One dump of the dataset")
@router.head("/dumps/{name}", name="dump_head", operation_id="dump_head", summary="The headers of one dump")
def dump(name: str, request: Request) -> Response:
    """The dump file ``name`` (``dataset.nq`` or ``dataset.trig``), streamed from disk."""
    if name not in DUMPS:
        raise NotFoundError(f"no dump {name!r}; dumps: {', '.join(DUMPS)}")
    dump_file = dump_files(request.app.state.store)[name]
    headers = _digest_headers(dump_file)
    if not_modified(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return FileResponse(dump_file.path, media_type=dump_file.media_type, headers=headers,
                        filename=name, content_disposition_type="attachment")
