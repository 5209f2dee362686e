"""The 8-query mix every server in the benchmark answers, on the generator's ``ex:`` vocabulary.

The same mix (same text, same Accept header) goes to every server and to raw pyoxigraph.
Queries that name an actor take it from the generator's ``.meta.json`` (``sample_iris``),
so the mix fits whatever size of data was generated.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["JSON_RESULTS", "LIGHT", "TURTLE", "BenchQuery", "query_mix"]

JSON_RESULTS = "application/sparql-results+json"
#: the queries that take pyoxigraph well under a millisecond: what they cost is the server's overhead
LIGHT = ("ask_top_actor_opposes", "construct_actor_turtle", "meetings_in_range")
TURTLE = "text/turtle"

_PREFIXES = """PREFIX ex: <http://example.org/news#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX dct: <http://purl.org/dc/terms/>
"""


@dataclass(frozen=True)
class BenchQuery:
    """One query of the mix: a short name, the SPARQL text and the media type asked for."""

    name: str
    sparql: str
    accept: str
    #: what the answer holds: "rows" (SELECT), "boolean" (ASK) or "triples" (CONSTRUCT)
    shape: str


def query_mix(meta: dict[str, object]) -> list[BenchQuery]:
    """The mix for data whose generator metadata is ``meta``."""
    iris = meta["sample_iris"]
    assert isinstance(iris, dict)
    top, mid = iris["top_actor"], iris["mid_actor"]
    bodies = [
        ("count_by_type", "rows", JSON_RESULTS,
         "SELECT ?type (COUNT(?s) AS ?n) WHERE { ?s a ?type } GROUP BY ?type ORDER BY DESC(?n) ?type"),
        ("claims_of_top_actor", "rows", JSON_RESULTS,
         f"""SELECT ?claim ?quote ?doc ?title WHERE {{
  ?claim ex:claimant <{top}> ; ex:quote ?quote ; ex:statedIn ?doc .
  ?doc dct:title ?title .
}} ORDER BY ?doc ?claim LIMIT 100"""),
        ("proposals_with_proposer", "rows", JSON_RESULTS,
         """SELECT ?proposal ?label ?status ?proposerLabel WHERE {
  ?proposal a ex:Proposal ; rdfs:label ?label ; ex:status ?status ; ex:proposedBy ?proposer .
  ?proposer rdfs:label ?proposerLabel .
} ORDER BY ?label LIMIT 100"""),
        ("meetings_in_range", "rows", JSON_RESULTS,
         """SELECT ?meeting ?label ?start WHERE {
  ?meeting ex:startDate ?start ; rdfs:label ?label .
  FILTER (?start >= "2021-01-01"^^xsd:date && ?start < "2021-07-01"^^xsd:date)
} ORDER BY ?start ?meeting"""),
        ("quote_regex_rare_word", "rows", JSON_RESULTS,
         """SELECT ?claim ?quote WHERE {
  ?claim ex:quote ?quote .
  FILTER regex(?quote, "ceasefire", "i")
} ORDER BY ?claim"""),
        ("stance_counts_optional", "rows", JSON_RESULTS,
         """SELECT ?stanceLabel (COUNT(?claim) AS ?claims) WHERE {
  ?claim a ex:Claim .
  OPTIONAL { ?claim ex:stance ?stance . ?stance rdfs:label ?stanceLabel }
} GROUP BY ?stanceLabel ORDER BY DESC(?claims) ?stanceLabel"""),
        ("ask_top_actor_opposes", "boolean", JSON_RESULTS,
         f"ASK {{ ?claim ex:claimant <{top}> ; ex:stance ex:opposes }}"),
        ("construct_actor_turtle", "triples", TURTLE,
         f"""CONSTRUCT {{ <{mid}> ?p ?o . ?proposal ex:proposedBy <{mid}> ; rdfs:label ?label . }}
WHERE {{ {{ <{mid}> ?p ?o }} UNION {{ ?proposal ex:proposedBy <{mid}> ; rdfs:label ?label }} }}"""),
    ]
    return [BenchQuery(name, _PREFIXES + body, accept, shape) for name, shape, accept, body in bodies]
