"""Numbers with units as estimates: "150,000 to 200,000 troops", "troop count at 420,000".

The unit is the noun after the number, or the counted noun before it ("troop count at …");
a number without a unit is no estimate. "up to N" is a maximum only. The date is the first
date the clause gives (vague words such as "early 2025" kept as ``date_words``).
"""

from __future__ import annotations

import re
from datetime import date

from kg.draft.dates import find_dates
from kg.draft.model import DraftEstimate

__all__ = ["estimate_in"]

_NUMBER = r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?"
_UNITS = r"troops|soldiers|servicemen|fighters|casualties|deaths|dead|people|refugees|prisoners|tanks|drones|" \
         r"missiles|dollars|euros|kilometres|kilometers|km|percent|per cent"
_AMOUNT = re.compile(
    rf"\b(?P<upto>up to |as many as |at most )?(?:around |about |some |nearly |roughly |over |more than )?"
    rf"(?P<a>{_NUMBER})(?P<scale> million| thousand| billion)?"
    rf"(?:\s*(?:to|–|-|and)\s*(?P<b>{_NUMBER})(?P<scale2> million| thousand| billion)?)?"
    rf"(?:\s+(?P<unit>{_UNITS})\b)?"
)
_COUNTED = re.compile(r"\b(troop|soldier|casualty|death|refugee)s? (?:count|numbers?|strength|total)\b")
_SCALES = {" thousand": 1_000, " million": 1_000_000, " billion": 1_000_000_000}


def _value(number: str, scale: str | None) -> int | float:
    plain = number.replace(",", "")
    value: int | float = float(plain) if "." in plain else int(plain)
    if scale:
        value = value * _SCALES[scale]
        value = int(value) if float(value).is_integer() else value
    return value


def estimate_in(text: str, start: int, end: int, anchor: date | None) -> DraftEstimate | None:
    """The estimate the clause ``text[start:end]`` gives, or ``None``."""
    counted = _COUNTED.search(text, start, end)
    for match in _AMOUNT.finditer(text, start, end):
        unit = match.group("unit")
        if unit is None and counted is not None and counted.end() <= match.start():
            unit = counted.group(1) + "s"
        if unit is None or re.fullmatch(r"(?:19|20)\d{2}", match.group("a")):
            continue
        first = _value(match.group("a"), match.group("scale") or match.group("scale2"))
        second = _value(match.group("b"), match.group("scale2")) if match.group("b") else None
        est = DraftEstimate(measure=unit.replace(" ", "-"), unit=unit)
        if second is not None and second >= first:
            est.min, est.max = first, second
        elif match.group("upto"):
            est.max = first
        else:
            est.value = first
        dates = [d for d in find_dates(text, start, end, anchor) if d.value[:4] != match.group("a")[:4]]
        if dates:
            est.date = dates[0].value
            if dates[0].vague:
                est.date_words = dates[0].words
        return est
    return None
