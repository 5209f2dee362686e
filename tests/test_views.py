"""The pictures at ``/views/…``: each mark drawn is a fact of the store, counted by SPARQL on the
same store, and links to the claims behind it; the SVG is well formed and escapes the data; a
store without meetings, estimates or stances gets an empty state, not an error; and an odd
corpus (vague dates, announced meetings, a plain triple with no claim, markup in labels) draws."""

from __future__ import annotations

import html
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import stored
from rdflib import Graph, Literal, Namespace, URIRef

from kg.config import Settings
from kg.namespaces import NKG, RDF, RDFS, SCHEMA
from kg.server import create_app
from kg.server.markup import href
from kg.server.views import estimates, stances, timeline
from kg.store import EmbeddedStore
from kg.store.base import Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SVG = "{http://www.w3.org/2000/svg}"
VIEWS = ("timeline", "estimates", "stances")
PREFIXES = """PREFIX nkg: <https://w3id.org/negotiation-kg/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX schema: <https://schema.org/>
"""
#: distinct stances (proposal, property, actor), stated by a claim or a plain triple
STANCES = PREFIXES + """SELECT DISTINCT ?p ?prop ?a ?claim WHERE {
  VALUES ?prop { nkg:proposedBy nkg:supportedBy nkg:opposedBy }
  { ?claim nkg:asserts [ rdf:subject ?p ; rdf:predicate ?prop ; rdf:object ?a ] }
  UNION { ?p ?prop ?a } }"""
PARTICIPANTS = PREFIXES + """SELECT DISTINCT ?m ?a WHERE { ?m a nkg:Meeting .
  { ?c nkg:asserts [ rdf:subject ?m ; rdf:predicate nkg:participant ; rdf:object ?a ] } UNION { ?m nkg:participant ?a } }"""
MEETINGS = PREFIXES + "SELECT DISTINCT ?m WHERE { ?m a nkg:Meeting }"
ESTIMATES = PREFIXES + """SELECT DISTINCT ?claim ?e WHERE { ?claim nkg:estimate ?e . ?e nkg:referenceDate ?d .
  FILTER EXISTS { ?e schema:value|schema:minValue|schema:maxValue ?n } }"""


def _app(path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store=str(path), read_only=True, workers=1))) as client:
        yield client


@pytest.fixture(scope="module")
def client(store_path: Path) -> Iterator[TestClient]:
    yield from _app(store_path)


def _svg(client: TestClient, view: str, **params: str) -> ET.Element:
    response = client.get(f"/views/{view}", params={"format": "svg", **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(response.content)  # well formed, or this raises
    assert root.tag == SVG + "svg"
    return root


def _with_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in e.get("class", "").split()]


def _rows(store: Store, query: str) -> list[tuple[str | None, ...]]:
    return [tuple(t.value if t is not None else None for t in row) for row in store.select(query)]


def _links(marks: list[ET.Element]) -> set[str]:
    return {a.get("href", "") for m in marks for a in ([m] if m.tag == SVG + "a" else m.iter(SVG + "a"))}


def test_each_view_is_a_page_with_the_picture_a_note_and_a_table(client: TestClient) -> None:
    for view in VIEWS:
        page = client.get(f"/views/{view}", headers={"Accept": "text/html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        text = page.text
        assert "<svg" in text and "<title>" in text and 'class="legend"' in text
        assert "What this shows" in text and "Where from" in text
        assert "<table" in text and "<caption>" in text
        assert f"/views/{view}?format=svg" in text
        assert client.get(f"/views/{view}", headers={"Accept": "image/svg+xml"}).headers["content-type"] == "image/svg+xml"


def test_timeline_has_a_row_per_meeting_and_a_link_per_participant(client: TestClient, store: Store) -> None:
    root = _svg(client, "timeline")
    meetings = {m for (m,) in _rows(store, MEETINGS)}
    assert {g.get("data-meeting") for g in _with_class(root, "meeting")} == meetings
    assert len(_with_class(root, "meeting")) == len(meetings)
    assert len(_with_class(root, "participant")) == len(_rows(store, PARTICIPANTS))
    # every meeting has at least one mark (a date, or "no date"); each opens a claim of that meeting
    for group in _with_class(root, "meeting"):
        marks = _with_class(group, "mark")
        assert marks, group.get("data-meeting")
        for link in _links(marks):
            assert link.startswith("/id/claim/"), link
    dated = {m for (m,) in _rows(store, PREFIXES + "SELECT DISTINCT ?m { ?m a nkg:Meeting ; schema:startDate ?d }")}
    held = {g.get("data-meeting") for g in _with_class(root, "meeting") if _with_class(g, "held")}
    assert held == dated


def test_stances_draw_one_mark_per_stance_and_one_dot_per_claim(client: TestClient, store: Store) -> None:
    root = _svg(client, "stances")
    rows = _rows(store, STANCES)
    stances = {(p, prop, a) for p, prop, a, _ in rows}
    drawn = {(m.get("data-proposal"), m.get("data-position"), m.get("data-actor")) for m in _with_class(root, "mark")}
    assert len(_with_class(root, "mark")) == len(stances) == len(drawn)
    positions = {str(NKG.proposedBy): "proposed", str(NKG.supportedBy): "supported", str(NKG.opposedBy): "opposed"}
    assert drawn == {(p, positions[prop], a) for p, prop, a in stances}
    dots = _with_class(root, "claim-dot")
    assert len(dots) == len({(p, prop, a, c) for p, prop, a, c in rows if c})
    assert _links(dots) == {href(c) for *_, c in rows if c}


def test_stance_marks_carry_hedges_conditions_and_times(client: TestClient, store: Store) -> None:
    root = _svg(client, "stances")
    marks = {(m.get("data-proposal"), m.get("data-actor"), m.get("data-position")): m for m in _with_class(root, "mark")}
    positions = {"proposedBy": "proposed", "supportedBy": "supported", "opposedBy": "opposed"}
    query = PREFIXES + """SELECT ?p ?prop ?a (SAMPLE(?h) AS ?hedge) (SAMPLE(?c) AS ?cond)
      (GROUP_CONCAT(DISTINCT STRAFTER(STR(?t), "#"); separator=" ") AS ?times) WHERE {
      VALUES ?prop { nkg:proposedBy nkg:supportedBy nkg:opposedBy }
      ?claim nkg:asserts ?s . ?s rdf:subject ?p ; rdf:predicate ?prop ; rdf:object ?a ; nkg:timeStatus ?t .
      OPTIONAL { ?s nkg:hedgeWords ?h } OPTIONAL { ?s nkg:condition ?c } } GROUP BY ?p ?prop ?a"""
    rows = _rows(store, query)
    assert rows
    for p, prop, a, hedge, condition, times in rows:
        assert p and prop and a and times is not None
        mark = marks[(p, a, positions[prop.rsplit("#", 1)[1]])]
        assert mark.get("data-hedged") == str(hedge is not None).lower()
        assert mark.get("data-conditional") == str(condition is not None).lower()
        assert set((mark.get("data-times") or "").split()) == {t.lower() for t in times.split()}
        letters = "".join(t.text or "" for t in _with_class(mark, "qualifiers"))
        assert ("if" in letters) == (condition is not None) and ("~" in letters) == (hedge is not None)
        if "Current" not in times.split():  # not held when written: pale, and lettered
            assert any(r.get("fill-opacity") not in (None, "1") for r in mark.iter(SVG + "rect"))


#: each claim behind a stance, with its kind and claimant: whose words it is
WHOSE_WORDS = PREFIXES + """SELECT DISTINCT ?p ?prop ?a ?claim ?kind ?claimant WHERE {
  VALUES ?prop { nkg:proposedBy nkg:supportedBy nkg:opposedBy }
  VALUES ?kind { nkg:QuotedStatement nkg:ParaphrasedStatement nkg:AnalyticalClaim nkg:KeyTakeaway }
  ?claim nkg:asserts [ rdf:subject ?p ; rdf:predicate ?prop ; rdf:object ?a ] ; a ?kind ; nkg:claimant ?claimant }"""
_DOT_SHAPES = {"own": SVG + "circle", "reported": SVG + "polygon", "analysis": SVG + "rect"}


def test_a_stance_not_in_the_actors_own_words_is_hatched_and_each_dot_says_whose_words(
        client: TestClient, store: Store) -> None:
    """The ontology's rule: a quoted or paraphrased statement is its claimant's words; an
    analytical claim or key takeaway the author's. A stance is drawn solid only when some claim
    is the actor's own statement; each claim's dot is shaped by whose words it is."""
    root = _svg(client, "stances")
    positions = {str(NKG.proposedBy): "proposed", str(NKG.supportedBy): "supported", str(NKG.opposedBy): "opposed"}
    statements = {str(NKG.QuotedStatement), str(NKG.ParaphrasedStatement)}
    claims: dict[tuple[str | None, ...], dict[str, str]] = {}
    for p, prop, a, claim, kind, claimant in _rows(store, WHOSE_WORDS):
        basis = ("own" if claimant == a else "reported") if kind in statements else "analysis"
        claims.setdefault((p, positions[str(prop)], a), {})[str(claim)] = basis
    marks = {(m.get("data-proposal"), m.get("data-position"), m.get("data-actor")): m for m in _with_class(root, "mark")}
    assert {b for found in claims.values() for b in found.values()} == {"own", "reported", "analysis"}
    for stance, found in claims.items():
        mark = marks[stance]
        expected = next(b for b in ("own", "reported", "analysis") if b in found.values())
        assert mark.get("data-basis") == expected, stance
        assert bool(_with_class(mark, "hatch")) == (expected != "own"), stance
        title = "".join(mark.find(SVG + "a").find(SVG + "title").itertext())  # type: ignore[union-attr]
        assert ("'s own words" in title) == (expected == "own") and ("not its own words" in title) == (expected != "own")
        dots = {d.get("href"): d for d in _with_class(mark, "claim-dot")}
        for claim, basis in found.items():
            dot = dots[href(claim)]
            assert dot.get("data-basis") == basis and dot.find(_DOT_SHAPES[basis]) is not None, (stance, claim)
    legend = " ".join("".join(t.itertext()) for t in _with_class(root, "legend"))
    assert "hatched: not in the actor's own words" in legend
    assert all(f"a claim: {words}" in legend for words in stances.BASES.values())
    table = html.unescape(client.get("/views/stances").text.split("<table", 1)[1])
    assert "whose words" in table and "the author's analysis only" in table and "reported by" in table


def test_estimates_draw_each_dated_estimate_linking_to_its_claim(client: TestClient, store: Store) -> None:
    root = _svg(client, "estimates")
    rows = _rows(store, ESTIMATES)
    marks = _with_class(root, "estimate")
    assert len(marks) == len(rows) > 0
    assert _links(marks) == {href(c) for c, _ in rows if c}


def test_timeline_focus_lights_up_a_meeting_or_an_actors_meetings(client: TestClient, store: Store) -> None:
    (meeting, actor), *_ = _rows(store, PARTICIPANTS)
    assert meeting and actor
    assert len(_with_class(_svg(client, "timeline", focus=meeting), "focus")) == 1
    involved = PREFIXES + """SELECT DISTINCT ?m ?a WHERE { ?m a nkg:Meeting . VALUES ?role { nkg:participant nkg:hostedBy }
      { ?c nkg:asserts [ rdf:subject ?m ; rdf:predicate ?role ; rdf:object ?a ] } UNION { ?m ?role ?a } }"""
    theirs = {m for m, a in _rows(store, involved) if a == actor}
    assert len(_with_class(_svg(client, "timeline", focus=actor), "focus")) == len(theirs) >= 1
    label = _rows(store, f"SELECT ?l WHERE {{ <{actor}> <{RDFS.label}> ?l }}")[0][0]
    said = client.get("/views/timeline", params={"focus": actor}).text.split("class=\"view-focus\">", 1)[1]
    assert f">{html.escape(label, quote=False)}</a>" in said.split("</p>", 1)[0]  # by its label, not its IRI
    page = client.get("/views/timeline", params={"focus": "https://example.org/<nobody>"})
    assert page.status_code == 200 and "Nothing to highlight" in page.text and "<nobody>" not in page.text


def test_focus_lights_up_an_actor_column_or_a_proposal_row(client: TestClient, store: Store) -> None:
    (p, _, a, _), *_ = _rows(store, STANCES)
    for iri in (a, p):
        assert iri
        assert len(_with_class(_svg(client, "stances", focus=iri), "focus")) == 1
        page = client.get("/views/stances", params={"focus": iri})
        assert "Highlighted:" in page.text
    unknown = client.get("/views/stances", params={"focus": "https://example.org/<nobody>"})
    assert unknown.status_code == 200 and "Nothing to highlight" in unknown.text and "<nobody>" not in unknown.text
    assert _with_class(_svg(client, "stances", focus="https://example.org/nobody"), "focus") == []


EX = Namespace("https://example.org/odd/")


def _odd_corpus() -> Graph:
    """A corpus unlike the seeds: markup and quotes in labels, a year-only and an announced date,
    a meeting with a scheduled date only, a stance as a plain triple, an 'up to' estimate."""
    from rdflib.namespace import XSD  # here: pytest trips over the namespace object at module level

    g = Graph()
    hostile = 'Talks <script>alert("x")</script> & "more"'
    g.add((EX.m1, RDF.type, NKG.Meeting))
    g.add((EX.m1, RDFS.label, Literal(hostile)))
    g.add((EX.m1, SCHEMA.startDate, Literal("2019", datatype=XSD.gYear)))
    g.add((EX.m2, RDF.type, NKG.Meeting))
    g.add((EX.m2, RDFS.label, Literal("Summit to come")))
    g.add((EX.m2, NKG.scheduledDate, Literal("2026-01-20", datatype=XSD.date)))
    statement = EX.s1
    g.add((EX.c1, NKG.asserts, statement))
    for p, o in ((RDF.subject, EX.m2), (RDF.predicate, NKG.participant), (RDF.object, EX.a1),
                 (NKG.timeStatus, NKG.Announced)):
        g.add((statement, p, o))
    g.add((EX.a1, RDFS.label, Literal("Actor <b>one</b>")))
    g.add((EX.p1, NKG.opposedBy, EX.a1))  # no claim behind it
    g.add((EX.p1, RDFS.label, Literal("A proposal")))
    g.add((EX.c2, NKG.estimate, EX.e1))
    g.add((EX.e1, NKG.measure, Literal("widgets")))
    g.add((EX.e1, NKG.referenceDate, Literal("2020-05", datatype=XSD.gYearMonth)))
    g.add((EX.e1, SCHEMA.maxValue, Literal(12)))
    return g


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from _app(stored(tmp_path_factory.mktemp("odd") / "store", {URIRef(EX.graph): _odd_corpus()}))


def test_any_corpus_draws_and_escapes_its_labels(odd: TestClient) -> None:
    for view in VIEWS:
        page = odd.get(f"/views/{view}")
        assert page.status_code == 200
        assert "<script>" not in page.text and "<b>one" not in page.text
        _svg(odd, view)
    timeline = _svg(odd, "timeline")
    assert len(_with_class(timeline, "meeting")) == 2
    assert len(_with_class(timeline, "held")) == 1 and len(_with_class(timeline, "scheduled")) == 1
    [participant] = _with_class(timeline, "participant")
    assert _links([participant]) == {str(EX.c1)}  # not a resource of ours: the IRI itself
    [stance] = _with_class(_svg(odd, "stances"), "mark")
    assert stance.get("data-position") == "opposed" and _with_class(stance, "claim-dot") == []
    assert _links([stance]) == {str(EX.p1)}  # no claim: the proposal
    assert len(_with_class(_svg(odd, "estimates"), "estimate")) == 1
    assert "up to 12" in odd.get("/views/estimates").text


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("empty") / "store"
    EmbeddedStore(path).close()
    yield from _app(path)


@pytest.mark.parametrize("view", VIEWS)
def test_an_empty_store_gets_an_empty_state(empty: TestClient, view: str) -> None:
    page = empty.get(f"/views/{view}")
    assert page.status_code == 200
    assert "view-empty" in page.text and "yet" in page.text
    assert _with_class(_svg(empty, view), "mark") == []


def test_the_pictures_are_the_same_on_a_remote_store(embedded_store: Store, remote_store: Store) -> None:
    """Drawn from SPARQL alone: Virtuoso holding the corpus gives the same SVG, mark for mark."""
    assert timeline.draw(timeline.load(remote_store)) == timeline.draw(timeline.load(embedded_store))
    assert estimates.draw(estimates.load(remote_store)) == estimates.draw(estimates.load(embedded_store))
    assert stances.draw(stances.load(remote_store)) == stances.draw(stances.load(embedded_store))
