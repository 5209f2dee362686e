"""Facts as the claims assert them: each ``rdf:Statement`` about a resource with the claims
behind it, their whole quotes, and what the sentence puts on the fact (time, hedges,
conditions, dates).

A reading page shows facts from here rather than the plain triples, because the plain triple
exists only for current, unconditional facts: a former or hypothetical stance is a statement
and nothing else, and a reader must see it with its time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.namespaces import NKG, SCHEMA, sparql_prologue
from kg.store.base import Store

__all__ = ["CLAIM_KIND", "QUALIFIER_PROPERTIES", "Evidence", "Fact", "facts_about", "qualifiers_of"]

Term = ox.NamedNode | ox.Literal | ox.BlankNode

#: the qualifiers of an asserted fact, in the order a reader needs them
QUALIFIER_PROPERTIES = (
    ("time", str(NKG.timeStatus)),
    ("time words", str(NKG.timeWords)),
    ("at", str(NKG.pointInTime)),
    ("since", str(SCHEMA.startDate)),
    ("until", str(SCHEMA.endDate)),
    ("hedge", str(NKG.hedgeWords)),
    ("condition", str(NKG.condition)),
)

#: binds ``?kind`` to the kind of ``?claim`` when it has one of the four (an author's analysis
#: is not a party's statement): a pattern of the queries that show claims
CLAIM_KIND = """OPTIONAL { ?claim a ?kind FILTER (?kind IN (nkg:KeyTakeaway, nkg:AnalyticalClaim, nkg:QuotedStatement,
                                              nkg:ParaphrasedStatement)) }"""
#: statements with ``{iri}`` as subject (``{side}`` = rdf:subject) or object (rdf:object), with their claims
_FACTS = sparql_prologue() + """
SELECT ?statement ?subject ?predicate ?object ?claim ?quote ?document ?claimant ?kind WHERE {
  ?statement {side} <{iri}> ; rdf:subject ?subject ; rdf:predicate ?predicate ; rdf:object ?object .
  ?claim nkg:asserts ?statement .
  OPTIONAL { ?claim nkg:quote ?quote }
  OPTIONAL { ?claim nkg:statedIn ?document }
  OPTIONAL { ?claim nkg:claimant ?claimant }
  {claim kind}
} ORDER BY ?predicate ?subject ?object ?document ?claim""".replace("{claim kind}", CLAIM_KIND)
_QUALIFIERS = sparql_prologue() + """
SELECT ?statement ?p ?o WHERE {
  VALUES ?statement { {values} }
  ?statement ?p ?o .
  FILTER (?p IN (nkg:timeStatus, nkg:hedgeWords, nkg:condition, nkg:timeWords, nkg:pointInTime,
                 schema:startDate, schema:endDate))
}"""


@dataclass
class Evidence:
    """One claim asserting a fact: the claim, its whole quote, its document, and whose words
    they are (the claimant, and the claim's kind: an author's analysis is not a party's statement)."""

    claim: str
    quote: str
    document: str | None
    claimant: str | None = None
    kind: str | None = None


@dataclass
class Fact:
    """An asserted statement ``subject predicate object`` with its qualifiers and its evidence."""

    statement: str
    subject: str
    predicate: str
    object: Term
    qualifiers: dict[str, list[Term]] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def time_status(self) -> str | None:
        """The IRI of the fact's time status (``nkg:Current``, ``nkg:Former``…), if given."""
        found = self.qualifiers.get(str(NKG.timeStatus), [])
        return found[0].value if found else None


def qualifiers_of(store: Store, statements: Iterable[str]) -> dict[str, dict[str, list[Term]]]:
    """statement → qualifier property → values, for every statement named (in batches)."""
    wanted = sorted(set(statements))
    out: dict[str, dict[str, list[Term]]] = {}
    for start in range(0, len(wanted), 200):
        values = " ".join(f"<{s}>" for s in wanted[start:start + 200])
        for row in store.query(_QUALIFIERS.replace("{values}", values)).solutions():
            out.setdefault(row["statement"].value, {}).setdefault(row["p"].value, []).append(row["o"])
    return out


def facts_about(store: Store, iri: str, *, as_subject: bool) -> list[Fact]:
    """Every fact with ``iri`` as its subject (``as_subject``) or as its object, in a stable order."""
    query = _FACTS.replace("{side}", "rdf:subject" if as_subject else "rdf:object").replace("{iri}", iri)
    facts: dict[str, Fact] = {}
    for row in store.query(query).solutions():
        statement = row["statement"]
        if not isinstance(statement, ox.NamedNode):
            continue  # the build names every statement; a blank one has no qualifiers to ask for
        key = statement.value
        fact = facts.get(key)
        if fact is None:
            fact = facts[key] = Fact(key, row["subject"].value, row["predicate"].value, row["object"])
        claim = row["claim"].value
        if any(e.claim == claim for e in fact.evidence):
            continue  # a second claimant or kind of the same claim: the first is shown
        quote, document, claimant, kind = row["quote"], row["document"], row["claimant"], row["kind"]
        fact.evidence.append(Evidence(claim, quote.value if quote is not None else "",
                                      document.value if document is not None else None,
                                      claimant.value if claimant is not None else None,
                                      kind.value if kind is not None else None))
    for key, values in qualifiers_of(store, facts).items():
        facts[key].qualifiers = values
    return list(facts.values())
