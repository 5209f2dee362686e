"""``/``: the query page, its static files, and the competency questions as examples.

Everything the page needs is served from the package: no CDN, no internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from kg.errors import NotFoundError

router = APIRouter()

STATIC = Path(__file__).resolve().parent / "static"
QUERIES = Path(__file__).resolve().parent.parent / "queries"
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css"}


def examples() -> list[dict[str, str]]:
    """Each ``kg/queries/*.rq``: its first comment line as title, and the query."""
    out = []
    for path in sorted(QUERIES.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        first = text.splitlines()[0] if text else ""
        out.append({"name": path.stem, "title": first.lstrip("# ").strip() or path.stem, "query": text})
    return out


@router.get("/", include_in_schema=False)
def index() -> Response:
    """The query page."""
    return FileResponse(STATIC / "index.html", media_type=_TYPES[".html"])


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> Response:
    """A static file of the page (only files that ship in the package)."""
    path = STATIC / name
    if "/" in name or path.suffix not in _TYPES or not path.is_file():
        raise NotFoundError(f"no static file {name!r}")
    return FileResponse(path, media_type=_TYPES[path.suffix])


@router.get("/examples", summary="The competency questions as example queries")
def list_examples() -> list[dict[str, str]]:
    """Example queries for the page (and for anyone who wants them)."""
    return examples()
