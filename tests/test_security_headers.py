"""Every response carries the security headers (:mod:`kg.server.headers`): pages, static files,
RDF, errors and bugs alike; one policy for every page, ``/docs`` included, allowing nothing
inline and nothing from elsewhere. (That the pages work under the policy in a real browser is
tested in ``tests/test_browser.py``.)"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.config import Settings
from kg.server import create_app
from kg.server.headers import PAGE_POLICY

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

#: a document's page: its whole text, every claim highlighted and linked
DOCUMENT = "/id/document/000_08f43cbfc8a050d9"


@pytest.fixture(scope="module")
def client(store_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(store=str(store_path), read_only=True, workers=1))

    def boom() -> None:
        raise RuntimeError("a bug with internals: /secret/path")

    app.add_api_route("/boom", boom, include_in_schema=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _common(headers: object) -> None:
    get = headers.get  # type: ignore[attr-defined]
    assert get("x-content-type-options") == "nosniff"
    assert get("x-frame-options") == "DENY"
    assert get("referrer-policy") == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'none'" in get("content-security-policy")


@pytest.mark.parametrize("path,status", [
    ("/", 200), ("/static/app.js", 200), ("/examples", 200), ("/ontology?format=html", 200),
    ("/ontology?format=turtle", 200), ("/id/actor/nobody-at-all", 404), ("/sparql?query=SELEC", 400),
    ("/sparql?query=ASK%7B%7D", 200), ("/dumps/", 200), ("/openapi.json", 200), ("/nowhere", 404),
    ("/docs", 200), ("/static/vendor/swagger-ui/swagger-ui-bundle.js", 200), ("/completions", 200),
    ("/?query=ASK%7B%7D", 200),
])
def test_every_response_carries_the_security_headers(client: TestClient, path: str, status: int) -> None:
    page = path in ("/", "/dumps/") or path.startswith("/id/")
    response = client.get(path, headers={"Accept": "text/html"} if page else {})
    assert response.status_code == status
    _common(response.headers)
    assert response.headers["content-security-policy"] == PAGE_POLICY


def test_the_page_policy_allows_nothing_inline_or_from_elsewhere() -> None:
    directives = dict(d.strip().split(" ", 1) for d in PAGE_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    for name in ("script-src", "style-src", "connect-src"):
        assert directives[name] == "'self'", name
    assert "unsafe" not in PAGE_POLICY and "http" not in PAGE_POLICY and "sha256" not in PAGE_POLICY


def test_the_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    for path in ("/", "/docs", "/ontology?format=html", "/shapes?format=html", "/dumps/", DOCUMENT):
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html"), path
        html = response.text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert "<style" not in html and " style=" not in html, path
        assert not re.search(r"\son[a-z]+=", html), path


def test_a_bug_is_a_500_in_the_one_shape_with_the_headers_and_no_internals(client: TestClient) -> None:
    response = client.get("/boom")
    assert response.status_code == 500
    assert set(response.json()) == {"error", "status", "message"}
    assert "secret" not in response.text and "Traceback" not in response.text
    _common(response.headers)


def test_the_docs_page_has_the_pages_policy_and_redoc_is_gone(client: TestClient) -> None:
    """/docs is Swagger UI from the package, started by a script file: it needs no policy of its own."""
    response = client.get("/docs")
    assert response.status_code == 200
    _common(response.headers)
    assert response.headers["content-security-policy"] == PAGE_POLICY
    assert "cdn" not in response.text and "https://" not in response.text
    assert client.get("/redoc").status_code == 404
