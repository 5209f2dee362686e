"""The query page's server side (:mod:`kg.server.page`): permalinks filled in without JavaScript,
what the editor completes, the static files (vendored ones with their licences, gzipped on
request, nothing outside ``static/``), and ``/docs`` from bundled assets. The page in a browser:
``tests/test_browser.py``."""

from __future__ import annotations

import gzip
import html
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from kg.config import Settings
from kg.namespaces import NKG, OWL, PREFIXES, RDF
from kg.resources import ontology_file
from kg.server import create_app
from kg.server.markup import SEARCH_BOX, SITE_HEADER, SITE_NAV, SKIP_LINK
from kg.server.page import STATIC

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

VENDOR = STATIC / "vendor"


@pytest.fixture(scope="module")
def client(store_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store=str(store_path), read_only=True, workers=1))) as c:
        yield c


def test_a_permalink_opens_the_page_with_its_query_in_the_form(client: TestClient) -> None:
    query = 'SELECT * { ?s ?p "</textarea><script>alert(1)</script>" } LIMIT 3'
    response = client.get("/", params={"query": query})
    assert response.status_code == 200
    found = re.search(r'<textarea id="query" name="query"[^>]*>(.*?)</textarea>', response.text, re.DOTALL)
    assert found is not None and html.unescape(found.group(1)) == query
    assert "<script>alert" not in response.text
    # without one, the page's own example query
    plain = client.get("/").text
    assert "nkg:Actor" in html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", plain, re.DOTALL).group(1))


def test_the_form_posts_to_the_endpoint_without_javascript(client: TestClient) -> None:
    page = client.get("/").text
    assert '<form id="form" method="post" action="/sparql">' in page
    response = client.post("/sparql", data={"query": "ASK { ?s ?p ?o }", "format": "json"})
    assert response.status_code == 200 and response.json()["boolean"] is True


def test_completions_are_our_prefixes_and_every_term_of_the_ontology(client: TestClient) -> None:
    data = client.get("/completions").json()
    assert data["prefixes"] == PREFIXES
    names = {t["name"]: t for t in data["terms"]}
    ontology = Graph().parse(ontology_file(), format="turtle")
    own = {s for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
           for s in ontology.subjects(RDF.type, kind) if isinstance(s, URIRef) and s.startswith(str(NKG))}
    assert own and {"nkg:" + s.removeprefix(str(NKG)) for s in own} <= set(names)
    assert names["nkg:Meeting"]["kind"] == "class" and names["nkg:Meeting"]["iri"] == str(NKG.Meeting)
    assert "property" in names["nkg:opposedBy"]["kind"]
    for term in data["terms"]:
        prefix, local = term["name"].split(":", 1)
        assert PREFIXES[prefix] + local == term["iri"]


@pytest.mark.parametrize("path,media", [
    ("/static/vendor/codemirror/codemirror.js", "text/javascript"),
    ("/static/vendor/swagger-ui/swagger-ui-bundle.js", "text/javascript"),
    ("/static/vendor/swagger-ui/swagger-ui.css", "text/css"),
    ("/static/app.js", "text/javascript"),
    ("/static/vendor/codemirror/LICENSE", "text/plain"),
])
def test_static_files_are_sent_whole_or_gzipped(client: TestClient, path: str, media: str) -> None:
    on_disk = (STATIC / path.removeprefix("/static/")).read_bytes()
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.headers["content-type"].startswith(media)
    assert "content-encoding" not in plain.headers and plain.content == on_disk
    packed = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip" and "Accept-Encoding" in packed.headers["vary"]
    assert packed.content == on_disk  # httpx undoes the gzip
    assert int(packed.headers["content-length"]) < len(on_disk)
    assert packed.headers["etag"] != plain.headers["etag"]  # another representation, another tag
    again = client.get(path, headers={"If-None-Match": packed.headers["etag"], "Accept-Encoding": "gzip"})
    assert again.status_code == 304 and not again.content
    assert client.get(path, headers={"If-None-Match": plain.headers["etag"], "Accept-Encoding": "identity"}).status_code == 304


@pytest.mark.parametrize("path", [
    "/static/../page.py", "/static/%2e%2e/page.py", "/static/vendor/refresh.sh", "/static/vendor/package.json",
    "/static/vendor/codemirror-entry.mjs", "/static/vendor", "/static/nothing.js",
])
def test_nothing_else_is_a_static_file(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_every_vendored_library_keeps_its_licence() -> None:
    folders = [p for p in VENDOR.iterdir() if p.is_dir()]
    assert {p.name for p in folders} == {"codemirror", "swagger-ui"}
    for folder in folders:
        assert "Permission is hereby granted" in (folder / "LICENSE").read_text(encoding="utf-8") or \
            "Apache License" in (folder / "LICENSE").read_text(encoding="utf-8"), folder


def test_the_pages_load_nothing_from_elsewhere(client: TestClient) -> None:
    for path in ("/", "/docs"):
        page = client.get(path).text
        sources = re.findall(r'(?:src|href)="([^"]*)"', page)
        assert sources, path
        assert all(s.startswith("/") or s.startswith("data:") for s in sources), (path, sources)
        for source in sources:
            if source.startswith("/static/"):
                assert client.get(source).status_code == 200, source
    assert "swagger-ui-bundle.js" in client.get("/docs").text
    assert client.get("/redoc").status_code == 404


def test_every_page_has_the_same_header(client: TestClient) -> None:
    """The query page, the API docs, a resource, the search and a picture: one navigation and one search box."""
    for path in ("/", "/docs", "/id/actor/ukraine", "/views/timeline", "/id/", "/sparql"):
        page = client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 200 and SITE_HEADER in page.text, path
        assert page.text.count("role=search") == 1 and page.text.count('id="main"') + page.text.count("id=main") == 1
    assert "/views/stances" in SITE_HEADER and "action=/search" in SITE_HEADER
    assert SITE_HEADER.startswith(SKIP_LINK) and "href=#main" in SKIP_LINK
    # the search page: the same links, and one search box, its own
    page = client.get("/search", params={"q": "ceasefire"}, headers={"Accept": "text/html"}).text
    assert SKIP_LINK + "<header class=site>" + SITE_NAV + "</header>" in page and SEARCH_BOX not in page
    assert page.count("role=search") == 1 and "value='ceasefire'" in page
