"""Read RDF files with errors that name file, line and column; move data into rdflib.

pyoxigraph parses (fast, with precise positions); rdflib is the model pyshacl and
owlready2 work with.
"""

from __future__ import annotations

import hashlib
import io
import mmap
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from kg.errors import InputError, Location
from kg.formats import RdfFormatInfo, rdf_format_for_path

__all__ = [
    "XML_PROLOG_BYTES",
    "graph_to_store",
    "graph_to_triples",
    "iter_file_lines",
    "load_for_validation",
    "load_in_graph",
    "mentions_integer_subtypes",
    "parse_file",
    "parse_file_lines",
    "quads_to_graph",
    "read_graph",
    "refuse_xml_entities",
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


#: how much of an RDF/XML document is searched for entity declarations (its DOCTYPE)
XML_PROLOG_BYTES = 64 * 1024
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


def refuse_xml_entities(head: bytes, where: str) -> None:
    """Refuse RDF/XML whose DOCTYPE declares entities.

    pyoxigraph's RDF/XML parser expands internal entities, nested ones included, so a
    few hundred bytes of declarations can expand to gigabytes ("billion laughs"); it
    refuses external ones. RDF/XML needs no entities of its own, so any declaration
    is refused before parsing. ``head`` is the start of the document
    (:data:`XML_PROLOG_BYTES`); a DOCTYPE that does not end within it is refused too.
    """
    match = _DOCTYPE.search(head)
    if match is None:
        return
    subset = head[match.end():]
    end = subset.find(b">") if b"[" not in subset.split(b">", 1)[0] else subset.find(b"]")
    if end < 0 or b"<!ENTITY" in subset[: end + 1].upper():
        line = head[: match.start()].count(b"\n") + 1
        raise InputError(
            "RDF/XML with entity declarations (<!ENTITY …> in a DOCTYPE) is not accepted: "
            "entities can expand without limit; write the values out",
            location=Location(where, line),
        )


def _format(path: Path, fmt: RdfFormatInfo | None) -> RdfFormatInfo:
    found = fmt or rdf_format_for_path(path)
    if found is None:
        raise InputError(
            "unknown RDF format (use a .ttl, .nt, .nq, .trig, .jsonld or .rdf extension)", location=Location(str(path))
        )
    return found


def _checked_bytes(path: Path, fmt: RdfFormatInfo | None) -> tuple[RdfFormatInfo, bytes]:
    """The file's format and contents; :class:`InputError` for an unknown format, an unreadable or empty file."""
    found = _format(path, fmt)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(str(path))) from None
    if not data.strip():
        raise InputError("the file is empty", location=Location(str(path)))
    if found.name == "rdfxml":
        refuse_xml_entities(data[:XML_PROLOG_BYTES], str(path))
    return found, data


def _syntax_error(path: Path, fmt: RdfFormatInfo, exc: Exception) -> InputError:
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
        raise _syntax_error(path, fmt, exc) from None


def mentions_integer_subtypes(path: Path) -> bool:
    """Whether an RDF file may use an integer subtype (a quick scan of its bytes), which
    a store loaded without :func:`kg.shacl.literals.protect` would rewrite."""
    from kg.shacl.literals import may_hold_rewritten

    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return may_hold_rewritten(view, full_iris=_format(path, None).name in ("ntriples", "nquads"))  # type: ignore[arg-type]
    except ValueError:  # an empty file cannot be mapped; the loader says what is wrong
        return False
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(str(path))) from None


#: N-Triples/N-Quads files up to this size are loaded exactly by rewriting their bytes
_REWRITE_BYTES = 256 * 1024 * 1024


def load_for_validation(
    store: ox.Store,
    path: Path,
    *,
    exact: bool,
    fmt: RdfFormatInfo | None = None,
    native: ox.NamedNode | None = None,
    native_predicates: frozenset[str] | None = None,
    in_memory: bool = False,
) -> None:
    """Load an RDF file into the default graph of ``store`` for validation.

    ``exact`` keeps every typed literal as written, under a private datatype
    (:mod:`kg.shacl.literals`), reading the file term by term; otherwise pyoxigraph's bulk
    loader takes it untouched and the store keeps literals in canonical form. Named graphs
    are merged into the default graph: SHACL validates one data graph. With ``exact``,
    ``native`` also receives each triple as pyoxigraph reads it (the same blank nodes);
    only those whose predicate is in ``native_predicates`` when it is given (what the
    SPARQL constraints read, :func:`kg.shacl.plan.native_predicates`).
    ``in_memory``: the store is in memory, where the ordinary loader is as fast as the
    bulk loader and needs far less memory at its peak (the bulk loader buffers batches).
    """
    fmt = _format(path, fmt)
    try:
        with path.open("rb") as handle:
            head = handle.read(XML_PROLOG_BYTES)
        if not head.strip() and path.stat().st_size <= len(head):
            raise InputError("the file is empty", location=Location(str(path)))
        if fmt.name == "rdfxml":
            refuse_xml_entities(head, str(path))
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(str(path))) from None
    base = path.resolve().as_uri()
    try:
        if exact and fmt.name in ("ntriples", "nquads") and path.stat().st_size <= _REWRITE_BYTES:
            data = path.read_bytes()
            # the native copy must share blank nodes with the exact one, which two bulk loads do not
            if native is None or b"_:" not in data:
                from kg.shacl.literals import protect_ntriples

                load_in_graph(store, protect_ntriples(data), fmt, base, in_memory=in_memory)
                if native is not None:
                    native_data = _with_predicates(data, native_predicates) if native_predicates is not None else None
                    load_in_graph(store, data if native_data is None else native_data, fmt, base, native, in_memory=in_memory)
                return
        if exact:
            quads = ox.parse(path=str(path), format=fmt.oxigraph, base_iri=base)
            store.bulk_extend(_exact_quads(quads, native, native_predicates))
        else:
            load_in_graph(store, path, fmt, base, in_memory=in_memory)
    except (SyntaxError, ValueError, UnicodeDecodeError, OSError) as exc:
        raise _syntax_error(path, fmt, exc) from None


def load_in_graph(
    store: ox.Store,
    source: Path | bytes,
    fmt: RdfFormatInfo,
    base_iri: str,
    graph: ox.NamedNode | ox.DefaultGraph | None = None,
    *,
    in_memory: bool = False,
) -> None:
    """Load a file (or its bytes) into one graph of ``store`` (the default graph unless
    ``graph``), whatever graphs it names: pyoxigraph's loaders put the quads of a format
    that names graphs (N-Quads, TriG) in those graphs whatever ``to_graph`` says, so those
    are read quad by quad. ``in_memory``: the ordinary loader (as fast as the bulk loader in
    memory, with far less memory at its peak). Parser errors are left to the caller."""
    target = ox.DefaultGraph() if graph is None else graph
    if fmt.datasets:
        quads = ox.parse(source, format=fmt.oxigraph, base_iri=base_iri) if isinstance(source, bytes) else ox.parse(
            path=str(source), format=fmt.oxigraph, base_iri=base_iri
        )
        store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, target) for q in quads)
        return
    load = store.load if in_memory else store.bulk_load
    if isinstance(source, bytes):
        load(source, format=fmt.oxigraph, base_iri=base_iri, to_graph=target)
    else:
        load(path=str(source), format=fmt.oxigraph, base_iri=base_iri, to_graph=target)


def store_label(store: ox.Store, node: object) -> URIRef | BNode | Literal | None:
    """The first ``rdfs:label`` of an IRI in the store's default graph (what reports name a
    focus node by); None for a blank node or literal, or an IRI without one."""
    if not isinstance(node, URIRef):
        return None
    found = next(iter(store.quads_for_pattern(ox.NamedNode(str(node)), _LABEL, None, ox.DefaultGraph())), None)
    return to_rdflib_term(found.object) if found is not None else None


_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")


def _exact_quads(
    quads: Iterable[ox.Quad], native: ox.NamedNode | None, native_predicates: frozenset[str] | None
) -> Iterator[ox.Quad]:
    from kg.shacl.literals import protect

    default = ox.DefaultGraph()
    for q in quads:
        yield ox.Quad(q.subject, q.predicate, protect(q.object), default)  # type: ignore[arg-type]
        if native is not None and (native_predicates is None or q.predicate.value in native_predicates):
            yield ox.Quad(q.subject, q.predicate, q.object, native)


def _with_predicates(data: bytes, predicates: frozenset[str]) -> bytes | None:
    """The lines of N-Triples or N-Quads text that name one of ``predicates`` anywhere (a
    superset of those whose predicate it is: a copy with a few more triples answers the
    same); None when a predicate may be written otherwise (``\\u`` escapes in the text), so
    the caller keeps every line.

    Each occurrence of a predicate's IRI is found by a byte search and widened to its line
    (between line feeds: a file whose lines end with a carriage return alone is one line
    here, kept whole), so nothing depends on how the terms of a line are spaced."""
    if b"\\u" in data or b"\\U" in data:
        return None
    lines: dict[int, int] = {}
    for predicate in predicates:
        token = f"<{predicate}>".encode()
        at = data.find(token)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end + 1
            lines[start] = end
            at = data.find(token, end)
    return b"".join(data[start : lines[start]] for start in sorted(lines))


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
        fmt = _format(path, fmt)
    base = path.resolve().as_uri()
    try:
        if fmt.name not in _STREAMING_LINES:
            yield from ((q, None) for q in ox.parse(data, format=fmt.oxigraph, base_iri=base))
            return
        reader = _LineReader(data)
        yield from ((q, reader.line) for q in ox.parse(reader, format=fmt.oxigraph, base_iri=base))
    except (SyntaxError, ValueError, UnicodeDecodeError) as exc:
        raise _syntax_error(path, fmt, exc) from None


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
        out.add((to_rdflib_term(q.subject), to_rdflib_term(q.predicate), to_rdflib_term(q.object)))  # type: ignore[arg-type]
    return out


def read_graph(paths: Iterable[Path]) -> Graph:
    """The union of several RDF files as one rdflib graph."""
    graph = Graph()
    for path in paths:
        quads_to_graph(parse_file(path), graph)
    return graph

