"""What a text says about itself: title, author (byline or closing note), date; its sha256.

Only what the text gives: a byline without a date leaves the date out, and the draft lists
it under ``not-found`` rather than guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kg.build.corpus import sha256_hex
from kg.draft.dates import parse_byline_date

__all__ = ["Metadata", "read_metadata", "slugify"]

_NAME = r"[A-Z][\w'’.-]+(?: [A-Z][\w'’.-]+){1,3}"
#: "By Jane Archivist", "Nhat Lam • May 20, 2025", "Jane Archivist | 21 May 2025"
_BYLINE = re.compile(rf"^(?:By |Written by )?({_NAME})\s*(?:[•|·,–—-]\s*(.+))?$")
#: a closing note: "* Sotiris Mitralexis holds a doctorate …", "Jane Archivist is a reporter …"
_NOTE = re.compile(rf"^\*?\s*({_NAME}) (?:is|was|holds|works|writes|teaches|has been|serves)\b")


@dataclass
class Metadata:
    """The document's metadata as read from its text, and what could not be found."""

    title: str | None
    author: str | None
    author_line: tuple[int, int] | None
    date: str | None
    sha256: str
    language: str = "en"
    not_found: list[str] = field(default_factory=list)


def slugify(words: str) -> str:
    """A slug (lower-case ASCII letters, digits, hyphens) for ``words``."""
    import unicodedata

    ascii_words = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_words.lower()).strip("-") or "x"


def _title(lines: list[str]) -> str | None:
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.isupper() or stripped[0] in "-*•":
            continue
        if len(stripped) <= 120 and not stripped.endswith((".", "?", "!")):
            return stripped
        head = re.match(r"^(.{8,120}?)[—–]", stripped)  # "Title: subtitle—the article begins"
        return head.group(1).strip() if head and ":" in head.group(1) else None
    return None


def read_metadata(text: str, raw: bytes) -> Metadata:
    """Title, author and date as the text gives them; the sha256 of its bytes."""
    lines = text.split("\n")
    title = _title(lines)
    author: str | None = None
    where: tuple[int, int] | None = None
    date: str | None = None
    offset = 0
    found_byline = False
    for line in lines:
        stripped = line.strip()
        byline = _BYLINE.match(stripped) if len(stripped) <= 80 and stripped != title else None
        if byline and (stripped.startswith(("By ", "Written by ")) or byline.group(2)):
            tail = byline.group(2) or ""
            date = parse_byline_date(tail) if tail else None
            if tail and date is None and not stripped.startswith("By "):
                offset += len(line) + 1
                continue  # "Name, something" that is no byline
            start = offset + line.index(byline.group(1))
            author, where, found_byline = byline.group(1), (start, start + len(byline.group(1))), True
            break
        offset += len(line) + 1
    if author is None:
        offset = 0
        for line in lines:
            note = _NOTE.match(line.strip())
            if note:
                start = offset + line.index(note.group(1))
                author, where = note.group(1), (start, start + len(note.group(1)))
            offset += len(line) + 1
    meta = Metadata(title, author, where, date, sha256_hex(raw))
    if title is None:
        meta.not_found.append("title (no heading line)")
    if author is None:
        meta.not_found.append("author (no byline, no closing note on the author)")
    if date is None:
        meta.not_found.append("date of publication (the byline gives none)" if found_byline
                              else "date of publication (no dated byline)")
    return meta
