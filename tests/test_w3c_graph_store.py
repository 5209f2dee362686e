"""The W3C SPARQL 1.1 Graph Store HTTP Protocol tests, driven by their manifests, against ``/graph-store``.

``shared/testsuites/graph-store-protocol/manifest.ttl`` includes ``manifest-direct.ttl`` and
``manifest-indirect.ttl``. Each ``mf:GraphStoreProtocolTest`` is a sequence of ``ht:Request``s
with expected statuses (``hts:Created``, ``hts:OK``, ``hts:StatusCode2xx``…), optionally an expected
``content-type`` and body (compared as graphs, isomorphic) and ``mf:expectedLocation``, a template
variable later requests use. The manifest's ``/gsp`` path prefix is replaced by ``/graph-store``.

Every test runs against a fresh store (its first PUT must answer 201 Created), and every request
carries a write token (the suite sends none; this endpoint refuses writes without one).

Both ways of naming a graph are tested: ``?graph=IRI`` (indirect) and a URL below the endpoint,
``/graph-store/person/1.ttl`` (direct: the graph's IRI is that URL).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import discard_remote, fresh_remote, settings_of
from rdflib import RDF, Graph, Namespace
from rdflib.collection import Collection
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from kg.config import Settings
from kg.ops.tokens import create_token
from kg.server import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SUITE = Path(__file__).resolve().parents[2] / "shared" / "testsuites" / "graph-store-protocol"
if not (SUITE / "manifest.ttl").is_file():
    pytest.skip(f"W3C Graph Store Protocol suite not found at {SUITE}", allow_module_level=True)

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")

#: the manifest's endpoint path, and ours
MANIFEST_PREFIX, ENDPOINT = "/gsp", "/graph-store"
#: hts: names the manifests use, as the status codes they allow
STATUS = {"OK": {200}, "Created": {201}, "NoContent": {204}, "NotFound": {404}}
#: every test the manifests list (a new one fails test_table_covers_the_manifests until it is added)
EXPECTED = {
    "put_get_repeat_indirect", "put_get_default", "put_delete_get_delete_indirect", "post_get_post_get_indirect",
    "post_get_new_graph", "head_existing_indirect", "head_non_existing_indirect",
    "put_get_uri_pct_encoded_indirect", "put_get_uri_pct_encoded_twice",
    "put_get_repeat_direct", "put_delete_get_delete_direct", "post_get_post_get_direct", "head_existing_direct",
}


@dataclass(frozen=True)
class Step:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: frozenset[int]
    content_type: str | None
    expected_body: str | None
    location_variable: str | None


@dataclass(frozen=True)
class GspTest:
    key: str
    name: str
    requires: frozenset[str]
    steps: tuple[Step, ...]


def _headers(g: Graph, node: object) -> dict[str, str]:
    header_list = g.value(node, HT.headers)
    if header_list is None:
        return {}
    return {str(g.value(h, HT.fieldName)).lower(): str(g.value(h, HT.fieldValue)) for h in Collection(g, header_list)}


def _statuses(g: Graph, response: object) -> frozenset[int]:
    codes: set[int] = set()
    for s in g.objects(response, MF.expectedStatus):
        name = str(s).removeprefix(str(HTS))
        if name.startswith("StatusCode"):
            first = int(name.removeprefix("StatusCode")[0])
            codes |= set(range(first * 100, first * 100 + 100))
        else:
            codes |= STATUS[name]
    return frozenset(codes)


def _text(g: Graph, node: object) -> str | None:
    body = g.value(node, HT.body)
    return None if body is None else str(g.value(body, CNT.chars))


def load_tests() -> list[GspTest]:
    tests = []
    for manifest in ("manifest-indirect.ttl", "manifest-direct.ttl"):
        path = SUITE / manifest
        g = Graph().parse(path, format="turtle", publicID=path.as_uri())
        root = g.value(predicate=RDF.type, object=MF.Manifest, any=False)
        for entry in Collection(g, g.value(root, MF.entries)):
            steps = []
            for request in Collection(g, g.value(g.value(entry, MF.action), HT.requests)):
                response = g.value(request, HT.resp)
                text = _text(g, request)
                expected_headers = _headers(g, response)
                location = g.value(response, MF.expectedLocation)
                steps.append(Step(
                    method=str(g.value(request, HT.methodName)),
                    path=str(g.value(request, HT.absolutePath)),
                    headers=_headers(g, request),
                    body=text.encode("utf-8") if text is not None else None,
                    statuses=_statuses(g, response),
                    content_type=expected_headers.get("content-type"),
                    expected_body=_text(g, response),
                    location_variable=str(location) if location is not None else None,
                ))
            tests.append(GspTest(str(entry).rsplit("#", 1)[1], str(g.value(entry, MF.name)),
                                 frozenset(str(r).rsplit("#", 1)[1] for r in g.objects(entry, MF.requires)),
                                 tuple(steps)))
    return tests


TESTS = load_tests()


@pytest.fixture(params=["embedded", "virtuoso"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """A fresh, empty writable store of each kind served in-process; every request carries a
    write token. On Virtuoso the store has graphs of its own, dropped afterwards."""
    remote = None
    if request.param == "embedded":
        settings = Settings(store=str(tmp_path / "store"), workers=1)
    else:
        remote = fresh_remote(request.getfixturevalue("virtuoso"))
        settings = settings_of(remote, workers=1, tokens_file=tmp_path / "tokens.json")
    secret = create_token(settings, "gsp-suite")
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {secret}"}) as c:
        yield c
    if remote is not None:
        discard_remote(remote)


def _parse(text: str, media: str) -> Graph:
    return Graph().parse(data=text, format={"text/turtle": "turtle", "application/n-triples": "nt"}[media])


@pytest.mark.parametrize("test", [pytest.param(t, id=t.key) for t in TESTS])
def test_graph_store(test: GspTest, client: TestClient) -> None:
    """Send the test's requests in order; each response must be what the manifest expects."""
    variables: dict[str, str] = {}
    for index, step in enumerate(test.steps):
        path, body = step.path, step.body
        for name, value in variables.items():
            path = path.replace(name, value)
            body = body.replace(name.encode(), value.encode()) if body is not None else None
        assert path.startswith(MANIFEST_PREFIX), path
        url = ENDPOINT + path.removeprefix(MANIFEST_PREFIX)
        where = f"{test.key} request {index + 1}: {step.method} {url}"
        response = client.request(step.method, url, headers=step.headers, content=body)
        assert response.status_code in step.statuses, f"{where}: got {response.status_code}: {response.text[:300]}"
        if step.location_variable:
            assert "location" in response.headers, f"{where}: no Location header"
            variables[step.location_variable] = response.headers["location"]
        if step.content_type:
            got = [p.strip().lower() for p in response.headers.get("content-type", "").split(";")]
            want = [p.strip().lower() for p in step.content_type.split(";")]
            assert got == want, f"{where}: content-type {got}, expected {want}"
        if step.expected_body is not None and step.method != "HEAD":
            media = step.content_type.split(";")[0].strip() if step.content_type else "text/turtle"
            expected, got_graph = _parse(step.expected_body, media), _parse(response.text, media)
            if not isomorphic(expected, got_graph):
                _, missing, extra = graph_diff(to_isomorphic(expected), to_isomorphic(got_graph))
                raise AssertionError(f"{where}: missing {sorted(missing)}, extra {sorted(extra)}")


def test_table_covers_the_manifests() -> None:
    """Every test the manifests list is known here, so a change to the suite is noticed."""
    assert {t.key for t in TESTS} == EXPECTED
    assert sum("DirectGraphIdentification" in t.requires for t in TESTS) == 4
