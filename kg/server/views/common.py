"""What the three pictures share: their queries, rows as plain strings, links, the legend and
the time axis, and the colours of the marks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from kg.server.markup import href
from kg.server.views.scales import TimeScale
from kg.server.views.svg import Markup, el, join
from kg.store.base import Store

__all__ = ["GRID", "INK", "MUTED", "legend", "link", "local_name", "query_text", "rows", "time_axis"]

INK, MUTED, GRID = "#222", "#666", "#ddd"
_HERE = Path(__file__).resolve().parent


@cache
def query_text(name: str) -> str:
    """The SPARQL query ``name``.rq that sits next to this module."""
    return (_HERE / f"{name}.rq").read_text(encoding="utf-8")


def rows(store: Store, name: str) -> Iterator[dict[str, str]]:
    """The solutions of query ``name`` on ``store``: variable → the term's value (unbound left out)."""
    variables = _variables(name)
    for solution in store.select(query_text(name)):
        row = {}
        for variable in variables:
            term = solution[variable]
            if term is not None:
                row[variable] = term.value
        yield row


@cache
def _variables(name: str) -> tuple[str, ...]:
    """The variables query ``name`` selects (between ``SELECT`` and ``WHERE``)."""
    text = query_text(name)
    head = re.search(r"^SELECT\b(.*?)\bWHERE\b", text, re.MULTILINE | re.DOTALL)
    return tuple(dict.fromkeys(re.findall(r"\?(\w+)", head[1] if head else "")))


def local_name(iri: str) -> str:
    """The last part of an IRI (``…#Current`` → ``current``), lower case: for a status without a label."""
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1].lower()


def link(iri: str, *content: Markup | str, title: str | None = None, **attrs: object) -> Markup:
    """``content`` as a link to ``iri``'s page, with a tooltip."""
    return el("a", el("title", title) if title else None, *content, href=href(iri), **attrs)


def time_axis(scale: TimeScale, top: float, bottom: float, *, below: bool = False) -> Markup:
    """Vertical grid lines at the scale's ticks from ``top`` to ``bottom``, labelled above (or below)."""
    parts = []
    for x, label in scale.ticks():
        parts.append(el("line", x1=x, y1=top, x2=x, y2=bottom, stroke=GRID, stroke_width=1))
        parts.append(el("text", label, x=x, y=bottom + 16 if below else top - 6, text_anchor="middle", fill=MUTED,
                        font_size=11))
    return el("g", join(parts), class_="axis", aria_hidden="true")


def legend(items: list[tuple[Markup, str]], x: float, y: float, width: float) -> tuple[Markup, float]:
    """A row (wrapping at ``width``) of (symbol drawn at 0,0 within 14×14, words); and its height."""
    parts, cx, cy = [], x, y
    for symbol, words in items:
        size = 22 + len(words) * 6.3 + 18
        if cx + size > x + width and cx > x:
            cx, cy = x, cy + 20
        parts.append(el("g", symbol, el("text", words, x=20, y=11, fill=INK, font_size=12),
                        transform=f"translate({cx:.1f},{cy:.1f})"))
        cx += size
    return el("g", join(parts), class_="legend"), cy - y + 20
