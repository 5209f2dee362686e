"""``/views/timeline``: the meetings by date, held or planned, with their participants.

Each meeting is a row; its dates are marks on a time axis (a held meeting filled, a planned
one open, a scheduled date a diamond; a date as vague as a month or year is drawn as the band
it covers), and its participants and hosts are listed under its name. Every mark and every
participant links to the claim that states it; meetings the sources do not date come last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.namespaces import NKG, SCHEMA
from kg.server.markup import href
from kg.server.views.common import GRID, INK, MUTED, legend, link, local_name, rows, time_axis
from kg.server.views.scales import Span, TimeScale, parse_span
from kg.server.views.svg import Markup, el, join, svg_document, text_width, wrap
from kg.store.base import Store

__all__ = ["Fact", "Meeting", "draw", "label_of", "load", "table"]

HELD, PLANNED, SCHEDULED, FOCUS = "#1f5fa8", "#c26a00", "#c26a00", "#fff1b8"
WIDTH, LABEL_WIDTH, TIME_X0, RIGHT = 1100, 320, 360, 40
#: how far under a meeting's held date its scheduled date is drawn
SCHEDULED_LANE = 18
_PROPERTY = {str(SCHEMA.startDate): "start", str(SCHEMA.endDate): "end", str(NKG.scheduledDate): "scheduled",
             str(NKG.participant): "participant", str(NKG.hostedBy): "host"}
_UNHELD = {"announced", "hypothetical"}


@dataclass
class Fact:
    """A date or participant of a meeting, the times its sentences put on it, and its claims."""

    value: str
    label: str
    times: set[str] = field(default_factory=set)
    claims: list[str] = field(default_factory=list)

    @property
    def qualifier(self) -> str:
        """The times other than current, for a label (``announced``), or ''."""
        return ", ".join(sorted(self.times - {"current"})) if self.times - {"current"} else ""


@dataclass
class Meeting:
    iri: str
    label: str
    facts: dict[str, dict[str, Fact]] = field(default_factory=dict)

    def of(self, kind: str) -> list[Fact]:
        return list(self.facts.get(kind, {}).values())

    def spans(self, kind: str) -> list[tuple[Span, Fact]]:
        found = [(s, f) for f in self.of(kind) if (s := parse_span(f.value)) is not None]
        return sorted(found, key=lambda pair: pair[0])

    @property
    def first_day(self) -> Span | None:
        spans = [s for kind in ("start", "scheduled") for s, _ in self.spans(kind)]
        return min(spans) if spans else None

    @property
    def claims(self) -> list[str]:
        return sorted({c for facts in self.facts.values() for f in facts.values() for c in f.claims})


def load(store: Store) -> list[Meeting]:
    """The meetings of ``store``, dated ones by their first date, then the undated by label."""
    meetings: dict[str, Meeting] = {}
    for row in rows(store, "timeline"):
        iri = row["meeting"]
        meeting = meetings.setdefault(iri, Meeting(iri, row.get("meetingLabel") or iri))
        kind = _PROPERTY.get(row.get("property", ""))
        if kind is None or "object" not in row:
            continue
        value = row["object"]
        fact = meeting.facts.setdefault(kind, {}).setdefault(value, Fact(value, row.get("objectLabel") or value))
        fact.times.add(local_name(row["time"]) if "time" in row else "current")
        if "claim" in row and row["claim"] not in fact.claims:
            fact.claims.append(row["claim"])
    return sorted(meetings.values(), key=lambda m: (m.first_day is None, m.first_day or "", m.label.lower()))


def _evidence(fact: Fact, meeting: Meeting) -> str:
    return fact.claims[0] if fact.claims else meeting.iri


def _tip(meeting: Meeting, what: str, fact: Fact) -> str:
    said = f"{len(fact.claims)} claim{'s' if len(fact.claims) != 1 else ''}" if fact.claims else "no claim"
    return f"{meeting.label}: {what} ({said}; opens {'the first claim' if fact.claims else 'the meeting'})"


def _date_marks(meeting: Meeting, scale: TimeScale, y: float) -> list[Markup]:
    """The marks of a meeting's dates: its start (a span to its end where given) and schedule."""
    marks: list[Markup] = []
    ends = meeting.spans("end")
    for span, fact in meeting.spans("start"):
        planned = bool(fact.times) and fact.times <= _UNHELD
        until = max((e for e, _ in ends if e.end > span.start), default=None)
        x0, x1 = scale.x(span.start), scale.x(until.end if until else span.end)
        colour = PLANNED if planned else HELD
        words = ("planned " if planned else "held ") + span.words + (f" – {until.words}" if until else "")
        if fact.qualifier:
            words += f" ({fact.qualifier})"
        shape = [el("rect", x=x0, y=y - 5, width=max(x1 - x0, 2), height=10, rx=3, fill=colour,
                    fill_opacity=0.25, stroke=colour, stroke_width=1)] if x1 - x0 > 4 else []
        cx = (x0 + x1) / 2
        shape.append(el("circle", cx=cx, cy=y, r=6, fill="#fff" if planned else colour, stroke=colour, stroke_width=2))
        shape.append(el("text", words, x=max(x1, cx + 6) + 6, y=y + 4, fill=INK, font_size=11))
        marks.append(link(_evidence(fact, meeting), *shape, title=_tip(meeting, words, fact),
                          class_="mark " + ("planned" if planned else "held")))
    for span, fact in meeting.spans("scheduled"):  # on a lane of their own, under the held date
        x, lane = scale.x(span.middle), y + (SCHEDULED_LANE if marks else 0)
        words = f"scheduled for {span.words}" + (f" ({fact.qualifier})" if fact.qualifier else "")
        diamond = el("path", d=f"M{x:.1f},{lane - 6:.1f} l6,6 l-6,6 l-6,-6 z", fill="#fff", stroke=SCHEDULED,
                     stroke_width=2)
        label = el("text", words, x=x + 12, y=lane + 4, fill=MUTED, font_size=11)
        marks.append(link(_evidence(fact, meeting), diamond, label, title=_tip(meeting, words, fact),
                          class_="mark scheduled"))
    if not marks:
        facts = [f for facts in meeting.facts.values() for f in facts.values()]
        first = facts[0] if facts else Fact(meeting.iri, meeting.label)
        marks.append(link(_evidence(first, meeting),
                          el("circle", cx=TIME_X0 + 8, cy=y, r=5, fill="#fff", stroke=MUTED, stroke_width=1.5,
                             stroke_dasharray="2 2"),
                          el("text", "no date in the sources", x=TIME_X0 + 20, y=y + 4, fill=MUTED, font_size=11,
                             font_style="italic"),
                          title=_tip(meeting, "not dated", first), class_="mark undated"))
    return marks


def _people(meeting: Meeting, y: float) -> tuple[list[Markup], int]:
    """The participant and host links under a meeting's name, wrapped; and how many lines."""
    chips: list[Markup] = []
    x, line = 12.0, 0
    for kind in ("host", "participant"):
        for fact in sorted(meeting.of(kind), key=lambda f: f.label.lower()):
            words = ("host: " if kind == "host" else "") + fact.label + (f" ({fact.qualifier})" if fact.qualifier else "")
            width = text_width(words, 11) + 12
            if x + width > LABEL_WIDTH and x > 12:
                x, line = 12.0, line + 1
            unheld = bool(fact.times) and fact.times <= _UNHELD
            chips.append(link(_evidence(fact, meeting),
                              el("text", words, x=x, y=y + 16 * line, fill=MUTED if unheld else INK, font_size=11,
                                 font_style="italic" if unheld else None),
                              title=_tip(meeting, words, fact), class_=kind))
            x += width
    return chips, line + 1 if chips else 0


def involves(meeting: Meeting, iri: str) -> bool:
    """Whether ``iri`` is the meeting, or one of its hosts or participants."""
    return iri == meeting.iri or any(iri in meeting.facts.get(kind, {}) for kind in ("host", "participant"))


def label_of(meetings: list[Meeting], iri: str) -> str | None:
    """The label the meetings give ``iri`` (a meeting's own, or a host's or participant's)."""
    for m in meetings:
        if m.iri == iri:
            return m.label
        for kind in ("host", "participant"):
            if iri in m.facts.get(kind, {}):
                return m.facts[kind][iri].label
    return None


def draw(meetings: list[Meeting], *, focus: str | None = None) -> tuple[Markup, int]:
    """The timeline as an ``<svg>``, and its number of date marks; the rows of the meeting
    ``focus`` names, or of the meetings the actor it names takes part in, highlighted."""
    spans = [s for m in meetings for kind in ("start", "end", "scheduled") for s, _ in m.spans(kind)]
    scale = TimeScale(spans, TIME_X0 + 20, WIDTH - RIGHT - 150)
    key, key_height = legend([
        (el("circle", cx=7, cy=7, r=6, fill=HELD, stroke=HELD), "held"),
        (el("rect", x=0, y=2, width=14, height=10, rx=3, fill=HELD, fill_opacity=0.25, stroke=HELD), "the month, year or span the text gives"),
        (el("circle", cx=7, cy=7, r=5, fill="#fff", stroke=PLANNED, stroke_width=2), "planned (announced, hypothetical)"),
        (el("path", d="M7,1 l6,6 l-6,6 l-6,-6 z", fill="#fff", stroke=SCHEDULED, stroke_width=2), "scheduled"),
        (el("text", "Aa", x=0, y=11, fill=MUTED, font_style="italic", font_size=11), "participant not (yet) held"),
    ], 12, 8, WIDTH - 24)
    top = 8 + key_height + 26
    stripes: list[Markup] = []
    body: list[Markup] = []
    y, marks = top, 0
    for index, meeting in enumerate(meetings):
        chips, lines = _people(meeting, y + 36)
        height = max(30 + 16 * lines, 14 + SCHEDULED_LANE + 16 if meeting.of("scheduled") else 0) + 8
        dates = _date_marks(meeting, scale, y + 14)
        marks += len(dates)
        title = wrap(meeting.label, LABEL_WIDTH - 12, 13, lines=1)[0]
        lit = focus is not None and involves(meeting, focus)
        stripes.append(el("rect", x=0, y=y, width=WIDTH, height=height, class_="focus" if lit else None,
                          fill=FOCUS if lit else "#f4f6f9" if index % 2 else "#fff"))
        body.append(el(
            "g",
            el("a", el("text", title, x=12, y=y + 18, fill="#0645ad", font_size=13, font_weight="600"),
               href=href(meeting.iri), class_="meeting-link"),
            *chips, *dates,
            class_="meeting", data_meeting=meeting.iri,
        ))
        y += height
    axis = time_axis(scale, top, y)
    frame = el("line", x1=TIME_X0, y1=top, x2=TIME_X0, y2=y, stroke=GRID)
    svg = svg_document(WIDTH, y + 12, "Meetings by date",
                       f"{len(meetings)} meetings: each row a meeting with its dates on a time axis and its "
                       "participants; every mark links to the claim that states it.",
                       key, join(stripes), axis, frame, join(body))
    return svg, marks


def table(meetings: list[Meeting]) -> Markup:
    """The same facts as an HTML table: meeting, dates, participants, claims."""
    def facts(meeting: Meeting, kind: str) -> Markup:
        return join(el("span", link(_evidence(f, meeting), f.label + (f" ({f.qualifier})" if f.qualifier else "")),
                       " ") for f in meeting.of(kind))
    head = el("tr", *(el("th", h, scope="col") for h in ("meeting", "held", "scheduled", "hosts", "participants", "claims")))
    body = [el("tr", el("th", link(m.iri, m.label), scope="row"),
               el("td", facts(m, "start"), *([" to ", facts(m, "end")] if m.of("end") else [])),
               el("td", facts(m, "scheduled")), el("td", facts(m, "host")), el("td", facts(m, "participant")),
               el("td", str(len(m.claims))))
            for m in meetings]
    return el("table", el("caption", "Meetings, their dates and participants, with links to the claims"), head, *body,
              class_="view-table")
