"""``/``: the query page, its static files, what its editor completes, the competency questions
as examples, and ``/docs`` (Swagger UI over ``/openapi.json``).

Everything the pages need is served from the package (``static/``, the browser libraries in
``static/vendor/`` with their licences): no CDN, no internet. Static files are sent gzipped to
clients that accept it (compressed once, kept in memory, tagged apart: :mod:`kg.server.encoding`).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kg.errors import NotFoundError
from kg.namespaces import PREFIXES, RDFS
from kg.server.answer_cache import etag_of, not_modified
from kg.server.docs_model import docs, text_of
from kg.server.encoding import accepts_gzip, gzip_body, gzip_etag, worth_gzip
from kg.server.markup import short

router = APIRouter()

STATIC = Path(__file__).resolve().parent / "static"
QUERIES = Path(__file__).resolve().parent.parent / "queries"
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml", "": "text/plain; charset=utf-8"}
#: files below ``static/`` that are sources of the vendored files, not for browsers
_PRIVATE = {".sh", ".mjs", ".json", ".md"}
_TEXTAREA = re.compile(r'(<textarea id="query"[^>]*>)(.*?)(</textarea>)', re.DOTALL)


def examples() -> list[dict[str, str]]:
    """Each ``kg/queries/*.rq``: its first comment line as title, and the query."""
    out = []
    for path in sorted(QUERIES.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        first = text.splitlines()[0] if text else ""
        out.append({"name": path.stem, "title": first.lstrip("# ").strip() or path.stem, "query": text})
    return out


def _packed(data: bytes) -> tuple[bytes, bytes, str]:
    """``data``, its gzip and its ETag."""
    return data, gzip_body(data), etag_of(data)


@lru_cache(maxsize=64)
def _asset(path: Path, stamp: tuple[int, int]) -> tuple[bytes, bytes, str]:
    """A static file :func:`_packed` (one version of the file, by its ``stamp``)."""
    return _packed(path.read_bytes())


def _file(path: Path) -> tuple[bytes, bytes, str]:
    """The static file ``path`` :func:`_packed`, read again only when it has changed."""
    stat = path.stat()
    return _asset(path, (stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=8)
def _kept(data: bytes) -> tuple[bytes, bytes, str]:
    """:func:`_packed` of a body made once and kept (the completions, the examples): compressed once."""
    return _packed(data)


def _send(request: Request, path: Path, *, body: bytes | None = None) -> Response:
    """``path`` (or ``body`` in its stead, for a page filled in), gzipped when the client takes it."""
    return _answer(request, _file(path) if body is None else _packed(body), _TYPES[path.suffix])


def _answer(request: Request, packed: tuple[bytes, bytes, str], media_type: str) -> Response:
    """A body :func:`_packed`, gzipped when the client takes it and it is worth it.

    Browsers keep a copy and ask again each time (``no-cache``, ETag): after an upgrade the page
    and its scripts change together, and an unchanged file costs a 304."""
    data, packed_data, etag = packed
    headers = {"Cache-Control": "no-cache", "ETag": etag}
    if worth_gzip(data, media_type):
        headers["Vary"] = "Accept-Encoding"
        if accepts_gzip(request.headers.get("accept-encoding")):
            headers.update({"Content-Encoding": "gzip", "ETag": gzip_etag(etag)})
            data = packed_data
    if not_modified(request.headers.get("if-none-match"), headers["ETag"]):
        headers.pop("Content-Encoding", None)
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


@router.get("/", include_in_schema=False)
def index(request: Request, query: str | None = None) -> Response:
    """The query page; ``/?query=…`` (a permalink) opens it with that query in the editor, which
    works without JavaScript too (the plain form posts it to ``/sparql``)."""
    path = STATIC / "index.html"
    if query is None:
        return _send(request, path)
    page = _TEXTAREA.sub(lambda m: m.group(1) + escape(query, quote=False) + m.group(3),
                         _file(path)[0].decode("utf-8"), count=1)
    return _send(request, path, body=page.encode("utf-8"))


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request) -> Response:
    """Swagger UI over ``/openapi.json``, from the bundled swagger-ui-dist (started by ``docs.js``)."""
    return _send(request, STATIC / "docs.html")


@router.get("/static/{name:path}", include_in_schema=False)
def static(request: Request, name: str) -> Response:
    """A static file of the pages (only files that ship in the package, below ``static/``)."""
    path = (STATIC / name).resolve()
    if (not path.is_relative_to(STATIC) or path.suffix in _PRIVATE or path.suffix not in _TYPES
            or not path.is_file() or (path.suffix == "" and path.name not in ("LICENSE", "VERSION"))):
        raise NotFoundError(f"no static file {name!r}")
    return _send(request, path)


@router.get("/examples", summary="The competency questions as example queries", response_model=list[dict[str, str]])
def list_examples(request: Request) -> Response:
    """Example queries for the page (and for anyone who wants them)."""
    return _answer(request, _kept(json.dumps(examples()).encode("utf-8")), "application/json")


@router.get("/completions", summary="What the query editor completes: the prefixes and the ontology's terms")
def completions(request: Request) -> Response:
    """The project's prefixes (``kg.namespaces.PREFIXES``) and every class and property the
    ontology declares, by prefixed name, with its kind, label and comment: the query page
    completes ``nkg:`` and the other prefixes from this, never from a service elsewhere."""
    d = docs()
    if ("completions", "json") not in d.rendered:  # once per version of the ontology file
        terms = []
        for term, kind in d.terms.items():
            iri = str(term)
            name = short(iri)
            if name != iri:  # in a namespace of PREFIXES
                terms.append({"name": name, "iri": iri, "kind": kind,
                              "label": text_of(d.ontology, term, RDFS.label) or "",
                              "comment": text_of(d.ontology, term, RDFS.comment) or ""})
        terms.sort(key=lambda t: t["name"])
        d.rendered[("completions", "json")] = json.dumps({"prefixes": PREFIXES, "terms": terms}).encode("utf-8")
    return _answer(request, _kept(d.rendered[("completions", "json")]), "application/json")
