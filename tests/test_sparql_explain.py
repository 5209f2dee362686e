"""SPARQL syntax errors said in our words, from pyoxigraph's own position: each case runs the
real parser, so a change in its messages shows here first."""

from __future__ import annotations

import doctest

import pyoxigraph as ox
import pytest

import kg.sparql.explain
from kg.sparql.explain import explain

CASES = [
    ("PREFIX nkg: <https://w3id.org/negotiation-kg/ontology#>\nSELECT * WHERE {\n  ?c nkg:asserts [ rdf:subject ?p ] }",
     "prefix `rdf:` is not declared (line 3, column 31); add PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>"),
    ("SELECT * WHERE { ?s ex:p ?o }", "prefix `ex:` is not declared (line 1, column 21); declare it with PREFIX ex: <…>"),
    ("SELEKT * WHERE { ?s ?p ?o }", "`SELEKT` is not a SPARQL keyword (line 1, column 1): a query starts with SELECT, "
                                    "CONSTRUCT, DESCRIBE or ASK, after its PREFIX and BASE declarations"),
    ("SELECT * WHERE { ?s ?p ?o ", "SPARQL syntax error at 1:27: the query ends too early (1 `{` not closed)"),
    ("SELECT * WHERE { ?s ?p ?o } }", "SPARQL syntax error at 1:30: a `}` closes nothing"),
    ('SELECT * WHERE { ?s ?p "abc }', "SPARQL syntax error at 1:24: a string is not closed"),
    ("SELECT * WHERE { ?s <http://a b> ?o }", "`<http://a b>` is not a valid IRI (line 1, column 33)"),
    ("SELECT * WHERE { ?s ?p ?o } LIMIT x",
     "SPARQL syntax error at 1:35: unexpected `x`; expected `HAVING`, `OFFSET`, `OPTIONAL` or `VALUES`"),
    ("SELECT ?x WHERE { ?x ?y }", "SPARQL syntax error at 1:26: something is missing before the last `}`"),
    ("", "the query is empty"),
]


@pytest.mark.parametrize("query,message", CASES)
def test_query_errors(query: str, message: str) -> None:
    with pytest.raises(SyntaxError) as caught:
        ox.Store().query(query)
    said = explain(query, caught.value)
    assert said == message
    assert "\\u{" not in said and "expected one of" not in said


def test_update_errors() -> None:
    update = "INSRT DATA { <http://a> <http://b> <http://c> }"
    with pytest.raises(SyntaxError) as caught:
        ox.Store().update(update)
    assert explain(update, caught.value, update=True).startswith("`INSRT` is not a SPARQL keyword (line 1, column 1): "
                                                                   "an update starts with INSERT, DELETE")


def test_a_message_without_a_position_is_kept() -> None:
    assert explain("ASK {}", "something odd") == "SPARQL syntax error: something odd"


def test_the_docstring_example_runs() -> None:
    assert doctest.testmod(kg.sparql.explain).failed == 0
