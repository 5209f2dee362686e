"""``/search?q=``: resources by label or alias, claims by the words of their quotes, ranked,
with the matched words highlighted — HTML for people, JSON for programs.

What a person types is read as words (see :func:`kg.server.reading.search_index.fts_query`):
no character can make a bad query, so the only refusals are a query too long or, for JSON,
one without a word (400). The answers come from the index of
:mod:`kg.server.reading.search_index`, made on the first search.
"""

from __future__ import annotations

import threading
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from kg.errors import InputError
from kg.formats import choose_format
from kg.server.markup import href, html_page
from kg.server.reading.search_index import HIT_END, HIT_START, Hit, Results, SearchIndex, fts_query

__all__ = ["MAX_QUERY_CHARS", "marked_html", "router", "spans"]

router = APIRouter()

#: the longest search accepted (characters)
MAX_QUERY_CHARS = 300
_OFFERS = {"html": "text/html", "json": "application/json"}
_CREATE = threading.Lock()
_KINDS = {"actor": "actor", "place": "place", "meeting": "meeting", "proposal": "proposal", "claim": "claim",
          "document": "document", "graph": "graph", "term": "ontology term", "resource": "resource"}


def search_index(request: Request) -> SearchIndex:
    """The app's search index, made on first use for the store the app serves."""
    state = request.app.state
    with _CREATE:
        index = getattr(state, "search_index", None)
        if index is None or index.store is not state.store:
            index = state.search_index = SearchIndex(state.store)
        return index


def marked_html(text: str) -> str:
    """``text`` escaped, with each matched word (between the index's marks) in a ``<mark>``."""
    return escape(text).replace(HIT_START, "<mark>").replace(HIT_END, "</mark>")


def spans(text: str) -> tuple[str, list[list[int]]]:
    """``text`` without the index's marks, and the ``[start, end)`` (code points) of each matched word."""
    plain: list[str] = []
    found: list[list[int]] = []
    at = 0
    for char in text:
        if char == HIT_START:
            found.append([at, at])
        elif char == HIT_END:
            if found:
                found[-1][1] = at
        else:
            plain.append(char)
            at += 1
    return "".join(plain), found


def _matches(hit: Hit) -> list[dict[str, Any]]:
    out = []
    for name, texts in (("label", [hit.label_marked]), ("alias", hit.aliases_marked), ("quote", [hit.quote_marked])):
        for text in texts:
            if HIT_START in text:
                plain, where = spans(text)
                out.append({"field": name, "text": plain, "highlights": where})
    return out


def _json(q: str, results: Results) -> JSONResponse:
    return JSONResponse({
        "query": q, "total": results.total, "every_word": not results.any_word,
        "index": {"version": results.version, "stale": results.stale, "entries": results.entries,
                  "build_seconds": round(results.built, 3)},
        "hits": [{"iri": h.iri, "kind": h.kind, "label": h.label, "href": href(h.iri), "matches": _matches(h)}
                 for h in results.hits],
    }, headers=_headers(results))


def _form(q: str) -> str:
    return ("<form class='search big' action=/search method=get role=search><label for=q>Search labels, aliases "
            f"and the words of quotes</label><br><input id=q type=search name=q value='{escape(q)}' "
            f"maxlength={MAX_QUERY_CHARS}> <button type=submit>Search</button></form>"
            "<p class=how>Every word must match (a word at the end also as the start of a word); "
            "<q>words in double quotes</q> match as a phrase; case and accents do not matter.</p>")


def _hit_html(hit: Hit) -> str:
    kind = _KINDS.get(hit.kind, hit.kind)
    # a claim's label begins with its quote, shown whole below: the title is left plain
    quoted = HIT_START in hit.quote_marked
    title = marked_html(hit.label_marked) if HIT_START in hit.label_marked and not quoted else escape(hit.label)
    parts = [f"<p><a href='{escape(href(hit.iri))}'>{title}</a> <span class=kind>{escape(kind)}</span></p>"]
    if hit.aliases_marked:
        parts.append("<p>also called " + ", ".join(f"<q>{marked_html(a)}</q>" for a in hit.aliases_marked) + "</p>")
    if quoted:
        parts.append(f"<blockquote class=hit>{marked_html(hit.quote_marked)}</blockquote>")
    return f"<li>{''.join(parts)}</li>"


def _html(q: str, results: Results | None, *, limit: int, offset: int, note: str = "") -> HTMLResponse:
    body = _form(q) + (f"<p>{escape(note)}</p>" if note else "")
    if results is not None:
        shown = f"{offset + 1}–{offset + len(results.hits)} of " if results.hits else ""
        summary = (f"<p id=summary>{shown}{results.total:,} {'match' if results.total == 1 else 'matches'} "
                   f"for <q>{escape(q)}</q>"
                   + (", none with every word: these have some of them" if results.any_word and results.total else "")
                   + ".</p>")
        stale = ("<p class=how>The store has changed since the index was made; it is being brought up to date, and "
                 "these results may miss the change.</p>" if results.stale else "")
        more = ""
        if offset + len(results.hits) < results.total:
            more = (f"<p><a href='/search?q={escape(quote(q, safe=''))}&amp;limit={limit}&amp;offset={offset + limit}'>"
                    "More results</a></p>")
        hits = "".join(_hit_html(h) for h in results.hits)
        body += f"<section aria-labelledby=summary>{summary}{stale}<ol class=hits start={offset + 1}>{hits}</ol>{more}</section>"
    # the page's own search box (labelled, holding the words) stands for the header's: one a page
    page = html_page("Search" if not q else f"Search: {q}", body, search_box=False)
    return HTMLResponse(page, headers=_headers(results))


def _headers(results: Results | None) -> dict[str, str]:
    """An answer from an index older than the store is provisional: no cache may keep it."""
    if results is not None and results.stale:
        return {"Vary": "Accept", "Cache-Control": "no-store"}
    return {"Vary": "Accept"}


@router.get("/search", summary="Find resources by label or alias, and claims by the words of their quotes")
def search(request: Request, q: str | None = Query(None, description="the words to find"),
           limit: int = Query(50, ge=1, le=200, description="how many hits (at most 200)"),
           offset: int = Query(0, ge=0, le=10_000, description="hits to skip (paging)"),
           format: str | None = Query(None, description="html or json (instead of Accept)")) -> Response:
    """Ranked hits (BM25: label, then aliases, then quote), matched words highlighted: HTML
    (``<mark>``) or JSON (``highlights``: ``[start, end)`` in code points of each match's text)."""
    as_json = choose_format(format, request.headers.get("accept"), _OFFERS, what="/search") == "json"
    text = (q or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise InputError(f"the search q= has {len(text)} characters; at most {MAX_QUERY_CHARS} are read")
    if fts_query(text) is None:
        if as_json:
            raise InputError("the search q= holds no word to look for" if text else "the search q= is empty")
        return _html(text, None, limit=limit, offset=offset,
                     note=f"“{text}” holds no word to look for." if text else "")
    results = search_index(request).search(text, limit=limit, offset=offset)
    return _json(text, results) if as_json else _html(text, results, limit=limit, offset=offset)
