"""What the store says about a resource, read for its page: the queries, the triples by
subject with the labels of what they name, and the cutting of overlapping quotes into
segments.

Kept apart from :mod:`kg.server.linked_data`, which renders the pages and negotiates the
format, so the pages read as pages and the queries as queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from typing import Generic, TypeVar

import pyoxigraph as ox

from kg.namespaces import XSD, sparql_prologue
from kg.server.markup import term_link
from kg.store.base import Store

__all__ = ["CONTEXT_CHARS", "Description", "Segment", "describe", "labels_of", "literal_html", "segments"]

#: characters of document text shown on each side of a claim's quote
CONTEXT_CHARS = 300
_MAX_LITERAL = 2000
MAX_INCOMING = 500

#: the resource and the nodes hanging off it under its own IRI (claim#evidence, …)
DESCRIBE = sparql_prologue() + """
CONSTRUCT { ?s ?p ?o } WHERE {
  <{iri}> (nkg:evidence|nkg:asserts|nkg:estimate|oa:hasTarget|oa:hasSelector)* ?s .
  FILTER (?s = <{iri}> || STRSTARTS(STR(?s), "{iri}#"))
  ?s ?p ?o .
}"""
INCOMING = sparql_prologue() + """
SELECT DISTINCT ?s ?p WHERE { ?s ?p <{iri}> } ORDER BY ?p ?s LIMIT {limit}"""
INCOMING_COUNT = "SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p <{iri}> }}"
_LABELS = sparql_prologue() + "SELECT ?o ?label WHERE {{ VALUES ?o {{ {values} }} ?o rdfs:label ?label }}"
#: every quote located in a document: claim, offsets, label, kind
SPANS = sparql_prologue() + """
SELECT ?claim ?start ?end ?label ?kind WHERE {
  ?claim nkg:evidence/oa:hasTarget ?target .
  ?target oa:hasSource <{iri}> ; oa:hasSelector ?selector .
  ?selector oa:start ?start ; oa:end ?end .
  OPTIONAL { ?claim rdfs:label ?label }
  OPTIONAL { ?claim a ?kind . ?kind rdfs:subClassOf nkg:Claim }
} ORDER BY ?start ?end ?claim"""
#: claims that corroborate or contradict this one (the other direction of the page's own links)
REPLIES = sparql_prologue() + """
SELECT ?other ?p ?label WHERE {
  ?other ?p <{iri}> . FILTER (?p IN (nkg:corroborates, nkg:contradicts))
  OPTIONAL { ?other rdfs:label ?label }
} ORDER BY ?p ?other"""
GRAPH_SIZE = "SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"
GRAPH_CONTENT = "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"
TEXT = sparql_prologue() + "SELECT ?text WHERE {{ <{iri}> schema:text ?text }} LIMIT 1"


# --- overlapping quotes -------------------------------------------------------------------

T = TypeVar("T")


@dataclass
class Segment(Generic[T]):
    """A piece ``[start, end)`` of a text and the spans that cover all of it, in span order."""

    start: int
    end: int
    covering: list[T] = field(default_factory=list)


def segments(length: int, spans: Iterable[tuple[int, int, T]]) -> list[Segment[T]]:
    """Cut ``[0, length)`` at every span boundary, so that overlapping spans become a row of
    non-overlapping pieces, each with every span that covers it.

    Spans outside the text or empty are ignored.

    >>> [(s.start, s.end, s.covering) for s in segments(10, [(2, 6, "a"), (4, 8, "b")])]
    [(0, 2, []), (2, 4, ['a']), (4, 6, ['a', 'b']), (6, 8, ['b']), (8, 10, [])]
    """
    valid = [(s, e, item) for s, e, item in spans if 0 <= s < e <= length]
    cuts = sorted({0, length, *(s for s, _, _ in valid), *(e for _, e, _ in valid)})
    return [Segment(a, b, [item for s, e, item in valid if s <= a and b <= e]) for a, b in zip(cuts, cuts[1:])]


# --- reading what the store says ----------------------------------------------------------


@dataclass
class Description:
    """The triples of a resource page, by subject, and the labels of the IRIs they name."""

    iri: str
    nodes: dict[str, list[tuple[str, ox.NamedNode | ox.Literal | ox.BlankNode]]]
    labels: dict[str, str]

    def values(self, subject: str, predicate: object) -> list[ox.NamedNode | ox.Literal | ox.BlankNode]:
        return [o for p, o in self.nodes.get(subject, []) if p == str(predicate)]

    def first(self, subject: str, predicate: object) -> str | None:
        found = self.values(subject, predicate)
        return found[0].value if found else None

    def link(self, term: ox.NamedNode | ox.Literal | ox.BlankNode) -> str:
        if isinstance(term, ox.NamedNode) and term.value.startswith(self.iri + "#"):
            fragment = escape(term.value[len(self.iri):])
            return f"<a href='{fragment}'>{fragment}</a>"
        if isinstance(term, ox.NamedNode):
            return term_link(term.value, self.labels.get(term.value))
        return literal_html(term)


def labels_of(store: Store, iris: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(iris))
    labels: dict[str, str] = {}
    for start in range(0, len(wanted), 200):
        values = " ".join(f"<{i}>" for i in wanted[start:start + 200])
        for row in store.query(_LABELS.format(values=values)).solutions():
            iri, label = row["o"].value, row["label"]
            if iri not in labels or getattr(label, "language", None) == "en":
                labels[iri] = label.value
    return labels


def describe(store: Store, iri: str, triples: list[ox.Triple]) -> Description:
    nodes: dict[str, list[tuple[str, ox.NamedNode | ox.Literal | ox.BlankNode]]] = {}
    named: set[str] = set()
    for t in triples:
        subject, obj = t.subject, t.object
        if isinstance(subject, ox.Triple) or isinstance(obj, ox.Triple):
            # the page shows RDF 1.1 terms only; a triple term made it fail before too (it has no .value)
            raise TypeError(f"a triple term in the description of <{iri}>: {t}")
        nodes.setdefault(subject.value, []).append((t.predicate.value, obj))
        named.add(t.predicate.value)
        if isinstance(obj, ox.NamedNode):
            named.add(obj.value)
    return Description(iri, nodes, labels_of(store, named))


def literal_html(term: ox.Literal | ox.BlankNode, *, limit: int = _MAX_LITERAL) -> str:
    if isinstance(term, ox.BlankNode):
        return f"<span class=bnode>_:{escape(term.value)}</span>"
    text = term.value if len(term.value) <= limit else term.value[:limit] + "…"
    if term.language:
        suffix = f"<span class=dt>@{escape(term.language)}</span>"
    elif term.datatype.value != str(XSD.string):
        suffix = f"<span class=dt>^^{term_link(term.datatype.value)}</span>"
    else:
        suffix = ""
    return f"<span class=lit>{escape(text)}</span>{suffix}"
