"""The SPARQL and N-Triples text the remote store sends and reads.

What kind of answer a query gives (read with :mod:`kg.sparql.lexer`, so a keyword inside a
string or comment is not one), the graphs a query names, N-Triples in chunks that keep
blank nodes together, and the one ``DELETE … INSERT … WHERE`` operation that commits a
write (:func:`swap_update`): pure functions of their arguments, kept apart from the
:class:`~kg.store.remote.RemoteStore` that talks to the server.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import cast

import pyoxigraph as ox

from kg.errors import InputError, QueryError
from kg.formats import QueryKind
from kg.namespaces import RDF, SD
from kg.rdfguard import TRIPLE_TERMS
from kg.sparql.lexer import Kind, code_tokens, iri_value
from kg.store.base import GraphWrite, WriteMode, iri_ref

__all__ = ["chunks", "named_in_text", "ntriples", "query_kind", "swap_update"]

_FORMS = {"SELECT": QueryKind.SOLUTIONS, "ASK": QueryKind.BOOLEAN, "CONSTRUCT": QueryKind.GRAPH,
          "DESCRIBE": QueryKind.GRAPH}


def query_kind(sparql: str) -> tuple[QueryKind, bool]:
    """The kind of result a query gives, and whether it names its own dataset (FROM / FROM NAMED).

    Raises :class:`QueryError` when the text is no SELECT, ASK, CONSTRUCT or DESCRIBE query.
    """
    words = [token.text.upper() for token in code_tokens(sparql) if token.kind is Kind.WORD]
    form = next((w for w in words if w in _FORMS), None)
    if form is None:
        raise QueryError("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")
    return _FORMS[form], "FROM" in words


def named_in_text(sparql: str) -> list[str]:
    """The IRIs written after ``GRAPH`` in a query's text."""
    code = code_tokens(sparql)
    return [iri_value(after) for word, after in zip(code, code[1:])
            if word.is_word("GRAPH") and after.kind is Kind.IRI]


def ntriples(triples: list[ox.Triple]) -> bytes:
    # cast: pyoxigraph's stub says bytes | None for every call; without an output it returns the bytes
    return cast(bytes, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))


def chunks(triples: Iterable[ox.Triple], size: int) -> Iterator[bytes]:
    """N-Triples of ``triples`` in pieces of at most ``size`` triples; every triple with a blank
    node goes into the last piece, so each blank node stays one node on the server (a server
    scopes blank node labels to one request). Triple terms are refused
    (:data:`kg.rdfguard.TRIPLE_TERMS`): every upload to a remote store passes here, files
    parsed as they stream included."""
    with_bnodes: list[ox.Triple] = []
    piece: list[ox.Triple] = []
    for triple in triples:
        if isinstance(triple.object, ox.Triple) or isinstance(triple.subject, ox.Triple):
            raise InputError(f"{TRIPLE_TERMS} (found in {triple})")  # the server could not parse them back
        if isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode):
            with_bnodes.append(triple)
            continue
        piece.append(triple)
        if len(piece) >= size:
            yield ntriples(piece)
            piece = []
    for rest in (piece, with_bnodes):
        if rest:
            yield ntriples(rest)


def _rows_of(rows: Iterable[tuple[str, str]]) -> str:
    """Rows of a VALUES block of IRIs."""
    return " ".join("(" + " ".join(f"<{x}>" for x in row) + ")" for row in rows)


def swap_update(writes: Sequence[GraphWrite], *, catalogue: str, union: str) -> str:
    """The one ``DELETE … INSERT … WHERE`` operation that applies ``writes``.

    Its WHERE is evaluated once, before anything changes, so: each replaced or dropped
    graph loses its content; the union loses those triples no other graph of the
    catalogue holds; the catalogue loses the entries of dropped graphs and gains those of
    new ones; and the staged content goes into its target and into the union.
    (:meth:`RemoteStore.commit` refuses first an addition to a graph the catalogue does
    not list but the server holds triples in.)
    """
    for name in {n for w in writes for n in (w.graph, *w.staged)}:
        iri_ref(name)  # InputError for text that is no IRI, before it reaches the update
    gone = sorted({w.graph for w in writes if w.mode in (WriteMode.REPLACE, WriteMode.DROP)})
    filled = sorted({w.graph for w in writes if w.mode in (WriteMode.REPLACE, WriteMode.ADD)})
    dropped = sorted(set(gone) - set(filled))
    copies = [(s, w.graph) for w in writes if w.mode in (WriteMode.REPLACE, WriteMode.ADD) for s in w.staged]
    listed = f"BIND(<{RDF.type}> AS ?p) BIND(<{SD.NamedGraph}> AS ?o)"
    delete_listed = f"BIND(<{catalogue}> AS ?dg) BIND(<{RDF.type}> AS ?dp) BIND(<{SD.NamedGraph}> AS ?do)"
    blocks: list[str] = []
    if gone:
        values = " ".join(f"<{g}>" for g in gone)
        blocks += [
            f"{{ VALUES ?dg {{ {values} }} GRAPH ?dg {{ ?ds ?dp ?do }} }}",
            f"{{ VALUES ?rg {{ {values} }} GRAPH ?rg {{ ?ds ?dp ?do }} "
            f"FILTER NOT EXISTS {{ GRAPH <{catalogue}> {{ ?kg a <{SD.NamedGraph}> }} "
            f"FILTER (?kg NOT IN ({', '.join(f'<{g}>' for g in gone)})) GRAPH ?kg {{ ?ds ?dp ?do }} }} "
            f"BIND(<{union}> AS ?dg) }}",
        ]
    if dropped:
        blocks.append(f"{{ VALUES ?ds {{ {' '.join(f'<{g}>' for g in dropped)} }} {delete_listed} }}")
    if filled:
        blocks.append(f"{{ VALUES ?s {{ {' '.join(f'<{g}>' for g in filled)} }} BIND(<{catalogue}> AS ?ig) {listed} }}")
    if copies:
        blocks.append(f"{{ VALUES (?src ?ig) {{ {_rows_of(copies)} {_rows_of((s, union) for s, _ in copies)} }} "
                      "GRAPH ?src { ?s ?p ?o } }")
    return ("DELETE { GRAPH ?dg { ?ds ?dp ?do } }\nINSERT { GRAPH ?ig { ?s ?p ?o } }\nWHERE {\n  "
            + "\n  UNION ".join(blocks) + "\n}")
