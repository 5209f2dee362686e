"""Real SPARQL clients against a real ``kg serve`` on a free port: SPARQLWrapper, rdflib, raw HTTP."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import warnings

import pytest
from live import live_server  # noqa: F401  (a fixture)
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import OWL, RDFS
from rdflib.plugins.stores.sparqlstore import SPARQLStore

SPARQLWrapper = pytest.importorskip("SPARQLWrapper", reason="pip install SPARQLWrapper (in the [test] extra)")

PUTIN = "https://w3id.org/negotiation-kg/id/actor/vladimir-putin"
WIKIDATA_PUTIN = URIRef("http://www.wikidata.org/entity/Q7747")
PUTIN_LABEL = Literal("Vladimir Putin", lang="en")
TITLES = {
    "Istanbul 2.0: A pre-meditated choreography of failure",
    "Istanbul-2: When diplomacy returns to reality",
}
PROLOGUE = """PREFIX nkg: <https://w3id.org/negotiation-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""
PUTIN_LABEL_QUERY = PROLOGUE + f"SELECT ?label WHERE {{ <{PUTIN}> rdfs:label ?label }}"
TITLES_QUERY = PROLOGUE + "SELECT ?document ?title WHERE { ?document a nkg:Document ; dcterms:title ?title } ORDER BY ?title"
CLAIMS_QUERY = PROLOGUE + "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a nkg:Claim }"
DESCRIBE_PUTIN = f"CONSTRUCT {{ <{PUTIN}> ?p ?o }} WHERE {{ <{PUTIN}> ?p ?o }}"


def _wrapper(base: str, query: str, fmt: str, *, method: str = "GET", only_conneg: bool = False):  # type: ignore[no-untyped-def]
    sparql = SPARQLWrapper.SPARQLWrapper(base + "/sparql")
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    sparql.setMethod(method)
    sparql.setOnlyConneg(only_conneg)
    return sparql


def _convert(sparql):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # SPARQLWrapper warns when it gets another format than asked
        response = sparql.query()
        return response.convert(), response.response.headers.get("Content-Type", "")


def _same_graph(expected: Graph, actual: Graph) -> None:
    if not isomorphic(expected, actual):
        _, only_expected, only_actual = graph_diff(to_isomorphic(expected), to_isomorphic(actual))
        pytest.fail(f"graphs differ\nonly expected:\n{only_expected.serialize(format='nt')}\n"
                    f"only actual:\n{only_actual.serialize(format='nt')}")


# --- SPARQLWrapper --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_select_json(live_server: str, method: str) -> None:  # noqa: F811
    data, ctype = _convert(_wrapper(live_server, TITLES_QUERY, SPARQLWrapper.JSON, method=method))
    assert ctype.startswith("application/sparql-results+json")
    assert data["head"]["vars"] == ["document", "title"]
    rows = data["results"]["bindings"]
    assert {r["title"]["value"] for r in rows} == TITLES
    assert all(r["title"]["xml:lang"] == "en" and r["document"]["type"] == "uri" for r in rows)
    assert all(r["document"]["value"].startswith("https://w3id.org/negotiation-kg/id/document/") for r in rows)


def test_sparqlwrapper_ask(live_server: str) -> None:  # noqa: F811
    yes = PROLOGUE + f'ASK {{ <{PUTIN}> rdfs:label "Vladimir Putin"@en }}'
    no = PROLOGUE + f'ASK {{ <{PUTIN}> rdfs:label "Vladimir Putin" }}'  # a plain string is not the @en label
    assert _convert(_wrapper(live_server, yes, SPARQLWrapper.JSON))[0]["boolean"] is True
    assert _convert(_wrapper(live_server, no, SPARQLWrapper.JSON))[0]["boolean"] is False


def test_sparqlwrapper_select_xml(live_server: str) -> None:  # noqa: F811
    doc, ctype = _convert(_wrapper(live_server, PUTIN_LABEL_QUERY, SPARQLWrapper.XML))
    assert ctype.startswith("application/sparql-results+xml")
    literals = doc.getElementsByTagName("literal")
    assert [(n.firstChild.data, n.getAttribute("xml:lang")) for n in literals] == [("Vladimir Putin", "en")]
    assert [v.getAttribute("name") for v in doc.getElementsByTagName("variable")] == ["label"]


def test_sparqlwrapper_construct_turtle_parses_back(live_server: str) -> None:  # noqa: F811
    body, ctype = _convert(_wrapper(live_server, DESCRIBE_PUTIN, SPARQLWrapper.TURTLE))
    assert ctype.startswith("text/turtle")
    graph = Graph().parse(data=body, format="turtle")
    putin = URIRef(PUTIN)
    assert set(graph.objects(putin, RDFS.label)) == {PUTIN_LABEL}
    assert (putin, OWL.sameAs, WIKIDATA_PUTIN) in graph
    assert len(graph) > 5


def test_sparqlwrapper_construct_rdfxml_is_the_turtle_graph(live_server: str) -> None:  # noqa: F811
    # onlyConneg: SPARQLWrapper asks by Accept alone (see the xfail below for its default).
    turtle, _ = _convert(_wrapper(live_server, DESCRIBE_PUTIN, SPARQLWrapper.TURTLE))
    graph, ctype = _convert(_wrapper(live_server, DESCRIBE_PUTIN, SPARQLWrapper.RDFXML, only_conneg=True))
    assert ctype.startswith("application/rdf+xml")
    _same_graph(Graph().parse(data=turtle, format="turtle"), Graph() + graph)


@pytest.mark.parametrize("fmt", ["XML", "RDFXML", "JSONLD"])
def test_sparqlwrapper_construct_with_default_settings(live_server: str, fmt: str) -> None:  # noqa: F811
    graph, _ = _convert(_wrapper(live_server, DESCRIBE_PUTIN, getattr(SPARQLWrapper, fmt)))
    assert (URIRef(PUTIN), RDFS.label, PUTIN_LABEL) in graph


# --- rdflib SPARQLStore ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def remote_graph(live_server: str) -> Graph:  # noqa: F811
    return Graph(store=SPARQLStore(live_server + "/sparql"))


def test_rdflib_sparqlstore_counts_claims(remote_graph: Graph) -> None:
    [(n,)] = list(remote_graph.query(CLAIMS_QUERY))
    assert isinstance(n, Literal) and n.toPython() > 40


def test_rdflib_sparqlstore_returns_labels_and_titles_as_literals(remote_graph: Graph) -> None:
    [(label,)] = list(remote_graph.query(PUTIN_LABEL_QUERY))
    assert label == PUTIN_LABEL and label.language == "en"
    rows = list(remote_graph.query(TITLES_QUERY))
    assert {title for _, title in rows} == {Literal(t, lang="en") for t in TITLES}
    assert all(isinstance(document, URIRef) for document, _ in rows)


def test_rdflib_sparqlstore_triples(remote_graph: Graph) -> None:
    # Graph API calls become SPARQL on the wire too.
    assert set(remote_graph.objects(URIRef(PUTIN), RDFS.label)) == {PUTIN_LABEL}


# --- raw HTTP, as curl would -----------------------------------------------------------------


def _get(base: str, query: str, accept: str) -> urllib.request.Request:
    url = base + "/sparql?" + urllib.parse.urlencode({"query": query})
    return urllib.request.Request(url, headers={"Accept": accept})


def test_raw_get_accept_csv(live_server: str) -> None:  # noqa: F811
    with urllib.request.urlopen(_get(live_server, TITLES_QUERY, "text/csv"), timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/csv")
        text = response.read().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["document", "title"]
    assert {row[1] for row in rows[1:]} == TITLES  # CSV results carry lexical forms, no language tags


def test_raw_bad_query_is_400_with_a_message(live_server: str) -> None:  # noqa: F811
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(_get(live_server, "SELECT ?x WHERE { ?x ?y }", "text/csv"), timeout=10)
    error = caught.value
    assert error.code == 400
    assert error.headers["Content-Type"].startswith("application/json")
    body = json.loads(error.read().decode("utf-8"))
    assert re.search(r"(?<!\d)1:26", body["message"]), body
