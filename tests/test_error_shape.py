"""Every HTTP error has one JSON shape: {"error": reason phrase, "status": code, "message": …}."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

import pytest

from kg.config import Settings
from kg.server import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(store_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store=str(store_path), read_only=True, workers=1))) as c:
        yield c


ERRORS = [
    ("GET", "/nowhere", {}, None, 404),
    ("GET", "/sparql", {"query": "SELEC * {}"}, None, 400),
    ("GET", "/sparql", {"query": "ASK {}", "timeout": "soon"}, None, 400),
    ("GET", "/sparql", {"query": "SELECT * { SERVICE <http://example.org/s> { ?s ?p ?o } }"}, None, 403),
    ("POST", "/sparql", {}, ("text/plain", "ASK {}"), 415),
    ("GET", "/id/actor/nobody-at-all", {}, None, 404),
    ("GET", "/id/planet/earth", {}, None, 404),
    ("GET", "/static/secret.py", {}, None, 404),
    ("POST", "/validate", {}, ("text/csv", "a,b"), 415),
    ("POST", "/validate", {}, ("text/turtle", "<http://example.org/a> <http://example.org/b> ."), 400),
    ("POST", "/validate", {"format": "yaml"}, ("text/turtle", "<http://example.org/a> <http://example.org/b> 1 ."), 406),
    ("POST", "/admin/write", {}, ("application/json", "{}"), 404),
]


@pytest.mark.parametrize("method,path,params,body,status", ERRORS, ids=[f"{e[0]} {e[1]} {e[4]}" for e in ERRORS])
def test_error_shape(client: TestClient, method: str, path: str, params: dict[str, str], body: tuple[str, str] | None, status: int) -> None:
    kwargs: dict[str, object] = {"params": params}
    if body is not None:
        kwargs["content"] = body[1]
        kwargs["headers"] = {"Content-Type": body[0]}
    response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status
    payload = response.json()
    assert set(payload) == {"error", "status", "message"}
    assert payload["status"] == status and payload["error"] == HTTPStatus(status).phrase
    assert payload["message"].strip()
