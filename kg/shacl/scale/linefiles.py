"""N-Triples and N-Quads read in byte ranges, a range to a process, whole lines each.

In these formats a line is a triple, so a large file can be read by two processes at
once (splitting it for validation in groups, looking for the lines of results): each
takes the lines that start in its byte range.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["CHUNK_BYTES", "LongLine", "byte_ranges", "line_pieces", "plain_iri"]

#: how much of a file a process reads at a time
CHUNK_BYTES = 64 * 1024 * 1024


class LongLine(Exception):
    """A line not ended by a line feed within :data:`CHUNK_BYTES` (a carriage return alone
    ends lines, or a line is longer than that): the file cannot be read in pieces here."""


def byte_ranges(path: Path, parts: int) -> list[tuple[int, int]]:
    """``parts`` byte ranges covering the file: a line belongs to the range it starts in."""
    size = path.stat().st_size
    return [(size * i // parts, size * (i + 1) // parts) for i in range(parts)]


def line_pieces(path: Path, start: int, end: int) -> Iterator[bytes]:
    """The lines starting in ``[start, end)``, in pieces of about :data:`CHUNK_BYTES`, each
    ending with a line feed (but the file's last line, if it has none)."""
    with path.open("rb") as handle:
        handle.seek(start)
        if start:
            handle.seek(start - 1)
            _rest_of_line(handle)  # the line that began before ``start`` is another range's
        while handle.tell() < end:
            chunk = handle.read(min(CHUNK_BYTES, end - handle.tell()))
            if not chunk:
                return
            yield chunk + (b"" if chunk.endswith(b"\n") else _rest_of_line(handle))


def _rest_of_line(handle: BinaryIO) -> bytes:
    """Up to the next line feed, within :data:`CHUNK_BYTES`."""
    rest = handle.readline(CHUNK_BYTES)
    if rest and not rest.endswith(b"\n") and handle.read(1):
        raise LongLine("lines not ended by a line feed, or longer than a chunk")
    return rest


def plain_iri(token: bytes) -> bool:
    """Whether ``token`` (bytes between spaces on a line) is one IRI written plainly: no
    escapes, no other term written against it."""
    return token[:1] == b"<" and token[-1:] == b">" and token.count(b"<") == 1 and token.count(b">") == 1 and b"\\" not in token
