"""Read RDF files with errors that name file, line and column; move data into rdflib.

pyoxigraph parses (fast, with precise positions); rdflib is the model pyshacl and
owlready2 work with.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from .errors import InputError, Location
from .formats import RdfFormatInfo, rdf_format_for_path

__all__ = ["parse_file", "parse_file_lines", "to_rdflib_term", "to_oxigraph_term", "quads_to_graph", "read_graph"]

_POSITION = re.compile(r"line (\d+) column (\d+)|on line (\d+) at column (\d+)|(\d+):(\d+)")


def _location(path: Path, message: str) -> Location:
    match = _POSITION.search(message)
    if match:
        nums = [int(n) for n in match.groups() if n is not None]
        return Location(str(path), nums[0], nums[1])
    return Location(str(path))


def _checked_bytes(path: Path, fmt: RdfFormatInfo | None) -> tuple[RdfFormatInfo, bytes]:
    """The file's format and contents; :class:`InputError` for an unknown format, an unreadable or empty file."""
    fmt = fmt or rdf_format_for_path(path)
    if fmt is None:
        raise InputError(
            "unknown RDF format (use a .ttl, .nt, .nq, .trig, .jsonld or .rdf extension)", location=Location(str(path))
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(str(path))) from None
    if not data.strip():
        raise InputError("the file is empty", location=Location(str(path)))
    return fmt, data


def _syntax_error(path: Path, fmt: RdfFormatInfo, exc: Exception) -> InputError:
    if isinstance(exc, SyntaxError):
        message = str(exc)
        loc = _location(path, message)
        if exc.lineno and loc.line is None:
            loc = Location(str(path), exc.lineno, exc.offset)
        return InputError(f"{fmt.name} syntax error: {message}", location=loc)
    return InputError(f"{fmt.name}: {exc}", location=Location(str(path)))


def parse_file(path: Path, *, fmt: RdfFormatInfo | None = None) -> list[ox.Quad]:
    """Every quad of an RDF file; :class:`InputError` (exit 2) when it cannot be read."""
    fmt, data = _checked_bytes(path, fmt)
    try:
        return list(ox.parse(data, format=fmt.oxigraph, base_iri=path.resolve().as_uri()))
    except (SyntaxError, ValueError, UnicodeDecodeError) as exc:
        raise _syntax_error(path, fmt, exc) from None


class _LineReader(io.RawIOBase):
    """Hands the parser one line per read, so the line a quad was emitted on is known."""

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)
        self._completed = 0
        #: the 1-based line of the last bytes handed out
        self.line = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        chunk = self._buffer.readline(len(target))
        if chunk:
            self.line = self._completed + 1
            if chunk.endswith(b"\n"):
                self._completed += 1
        target[: len(chunk)] = chunk
        return len(chunk)


#: parsers that emit a quad as soon as its last term is read, so the read position is its line
#: (the JSON-LD parser may hold a quad back until it has seen the node's ``@id``)
_STREAMING_LINES = frozenset({"turtle", "ntriples", "nquads", "trig", "n3", "rdfxml"})


def parse_file_lines(path: Path, *, fmt: RdfFormatInfo | None = None) -> list[tuple[ox.Quad, int | None]]:
    """Every quad of an RDF file with the 1-based line it ends on (None where the format cannot say).

    Errors as :func:`parse_file`. The line of a triple is the line of its object (of the
    closing ``]`` or ``)`` for a blank node or list written in place).
    """
    fmt, data = _checked_bytes(path, fmt)
    base = path.resolve().as_uri()
    try:
        if fmt.name not in _STREAMING_LINES:
            return [(q, None) for q in ox.parse(data, format=fmt.oxigraph, base_iri=base)]
        reader = _LineReader(data)
        return [(q, reader.line) for q in ox.parse(reader, format=fmt.oxigraph, base_iri=base)]
    except (SyntaxError, ValueError, UnicodeDecodeError) as exc:
        raise _syntax_error(path, fmt, exc) from None


def to_rdflib_term(term: object) -> URIRef | BNode | Literal:
    """A pyoxigraph term as an rdflib term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        # the lexical form as written: "01"^^xsd:integer stays "01" (sh:pattern, sh:maxLength and
        # sh:datatype read the lexical form; rdflib would otherwise rewrite it to "1")
        return Literal(term.value, datatype=URIRef(term.datatype.value), normalize=False)
    raise TypeError(f"unsupported RDF term {term!r}")


def to_oxigraph_term(term: object) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as a pyoxigraph term (the lexical form kept as it is)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"unsupported RDF term {term!r}")


def quads_to_graph(quads: Iterable[ox.Quad | ox.Triple], graph: Graph | None = None) -> Graph:
    """Add the triples of ``quads`` (graph names dropped: the union) to an rdflib graph."""
    out = Graph() if graph is None else graph
    for q in quads:
        out.add((to_rdflib_term(q.subject), to_rdflib_term(q.predicate), to_rdflib_term(q.object)))  # type: ignore[arg-type]
    return out


def read_graph(paths: Iterable[Path]) -> Graph:
    """The union of several RDF files as one rdflib graph."""
    graph = Graph()
    for path in paths:
        quads_to_graph(parse_file(path), graph)
    return graph

