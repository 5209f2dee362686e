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
from functools import partial

from rdflib import URIRef, Variable
from rdflib.paths import MulPath, NegatedPath, Path, ZeroOrMore, ZeroOrOne
from rdflib.plugins.sparql.algebra import translatePName, translatePrologue, traverse
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

__all__ = ["Unbounded", "query_predicates"]

#: patterns that read graphs other than the default one, or another endpoint
_OTHER_GRAPHS = frozenset({"GraphGraphPattern", "ServiceGraphPattern"})


class Unbounded(Exception):
    """The query can read triples of any predicate."""


def query_predicates(query: str) -> frozenset[str]:
    """Every IRI ``query`` names, which includes each predicate its patterns can match;
    :class:`Unbounded` when a pattern can match any predicate.

    The parse tree is read, not rdflib's algebra: translating it drops filters nested in
    ``EXISTS`` groups. Every IRI counts (a superset of the predicates: a copy with a few
    more triples answers the same)."""
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
    return frozenset(found)


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
    elif isinstance(node, Path):
        for value in vars(node).values():
            _walk(value, found)
    elif isinstance(node, CompValue):
        if node.name in _OTHER_GRAPHS:
            raise Unbounded(f"the query reads through {node.name}")
        if node.name == "pname":
            raise Unbounded("a prefixed name without a declared prefix")
        for triples in dict.get(node, "triples") or ():
            for predicate in list(triples)[1::3]:
                if isinstance(predicate, Variable):
                    raise Unbounded(f"a pattern with the variable predicate ?{predicate}")
        for key, value in node.items():
            if key != "_vars":
                _walk(value, found)
    elif isinstance(node, dict):
        for value in node.values():
            _walk(value, found)
    elif isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
        for value in node:
            _walk(value, found)
