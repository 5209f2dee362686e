"""``/views/…``: pictures of the graph drawn on the server as SVG, so they need no script.

``/views/timeline`` (meetings by date), ``/views/estimates`` (numeric estimates over time) and
``/views/stances`` (proposals × actors by position) are each an HTML page — the picture inline,
its legend, what it shows and where it comes from, and the same data as a table for screen
readers — or the bare SVG with ``format=svg``. Each is built from SPARQL queries (the ``.rq``
files here) run on the store, so it works on the embedded and on a remote store alike, and every
mark links to the claim pages behind it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from kg.formats import choose_format
from kg.server.api_docs import ErrorBody
from kg.server.markup import html_page, term_link
from kg.server.views import estimates, stances, timeline
from kg.server.views.common import query_text
from kg.server.views.svg import Markup, el, join, svg_document, svg_file

__all__ = ["router"]

router = APIRouter()

_OFFERS = {"html": "text/html", "svg": "image/svg+xml"}
_VIEWS = {"timeline": "Timeline of meetings", "estimates": "Estimates over time", "stances": "Stances on proposals"}
_CSS = Path(__file__).resolve().parent / "views.css"
#: what the OpenAPI document says each view answers
_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "The picture's page (HTML), or the picture alone with format=svg",
          "content": {media: {"schema": {"type": "string"}} for media in _OFFERS.values()}},
    406: {"model": ErrorBody, "description": "format= names neither html nor svg, or Accept takes neither"},
}


@router.get("/views/views.css", include_in_schema=False)
def stylesheet() -> Response:
    """The pages' stylesheet (served from the package, like every asset)."""
    return FileResponse(_CSS, media_type="text/css")


def _nav(current: str) -> Markup:
    links = [el("a", title, href=f"/views/{name}", aria_current="page" if name == current else None)
             for name, title in _VIEWS.items()]
    return el("p", "Pictures: ", Markup(" · ".join(links)), class_="view-nav")


def _query_links(*names: str) -> Markup:
    """Links that open the view's queries on the query page, to read or run them."""
    return join(el("a", f"{name}.rq", href=f"/?query={quote(query_text(name))}") for name in names)


def _respond(request: Request, format: str | None, name: str, svg: Markup, *, about: Markup, table: Markup,
             empty: str | None, extra: Markup | None = None) -> Response:
    """The view as its page or its bare SVG, as ``format=`` or Accept asks (406 otherwise)."""
    chosen = choose_format(format, request.headers.get("accept"), _OFFERS, what=f"/views/{name}")
    headers = {"Vary": "Accept"}
    if chosen == "svg":
        return Response(svg_file(svg), media_type="image/svg+xml", headers=headers)
    figure = (el("p", empty, class_="view-empty") if empty else el("div", svg, class_="view-figure"))
    body = join([
        _nav(name), el("link", rel="stylesheet", href="/views/views.css"), el("p", about, class_="view-about"),
        extra or Markup(""),
        figure,
        el("details", el("summary", "The data as a table"), table, class_="view-data", open=bool(empty) or None),
    ])
    svg_link = [("SVG", "image/svg+xml", f"/views/{name}?format=svg")]
    return HTMLResponse(html_page(_VIEWS[name], body, alternates=svg_link), headers=headers)


def _empty_svg(title: str, words: str) -> Markup:
    return svg_document(640, 80, title, words, el("text", words, x=20, y=45, font_size=14, fill="#555"))


@router.get("/views/timeline", summary="Meetings by date, held or planned, with participants (HTML or SVG)",
            response_class=Response, responses=_RESPONSES)
async def timeline_view(request: Request, format: str | None = None, focus: str | None = None) -> Response:
    """Each meeting on a time axis with its participants; every mark links to the claim behind it;
    ``focus=IRI`` lights up a meeting, or the meetings of an actor."""
    meetings: list[timeline.Meeting] = await run_in_threadpool(timeline.load, request.app.state.store)
    empty = None if meetings else ("No meetings in this store yet: none of its documents' annotations describes an "
                                   "nkg:Meeting.")
    svg = _empty_svg("Meetings by date", empty) if empty else timeline.draw(meetings, focus=focus)[0]
    lit = [m for m in meetings if focus is not None and timeline.involves(m, focus)]
    extra = None
    if focus is not None:
        extra = el("p", f"Highlighted: {len(lit)} meeting{'s' if len(lit) != 1 else ''} of ",
                   Markup(term_link(focus, timeline.label_of(lit, focus))), ".", class_="view-focus") if lit else el(
            "p", f"Nothing to highlight: {focus} is neither a meeting nor one of its hosts or participants.",
            class_="view-focus")
    about = join([Markup("What this shows: every meeting (<code>nkg:Meeting</code>) the sources name, one row each, "
                         "with its dates — held, planned or scheduled, as precise as the text is — and its hosts and "
                         "participants (in italics where the text only announces or supposes them). Where from: the "
                         "facts claims assert about each meeting, with the time their sentence puts on them; each mark "
                         "and name opens the claim that states it. Query: "), _query_links("timeline"), Markup(".")])
    return _respond(request, format, "timeline", svg, about=about, table=timeline.table(meetings), empty=empty,
                    extra=extra)


@router.get("/views/estimates", summary="Numeric estimates (troop numbers) over time, with ranges and sources (HTML or SVG)",
            response_class=Response, responses=_RESPONSES)
async def estimates_view(request: Request, format: str | None = None) -> Response:
    """Each estimate at the date it refers to, a range as a bar; every mark links to its claim."""
    series: list[estimates.Series] = await run_in_threadpool(estimates.load, request.app.state.store)
    count = sum(len(estimates.charted(s)) for s in series)
    empty = None if count else ("No dated estimates in this store yet: no claim carries an nkg:estimate with a "
                                "number and a reference date." + (" The table lists the undated ones." if series else ""))
    svg = _empty_svg("Estimates over time", empty) if empty else estimates.draw(series)
    about = join([Markup("What this shows: the numeric estimates the sources give (competency question 6: Russian "
                         "troop numbers in Ukraine), one chart per measure, each at the date it refers to — a year "
                         "as the whole year — with its range and its source. Where from: the "
                         "<code>nkg:estimate</code> of each claim; each mark opens the claim, with its quote. Query: "),
                  _query_links("estimates"), Markup(".")])
    return _respond(request, format, "estimates", svg, about=about, table=estimates.table(series), empty=empty)


@router.get("/views/stances", summary="Proposals × actors by position, hedges and conditions marked (HTML or SVG)",
            response_class=Response, responses=_RESPONSES)
async def stances_view(request: Request, format: str | None = None, focus: str | None = None) -> Response:
    """Who proposed, supported or opposed what; ``focus=IRI`` lights up an actor or a proposal."""
    matrix: stances.Matrix = await run_in_threadpool(stances.load, request.app.state.store)
    empty = None if matrix.stances else "No stances in this store yet: no claim asserts who proposed, supported or " \
                                        "opposed a proposal."
    svg = _empty_svg("Stances on proposals", empty) if empty else stances.draw(matrix, focus=focus)
    extra = None
    if focus is not None:
        if focus in matrix.actors or focus in matrix.proposals:
            extra = el("p", "Highlighted: ", Markup(term_link(focus, matrix.labels[focus])),
                       " (its " + ("column" if focus in matrix.actors else "row") + ").", class_="view-focus")
        else:
            extra = el("p", f"Nothing to highlight: {focus} is neither an actor nor a proposal with a stance here.",
                       class_="view-focus")
    about = join([Markup("What this shows: for each proposal (rows), the actors (columns) who proposed (P), supported "
                         "(S) or opposed (O) it, as the sources state — a stance the text places before its time, "
                         "announces or supposes is pale and lettered F, A or H; a hedged one is marked ~, a "
                         "conditional one <i>if</i>. A hatched bar is not in the actor's own words: no claim quotes or "
                         "paraphrases the actor itself, only the author's analysis or another actor's report says it; "
                         "each dot is one claim, shaped by whose words it is. Where from: the stance statements claims assert, with their time, "
                         "hedge words and conditions (competency question 2); each dot opens one claim. Query: "),
                  _query_links("stances"), Markup(".")])
    return _respond(request, format, "stances", svg, about=about, table=stances.table(matrix), empty=empty, extra=extra)
