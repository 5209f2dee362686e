"""Dates as the sources give them, and the scales that place them and numbers on a picture.

A date in the data is as precise as its text (``xsd:date``, ``xsd:gYearMonth``, ``xsd:gYear``):
``"2023"`` is the whole year, so it is read as an interval and drawn as one, never as 1 January.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["LinearScale", "Span", "TimeScale", "parse_span"]

_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass(frozen=True, order=True)
class Span:
    """The days a date of the data covers: ``start`` to ``end`` (exclusive), and its text."""

    start: date
    end: date
    text: str

    @property
    def middle(self) -> date:
        return self.start + (self.end - self.start) / 2

    @property
    def words(self) -> str:
        """The date as a reader says it, no more precise than it is: ``16 May 2025``, ``Mar 2022``, ``2023``."""
        days = (self.end - self.start).days
        if days <= 1:
            return f"{self.start.day} {_MONTHS[self.start.month - 1]} {self.start.year}"
        if days <= 31:
            return f"{_MONTHS[self.start.month - 1]} {self.start.year}"
        return str(self.start.year)

    @property
    def precise(self) -> bool:
        """Whether the span is one day."""
        return self.end - self.start <= timedelta(days=1)


def parse_span(text: str) -> Span | None:
    """The span of a year, year-month or day (a date-time is its day); None if ``text`` is none."""
    m = _DATE.match(text.strip())
    if m is None:
        return None
    year, month, day = int(m[1]), m[2], m[3]
    try:
        if month is None:
            return Span(date(year, 1, 1), date(year + 1, 1, 1), text)
        if day is None:
            start = date(year, int(month), 1)
            return Span(start, date(year + int(month) // 12, int(month) % 12 + 1, 1), text)
        start = date(year, int(month), int(day))
        return Span(start, start + timedelta(days=1), text)
    except ValueError:  # month 13, 30 February, year 0
        return None


class TimeScale:
    """Days between ``first`` and ``last`` onto ``x0``–``x1``, with ticks at years or months."""

    def __init__(self, spans: list[Span], x0: float, x1: float) -> None:
        first = min((s.start for s in spans), default=date(2000, 1, 1))
        last = max((s.end for s in spans), default=date(2001, 1, 1))
        if (last - first).days > 400:  # whole years around the data
            self.first, self.last = date(first.year, 1, 1), date(last.year + (last != date(last.year, 1, 1)), 1, 1)
        else:  # whole months, at least three
            self.first = date(first.year, first.month, 1)
            end_month = date(last.year, last.month, 1) if last.day == 1 else _next_month(date(last.year, last.month, 1))
            self.last = max(end_month, _next_month(_next_month(_next_month(self.first))))
        self.x0, self.x1 = x0, x1

    def x(self, day: date) -> float:
        total = (self.last - self.first).days or 1
        return self.x0 + (self.x1 - self.x0) * (day - self.first).days / total

    def ticks(self) -> list[tuple[float, str]]:
        """(x, label) of each tick: every year (every few years over long spans), else every month."""
        years = self.last.year - self.first.year
        if years >= 2 or (years == 1 and (self.last - self.first).days > 400):
            step = max(1, math.ceil(years / 12))
            return [(self.x(date(y, 1, 1)), str(y)) for y in range(self.first.year, self.last.year + 1, step)]
        out: list[tuple[float, str]] = []
        day = self.first
        while day <= self.last:
            out.append((self.x(day), f"{_MONTHS[day.month - 1]} {day.year}" if day.month == 1 or not out
                        else _MONTHS[day.month - 1]))
            day = _next_month(day)
        return out


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


class LinearScale:
    """Numbers from 0 to a round maximum above ``top``, onto ``y0`` (0) – ``y1`` (the maximum)."""

    def __init__(self, top: float, y0: float, y1: float) -> None:
        self.step = _nice_step(top / 5 if top > 0 else 1)
        self.top = self.step * max(1, math.ceil(top * 1.05 / self.step))
        self.y0, self.y1 = y0, y1

    def y(self, value: float) -> float:
        return self.y0 + (self.y1 - self.y0) * value / self.top

    def ticks(self) -> list[tuple[float, float]]:
        count = round(self.top / self.step)
        return [(self.y(i * self.step), i * self.step) for i in range(count + 1)]


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0):
        if factor * power >= raw:
            return factor * power
    return 10.0 * power
