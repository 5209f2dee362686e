"""``/search``: resources by label or alias, claims by the words of their quotes; the index
follows the store's commits; bad searches are 4xx, never 500; the same on a remote store."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import select, settings_of, stored
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS
from test_linked_data import parse_page

from kg.build.dataset import BuildResult
from kg.config import Settings
from kg.namespaces import sparql_prologue
from kg.server import create_app
from kg.server.reading.search_index import FOLDER, fts_query
from kg.store import EmbeddedStore, RemoteStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PREFIX = sparql_prologue()
CEASEFIRE = "https://w3id.org/negotiation-kg/id/proposal/thirty-day-ceasefire"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, built: BuildResult) -> Path:
    """A store of this module's own: the tests below write to it."""
    return stored(tmp_path_factory.mktemp("search") / "store", built.graphs)


@pytest.fixture(scope="module")
def client(store_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store=str(store_dir), workers=1))) as c:
        yield c


def _search(client: TestClient, q: str, **params: str) -> dict:  # type: ignore[type-arg]
    response = client.get("/search", params={"q": q, "format": "json", **params})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _marked(match: dict) -> list[str]:  # type: ignore[type-arg]
    return [match["text"][s:e] for s, e in match["highlights"]]


def test_a_phrase_of_a_quote_finds_its_claim_highlighted(client: TestClient, store: EmbeddedStore) -> None:
    rows = select(store, PREFIX + "SELECT ?claim ?quote WHERE { ?claim nkg:quote ?quote } ORDER BY ?claim")
    for row in rows[::40]:
        words = re.findall(r"\w+", row["quote"])
        phrase = " ".join(words[len(words) // 2:len(words) // 2 + 4])
        found = _search(client, f'"{phrase}"')
        hit = next((h for h in found["hits"] if h["iri"] == row["claim"]), None)
        assert hit is not None, (phrase, [h["iri"] for h in found["hits"]])
        quote = next(m for m in hit["matches"] if m["field"] == "quote")
        assert quote["text"] == row["quote"]
        marked = re.findall(r"\w+", " ".join(_marked(quote)).lower())
        assert set(marked) == set(phrase.lower().split()), (marked, phrase)
    html = client.get("/search", params={"q": "pause now, discussions later"}).text
    parse_page(html)
    hit = html.split("<blockquote class=hit>", 1)[1].split("</blockquote>", 1)[0]
    assert "<mark>pause</mark> <mark>now</mark>, <mark>discussions</mark> <mark>later</mark>" in hit


def test_labels_rank_first_and_aliases_and_accents_are_found(client: TestClient, store: EmbeddedStore) -> None:
    found = _search(client, "30-day ceasefire")
    assert found["hits"][0]["iri"] == CEASEFIRE and found["hits"][0]["href"] == "/id/proposal/thirty-day-ceasefire"
    assert found["every_word"] and found["total"] >= len(found["hits"]) > 1
    aliases = select(store, PREFIX + "SELECT ?s ?alias WHERE { ?s skos:altLabel ?alias } ORDER BY ?s ?alias")
    for row in aliases[::7]:
        hit = next(h for h in _search(client, f'"{row["alias"]}"', limit="200")["hits"] if h["iri"] == row["s"])
        assert any(m["field"] == "alias" and m["text"] == row["alias"] for m in hit["matches"]), hit
    turkiye = _search(client, "turkiye")["hits"][0]
    assert turkiye["label"] == "Türkiye" and _marked(turkiye["matches"][0]) == ["Türkiye"]


def test_no_hit_with_every_word_falls_back_to_any(client: TestClient) -> None:
    found = _search(client, "ceasefire zzzqqqxxx")
    assert not found["every_word"] and found["total"] > 0
    assert _search(client, "zzzqqqxxx")["total"] == 0


@pytest.mark.parametrize("q", ['NEAR(a b)', 'label:ceasefire', '"unclosed', '* OR AND NOT', "a^b -c +d", "\u0000x",
                               "\ue000ceasefire\ue001", "(((", "'; DROP TABLE fts; --"])
def test_search_syntax_is_read_as_words(client: TestClient, q: str) -> None:
    for fmt in ("json", "html"):
        response = client.get("/search", params={"q": q, "format": fmt})
        assert response.status_code in (200, 400), (q, response.text)
        if response.status_code == 400:
            assert fts_query(q) is None and "no word" in response.json()["message"]


def test_bad_searches_are_refused_clearly(client: TestClient) -> None:
    for params, fragment in (({"q": ""}, "empty"), ({"q": "x" * 301}, "at most 300"), ({"q": "..."}, "no word")):
        response = client.get("/search", params={**params, "format": "json"})
        assert response.status_code == 400 and fragment in response.json()["message"], response.text
    assert client.get("/search", params={"q": "x" * 301}).status_code == 400
    assert client.get("/search", params={"q": "peace", "limit": "0"}).status_code == 400
    assert client.get("/search", params={"q": "peace", "format": "xml"}).status_code == 406
    form = client.get("/search")
    assert form.status_code == 200 and "name=q" in form.text and "<ol class=hits" not in form.text


def test_the_index_follows_commits_and_lives_beside_the_store(client: TestClient, store_dir: Path) -> None:
    from kg.server.reading.search import search_index

    word = "quasquicentennial"
    assert _search(client, word)["total"] == 0
    app_store = client.app.state.store  # type: ignore[attr-defined]
    before = app_store.version
    assert (store_dir / FOLDER / f"index-{before}.sqlite").is_file()
    graph = Graph()
    graph.add((URIRef("https://example.org/jubilee"), RDFS.label, Literal(f"The {word} talks")))
    app_store.replace_graphs({URIRef("https://example.org/graph/search-test"): graph})
    assert app_store.version != before

    class _Request:
        app = client.app

    index = search_index(_Request())  # type: ignore[arg-type]
    assert index.wait(30)
    found = _search(client, word)
    assert [h["iri"] for h in found["hits"]] == ["https://example.org/jubilee"]
    assert not found["index"]["stale"] and found["index"]["version"] == app_store.version
    assert [p.name for p in (store_dir / FOLDER).iterdir()] == [f"index-{app_store.version}.sqlite"]


def test_pages_indexes_and_search_on_a_remote_store(remote_store: RemoteStore) -> None:
    with TestClient(create_app(settings_of(remote_store, workers=1))) as remote:
        found = remote.get("/search", params={"q": "30-day ceasefire", "format": "json"}).json()
        assert found["hits"][0]["iri"] == CEASEFIRE and found["index"]["version"].startswith("remote-")
        page = remote.get("/id/proposal/thirty-day-ceasefire", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "<h3 id=stances-opposed>" in page.text
        actors = remote.get("/id/actor/", headers={"Accept": "text/html"})
        assert actors.status_code == 200, actors.text
        assert "/id/actor/vladimir-putin" in actors.text
        for path in ("/id/", "/id/actor/vladimir-putin", "/id/meeting/istanbul-talks-2025", "/id/place/istanbul",
                     "/id/claim/?format=turtle"):
            assert remote.get(path, headers={"Accept": "text/html"}).status_code == 200, path
