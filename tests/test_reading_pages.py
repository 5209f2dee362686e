"""Resource pages built for reading (summary first, what a researcher asks of the kind, raw
triples folded away) and the indexes of every kind, HTML and Hydra RDF."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from conftest import select
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF
from test_linked_data import parse_page

from kg.config import Settings
from kg.namespaces import sparql_prologue
from kg.server import create_app
from kg.store import EmbeddedStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PREFIX = sparql_prologue()
BASE = "https://w3id.org/negotiation-kg/id/"
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
STANCE_FILTER = "FILTER (?p IN (nkg:proposedBy, nkg:supportedBy, nkg:opposedBy))"


@pytest.fixture(scope="module")
def client(store_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store=str(store_path), read_only=True, workers=1))) as c:
        yield c


def _page(client: TestClient, path: str) -> str:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text[:300]
    parse_page(response.text)
    return response.text


def _section(html: str, ident: str) -> str:
    """The HTML from ``<h2 id=ident>`` to the next ``<h2`` or the folded raw part."""
    part = html.split(f"<h2 id={ident}>", 1)[1]
    return part.split("<h2 ", 1)[0].split("<details", 1)[0]


def test_actor_page_leads_with_summary_and_stances_and_folds_back_links(client: TestClient,
                                                                         store: EmbeddedStore) -> None:
    html = _page(client, "/id/actor/vladimir-putin")
    order = [html.index(s) for s in ("<dl class=summary>", "<h2 id=stances>", "<h2 id=meetings>",
                                     "<h2 id=claims-made>", "<h2 id=claims-about>", "<details class=raw")]
    assert order == sorted(order)
    assert "Q7747" in html.split("<h2", 1)[0]  # Wikidata in the summary
    raw = html.split("<details class=raw", 1)[1]
    assert "rdf:object" in raw and "rdf:object" not in html.split("<details class=raw", 1)[0]
    stances = unescape(_section(html, "stances"))
    rows = select(store, PREFIX + f"""SELECT ?proposal ?claim ?quote WHERE {{
        ?st rdf:object actor:vladimir-putin ; rdf:predicate ?p ; rdf:subject ?proposal . {STANCE_FILTER}
        ?claim nkg:asserts ?st ; nkg:quote ?quote }}""")
    assert rows
    for row in rows:
        assert row["quote"] in stances and "/id/" + row["claim"][len(BASE):] in stances
        assert "/id/" + row["proposal"][len(BASE):] in stances
    assert "/views/stances?focus=https%3A%2F%2Fw3id.org%2Fnegotiation-kg%2Fid%2Factor%2Fvladimir-putin" in html
    made = select(store, PREFIX + """SELECT ?c ?l WHERE { ?c nkg:claimant actor:vladimir-putin ; a ?k .
        ?k rdfs:subClassOf nkg:Claim ; rdfs:label ?l }""")
    # each claim named by its kind: a paraphrase by an author is not the actor's own words
    assert made and all(f'<a href="/id/{r["c"][len(BASE):]}">{r["l"].lower()}</a>' in _section(html, "claims-made")
                        for r in made)


def test_proposal_page_shows_every_stance_with_its_whole_quote_and_qualifiers(client: TestClient,
                                                                               store: EmbeddedStore) -> None:
    html = _page(client, "/id/proposal/thirty-day-ceasefire")
    stances = _section(html, "stances")
    rows = select(store, PREFIX + f"""SELECT ?st ?actor ?claim ?quote ?claimant ?kind WHERE {{
        ?st rdf:subject proposal:thirty-day-ceasefire ; rdf:predicate ?p ; rdf:object ?actor . {STANCE_FILTER}
        ?claim nkg:asserts ?st ; nkg:quote ?quote ; nkg:claimant ?claimant ; a ?kind .
        ?kind rdfs:subClassOf nkg:Claim }}""")
    items = [unescape(i) for i in stances.split("<li class=fact>")[1:]]
    assert len(items) == len(rows) > 10
    for row in rows:
        claim = "/id/" + row["claim"][len(BASE):]
        item = next(i for i in items if f'href="{claim}"' in i and "/id/" + row["actor"][len(BASE):] in i)
        assert f"<blockquote class=evidence>{row['quote']}</blockquote>" in item
        # whose words: an author's analysis must not read as the party's own statement
        source = item.split("<p class=source>", 1)[1]
        kind = select(store, PREFIX + f"SELECT ?l WHERE {{ <{row['kind']}> rdfs:label ?l }}")[0]["l"].lower()
        assert source.startswith(f'<a href="{claim}">{kind}</a> by <a href="/id/{row["claimant"][len(BASE):]}">')
    assert any(">analytical claim</a> by" in i for i in items) and any(">paraphrased statement</a> by" in i for i in items)
    former = next(i for i in items if "/id/actor/united-states" in i)
    assert "former" in former and "<q>until quite recently</q>" in former
    assert "<h3 id=stances-opposed>" in stances and "<h2 id=claims-about>" in html


def test_meeting_page_says_planned_and_held_dates_place_and_participants(client: TestClient,
                                                                         store: EmbeddedStore) -> None:
    html = _page(client, "/id/meeting/istanbul-talks-2025")
    when = html.split("<dl class=meeting>", 1)[1].split("</dl>", 1)[0]
    assert "planned for 2025-05-15; held 2025-05-16" in when and "/id/place/istanbul" in when
    assert "href='/views/timeline'" in html
    people = _section(html, "participants")
    rows = select(store, PREFIX + """SELECT DISTINCT ?a WHERE {
        ?st rdf:subject meeting:istanbul-talks-2025 ; rdf:predicate ?p ; rdf:object ?a .
        FILTER (?p IN (nkg:participant, nkg:hostedBy)) }""")
    assert rows and all("/id/" + r["a"][len(BASE):] in people for r in rows)
    assert "/id/meeting/istanbul-talks-2025" in _page(client, "/id/place/istanbul")
    actor = _section(_page(client, "/id/actor/ukraine"), "meetings")
    assert "href='/views/timeline?focus=https%3A%2F%2Fw3id.org%2Fnegotiation-kg%2Fid%2Factor%2Fukraine'" in actor
    assert "href='/views/estimates'" in _page(client, "/id/claim/m-estimate-troops-early-2025")


def test_every_kind_reads_as_a_page(client: TestClient) -> None:
    for path in ("/id/claim/m-takeaway-istanbul-2-collapsed", "/id/document/000_08f43cbfc8a050d9",
                 "/id/graph/entities", "/id/actor/turkiye"):
        html = _page(client, path)
        assert html.index("<dl class=summary>") < html.index("<details class=raw")


def test_the_index_counts_every_kind_and_lists_every_actor(client: TestClient, store: EmbeddedStore) -> None:
    html = _page(client, "/id/")
    actors = {r["a"] for r in select(store, PREFIX + "SELECT DISTINCT ?a WHERE { ?a a nkg:Actor }")}
    assert f"<a href='/id/actor/'>Actors</a></td><td class=n>{len(actors)}</td>" in html
    listing = _page(client, "/id/actor/")
    assert {a for a in actors if f'href="/id/{a[len(BASE):]}"' in listing} == actors
    putin = listing.split('href="/id/actor/vladimir-putin"', 1)[1].split("</tr>", 1)[0]
    stances = select(store, PREFIX + f"""SELECT (COUNT(DISTINCT ?st) AS ?n) WHERE {{
        ?st rdf:object actor:vladimir-putin ; rdf:predicate ?p . {STANCE_FILTER} ?c nkg:asserts ?st }}""")[0]["n"]
    assert putin.startswith(f">Vladimir Putin</a></td><td class=n>{stances}</td>")
    graph = Graph().parse(data=client.get("/id/actor/", params={"format": "turtle"}).text, format="turtle")
    collection = URIRef(BASE + "actor/")
    assert (collection, RDF.type, HYDRA.Collection) in graph
    assert {str(m) for m in graph.objects(collection, HYDRA.member)} == actors
    assert int(graph.value(collection, HYDRA.totalItems)) == len(actors)  # type: ignore[arg-type]
    kinds = Graph().parse(data=client.get("/id/", headers={"Accept": "application/ld+json"}).text, format="json-ld")
    assert int(kinds.value(URIRef(BASE + "claim/"), HYDRA.totalItems)) > 100  # type: ignore[arg-type]


def test_a_kind_pages_through_hydra_views(client: TestClient, store: EmbeddedStore,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from kg.server.reading import indexes

    monkeypatch.setattr(indexes, "PAGE_SIZE", 50)
    claims = {r["c"] for r in select(store, PREFIX + "SELECT ?c WHERE { ?c a nkg:Claim }")}
    seen: set[str] = set()
    page: URIRef | None = URIRef(BASE + "claim/?page=1")
    while page is not None:
        number = str(page).rsplit("=", 1)[1]
        graph = Graph().parse(data=client.get("/id/claim/", params={"page": number, "format": "ntriples"}).text,
                              format="nt")
        members = {str(m) for m in graph.objects(URIRef(BASE + "claim/"), HYDRA.member)}
        assert len(members) <= 50 and not members & seen
        seen |= members
        page = graph.value(page, HYDRA.next)  # type: ignore[assignment]
    assert seen == claims
    last = -(-len(claims) // 50)
    assert client.get("/id/claim/", params={"page": str(last + 1)}).status_code == 404
    assert client.get("/id/claim/", params={"page": "0"}).status_code == 400
    assert client.get("/id/nothing/").status_code == 404
    assert client.get("/id/actor/", params={"format": "png"}).status_code == 406


def test_a_missing_resource_page_offers_a_search_for_its_words_and_its_kind(client: TestClient) -> None:
    page = client.get("/id/actor/vladimir-putn", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert '<a href="/search?q=vladimir%20putn">vladimir putn</a>' in page.text and '<a href="/id/actor/">' in page.text
    other = client.get("/id/nokind/x", headers={"Accept": "text/html"})
    assert other.status_code == 404 and "/search?q=" not in other.text
    found = client.get("/search", params={"q": "vladimir putn", "format": "json"}).json()
    assert found["hits"][0]["href"] == "/id/actor/vladimir-putin"
