"""Literals pyoxigraph would rewrite, kept as they were written while validating.

pyoxigraph stores every integer subtype as ``xsd:integer`` ("5"^^xsd:byte comes back as
"5"^^xsd:integer), so ``sh:datatype xsd:integer`` would accept a byte and
``sh:datatype xsd:byte`` would reject one. Before data enters a validation store, such
literals get a private datatype IRI that pyoxigraph leaves alone; the compiled checks
know the encoding (datatype, range and comparisons) and results get the original back.
"""

from __future__ import annotations

import re

import pyoxigraph as ox
from rdflib.namespace import XSD

__all__ = ["INTEGER_RANGES", "PROTECTED", "may_hold_protected", "protect", "protected_iri", "restore"]

#: integer subtypes pyoxigraph rewrites, with their value ranges (None: unbounded)
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
PROTECTED = "urn:x-negotiation-kg:literal:"
_BY_XSD = {str(XSD[name]): PROTECTED + name for name in INTEGER_RANGES}
_BY_PRIVATE = {v: k for k, v in _BY_XSD.items()}
_NAMES = b"(?:" + b"|".join(n.encode() for n in INTEGER_RANGES) + rb")\b"
#: two patterns that each start with a literal byte: re's fast prefix search makes one pass
#: over 120 MB take a fraction of a second, where one pattern starting with [#:] takes seconds
_MENTIONS = (re.compile(b"#" + _NAMES), re.compile(b":" + _NAMES))


def protected_iri(xsd_iri: str) -> str | None:
    """The private datatype IRI standing for ``xsd_iri``, or None when it needs none."""
    return _BY_XSD.get(xsd_iri)


def protect(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """``term`` with a private datatype if pyoxigraph would rewrite its datatype."""
    if isinstance(term, ox.Literal):
        private = _BY_XSD.get(term.datatype.value)
        if private is not None:
            return ox.Literal(term.value, datatype=ox.NamedNode(private))
    return term


def restore(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """The literal as written in the data."""
    if isinstance(term, ox.Literal) and term.language is None:
        original = _BY_PRIVATE.get(term.datatype.value)
        if original is not None:
            return ox.Literal(term.value, datatype=ox.NamedNode(original))
    return term


def may_hold_protected(data: bytes) -> bool:
    """A cheap scan: could this serialization use one of the rewritten datatypes?"""
    return any(pattern.search(data) is not None for pattern in _MENTIONS)
