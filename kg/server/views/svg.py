"""A small writer of SVG (and HTML) elements in which every text and attribute is escaped.

Pictures are made of data (labels, quotes, IRIs) that must never become markup, so nothing is
written by formatting strings: :func:`el` escapes each attribute value and each text child;
only :class:`Markup` (what :func:`el` returns) is inserted as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

__all__ = ["SVG_NS", "Markup", "el", "join", "svg_document", "svg_file", "text_width", "wrap"]

SVG_NS = "http://www.w3.org/2000/svg"
#: average advance of a character of the sans-serif font, in font-size units (for layout only)
_CHAR_EM = 0.56


class Markup(str):
    """Text that is already markup (made by :func:`el`), inserted without escaping."""


def _attr_name(name: str) -> str:
    """``stroke_width`` → ``stroke-width``, ``class_`` → ``class``, ``xlink_href`` → ``xlink:href``."""
    name = name.rstrip("_")
    if name.startswith(("xlink_", "xml_", "xmlns_")):
        return name.replace("_", ":", 1)
    return name.replace("_", "-")


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)


def el(tag: str, *children: Markup | str | float | None, **attrs: object) -> Markup:
    """``<tag attrs>children</tag>``: attributes whose value is None or False are left out, True
    writes the bare name; str children are escaped, :class:`Markup` children inserted as is."""
    parts = [tag]
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        parts.append(_attr_name(name) if value is True else f'{_attr_name(name)}="{escape(_value(value))}"')
    inner = "".join(c if isinstance(c, Markup) else escape(_value(c)) for c in children if c is not None)
    if not inner and tag not in ("a", "text", "title", "desc", "td", "th", "p", "span", "div", "tspan", "g"):
        return Markup(f"<{' '.join(parts)}/>")
    return Markup(f"<{' '.join(parts)}>{inner}</{tag}>")


def join(items: Iterable[Markup]) -> Markup:
    """Several pieces of markup as one."""
    return Markup("".join(items))


def text_width(text: str, size: float) -> float:
    """About how wide ``text`` is drawn at font size ``size`` (px), for layout."""
    return len(text) * size * _CHAR_EM


def wrap(text: str, width: float, size: float, *, lines: int = 3) -> list[str]:
    """``text`` cut at spaces into lines about ``width`` px wide, at most ``lines`` (the last one
    ends with … when the text is longer)."""
    limit = max(4, int(width / (size * _CHAR_EM)))
    out: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= limit or not current:
            current = candidate
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: limit - 1].rstrip() + "…"
    return [line if len(line) <= limit else line[: limit - 1] + "…" for line in out]


def svg_document(width: float, height: float, title: str, description: str, *content: Markup) -> Markup:
    """The ``<svg>`` element: its title and description first (what assistive technology reads),
    then ``content``. Inline in a page as it is; :func:`svg_file` makes a file of its own."""
    return el("svg", el("title", title), el("desc", description), *content,
              xmlns=SVG_NS,
              width=width, height=height, viewBox=f"0 0 {_value(width)} {_value(height)}",
              font_family="system-ui, 'DejaVu Sans', sans-serif", font_size=12, role="img",
              aria_label=title, class_="view")


def svg_file(svg: Markup) -> bytes:
    """The inline ``<svg>`` as a file of its own (``format=svg``): the XML declaration first."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + svg).encode("utf-8")
