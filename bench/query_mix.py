"""The 8-query mix every server in the benchmark answers, on the generator's ``ex:`` vocabulary,
and four light queries (:func:`light_queries`) that ``tenm_bench.py`` adds to it.

The same mix (same text, same Accept header) goes to every server and to raw pyoxigraph.
Queries that name an actor take it from the generator's ``.meta.json`` (``sample_iris``),
so the mix fits whatever size of data was generated.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["JSON_RESULTS", "LIGHT", "TURTLE", "BenchQuery", "light_queries", "query_mix"]

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
    return _queries(bodies)


def light_queries(meta: dict[str, object]) -> list[BenchQuery]:
    """Light queries of the kind a linked-data page or a notebook sends: one yes/no, one actor's
    own triples, a week of claims and a month of meetings (a date range over a typed literal)."""
    iris = meta["sample_iris"]
    assert isinstance(iris, dict)
    claim, mid = iris["claim"], iris["mid_actor"]
    bodies = [
        ("ask_claim_has_claimant", "boolean", JSON_RESULTS, f"ASK {{ <{claim}> ex:claimant ?actor }}"),
        ("construct_one_actor", "triples", TURTLE, f"CONSTRUCT {{ <{mid}> ?p ?o }} WHERE {{ <{mid}> ?p ?o }}"),
        ("claims_in_one_week", "rows", JSON_RESULTS,
         """SELECT ?claim ?date WHERE {
  ?claim ex:claimDate ?date .
  FILTER (?date >= "2022-03-01"^^xsd:date && ?date < "2022-03-08"^^xsd:date)
} ORDER BY ?date ?claim LIMIT 100"""),
        ("meetings_in_one_month", "rows", JSON_RESULTS,
         """SELECT ?meeting ?label ?start WHERE {
  ?meeting a ex:Meeting ; ex:startDate ?start ; rdfs:label ?label .
  FILTER (?start >= "2021-03-01"^^xsd:date && ?start < "2021-04-01"^^xsd:date)
} ORDER BY ?start ?meeting"""),
    ]
    return _queries(bodies)


def _queries(bodies: list[tuple[str, str, str, str]]) -> list[BenchQuery]:
    return [BenchQuery(name, _PREFIXES + body, accept, shape) for name, shape, accept, body in bodies]
