"""What client RDF may not hold: screened before any parser reads it, or refused once parsed.

Every path that parses RDF a client or a user hands in — Graph Store bodies and the parts of
a multipart body, files staged by ``kg ingest`` and the write path, files checked by
``kg validate`` — first passes :func:`screen_rdf`, which reads the bytes once, in chunks
(nothing held whole), and refuses:

* **nesting deeper than a limit** (setting ``max_nesting``). pyoxigraph's JSON-LD parser
  descends recursively: 5,000 nested objects (85 KB) overflow its stack and kill the process
  with SIGSEGV — the server, for a Graph Store upload. The other parsers stream, but their
  depth is counted all the same (rdflib, which reads some of them again, recurses too):
  blank nodes ``[``, lists ``(``, formulas and graphs ``{`` and RDF 1.2's ``<<`` in Turtle,
  TriG, N3, N-Triples and N-Quads, outside strings, IRIs and comments; objects and arrays
  outside strings in JSON-LD; elements in RDF/XML, outside comments, CDATA and
  processing instructions.
* **XML entity declarations** in RDF/XML. pyoxigraph expands internal entities without limit
  ("billion laughs": 70 KB became a 300 MB literal). RDF/XML needs none, so any
  ``<!ENTITY`` anywhere in the document is refused; this used to be looked for in the first
  64 KB only, and a declaration after a long comment went through.

Parsed RDF goes through :func:`refuse_triple_terms`: RDF 1.2 triple terms (``<<( … )>>``, and
the ``{| … |}`` and ``~`` annotations that produce them) parse, but the store, its SHACL gate
and the remote servers hold RDF 1.1 graphs; unrefused they made the gate fail with a
``TypeError`` (a 500, then a reset connection). A file a store parses itself (bulk loading) is
looked at once staged; :func:`screen_rdf` says when that is needed at all (the syntax that
makes a triple term appears in the file).
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from kg.errors import InputError, Location
from kg.formats import RdfFormatInfo

__all__ = ["CHUNK_BYTES", "TRIPLE_TERMS", "file_holds_any", "refuse_triple_terms", "screen_rdf"]

#: how much is read at a time (a token that does not end in a chunk is carried into the next)
CHUNK_BYTES = 1 << 20

#: what a refused triple term is told
TRIPLE_TERMS = ("triple terms are not stored: RDF 1.2 triple terms (<<( … )>>, also made by {| … |} and ~ "
                "annotations) cannot be held by this store, which keeps RDF 1.1 graphs; describe the "
                "statement with rdf:Statement, rdf:subject, rdf:predicate and rdf:object instead")

# Each scanner's match is a run of what does not count (text, strings, IRIs, comments…, read
# by the regular expression engine without a step of Python each) ending at one thing that
# does: an opener, a closer, a token cut off by the end of the buffer (``partial``, only
# meaningful before the last chunk), or a character that starts no token (``stray``: the
# parser will refuse it; counting goes on after it).

# token bodies written as unrolled loops (``normal*+ (special normal*+)*+``): tight loops for
# the engine, several times faster than one alternation per byte
_IRI = rb"""<[^<>"{}|^`\\\x00-\x20]*+(?:\\.[^<>"{}|^`\\\x00-\x20]*+)*+"""
_SHORT_DQ = rb'"[^"\\\r\n]*+(?:\\.[^"\\\r\n]*+)*+'
_SHORT_SQ = rb"'[^'\\\r\n]*+(?:\\.[^'\\\r\n]*+)*+"
_LONG_DQ = rb'"""[^"\\]*+(?:(?:\\[\s\S]|"{1,2}(?!"))[^"\\]*+)*+'
_LONG_SQ = rb"'''[^'\\]*+(?:(?:\\[\s\S]|'{1,2}(?!'))[^'\\]*+)*+"
_JSON_STRING = rb'"[^"\\]*+(?:\\[\s\S][^"\\]*+)*+'

_TURTLE = re.compile(
    rb"(?>(?:[^\"'<>#\\\[\](){}~]++"
    + rb"|" + _LONG_DQ + rb'"""' + rb"|" + _LONG_SQ + rb"'''"
    # "" at the end of a buffer may be the start of a long string: left to ``partial``
    + rb'|(?="(?!""|"\Z))' + _SHORT_DQ + rb'"'
    + rb"|(?='(?!''|'\Z))" + _SHORT_SQ + rb"'"
    + rb"|" + _IRI + rb">|#[^\r\n]*+[\r\n]|\\[\s\S])*)"
    + rb"(?:(?P<open>\[|\(|\{\||\{|<<)|(?P<close>\]|\)|\}|>>)|(?P<reifier>~)"
    + rb"|(?P<partial>(?:" + _LONG_DQ + rb"|" + _LONG_SQ + rb"|\"\"|''|"
    + _SHORT_DQ + rb"|" + _SHORT_SQ + rb"|" + _IRI + rb"|#[^\r\n]*+|>)\\?\Z)"
    + rb"|(?P<stray>[\s\S])|\Z)"
)

_JSON = re.compile(
    rb"(?>(?:[^\"\[\]{}]++|" + _JSON_STRING + rb'")*)'
    + rb"(?:(?P<open>[\[{])|(?P<close>[\]}])|(?P<partial>" + _JSON_STRING + rb"\\?\Z)"
    + rb"|(?P<stray>[\s\S])|\Z)"
)

_NAME_START = rb"""[^\s<>!?/"']"""
_XML = re.compile(
    rb"""
    (?>(?:
        [^<]++
      | <!--[\s\S]*?-->
      | <!\[CDATA\[[\s\S]*?\]\]>
      | <\?[\s\S]*?\?>
      | <!(?!--|\[CDATA\[)[^>]*>
      | <""" + _NAME_START + rb"""(?:[^<>"'/]|/(?!>)|"[^"]*"|'[^']*')*+/>
    )*)
    (?:
        (?P<close></[^>]*>)
      | (?P<open><""" + _NAME_START + rb"""(?:[^<>"']|"[^"]*"|'[^']*')*+>)
      | (?P<partial>
            <!--(?:(?!-->)[\s\S])*\Z
          | <!\[CDATA\[(?:(?!\]\]>)[\s\S])*\Z
          | <\?(?:(?!\?>)[\s\S])*\Z
          | <![^>]*\Z
          | </[^>]*\Z
          | <""" + _NAME_START + rb"""(?:[^<>"']|"[^"]*"|'[^']*')*(?:"[^"]*|'[^']*)?\Z
          | <\Z
        )
      | (?P<stray>[\s\S])
      | \Z
    )
    """,
    re.VERBOSE,
)

_SCANNERS = {"jsonld": (_JSON, "objects and arrays"), "rdfxml": (_XML, "elements")}
_TURTLE_WHAT = "blank nodes, lists, formulas or triple terms"

_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
#: RDF/XML makes a triple term only with ``rdf:parseType="Triple"``, written out or with
#: character references (entities are refused)
_XML_TRIPLE = re.compile(rb"Triple|&#")
_OVERLAP = len(b"<!ENTITY") - 1
#: what starts a triple term (or an annotation, which makes one) in the Turtle family
_TURTLE_TRIPLE = frozenset({b"<<", b"{|", b"~"})


class _Reader:
    """Bytes from a file, a buffer, or a stream from where it stands, as many as asked."""

    def __init__(self, source: Path | bytes | IO[bytes]) -> None:
        self._data: bytes | None = None
        self._offset = 0
        self._opened: IO[bytes] | None = None
        self._stream: IO[bytes] | None = None
        if isinstance(source, bytes):
            self._data = source
        elif isinstance(source, Path):
            self._opened = self._stream = source.open("rb")
        else:
            self._stream = source

    def read(self, size: int) -> bytes:
        if self._data is not None:
            piece = self._data[self._offset:self._offset + size]
            self._offset += len(piece)
            return piece
        assert self._stream is not None
        return self._stream.read(size)

    def close(self) -> None:
        if self._opened is not None:
            self._opened.close()


def screen_rdf(source: Path | bytes | IO[bytes], fmt: RdfFormatInfo, where: str, *, max_nesting: int) -> bool:
    """Read ``source`` (a file, bytes, or a binary stream from its current position to its end)
    and raise :class:`~kg.errors.InputError` naming ``where`` and the line when it nests deeper
    than ``max_nesting``, or, as RDF/XML, declares an entity. Nothing else is checked: syntax
    errors are the parser's to report, with their own positions.

    Returns whether the source may hold triple terms: False proves it holds none (the syntax
    that makes one appears nowhere outside strings, IRIs and comments), so a caller that lets a
    store parse it need not look for them afterwards."""
    try:
        if fmt.name not in _SCANNERS and _without_brackets(source):
            return False  # nothing opens: no nesting, no triple term (at memchr speed, not token by token)
        reader = _Reader(source)
        try:
            return _screen(reader, fmt, where, max_nesting)
        finally:
            reader.close()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(where)) from None


#: the bytes every opener and reifier of the Turtle family starts with (``<<`` aside)
_TURTLE_OPENERS = (b"[", b"(", b"{", b"~", b"<<")


def _without_brackets(source: Path | bytes | IO[bytes]) -> bool:
    """True when a file or buffer in the Turtle family holds no byte that starts an opener or
    a reifier, wherever it stands (in a string, an IRI, a comment or not): the scan would
    then find nothing to count. False for a stream, which is read once, token by token."""
    if isinstance(source, bytes):
        return not any(mark in source for mark in _TURTLE_OPENERS)
    return isinstance(source, Path) and not file_holds_any(source, _TURTLE_OPENERS)


def file_holds_any(path: Path, marks: Iterable[bytes]) -> bool:
    """True when the file's bytes hold one of ``marks`` anywhere (in a string, an IRI, a
    comment or not): a search of the mapped file at memchr speed, which proves by its absence
    that a syntax is not used. :class:`OSError` when the file cannot be read."""
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return False
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return any(data.find(mark) >= 0 for mark in marks)


def _screen(reader: _Reader, fmt: RdfFormatInfo, where: str, max_nesting: int) -> bool:
    pattern, what = _SCANNERS.get(fmt.name, (_TURTLE, _TURTLE_WHAT))
    xml = fmt.name == "rdfxml"
    # JSON-LD has no syntax of its own for them; whether a parser reads some anyway is its own
    # affair, so a JSON-LD source is never said to hold none
    triple_terms = fmt.name == "jsonld"
    depth = 0
    lines = 0  # line breaks before ``buffer``
    read_lines = 0  # line breaks in every chunk read before the last one
    carry = entity_tail = b""
    final = False
    while not final:
        # a token longer than a chunk makes the next read as long as it: linear, not quadratic
        chunk = reader.read(max(CHUNK_BYTES, len(carry)))
        final = not chunk
        if xml and chunk:
            window = entity_tail + chunk
            found = _ENTITY.search(window)
            if found is not None:
                line = read_lines - entity_tail.count(b"\n") + window.count(b"\n", 0, found.start()) + 1
                raise InputError("RDF/XML with entity declarations (<!ENTITY …>) is not accepted: entities can "
                                 "expand without limit; write the values out", location=Location(where, line))
            triple_terms = triple_terms or _XML_TRIPLE.search(window) is not None
            entity_tail = window[-_OVERLAP:]
        read_lines += chunk.count(b"\n")
        buffer = carry + chunk
        carry = b""
        for match in pattern.finditer(buffer):
            kind = match.lastgroup
            if kind == "partial":
                if not final:  # the token goes on in the next chunk: read it again from its start
                    carry = buffer[match.start(kind):]
                    lines += buffer.count(b"\n", 0, match.start(kind))
                break
            if kind == "reifier":
                triple_terms = True
            elif kind == "open":
                triple_terms = triple_terms or match.group(kind) in _TURTLE_TRIPLE
                depth += 1
                if depth > max_nesting:
                    line = lines + buffer.count(b"\n", 0, match.start(kind)) + 1
                    raise InputError(f"{fmt.name}: {what} nested more than {max_nesting} deep; the limit "
                                     "(setting max_nesting) keeps the parser from running out of stack",
                                     location=Location(where, line))
            elif kind == "close" and depth > 0:
                depth -= 1
        else:
            lines += buffer.count(b"\n")
    return triple_terms


def refuse_triple_terms(triples: Iterable[ox.Triple | ox.Quad], where: str) -> None:
    """Raise :class:`~kg.errors.InputError` (:data:`TRIPLE_TERMS`) at the first triple with a
    triple term as its subject or object, naming it and ``where``."""
    for triple in triples:
        if isinstance(triple.object, ox.Triple) or isinstance(triple.subject, ox.Triple):
            raise InputError(f"{TRIPLE_TERMS} (found in {triple})", location=Location(where))
