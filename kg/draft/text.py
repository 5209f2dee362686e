"""A new document's text: read it, check it is a text we can draft, split it into sentences.

Sentences come from pySBD (rule-based, English, no model to download) and are placed back
into the text by searching forward from the previous one, so every span is the text's own
characters at its own offsets, repeated paragraphs included (a standfirst repeated after the
byline). A span never includes the whitespace around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pysbd  # type: ignore[import-untyped]

from kg.errors import InputError, Location

__all__ = ["Span", "read_text", "sentences", "is_english", "is_question"]

#: function words common in any English prose; a text with few of them is not English
_ENGLISH = frozenset(
    "the of and to a in is that for it as was with be by on not he she this are or his from at "
    "which but have an they has had were their its been would who will more than".split()
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
#: a list item's marker, left out of the sentence
_BULLET = re.compile(r"^[-*•–]\s+")
#: a quoted question or exclamation ends so: "…?” / "…!\""
_QUOTED_END = re.compile(r"[?!][”\"’]$")
#: the attribution after it, which the segmenter cuts off: "Foreign Minister Sergei Lavrov asked."
_ATTRIBUTION = re.compile(r"^[^.?!“”\"]{2,80}?\b(?:said|says|asked|asks|added|adds|told|tells|wondered|replied|"
                          r"wrote|exclaimed|insisted|warned)\b[^.?!“”\"]{0,60}[.!]$")


@dataclass(frozen=True)
class Span:
    """Characters ``[start, end)`` of the text."""

    start: int
    end: int

    def of(self, text: str) -> str:
        """The span's words in ``text``."""
        return text[self.start : self.end]


def read_text(path: Path) -> str:
    """The document's text; :class:`InputError` for a missing, empty, binary or non-UTF-8 file."""
    where = Location(str(path))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such document file", location=where) from None
    except OSError as exc:
        raise InputError(f"cannot read the document: {exc.strerror}", location=where) from None
    if not raw.strip():
        raise InputError("the document is empty: there is nothing to draft", location=where)
    if b"\x00" in raw:
        raise InputError("the document is binary (it holds NUL bytes), not a UTF-8 text", location=where)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"the document is not UTF-8 (byte {exc.start})", location=where) from None
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(3, len(text) // 100):
        raise InputError(f"the document looks binary ({controls} control characters), not a text", location=where)
    return text


def is_english(text: str) -> bool:
    """Whether ``text`` reads as English: enough of its words are common English function words."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return False
    return sum(1 for w in words if w in _ENGLISH) / len(words) >= 0.2


_SEGMENTER: pysbd.Segmenter | None = None


def sentences(text: str) -> list[Span]:
    """The sentences of ``text``, and lines that are not sentences (headings, bylines, list items)
    on their own, as spans without surrounding whitespace; each is verbatim at its offsets."""
    global _SEGMENTER
    if _SEGMENTER is None:
        _SEGMENTER = pysbd.Segmenter(language="en", clean=False)
    out: list[Span] = []
    cursor = 0
    for line in re.finditer(r"[^\n]+", text):  # a line break always ends a sentence (headings, bullets)
        for piece in _SEGMENTER.segment(line.group()):
            stripped = _BULLET.sub("", piece.strip())
            if not stripped:
                continue
            start = text.find(stripped, max(cursor, line.start()))
            if start < 0 or start >= line.end():
                continue
            cursor = start + len(stripped)
            previous = out[-1] if out else None
            if previous is not None and _QUOTED_END.search(previous.of(text)) and _ATTRIBUTION.match(stripped) \
                    and not text[previous.end : start].strip() and "\n" not in text[previous.end : start]:
                out[-1] = Span(previous.start, cursor)  # "“Why …?” Lavrov asked.": one sentence, its speaker's
                continue
            out.append(Span(start, cursor))
    return out


def is_question(sentence: str) -> bool:
    """Whether a sentence asks: it ends with a question mark, or quotes a question ("“Why …?” Lavrov asked.")."""
    return sentence.rstrip("”\"’) ").endswith("?") or re.search(r"\?[”\"’)]*\s", sentence) is not None
