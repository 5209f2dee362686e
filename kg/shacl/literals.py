"""Literals kept exactly as written while validating.

pyoxigraph stores literals of the XSD types it understands in a canonical binary form:
"4.0"^^xsd:decimal comes back as "4", "01"^^xsd:integer as "1", and every integer
subtype as ``xsd:integer`` ("5"^^xsd:byte as "5"^^xsd:integer). SHACL reads the
lexical form (``sh:pattern``, ``sh:minLength``), the datatype (``sh:datatype``) and
compares terms (``sh:in``, ``sh:hasValue``), so a validation store that rewrote them
would report wrong results. Before data enters an exact validation store, such literals
get a private datatype IRI that pyoxigraph leaves alone (:func:`protect`); the compiled
checks know the encoding (:mod:`kg.shacl.compiler` and :mod:`kg.shacl.patterns`: datatype,
well-formedness, ranges and comparisons by value), and results get the original term back (:func:`restore`).
"""

from __future__ import annotations

import re

import pyoxigraph as ox
from rdflib.namespace import XSD

__all__ = [
    "CAST",
    "INTEGER_RANGES",
    "PROTECTED",
    "may_hold_rewritten",
    "protect",
    "protect_ntriples",
    "protected_iri",
    "restore",
]

#: integer subtypes, with their value ranges (None: unbounded)
INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    "int": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127),
    "nonNegativeInteger": (0, None),
    "nonPositiveInteger": (None, 0),
    "positiveInteger": (1, None),
    "negativeInteger": (None, -1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}
#: every XSD type pyoxigraph stores in canonical form → the XSD cast that reads its value
CAST: dict[str, str] = {
    **{name: str(XSD.integer) for name in INTEGER_RANGES},
    **{
        name: str(XSD[name])
        for name in ["integer", "decimal", "double", "float", "boolean", "dateTime", "date", "time", "gYear", "gYearMonth", "gMonth", "gMonthDay", "gDay", "duration", "yearMonthDuration", "dayTimeDuration"]
    },
    "dateTimeStamp": str(XSD.dateTime),
}
PROTECTED = "urn:x-negotiation-kg:literal:"
_BY_XSD = {str(XSD[name]): PROTECTED + name for name in CAST}
_BY_PRIVATE = {v: k for k, v in _BY_XSD.items()}
_PRIVATE_NODES = {k: ox.NamedNode(v) for k, v in _BY_XSD.items()}
_NAMES = b"(?:" + b"|".join(n.encode() for n in INTEGER_RANGES) + rb")\b"
#: two patterns that each start with a literal byte: re's fast prefix search makes one pass
#: over 120 MB take a fraction of a second, where one pattern starting with [#:] takes seconds
_MENTIONS = (re.compile(b"#" + _NAMES), re.compile(b":" + _NAMES))


def protected_iri(xsd_iri: str) -> str | None:
    """The private datatype IRI standing for ``xsd_iri``, or None when it needs none."""
    return _BY_XSD.get(xsd_iri)


def protect(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """``term`` with a private datatype if pyoxigraph would store it rewritten."""
    if type(term) is ox.Literal:
        private = _PRIVATE_NODES.get(term.datatype.value)
        if private is not None:
            return ox.Literal(term.value, datatype=private)
    return term


def restore(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """The literal as written in the data."""
    if isinstance(term, ox.Literal) and term.language is None:
        original = _BY_PRIVATE.get(term.datatype.value)
        if original is not None:
            return ox.Literal(term.value, datatype=ox.NamedNode(original))
    return term


#: N-Triples and N-Quads write every datatype as a full IRI: its namespace is a long
#: literal prefix, which the scan finds about four times faster than ``#`` or ``:``
_FULL_IRI_MENTION = re.compile(rb"XMLSchema#" + _NAMES)


def may_hold_rewritten(data: bytes, *, full_iris: bool = False) -> bool:
    """A cheap scan: could this serialization use an integer subtype (which a store
    loaded without :func:`protect` would turn into ``xsd:integer``)? ``full_iris``: the
    format writes datatypes as full IRIs (N-Triples, N-Quads). Neither scan sees a
    datatype IRI written with ``\\u`` escapes."""
    if full_iris:
        return _FULL_IRI_MENTION.search(data) is not None
    return any(pattern.search(data) is not None for pattern in _MENTIONS)


_NT_REWRITES = {f"^^<{xsd}>".encode(): f"^^<{private}>".encode() for xsd, private in _BY_XSD.items()}
#: every rewritten datatype starts with this text: one regular expression with a literal
#: prefix finds them all in one pass (a replacement per datatype makes one pass each)
_NT_TYPED = re.compile(b"|".join(re.escape(old) for old in sorted(_NT_REWRITES, key=len, reverse=True)))


def protect_ntriples(data: bytes) -> bytes:
    """N-Triples or N-Quads text with :func:`protect` applied to every typed literal: in
    these formats a datatype is always written ``^^<IRI>``, so a byte replacement does it
    (at memory speed, where a term-by-term rewrite costs a Python call per triple)."""
    return _NT_TYPED.sub(lambda m: _NT_REWRITES[m.group(0)], data)
