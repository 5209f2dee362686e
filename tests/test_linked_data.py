"""Linked data: resource pages (a claim in its document, a document with every quote), the
ontology and shapes documentation and RDF, and the dumps with their digests in the VoID."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from http import HTTPStatus
from pathlib import Path

import pytest
from conftest import select
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic
from rdflib.namespace import DCAT

from kg.config import Settings
from kg.namespaces import NKG, OWL, RDF, RDFS, SH, VOID, sparql_prologue
from kg.resources import ontology_file, shape_files
from kg.server import create_app
from kg.server.descriptions import CONTEXT_CHARS, segments
from kg.server.dumps import dump_index
from kg.server.service_description import SPDX
from kg.store import EmbeddedStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PREFIX = sparql_prologue()
DOCUMENT = "https://w3id.org/negotiation-kg/id/document/000_08f43cbfc8a050d9"
_VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@pytest.fixture(scope="module")
def client(store_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store=str(store_path), read_only=True))) as c:
        yield c


class Page(HTMLParser):
    """An HTML page checked for balanced tags, with its ids, its links and the text inside each
    element that has an id (text inside ``<sup>``, footnote numbers, left out)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.text_of: dict[str, str] = {}
        self.errors: list[str] = []
        self.feed(html)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed: {[t for t, _ in self.stack]}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        ident = a.get("id")
        if ident:
            self.ids.append(ident)
            self.text_of.setdefault(ident, "")
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        if tag not in _VOID_ELEMENTS:
            self.stack.append((tag, ident))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1][0] if self.stack else 'nothing'} at {self.getpos()}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if any(tag == "sup" for tag, _ in self.stack):
            return
        for _, ident in self.stack:
            if ident:
                self.text_of[ident] += data


def parse_page(html: str) -> Page:
    page = Page(html)
    assert not page.errors, page.errors[:5]
    duplicates = {i for i in page.ids if page.ids.count(i) > 1}
    assert not duplicates, f"duplicate ids: {sorted(duplicates)[:5]}"
    return page


def _html(client: TestClient, path: str) -> str:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


# --- claims in context --------------------------------------------------------------------------


def _located(store: EmbeddedStore) -> list[dict[str, str]]:
    return select(store, PREFIX + """
        SELECT ?claim ?doc ?start ?end ?exact ?text WHERE {
          ?claim nkg:evidence/oa:hasTarget ?t . ?t oa:hasSource ?doc ; oa:hasSelector ?ps, ?qs .
          ?ps oa:start ?start ; oa:end ?end . ?qs oa:exact ?exact . ?doc schema:text ?text .
        } ORDER BY ?claim""")


@pytest.fixture(scope="module")
def located(store: EmbeddedStore) -> list[dict[str, str]]:
    rows = _located(store)
    assert len(rows) > 100
    return rows


def _pick(located: list[dict[str, str]]) -> list[dict[str, str]]:
    """A claim at the very start of its document, one in the middle, and the one nearest the end."""
    by_start = sorted(located, key=lambda r: int(r["start"]))
    return [by_start[0], by_start[len(by_start) // 2], max(located, key=lambda r: int(r["end"]) - len(r["text"]))]


def test_claim_page_shows_its_quote_inside_the_document_text(client: TestClient, located: list[dict[str, str]]) -> None:
    for row in _pick(located):
        start, end, text = int(row["start"]), int(row["end"]), row["text"]
        slug = row["claim"].rsplit("/", 1)[-1]
        html = _html(client, f"/id/claim/{slug}")
        page = parse_page(html)
        assert page.text_of["quote"] == text[start:end] == row["exact"]
        context = html[html.index("<blockquote class='context"):]
        context = context[:context.index("</blockquote>")]
        assert "<mark id=quote>" in context
        assert _text(context) == text[max(0, start - CONTEXT_CHARS):end + CONTEXT_CHARS]
        doc_slug = row["doc"].rsplit("/", 1)[-1]
        assert f"/id/document/{doc_slug}#claim-{slug}" in page.links


def _text(fragment: str) -> str:
    """The text of an HTML fragment (entities decoded)."""
    parts: list[str] = []
    parser = HTMLParser(convert_charrefs=True)
    parser.handle_data = parts.append  # type: ignore[method-assign]
    parser.feed(fragment)
    parser.close()
    return "".join(parts)


def test_claim_page_says_who_what_and_how_in_words(client: TestClient, store: EmbeddedStore) -> None:
    claim = "https://w3id.org/negotiation-kg/id/claim/m-takeaway-istanbul-2-collapsed"
    html = _html(client, "/id/claim/m-takeaway-istanbul-2-collapsed")
    statements = select(store, PREFIX + f"""
        SELECT ?sl ?pl ?ol WHERE {{ <{claim}> nkg:asserts ?st . ?st rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
          ?s rdfs:label ?sl . ?p rdfs:label ?pl . ?o rdfs:label ?ol }}""")
    assert statements
    asserted = _text(html[html.index("<ul class=statements>"):])
    for row in statements:
        assert f"{row['sl']} — {row['pl']} — {row['ol']}" in asserted
    assert "Sotiris Mitralexis" in html and "/ontology#KeyTakeaway" in html
    # contradicted by a claim of the other document: the link is shown from this side too
    assert "/id/claim/l-positive-sign-substantive-phase" in html
    estimate = _html(client, "/id/claim/m-estimate-bloomberg-2023")
    assert "420000" in _text(estimate[estimate.index("<dl class=estimate>"):]) and "/id/actor/bloomberg" in estimate


def test_owl_same_as_is_a_link_and_pages_negotiate_rdf(client: TestClient) -> None:
    html = _html(client, "/id/actor/vladimir-putin")
    assert 'href="http://www.wikidata.org/entity/Q7747"' in html and "<h1>Vladimir Putin</h1>" in html
    parse_page(html)
    graphs = []
    for name, media, rdflib_format in [("turtle", "text/turtle", "turtle"), ("ntriples", "application/n-triples", "nt"),
                                       ("jsonld", "application/ld+json", "json-ld"),
                                       ("rdfxml", "application/rdf+xml", "xml")]:
        by_accept = client.get("/id/actor/vladimir-putin", headers={"Accept": media})
        by_param = client.get("/id/actor/vladimir-putin", params={"format": name})
        assert by_accept.headers["content-type"].startswith(media) and by_accept.content == by_param.content
        graphs.append(Graph().parse(data=by_accept.content, format=rdflib_format))
    assert all(isomorphic(graphs[0], g) for g in graphs[1:])
    assert (URIRef("https://w3id.org/negotiation-kg/id/actor/vladimir-putin"), OWL.sameAs,
            URIRef("http://www.wikidata.org/entity/Q7747")) in graphs[0]
    bad = client.get("/id/actor/vladimir-putin", params={"format": "png"})
    assert bad.status_code == 406 and bad.json()["error"] == HTTPStatus(406).phrase


# --- documents ----------------------------------------------------------------------------------


def test_segments_split_overlapping_spans() -> None:
    spans = [(0, 4, "a"), (2, 8, "b"), (2, 8, "c"), (5, 6, "d"), (9, 30, "outside")]
    pieces = [(s.start, s.end, s.covering) for s in segments(10, spans)]
    assert pieces == [(0, 2, ["a"]), (2, 4, ["a", "b", "c"]), (4, 5, ["b", "c"]), (5, 6, ["b", "c", "d"]),
                      (6, 8, ["b", "c"]), (8, 10, [])]


def test_document_page_highlights_and_links_every_claim(client: TestClient, located: list[dict[str, str]]) -> None:
    html = _html(client, "/id/document/000_08f43cbfc8a050d9")
    page = parse_page(html)
    mine = [r for r in located if r["doc"] == DOCUMENT]
    text = mine[0]["text"]
    claim_links = {h for h in page.links if h.startswith("/id/claim/")}
    assert {"/id/claim/" + r["claim"].rsplit("/", 1)[-1] for r in mine} <= claim_links
    body = html[html.index("<div class=doctext>"):]
    body = body[:body.index("</div>") + len("</div>")]
    assert _text_without_sup(body) == text  # highlighting adds markup, never text
    marks = _marks(body)
    for row in mine:
        slug = row["claim"].rsplit("/", 1)[-1]
        assert f"claim-{slug}" in page.ids
        covering = [m for m in marks if f"claim-{slug}" in m[1]]
        assert "".join(t for t, _, _ in covering) == text[int(row["start"]):int(row["end"])] == row["exact"]
        assert all(f"/id/claim/{slug}" in links for _, _, links in covering)


def _text_without_sup(fragment: str) -> str:
    """The text of an HTML fragment, leaving out what is inside ``<sup>`` (footnote numbers)."""

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.sup = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.sup += tag == "sup"

        def handle_endtag(self, tag: str) -> None:
            self.sup -= tag == "sup"

        def handle_data(self, data: str) -> None:
            if not self.sup:
                self.parts.append(data)

    parser = Text()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.parts)


def _marks(fragment: str) -> list[tuple[str, str, set[str]]]:
    """Each ``<mark>``: its text (footnotes left out), its data-claims, and the claim pages it links to."""
    out: list[tuple[str, str, set[str]]] = []
    state: dict[str, object] = {"in": False, "sup": 0}

    class Marks(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "mark":
                out.append(("", a.get("data-claims") or "", set()))
                state["in"] = True
            elif tag == "sup":
                state["sup"] = 1
            elif tag == "a" and state["in"]:
                out[-1][2].add(a.get("href") or "")

        def handle_endtag(self, tag: str) -> None:
            if tag == "mark":
                state["in"] = False
            elif tag == "sup":
                state["sup"] = 0

        def handle_data(self, data: str) -> None:
            if state["in"] and not state["sup"]:
                t, c, links = out[-1]
                out[-1] = (t + data, c, links)

    parser = Marks(convert_charrefs=True)
    parser.feed(fragment)
    parser.close()
    return out


def test_overlapping_quotes_link_every_claim_that_covers_them(client: TestClient) -> None:
    for doc in ("000_08f43cbfc8a050d9", "002_1ed21c23b6fc676c"):
        marks = _marks(_html(client, f"/id/document/{doc}"))
        for _, claims, links in marks:
            assert {f"/id/claim/{c.removeprefix('claim-')}" for c in claims.split()} <= links


# --- ontology and shapes ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ontology_file(), format="turtle")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    g = Graph()
    for path in shape_files():
        g.parse(path, format="turtle")
    return g


def _qname(g: Graph, term: URIRef) -> str:
    return g.namespace_manager.curie(str(term), generate=False)


def test_ontology_page_documents_every_class_and_property(client: TestClient, ontology: Graph) -> None:
    html = _html(client, "/ontology")
    page = parse_page(html)
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property)
    terms = {t for k in kinds for t in ontology.subjects(RDF.type, k) if str(t).startswith(str(NKG))}
    assert len(terms) > 30
    for term in terms:
        local = str(term)[len(str(NKG)):]
        assert local in page.ids, f"no section for {term}"
        section = page.text_of[local]
        assert str(ontology.value(term, RDFS.label)) in section
        for prop in (RDFS.domain, RDFS.range):
            for value in ontology.objects(term, prop):
                assert _qname(ontology, value) in section, f"{local}: {prop} {value} not shown"
    assert "/shapes#ClaimShape" in html and "/shapes#MeetingShape" in html


def test_shapes_page_documents_every_named_shape(client: TestClient, shapes: Graph) -> None:
    page = parse_page(_html(client, "/shapes"))
    named = {s for t in (SH.NodeShape, SH.PropertyShape) for s in shapes.subjects(RDF.type, t) if isinstance(s, URIRef)}
    assert len(named) > 15
    for shape in named:
        assert str(shape).split("#")[-1] in page.ids
    claim = page.text_of["ClaimShape"]
    assert "exactly 1 value, each an instance of nkg:Actor" in claim and "every instance of nkg:Claim" in claim


@pytest.mark.parametrize(
    "accept,rdflib_format",
    [(None, "turtle"), ("text/turtle", "turtle"), ("*/*", "turtle"), ("application/ld+json", "json-ld"),
     ("application/n-triples", "nt"), ("application/rdf+xml", "xml")],
)
def test_ontology_and_shapes_as_rdf_are_the_files(
    client: TestClient, ontology: Graph, shapes: Graph, accept: str | None, rdflib_format: str
) -> None:
    for path, expected in (("/ontology", ontology), ("/shapes", shapes)):
        response = client.get(path, headers={"Accept": accept} if accept else {})
        assert response.status_code == 200
        served = Graph().parse(data=response.content, format=rdflib_format)
        if not isomorphic(served, expected):
            _, only_served, only_file = graph_diff(served, expected)
            pytest.fail(f"{path} {accept}: {len(only_served)} extra, {len(only_file)} missing triples")


# --- dumps and VoID -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def void(client: TestClient) -> Graph:
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    return Graph().parse(data=response.text, format="turtle")


@pytest.mark.parametrize("name,rdflib_format,media", [("dataset.nq", "nquads", "application/n-quads"),
                                                      ("dataset.trig", "trig", "application/trig")])
def test_dumps_hold_the_named_graphs_and_match_their_void_checksum(
    client: TestClient, store: EmbeddedStore, void: Graph, name: str, rdflib_format: str, media: str
) -> None:
    response = client.get(f"/dumps/{name}")
    assert response.status_code == 200 and response.headers["content-type"].startswith(media)
    data = response.content
    digest = hashlib.sha256(data).hexdigest()
    assert response.headers["etag"] == f'"{digest}"'
    dataset = Dataset()
    dataset.parse(data=data, format=rdflib_format)
    graphs = {str(g.identifier) for g in dataset.graphs() if len(g)}
    assert graphs == set(store.named_graphs()) and len(graphs) == 4
    dump = next(d for d in void.objects(None, VOID.dataDump) if str(d).endswith(f"/dumps/{name}"))
    checksum = void.value(dump, SPDX.checksum)
    assert void.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    assert str(void.value(checksum, SPDX.checksumValue)) == digest
    assert int(void.value(dump, DCAT.byteSize)) == len(data)  # type: ignore[arg-type]
    assert client.get(f"/dumps/{name}", headers={"If-None-Match": f'"{digest}"'}).status_code == 304
    part = client.get(f"/dumps/{name}", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == data[:100]


def test_both_dumps_are_the_same_dataset(client: TestClient) -> None:
    nq, trig = Dataset(), Dataset()
    nq.parse(data=client.get("/dumps/dataset.nq").content, format="nquads")
    trig.parse(data=client.get("/dumps/dataset.trig").content, format="trig")
    for graph in nq.graphs():
        if len(graph):
            assert isomorphic(graph, trig.graph(graph.identifier)), graph.identifier


def test_void_counts_and_dump_index(client: TestClient, store: EmbeddedStore, void: Graph) -> None:
    dataset = next(void.subjects(RDF.type, VOID.Dataset))
    triples = select(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"]
    classes = select(store, "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }")[0]["n"]
    properties = select(store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }")[0]["n"]
    assert void.value(dataset, VOID.triples) == Literal(int(triples))
    assert void.value(dataset, VOID.classes) == Literal(int(classes))
    assert void.value(dataset, VOID.properties) == Literal(int(properties))
    index = dump_index(store)
    assert {d["path"] for d in index} == {"/dumps/dataset.nq", "/dumps/dataset.trig"}
    assert all(set(d) >= {"path", "media_type", "sha256", "bytes"} for d in index)
    listed = client.get("/dumps/", headers={"Accept": "application/json"}).json()
    assert {(d["path"], d["sha256"]) for d in listed} == {(d["path"], d["sha256"]) for d in index}
    parse_page(_html(client, "/dumps/"))
    jsonld = client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    assert isomorphic(Graph().parse(data=jsonld.content, format="json-ld"), void)


def test_named_graphs_and_void_dereference(client: TestClient, void: Graph) -> None:
    page = _html(client, "/id/graph/entities")
    parse_page(page)
    turtle = Graph().parse(data=client.get("/id/graph/entities", params={"format": "turtle"}).text, format="turtle")
    size = turtle.value(URIRef("https://w3id.org/negotiation-kg/id/graph/entities"), VOID.triples)
    assert size is not None and int(size) > 100 and f"{int(size)} triples" in page
    well_known = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert isomorphic(Graph().parse(data=well_known.text, format="turtle"), void)


def test_unknown_dump_is_404(client: TestClient) -> None:
    response = client.get("/dumps/dataset.ttl")
    assert response.status_code == 404
    assert response.json()["status"] == 404 and "dataset.nq" in response.json()["message"]
