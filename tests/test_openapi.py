"""The OpenAPI document (``/openapi.json``) describes the whole HTTP surface, and the server
survives being fuzzed through it.

The document is checked as a document (valid OpenAPI, one operation id per operation, every
``{path}`` parameter declared, the SPARQL and Graph Store protocols described with their
parameters and bodies), then schemathesis generates requests from it — valid ones and, in its
negative mode, requests that break the schema — and sends them to a live, writable ``kg serve``
on a free port with a write token: no answer may be a 5xx, no connection may be reset.
"""

from __future__ import annotations

import os
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import live
import pytest

from kg.build.dataset import BuildResult
from kg.config import Settings
from kg.formats import RDF_FORMATS
from kg.server import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

#: examples per operation and generation mode: about 650 requests, under a minute on two cores
#: examples per operation and mode (about 640 requests in all); a longer run for a soak:
#: ``KGTEST_FUZZ_EXAMPLES=320 pytest tests/test_openapi.py -k fuzzing -s`` (about 10,000)
FUZZ_EXAMPLES = int(os.environ.get("KGTEST_FUZZ_EXAMPLES", "20"))


@pytest.fixture(scope="module")
def document(store_path: Path) -> dict[str, Any]:
    with TestClient(create_app(Settings(store=str(store_path), read_only=True, workers=1))) as client:
        response = client.get("/openapi.json")
        assert response.status_code == 200
        return response.json()  # type: ignore[no-any-return]


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "head", "put", "post", "delete", "patch", "options"):
                yield path, method, operation


def test_the_openapi_document_validates(document: dict[str, Any]) -> None:
    from openapi_spec_validator import validate

    validate(document)  # raises on any error, with the JSON path of the offending part


def test_every_operation_id_is_unique(document: dict[str, Any]) -> None:
    ids = Counter(op.get("operationId") for _, _, op in _operations(document))
    assert None not in ids
    assert [i for i, n in ids.items() if n > 1] == []


def test_every_path_parameter_is_declared(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert set(re.findall(r"\{(\w+)\}", path)) == declared, f"{method.upper()} {path}"


def test_the_sparql_protocol_is_described(document: dict[str, Any]) -> None:
    sparql = document["paths"]["/sparql"]
    names = {p["name"] for p in sparql["get"]["parameters"]}
    assert names >= {"query", "default-graph-uri", "named-graph-uri", "format", "timeout"}
    bodies = sparql["post"]["requestBody"]["content"]
    assert set(bodies) == {"application/sparql-query", "application/sparql-update", "application/x-www-form-urlencoded"}
    assert set(bodies["application/x-www-form-urlencoded"]["schema"]["properties"]) >= {"query", "update"}
    assert {"bearer": []} in sparql["post"]["security"]
    assert "bearer" in document["components"]["securitySchemes"]


def test_the_graph_store_protocol_is_described(document: dict[str, Any]) -> None:
    for path in ("/graph-store", "/graph-store/{path}"):
        assert set(document["paths"][path]) == {"get", "head", "put", "post", "delete"}, path
    store = document["paths"]["/graph-store"]
    for method in ("get", "head", "put", "post", "delete"):
        assert {p["name"] for p in store[method]["parameters"]} >= {"graph", "default"}, method
    media = {f.media_type for f in RDF_FORMATS}
    assert set(store["put"]["requestBody"]["content"]) == media
    assert set(store["post"]["requestBody"]["content"]) == media | {"multipart/form-data"}
    assert set(store["get"]["responses"]["200"]["content"]) == media
    for code in ("400", "404", "406"):
        assert store["get"]["responses"][code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture(scope="module")
def writable_server(built: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A live, writable ``kg serve`` on a store of its own, and a write token for it."""
    with live.writable_server(built.graphs, tmp_path_factory.mktemp("fuzz"), "fuzzer") as server:
        yield server


def test_fuzzing_through_the_openapi_document_finds_no_server_error(
    writable_server: tuple[str, str], record_property: Any
) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    url, secret = writable_server
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    tried: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def send(case: Any) -> None:
                tried[operation.label] += 1
                # a connection reset or refused raises here and fails the test with the case
                response = case.call(base_url=url, headers={"Authorization": f"Bearer {secret}"}, timeout=60)
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} {case.method} {case.formatted_path} "
                                    f"{case.query!r} {str(case.body)[:200]!r}: {response.text[:300]}")

            try:
                send()
            except Unsatisfiable:
                # nothing of this operation can be made invalid (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, operation.label
    total = sum(tried.values())
    record_property("schemathesis_requests", total)
    print(f"schemathesis sent {total} requests over {len(tried)} operations; answers: {dict(sorted(statuses.items()))}")
    assert failures == [], "\n".join(failures)
    assert len(tried) == len(list(schema.get_all_operations()))
