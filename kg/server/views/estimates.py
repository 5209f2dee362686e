"""``/views/estimates``: numeric estimates over time (CQ6's troop numbers), one chart per measure.

A point estimate is a dot, a range a bar from its minimum to its maximum ("up to N" a bar from
the axis, "at least N" an open bar upwards); a date as vague as a year is drawn as the span it
covers, the mark at its middle. A dashed line joins the values (a range by its middle) in date
order: the series. Each mark is labelled with its number and source and links to its claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.server.markup import href
from kg.server.views.common import GRID, INK, MUTED, legend, link, rows, time_axis
from kg.server.views.scales import LinearScale, Span, TimeScale, parse_span
from kg.server.views.svg import Markup, el, join, svg_document
from kg.store.base import Store

__all__ = ["Estimate", "Series", "draw", "load", "table"]

WIDTH, HEIGHT, LEFT, RIGHT = 1080, 400, 90, 170
POINT, RANGE = "#1f5fa8", "#7a4fb0"


@dataclass
class Estimate:
    claim: str
    measure: str
    unit: str
    date: str | None = None
    date_words: str | None = None
    value: float | None = None
    low: float | None = None
    high: float | None = None
    sources: list[str] = field(default_factory=list)
    claimant: str = ""
    document: str = ""
    quote: str = ""

    @property
    def span(self) -> Span | None:
        return parse_span(self.date) if self.date else None

    @property
    def middle(self) -> float | None:
        """The value, or the middle of the range, or its one bound."""
        if self.value is not None:
            return self.value
        if self.low is not None and self.high is not None:
            return (self.low + self.high) / 2
        return self.high if self.high is not None else self.low

    @property
    def words(self) -> str:
        """The number as the text gives it: ``420,000``, ``150,000–200,000``, ``up to 50,000``."""
        if self.value is not None:
            return _number(self.value)
        if self.low is not None and self.high is not None:
            return f"{_number(self.low)}–{_number(self.high)}"
        if self.high is not None:
            return f"up to {_number(self.high)}"
        return f"at least {_number(self.low)}" if self.low is not None else "no number"


@dataclass
class Series:
    measure: str
    unit: str
    estimates: list[Estimate]

    @property
    def title(self) -> str:
        words = self.measure.replace("-", " ").replace("_", " ").split()
        title = " ".join(w.capitalize() if i == 0 or len(w) > 3 else w for i, w in enumerate(words))
        return title + (f" ({self.unit})" if self.unit else "")


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def load(store: Store) -> list[Series]:
    """The estimates of ``store``, one series per measure and unit, each in date order."""
    found: dict[tuple[str, str], Estimate] = {}
    for row in rows(store, "estimates"):
        key = (row["claim"], row["estimate"])
        if key not in found:
            found[key] = Estimate(
                claim=row["claim"], measure=row.get("measure", "estimate"), unit=row.get("unit", ""),
                date=row.get("referenceDate"), date_words=row.get("dateWords"), value=_float(row.get("value")),
                low=_float(row.get("minValue")), high=_float(row.get("maxValue")), claimant=row.get("claimantLabel", ""),
                document=row.get("documentTitle", ""), quote=row.get("quote", ""))
        source = row.get("sourceLabel")
        if source and source not in found[key].sources:
            found[key].sources.append(source)
    series: dict[tuple[str, str], list[Estimate]] = {}
    for estimate in found.values():
        series.setdefault((estimate.measure, estimate.unit), []).append(estimate)
    return [Series(m, u, sorted(es, key=lambda e: (e.span is None, e.span.start.toordinal() if e.span else 0,
                                                    e.middle or 0, e.claim)))
            for (m, u), es in sorted(series.items())]


def charted(series: Series) -> list[Estimate]:
    """The estimates of ``series`` that can be placed: a date and a number."""
    return [e for e in series.estimates if e.span is not None and e.middle is not None]


def _mark(e: Estimate, scale: TimeScale, values: LinearScale, index: int) -> Markup:
    span = e.span
    assert span is not None and e.middle is not None
    x = scale.x(span.middle)
    shapes: list[Markup] = []
    if not span.precise:  # the year or month the text gives, as a whisker
        x0, x1 = scale.x(span.start), scale.x(span.end)
        y = values.y(e.middle)
        shapes.append(el("line", x1=x0, y1=y, x2=x1, y2=y, stroke=MUTED, stroke_width=1.5, stroke_opacity=0.6))
        shapes += [el("line", x1=xe, y1=y - 4, x2=xe, y2=y + 4, stroke=MUTED, stroke_opacity=0.6) for xe in (x0, x1)]
    if e.value is None and (e.low is not None or e.high is not None):
        low = e.low if e.low is not None else 0.0
        high = e.high if e.high is not None else values.top
        y0, y1 = values.y(high), values.y(low)
        shapes.append(el("rect", x=x - 5, y=y0, width=10, height=max(y1 - y0, 2), rx=3, fill=RANGE, fill_opacity=0.35,
                         stroke=RANGE, stroke_width=1.5, stroke_dasharray=None if e.low is not None and e.high is not None
                         else "4 3"))
        shapes.append(el("circle", cx=x, cy=values.y(e.middle), r=3, fill=RANGE))
    else:
        shapes.append(el("circle", cx=x, cy=values.y(e.middle), r=6, fill=POINT, stroke="#fff", stroke_width=1.5))
    # number above, source below; alternate sides so neighbours do not overlap
    dy = -12 if index % 2 == 0 else 22
    anchor_y = values.y(e.high if e.value is None and e.high is not None and dy < 0 else e.middle)
    if e.value is None and e.low is not None and dy > 0:
        anchor_y = values.y(e.low)
    shapes.append(el("text", e.words, x=x, y=anchor_y + dy, text_anchor="middle", fill=INK, font_size=12,
                     font_weight="600"))
    who = ", ".join(e.sources) or e.claimant
    when = e.date_words or span.words
    shapes.append(el("text", f"{when} · {who}" if who else when, x=x, y=anchor_y + dy + (14 if dy > 0 else -14),
                     text_anchor="middle", fill=MUTED, font_size=11))
    tip = f"{e.words} {e.unit}, {when}; source: {who or 'not given'}. “{e.quote}” ({e.document})"
    return link(e.claim, *shapes, title=tip, class_="mark estimate")


def _chart(series: Series, top: float) -> tuple[Markup, float]:
    points = charted(series)
    bottom = top + HEIGHT - 60
    scale = TimeScale([e.span for e in points if e.span], LEFT + 40, WIDTH - RIGHT)
    highest = max(max(v for v in (e.value, e.low, e.high) if v is not None) for e in points)
    values = LinearScale(highest, bottom, top + 40)
    grid = [join([el("line", x1=LEFT, y1=y, x2=WIDTH - RIGHT + 40, y2=y, stroke=GRID),
                  el("text", _number(v), x=LEFT - 8, y=y + 4, text_anchor="end", fill=MUTED, font_size=11)])
            for y, v in values.ticks()]
    path = " ".join(f"{'M' if i == 0 else 'L'}{scale.x(e.span.middle):.1f},{values.y(e.middle or 0):.1f}"
                    for i, e in enumerate(points) if e.span)
    line = el("path", d=path, fill="none", stroke=POINT, stroke_opacity=0.5, stroke_width=1.5, stroke_dasharray="5 4")
    marks = [_mark(e, scale, values, i) for i, e in enumerate(points)]
    heading = el("text", series.title, x=LEFT, y=top + 16, fill=INK, font_size=14, font_weight="600")
    unit = el("text", series.unit, x=LEFT - 8, y=top + 30, text_anchor="end", fill=MUTED, font_size=11)
    group = el("g", heading, unit, el("g", *grid, aria_hidden="true"), time_axis(scale, top + 40, bottom, below=True),
               el("line", x1=LEFT, y1=bottom, x2=WIDTH - RIGHT + 40, y2=bottom, stroke=INK), line, *marks,
               class_="series", data_measure=series.measure)
    return group, bottom + 40


def draw(all_series: list[Series]) -> Markup:
    """Every series with charted estimates as one ``<svg>``, a chart under the other."""
    key, key_height = legend([
        (el("circle", cx=7, cy=7, r=6, fill=POINT), "a number"),
        (el("rect", x=2, y=0, width=10, height=14, rx=3, fill=RANGE, fill_opacity=0.35, stroke=RANGE), "a range (min–max)"),
        (el("rect", x=2, y=0, width=10, height=14, rx=3, fill=RANGE, fill_opacity=0.35, stroke=RANGE,
            stroke_dasharray="4 3"), "one bound only (up to, at least)"),
        (el("line", x1=0, y1=7, x2=14, y2=7, stroke=MUTED, stroke_width=1.5), "the month or year the text gives"),
        (el("line", x1=0, y1=7, x2=14, y2=7, stroke=POINT, stroke_dasharray="5 4"), "the series (a range by its middle)"),
    ], 12, 8, WIDTH - 24)
    y = 8 + key_height + 12
    charts = []
    for series in all_series:
        if charted(series):
            chart, y = _chart(series, y)
            charts.append(chart)
    count = sum(len(charted(s)) for s in all_series)
    return svg_document(WIDTH, y, "Estimates over time",
                        f"{count} estimates by the date they refer to, with ranges and sources; every mark links to "
                        "the claim that states it.", key, *charts)


def table(all_series: list[Series]) -> Markup:
    """Every estimate (charted or not) as an HTML table."""
    head = el("tr", *(el("th", h, scope="col") for h in ("measure", "date", "estimate", "unit", "source", "claim", "document")))
    body = [el("tr", el("td", s.measure), el("td", e.date_words or (e.span.words if e.span else e.date) or "no date"), el("td", e.words),
               el("td", e.unit), el("td", ", ".join(e.sources) or f"({e.claimant})"),
               el("td", el("a", e.quote or e.claim, href=href(e.claim))), el("td", e.document))
            for s in all_series for e in s.estimates]
    return el("table", el("caption", "Every estimate, with its source and the claim that states it"), head, *body,
              class_="view-table")
