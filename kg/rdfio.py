"""Read RDF files with errors that name file, line and column; move data into rdflib.

pyoxigraph parses (fast, with precise positions); rdflib is the model pyshacl and
owlready2 work with.
"""

from __future__ import annotations

import mmap
import re
from contextlib import contextmanager
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from .errors import InputError, Location
from .formats import RdfFormatInfo, rdf_format_for_path

__all__ = ["parse_file", "load_for_validation", "to_rdflib_term", "to_oxigraph_term", "quads_to_graph", "graph_to_store", "read_graph"]

_POSITION = re.compile(r"line (\d+) column (\d+)|on line (\d+) at column (\d+)|(\d+):(\d+)")


def _location(path: Path, message: str) -> Location:
    match = _POSITION.search(message)
    if match:
        nums = [int(n) for n in match.groups() if n is not None]
        return Location(str(path), nums[0], nums[1])
    return Location(str(path))


def _format(path: Path, fmt: RdfFormatInfo | None) -> RdfFormatInfo:
    found = fmt or rdf_format_for_path(path)
    if found is None:
        raise InputError(
            "unknown RDF format (use a .ttl, .nt, .nq, .trig, .jsonld or .rdf extension)", location=Location(str(path))
        )
    return found


@contextmanager
def _parse_errors(path: Path, fmt: RdfFormatInfo) -> Iterator[None]:
    """Parser errors as :class:`InputError` naming file, line and column."""
    try:
        yield
    except SyntaxError as exc:
        message = str(exc)
        loc = _location(path, message)
        if exc.lineno and loc.line is None:
            loc = Location(str(path), exc.lineno, exc.offset)
        raise InputError(f"{fmt.name} syntax error: {message}", location=loc) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{fmt.name}: {exc}", location=Location(str(path))) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(str(path))) from None


def parse_file(path: Path, *, fmt: RdfFormatInfo | None = None) -> list[ox.Quad]:
    """Every quad of an RDF file; :class:`InputError` (exit 2) when it cannot be read."""
    fmt = _format(path, fmt)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(str(path))) from None
    if not data.strip():
        raise InputError("the file is empty", location=Location(str(path)))
    with _parse_errors(path, fmt):
        return list(ox.parse(data, format=fmt.oxigraph, base_iri=path.resolve().as_uri()))


def load_for_validation(store: ox.Store, path: Path, *, fmt: RdfFormatInfo | None = None) -> None:
    """Load an RDF file into the default graph of ``store`` for validation.

    Files that may use integer subtypes (which the store would rewrite) are read term by
    term and keep them under a private datatype (:mod:`kg.shacl.literals`); the others
    go through pyoxigraph's bulk loader untouched. Named graphs are merged: SHACL
    validates one data graph.
    """
    from .shacl.literals import may_hold_protected, protect

    fmt = _format(path, fmt)
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            if len(view) < 65536 and not bytes(view).strip():
                raise ValueError("blank")
            risky = may_hold_protected(view)  # type: ignore[arg-type]
    except ValueError:
        raise InputError("the file is empty", location=Location(str(path))) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(str(path))) from None
    base = path.resolve().as_uri()
    with _parse_errors(path, fmt):
        if risky:
            quads = ox.parse(path=str(path), format=fmt.oxigraph, base_iri=base)
            store.extend(ox.Quad(q.subject, q.predicate, protect(q.object)) for q in quads)  # type: ignore[arg-type]
        else:
            store.bulk_load(path=str(path), format=fmt.oxigraph, base_iri=base, to_graph=ox.DefaultGraph())



def to_rdflib_term(term: object) -> URIRef | BNode | Literal:
    """A pyoxigraph term as an rdflib term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"unsupported RDF term {term!r}")


def to_oxigraph_term(term: object) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as a pyoxigraph term (blank node labels kept)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)) if term.datatype else None)
    raise TypeError(f"unsupported RDF term {term!r}")


def graph_to_store(
    graph: Graph, store: ox.Store | None = None, *, convert: Callable[[object], ox.NamedNode | ox.BlankNode | ox.Literal] = to_oxigraph_term
) -> ox.Store:
    """Copy an rdflib graph into the default graph of a pyoxigraph store (in memory by
    default); ``convert`` maps each term (validation keeps integer subtypes apart with it)."""
    out = ox.Store() if store is None else store
    out.extend(ox.Quad(convert(s), convert(p), convert(o)) for s, p, o in graph)  # type: ignore[arg-type]
    return out


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

