"""Read RDF files with errors that name file, line and column; move data into rdflib.

pyoxigraph parses (fast, with precise positions); rdflib is the model pyshacl and
owlready2 work with.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from .errors import InputError, Location
from .formats import RdfFormatInfo, rdf_format_for_path

__all__ = [
    "XML_PROLOG_BYTES",
    "refuse_xml_entities",
    "parse_file", "to_rdflib_term", "to_ox_term", "quads_to_graph", "graph_to_triples", "read_graph"]

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


def parse_file(path: Path, *, fmt: RdfFormatInfo | None = None) -> list[ox.Quad]:
    """Every quad of an RDF file; :class:`InputError` (exit 2) when it cannot be read."""
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
    if fmt.name == "rdfxml":
        refuse_xml_entities(data[:XML_PROLOG_BYTES], str(path))
    try:
        return list(ox.parse(data, format=fmt.oxigraph, base_iri=path.resolve().as_uri()))
    except SyntaxError as exc:
        message = str(exc)
        loc = _location(path, message)
        if exc.lineno and loc.line is None:
            loc = Location(str(path), exc.lineno, exc.offset)
        raise InputError(f"{fmt.name} syntax error: {message}", location=loc) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{fmt.name}: {exc}", location=Location(str(path))) from None


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
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"unsupported RDF term {term!r}")


def to_ox_term(term: object) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as a pyoxigraph term."""
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


_BNODE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def graph_to_triples(graph: Graph) -> list[ox.Triple]:
    """The triples of an rdflib graph as pyoxigraph triples."""
    return [ox.Triple(to_ox_term(s), to_ox_term(p), to_ox_term(o)) for s, p, o in graph]  # type: ignore[arg-type]


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

