"""Which predicates a SPARQL query can read: so a copy of the data made for it can hold less.

With literals kept exactly as written (:mod:`kg.shacl.literals`), SPARQL constraints read a
second, native copy of the data. Loading that copy costs as much as loading the data, but a
constraint usually reads a handful of predicates: when every triple pattern and property
path of its query names its predicates, the copy needs only the triples with those
predicates (and those the shape's targets read). Anything the analysis cannot bound — a
variable or negated predicate, a ``GRAPH`` or ``SERVICE`` pattern, a query rdflib cannot
parse — means the whole data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial

from rdflib import URIRef, Variable
from rdflib.paths import MulPath, NegatedPath, Path, ZeroOrMore, ZeroOrOne
from rdflib.plugins.sparql.algebra import translatePName, translatePrologue, traverse
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

from kg.namespaces import RDF

__all__ = ["Reads", "Unbounded", "query_predicates", "query_reads"]

#: patterns that read graphs other than the default one, or another endpoint
_OTHER_GRAPHS = frozenset({"GraphGraphPattern", "ServiceGraphPattern"})


class Unbounded(Exception):
    """The query can read triples of any predicate."""


@dataclass(frozen=True)
class Reads:
    """What a query can read: the triples of ``predicates`` (every IRI it names, a
    superset), and of the ``rdf:type`` triples those whose class is in ``classes`` (None:
    any class, as a variable class or a path through ``rdf:type`` reads)."""

    predicates: frozenset[str]
    classes: frozenset[str] | None

    def __or__(self, other: Reads) -> Reads:
        classes = None if self.classes is None or other.classes is None else self.classes | other.classes
        return Reads(self.predicates | other.predicates, classes)


def query_predicates(query: str) -> frozenset[str]:
    """Every IRI ``query`` names, which includes each predicate its patterns can match;
    :class:`Unbounded` when a pattern can match any predicate (:func:`query_reads`)."""
    return query_reads(query).predicates


def query_reads(query: str) -> Reads:
    """What ``query`` can read (:class:`Reads`); :class:`Unbounded` when a pattern can
    match any predicate.

    The parse tree is read, not rdflib's algebra: translating it drops filters nested in
    ``EXISTS`` groups. Every IRI counts (a superset of the predicates: a copy with a few
    more triples answers the same). The classes are the objects of the patterns whose
    predicate is ``rdf:type`` alone; ``rdf:type`` with any other object, or inside a
    longer path, reads every class."""
    try:
        parsed = parseQuery(query)
        prologue = translatePrologue(parsed[0], None)
        tree = traverse(parsed[1], visitPost=partial(translatePName, prologue=prologue))
    except Exception as exc:  # rdflib's parser raises many kinds; any means "cannot tell"
        raise Unbounded(f"rdflib cannot read the query: {exc}") from None
    # CompValue.get answers a missing key with the key's name: read it as a dict
    if dict.get(tree, "datasetClause"):
        raise Unbounded("the query names its own dataset (FROM)")
    found: set[str] = set()
    _walk(tree, found)
    return Reads(frozenset(found), _classes(tree))


def _classes(tree: object) -> frozenset[str] | None:
    """The objects of the ``rdf:type`` patterns of a parse tree; None when some pattern can
    read a type triple of any class, or when ``rdf:type`` occurs anywhere else than in a
    pattern (a filter comparing a variable predicate with it, a place this reading does
    not know): only what is understood is bounded."""
    classes: set[str] = set()
    seen = 0
    for triple in _triples(tree):
        subject, predicate, object_ = triple
        seen += _type_count(subject) + _type_count(object_)
        named = _type_count(predicate)
        if not named:
            continue
        if named > 1 or _plain_iri(predicate) != RDF.type or not isinstance(object_, URIRef):
            return None
        classes.add(str(object_))
        seen += 1
    return frozenset(classes) if seen == _type_count(tree) else None


def _children(node: object) -> Iterable[object]:
    """The parts of a parse-tree node: a CompValue's values (not its variable list), a
    path's parts, a dict's values, a list's items; none for a term."""
    if isinstance(node, CompValue):
        return [value for key, value in node.items() if key != "_vars"]
    if isinstance(node, Path):
        return list(vars(node).values())
    if isinstance(node, dict):
        return node.values()
    if isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
        return node  # type: ignore[return-value]
    return ()


def _patterns(node: CompValue) -> Iterator[tuple[object, object, object]]:
    """The (subject, predicate, object) patterns a node of the parse tree holds itself."""
    for triples in dict.get(node, "triples") or ():
        terms = list(triples)
        yield from zip(terms[0::3], terms[1::3], terms[2::3])


def _triples(node: object) -> Iterator[tuple[object, object, object]]:
    """Every (subject, predicate, object) pattern of the parse tree, nested groups included."""
    if isinstance(node, CompValue):
        yield from _patterns(node)
    for child in _children(node):
        yield from _triples(child)


def _plain_iri(path: object) -> object:
    """The IRI a predicate is when it is one IRI (no path operator); else the path itself."""
    while isinstance(path, CompValue) and path.name in ("PathAlternative", "PathSequence", "PathElt"):
        parts = dict.get(path, "part")
        if path.name == "PathElt":
            if dict.get(path, "mod"):
                return path
            path = parts
        elif isinstance(parts, list) and len(parts) == 1:
            path = parts[0]
        else:
            return path
    return path


def _type_count(node: object) -> int:
    """How many times ``rdf:type`` occurs in a part of the parse tree."""
    if isinstance(node, URIRef):
        return int(node == RDF.type)
    return sum(_type_count(child) for child in _children(node))


#: an absolute IRI starts with a scheme
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def _walk(node: object, found: set[str]) -> None:
    if isinstance(node, URIRef):
        # rdflib keeps a prefixed name's escapes (ex:a\-b) and leaves some relative IRIs
        # unresolved, where pyoxigraph reads another IRI: its triples could be missed
        if "\\" in node or not _SCHEME.match(node):
            raise Unbounded(f"an IRI rdflib may read otherwise than pyoxigraph: {node}")
        found.add(str(node))
    elif isinstance(node, NegatedPath) or isinstance(node, CompValue) and node.name == "PathNegatedPropertySet":
        raise Unbounded("a negated property path")
    elif isinstance(node, MulPath) and node.mod in (ZeroOrMore, ZeroOrOne) or (
        isinstance(node, CompValue) and node.name == "PathElt" and dict.get(node, "mod") in ("*", "?")
    ):
        # a zero-length path matches every node of the graph, whatever its triples
        raise Unbounded("a property path that may have length zero (* or ?)")
    else:
        if isinstance(node, CompValue):
            if node.name in _OTHER_GRAPHS:
                raise Unbounded(f"the query reads through {node.name}")
            if node.name == "pname":
                raise Unbounded("a prefixed name without a declared prefix")
            for _, predicate, _ in _patterns(node):
                if isinstance(predicate, Variable):
                    raise Unbounded(f"a pattern with the variable predicate ?{predicate}")
        for child in _children(node):
            _walk(child, found)
