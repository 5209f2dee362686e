"""Data loaded into a pyoxigraph store for validation, literals kept as written where it matters.

SHACL reads literals as written (``"04"^^xsd:int`` is not ``"4"^^xsd:integer``), pyoxigraph
stores them canonically; :mod:`kg.shacl.literals` hides the difference under private
datatypes, and this module loads files that way (``exact``) or with pyoxigraph's own
loaders when the file is too large or holds nothing it would rewrite. It belongs to the
engine, not to the generic reading of RDF in :mod:`kg.rdfio`, which knows nothing of SHACL.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from kg.config import Settings
from kg.errors import InputError, Location
from kg.formats import RdfFormatInfo
from kg.rdfguard import screen_rdf
from kg.rdfio import format_of, parse_error
from kg.shacl.literals import may_hold_rewritten, protect, protect_ntriples

__all__ = ["load_for_validation", "load_in_graph", "mentions_integer_subtypes", "with_predicates"]


def mentions_integer_subtypes(path: Path) -> bool:
    """Whether an RDF file may use an integer subtype (a quick scan of its bytes), which
    a store loaded without :func:`kg.shacl.literals.protect` would rewrite."""
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return may_hold_rewritten(view, full_iris=format_of(path, None).name in ("ntriples", "nquads"))  # type: ignore[arg-type]
    except ValueError:  # an empty file cannot be mapped; the loader says what is wrong
        return False
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(str(path))) from None


#: N-Triples/N-Quads files up to this size are loaded exactly by rewriting their bytes
_REWRITE_BYTES = 256 * 1024 * 1024


#: how much of a file is read to tell an empty one
_HEAD_BYTES = 64 * 1024


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
    fmt = format_of(path, fmt)
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
        if not head.strip() and path.stat().st_size <= len(head):
            raise InputError("the file is empty", location=Location(str(path)))
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(str(path))) from None
    # nesting that would crash a parser, XML entities that would expand without limit
    screen_rdf(path, fmt, str(path), max_nesting=Settings.max_nesting)
    base = path.resolve().as_uri()
    try:
        if exact and fmt.name in ("ntriples", "nquads") and path.stat().st_size <= _REWRITE_BYTES:
            data = path.read_bytes()
            # the native copy must share blank nodes with the exact one, which two bulk loads do not
            if native is None or b"_:" not in data:
                load_in_graph(store, protect_ntriples(data), fmt, base, in_memory=in_memory)
                if native is not None:
                    native_data = with_predicates(data, native_predicates) if native_predicates is not None else None
                    load_in_graph(store, data if native_data is None else native_data, fmt, base, native, in_memory=in_memory)
                return
        if exact:
            quads = ox.parse(path=str(path), format=fmt.oxigraph, base_iri=base)
            store.bulk_extend(_exact_quads(quads, native, native_predicates))
        else:
            load_in_graph(store, path, fmt, base, in_memory=in_memory)
    except (SyntaxError, ValueError, UnicodeDecodeError, OSError) as exc:
        raise parse_error(path, fmt, exc) from None


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


def _exact_quads(
    quads: Iterable[ox.Quad], native: ox.NamedNode | None, native_predicates: frozenset[str] | None
) -> Iterator[ox.Quad]:
    default = ox.DefaultGraph()
    for q in quads:
        yield ox.Quad(q.subject, q.predicate, protect(q.object), default)  # type: ignore[arg-type]
        if native is not None and (native_predicates is None or q.predicate.value in native_predicates):
            yield ox.Quad(q.subject, q.predicate, q.object, native)


def with_predicates(data: bytes, predicates: frozenset[str]) -> bytes | None:
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
