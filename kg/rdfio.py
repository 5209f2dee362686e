"""Read RDF files with errors that name file, line and column; move data into rdflib.

pyoxigraph parses (fast, with precise positions); rdflib is the model pyshacl and
owlready2 work with.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, cast

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from kg.config import Settings
from kg.errors import InputError, Location
from kg.formats import RdfFormatInfo, rdf_extensions, rdf_format_for_path
from kg.rdfguard import screen_rdf

__all__ = [
    "graph_to_store",
    "graph_to_triples",
    "iter_file_lines",
    "format_of",
    "parse_error",
    "parse_file",
    "parse_file_lines",
    "quads_to_graph",
    "read_graph",
    "store_label",
    "to_oxigraph_term",
    "to_rdflib_term",
]

_POSITION = re.compile(r"line (\d+) column (\d+)|on line (\d+) at column (\d+)|(\d+):(\d+)")


def _location(path: Path, message: str) -> Location:
    match = _POSITION.search(message)
    if match:
        nums = [int(n) for n in match.groups() if n is not None]
        return Location(str(path), nums[0], nums[1])
    return Location(str(path))


def format_of(path: Path, fmt: RdfFormatInfo | None) -> RdfFormatInfo:
    found = fmt or rdf_format_for_path(path)
    if found is None:
        raise InputError(
            f"unknown RDF format (use one of the extensions {rdf_extensions()})", location=Location(str(path))
        )
    return found


#: files read here are screened with the default limit (:func:`kg.rdfguard.screen_rdf`)
_MAX_NESTING = Settings.max_nesting


def _checked_bytes(path: Path, fmt: RdfFormatInfo | None) -> tuple[RdfFormatInfo, bytes]:
    """The file's format and contents; :class:`InputError` for an unknown format, an unreadable
    or empty file, and what :func:`kg.rdfguard.screen_rdf` refuses (deep nesting, XML entities)."""
    found = format_of(path, fmt)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(str(path))) from None
    if not data.strip():
        raise InputError("the file is empty", location=Location(str(path)))
    screen_rdf(data, found, str(path), max_nesting=_MAX_NESTING)
    return found, data


def parse_error(path: Path, fmt: RdfFormatInfo, exc: Exception) -> InputError:
    """A parser's complaint as :class:`InputError` naming file, line and column."""
    if isinstance(exc, SyntaxError):
        message = str(exc)
        loc = _location(path, message)
        if exc.lineno and loc.line is None:
            loc = Location(str(path), exc.lineno, exc.offset)
        return InputError(f"{fmt.name} syntax error: {message}", location=loc)
    if isinstance(exc, OSError):
        return InputError(f"cannot read: {exc.strerror}", location=Location(str(path)))
    return InputError(f"{fmt.name}: {exc}", location=Location(str(path)))


def parse_file(path: Path, *, fmt: RdfFormatInfo | None = None) -> list[ox.Quad]:
    """Every quad of an RDF file; :class:`InputError` (exit 2) when it cannot be read."""
    fmt, data = _checked_bytes(path, fmt)
    try:
        return list(ox.parse(data, format=fmt.oxigraph, base_iri=path.resolve().as_uri()))
    except (SyntaxError, ValueError, UnicodeDecodeError) as exc:
        raise parse_error(path, fmt, exc) from None


def store_label(store: ox.Store, node: object) -> URIRef | BNode | Literal | None:
    """The first ``rdfs:label`` of an IRI in the store's default graph (what reports name a
    focus node by); None for a blank node or literal, or an IRI without one."""
    if not isinstance(node, URIRef):
        return None
    found = next(iter(store.quads_for_pattern(ox.NamedNode(str(node)), _LABEL, None, ox.DefaultGraph())), None)
    return to_rdflib_term(found.object) if found is not None else None


_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")


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
    return list(iter_file_lines(path, fmt=fmt))


def iter_file_lines(path: Path, *, fmt: RdfFormatInfo | None = None, data: bytes | None = None) -> Iterator[tuple[ox.Quad, int | None]]:
    """:func:`parse_file_lines` one quad at a time, so that a reader keeping a few of them
    never holds all of a large file's quads; ``data``: these bytes, in the file's format,
    instead of the file's (errors name the file)."""
    if data is None:
        fmt, data = _checked_bytes(path, fmt)
    else:
        fmt = format_of(path, fmt)
    base = path.resolve().as_uri()
    try:
        if fmt.name not in _STREAMING_LINES:
            yield from ((q, None) for q in ox.parse(data, format=fmt.oxigraph, base_iri=base))
            return
        reader = _LineReader(data)
        # cast: pyoxigraph reads from any object with read(); its stub asks for IO[bytes]
        yield from ((q, reader.line) for q in ox.parse(cast(IO[bytes], reader), format=fmt.oxigraph, base_iri=base))
    except (SyntaxError, ValueError, UnicodeDecodeError) as exc:
        raise parse_error(path, fmt, exc) from None


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def to_rdflib_term(term: object) -> URIRef | BNode | Literal:
    """A pyoxigraph term as an rdflib term.

    A simple literal comes back as rdflib's plain literal, not typed ``xsd:string``: RDF 1.1
    says they are the same, but rdflib compares them as different, so shapes with
    ``sh:in``/``sh:hasValue`` on strings, and graph comparisons, would fail on data read
    back from the store.
    """
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == _XSD_STRING:
            return Literal(term.value)
        # the lexical form as written: "01"^^xsd:integer stays "01" (sh:pattern, sh:maxLength and
        # sh:datatype read the lexical form; rdflib would otherwise rewrite it to "1")
        return Literal(term.value, datatype=URIRef(term.datatype.value), normalize=False)
    raise TypeError(f"unsupported RDF term {term!r}")


_BNODE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def to_oxigraph_term(term: object) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as a pyoxigraph term: the lexical form kept, and blank node labels
    too where pyoxigraph accepts them (others become a stable hash of the label)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        label = str(term)
        return ox.BlankNode(label if _BNODE_ID.match(label) else "b" + hashlib.sha1(label.encode()).hexdigest())
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"unsupported RDF term {term!r}")


def graph_to_store(
    graph: Graph,
    store: ox.Store | None = None,
    *,
    convert: Callable[[object], ox.NamedNode | ox.BlankNode | ox.Literal] = to_oxigraph_term,
    graph_name: ox.NamedNode | ox.DefaultGraph | None = None,
) -> ox.Store:
    """Copy an rdflib graph into a graph of a pyoxigraph store (by default the default graph
    of a new in-memory store); ``convert`` maps each term (validation keeps integer subtypes
    apart with it)."""
    out = ox.Store() if store is None else store
    target = graph_name or ox.DefaultGraph()
    out.extend(ox.Quad(convert(s), convert(p), convert(o), target) for s, p, o in graph)  # type: ignore[arg-type]
    return out


def graph_to_triples(graph: Graph) -> list[ox.Triple]:
    """The triples of an rdflib graph as pyoxigraph triples."""
    return [ox.Triple(to_oxigraph_term(s), to_oxigraph_term(p), to_oxigraph_term(o)) for s, p, o in graph]  # type: ignore[arg-type]


def quads_to_graph(quads: Iterable[ox.Quad | ox.Triple], graph: Graph | None = None) -> Graph:
    """Add the triples of ``quads`` (graph names dropped: the union) to an rdflib graph."""
    out = Graph() if graph is None else graph
    for q in quads:
        out.add((to_rdflib_term(q.subject), to_rdflib_term(q.predicate), to_rdflib_term(q.object)))
    return out


def read_graph(paths: Iterable[Path]) -> Graph:
    """The union of several RDF files as one rdflib graph."""
    graph = Graph()
    for path in paths:
        quads_to_graph(parse_file(path), graph)
    return graph

