"""Dates in a text, normalised to the forms the annotations take (YYYY, YYYY-MM, YYYY-MM-DD).

A date without a year ("15 May", "Friday 16 May") takes the year of the anchor — the byline's
date; a weekday alone ("on Friday") is the last such day on or before the anchor. Without an
anchor, such dates are not normalised (a draft never guesses a year). Parsing of day and
month names is python-dateutil's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from dateutil import parser as date_parser
from dateutil.relativedelta import relativedelta, weekday
from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE

__all__ = ["DateWords", "find_dates", "parse_byline_date"]

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|" \
         r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
_DAY_NAME = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_WEEKDAYS: dict[str, weekday] = {"monday": MO, "tuesday": TU, "wednesday": WE, "thursday": TH, "friday": FR,
                                 "saturday": SA, "sunday": SU}
_YEAR = r"(?:19|20)\d{2}"
_PATTERNS = [
    # (regex, precision): the most precise first; a match hides the shorter ones inside it
    (re.compile(rf"(?:{_DAY_NAME},? )?\b\d{{1,2}} {_MONTH},? {_YEAR}\b"), "day"),
    (re.compile(rf"(?:{_DAY_NAME},? )?\b{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? {_YEAR}\b"), "day"),
    (re.compile(rf"(?:{_DAY_NAME},? )?\b\d{{1,2}} {_MONTH}(?! ?\d)"), "day-no-year"),
    (re.compile(rf"(?:{_DAY_NAME},? )?\b{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?\b(?!,? ?\d)"), "day-no-year"),
    (re.compile(rf"\b(?:the )?end of ({_YEAR})\b"), "year-end"),
    (re.compile(rf"\b{_MONTH},? {_YEAR}\b"), "month"),
    (re.compile(rf"\b(?:(?:early|mid|late)[- ])?({_YEAR})\b"), "year"),
    (re.compile(rf"\b{_DAY_NAME}\b"), "weekday"),
]


@dataclass(frozen=True)
class DateWords:
    """A date the text gives: its words verbatim at ``[start, end)`` and their normal form."""

    start: int
    end: int
    words: str
    value: str
    vague: bool  # the words say more than the value can ("early 2025", "the end of 2022")


def _parse(words: str, anchor: date | None) -> datetime | None:
    default = datetime(anchor.year, anchor.month, anchor.day) if anchor else datetime(2000, 1, 1)
    try:
        return date_parser.parse(words, default=default)
    except (ValueError, OverflowError):
        return None


def _normal(words: str, precision: str, anchor: date | None, match: re.Match[str]) -> tuple[str, bool] | None:
    if precision == "day":
        parsed = _parse(words, None)
        return (parsed.strftime("%Y-%m-%d"), False) if parsed else None
    if precision == "day-no-year":
        if anchor is None:
            return None
        parsed = _parse(re.sub(_DAY_NAME + r",? ", "", words), anchor)
        if parsed is None:
            return None
        if parsed.date() > anchor:  # "15 May" written after May of the anchor's year is the year before
            parsed -= relativedelta(years=1)
        return parsed.strftime("%Y-%m-%d"), False
    if precision == "weekday":
        if anchor is None:
            return None
        day = anchor + relativedelta(weekday=_WEEKDAYS[words.lower()](-1))
        return day.isoformat(), False
    if precision == "month":
        parsed = _parse("1 " + words, None)
        return (parsed.strftime("%Y-%m"), False) if parsed else None
    if precision == "year-end":
        return f"{match.group(1)}-12", True
    year = match.group(1)
    return year, words != year


def find_dates(text: str, start: int, end: int, anchor: date | None) -> list[DateWords]:
    """The dates the text names in ``[start, end)``, normalised; the anchor dates those without a year."""
    taken: list[tuple[int, int]] = []
    out: list[DateWords] = []
    for pattern, precision in _PATTERNS:
        for match in pattern.finditer(text, start, end):
            a, b = match.span()
            if any(a < y and x < b for x, y in taken):
                continue
            normal = _normal(match.group(), precision, anchor, match)
            if normal is None:
                continue
            taken.append((a, b))
            out.append(DateWords(a, b, match.group(), normal[0], normal[1]))
    return sorted(out, key=lambda d: d.start)


def parse_byline_date(line: str) -> str | None:
    """The full date (YYYY-MM-DD) a byline gives, if it gives one."""
    for pattern, precision in _PATTERNS[:2]:
        match = pattern.search(line)
        if match:
            normal = _normal(match.group(), precision, None, match)
            if normal:
                return normal[0]
    return None
