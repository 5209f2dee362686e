"""The W3C SPARQL 1.1 Protocol test suite, driven by its manifest, against ``/sparql`` in-process.

The manifest (``shared/testsuites/sparql11-protocol/manifest.ttl``) is machine-readable: each
``mf:ProtocolTest`` carries its HTTP requests (``ht:methodName``, ``ht:absolutePath`` with the
query string, ``ht:headers``, ``ht:body`` with ``cnt:chars`` and ``cnt:characterEncoding``) and
the expected responses (``mf:expectedStatus`` as status classes, ``mf:expectedFormat``
``"boolean"``/``"tabular"``/``"RDF"``, ``mf:expectedBoolean``), plus the data to load
(``ut:graphData``: a file and, as ``rdfs:label``, the graph IRI it is known by). The requests
sent here are read from the manifest, so nothing is copied by hand and a change to the suite
changes what runs.

:data:`TESTS` is the table of what the manifest does not say: whether a test is a query or an
update test, what the body of a result must contain beyond its format (for example that
``SELECT (1 AS ?value) {}`` gives one row with ``1``), and the failures we expect today, each with
its reason. A test added to or removed from the manifest fails :func:`test_table_covers_the_manifest`
until the table says how to treat it.

The data: ``ut:graphData`` loads ``data1.nt``…``data3.nt`` into the named graphs their labels name
(``http://kasei.us/2009/09/sparql/data/data1.rdf``…), which are the IRIs the dataset tests pass as
``default-graph-uri``/``named-graph-uri``; the store's default graph is their union. Every test
that names data names these same graphs, and the query tests only read, so they share one
read-only endpoint (starting an app costs seconds: it spawns its query workers). The update tests
get a writable endpoint of their own, and every request they send carries a write token (the
suite's requests have none; this endpoint refuses updates without one). The manifest's
``/sparql/`` path prefix is replaced by the endpoint's path, as the manifest's own comment asks.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import httpx
import pytest
from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.util import from_n3

from kg.config import Settings
from kg.ops.tokens import create_token
from kg.server import create_app
from kg.store import EmbeddedStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SUITE = Path(__file__).resolve().parents[2] / "shared" / "testsuites" / "sparql11-protocol"
if not (SUITE / "manifest.ttl").is_file():
    pytest.skip(f"W3C SPARQL 1.1 Protocol suite not found at {SUITE}", allow_module_level=True)

MANIFEST = SUITE / "manifest.ttl"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SRX = "{http://www.w3.org/2005/sparql-results#}"

#: the path prefix every ht:absolutePath starts with, and what it stands for here
MANIFEST_PREFIX, ENDPOINT = "/sparql/", "/sparql"

#: result media types the suite accepts, by mf:expectedFormat (the test names list them:
#: "expect one of: XML, JSON[, CSV, TSV]" and "RDF/XML, Turtle, N-Triples, RDFa")
RESULTS_JSON = ("application/sparql-results+json", "application/json")
RESULTS_XML = ("application/sparql-results+xml", "application/xml")
ALLOWED_MEDIA = {
    "boolean": RESULTS_JSON + RESULTS_XML,
    "tabular": RESULTS_JSON + RESULTS_XML + ("text/csv", "text/tab-separated-values"),
    "RDF": ("application/rdf+xml", "text/turtle", "application/n-triples", "text/html", "application/xhtml+xml"),
}
RDFLIB_PARSER = {"application/rdf+xml": "xml", "text/turtle": "turtle", "application/n-triples": "nt"}



# -- the manifest ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One ht:Request of a test and the ht:Response it expects."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: frozenset[str]  # status classes: "2xx", "3xx", "4xx", …
    expected_format: str | None  # "boolean", "tabular", "RDF"
    expected_boolean: bool | None


@dataclass(frozen=True)
class ProtocolTest:
    """One mf:ProtocolTest: its IRI, mf:name, data (graph IRI → file) and requests, in order."""

    iri: str
    name: str
    data: dict[str, Path]
    requests: tuple[Request, ...]

    @property
    def key(self) -> str:
        return self.iri.rsplit("#", 1)[1]


def _request(g: Graph, node: Any) -> Request:
    header_list = g.value(node, HT.headers)
    headers = {
        str(g.value(h, HT.fieldName)): str(g.value(h, HT.fieldValue))
        for h in (Collection(g, header_list) if header_list is not None else [])
    }
    body_node = g.value(node, HT.body)
    body = None
    if body_node is not None:
        encoding = str(g.value(body_node, CNT.characterEncoding) or "UTF-8")
        body = str(g.value(body_node, CNT.chars)).encode(encoding)
    response = g.value(node, HT.resp)
    boolean = g.value(response, MF.expectedBoolean)
    expected_format = g.value(response, MF.expectedFormat)
    return Request(
        method=str(g.value(node, HT.methodName)),
        path=str(g.value(node, HT.absolutePath)),
        headers=headers,
        body=body,
        statuses=frozenset(
            str(s).removeprefix(str(HTS)).removeprefix("StatusCode") for s in g.objects(response, MF.expectedStatus)
        ),
        expected_format=str(expected_format) if expected_format is not None else None,
        expected_boolean=boolean.toPython() if boolean is not None else None,
    )


def load_manifest() -> list[ProtocolTest]:
    """The manifest's entries, in its order."""
    g = Graph().parse(MANIFEST, format="turtle", publicID=MANIFEST.as_uri())
    manifest = g.value(predicate=RDF.type, object=MF.Manifest, any=False)
    tests = []
    for entry in Collection(g, g.value(manifest, MF.entries)):
        data = {
            str(g.value(d, RDFS.label)): Path(url2pathname(urlparse(str(g.value(d, UT.graph))).path))
            for d in g.objects(entry, UT.graphData)
        }
        connection = g.value(entry, MF.action)
        requests = tuple(_request(g, r) for r in Collection(g, g.value(connection, HT.requests)))
        tests.append(ProtocolTest(str(entry), str(g.value(entry, MF.name)), data, requests))
    return tests


MANIFEST_TESTS = load_manifest()


# -- reading a response ---------------------------------------------------------------------------


@dataclass
class Result:
    """A response body read back: a boolean, a table (variables and rows of RDF terms) or a graph."""

    media_type: str
    boolean: bool | None = None
    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    graph: Graph | None = None
    #: CSV loses term types: its cells are compared by lexical form only
    lexical_only: bool = False


def _json_term(b: dict[str, str]) -> Any:
    if b["type"] == "uri":
        return URIRef(b["value"])
    if b["type"] == "bnode":
        return BNode(b["value"])
    return Literal(b["value"], lang=b.get("xml:lang"), datatype=b.get("datatype"))


def _xml_term(e: ET.Element) -> Any:
    if e.tag == SRX + "uri":
        return URIRef(e.text or "")
    if e.tag == SRX + "bnode":
        return BNode(e.text)
    return Literal(e.text or "", lang=e.get("{http://www.w3.org/XML/1998/namespace}lang"), datatype=e.get("datatype"))


def read_result(response: httpx.Response) -> Result:
    """Parse a 2xx body by its Content-Type; fails the test if the body does not match its type."""
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    text = response.content.decode("utf-8")
    if media in RESULTS_JSON:
        data = json.loads(text)
        if "boolean" in data:
            return Result(media, boolean=data["boolean"])
        rows = [{k: _json_term(v) for k, v in b.items()} for b in data["results"]["bindings"]]
        return Result(media, variables=data["head"]["vars"], rows=rows)
    if media in RESULTS_XML:
        root = ET.fromstring(text)
        assert root.tag == SRX + "sparql", f"not a SPARQL XML results document: {root.tag}"
        boolean = root.find(SRX + "boolean")
        if boolean is not None:
            return Result(media, boolean={"true": True, "false": False}[(boolean.text or "").strip()])
        variables = [v.get("name", "") for v in root.iter(SRX + "variable")]
        rows = [
            {b.get("name", ""): _xml_term(b[0]) for b in r.iter(SRX + "binding")} for r in root.iter(SRX + "result")
        ]
        return Result(media, variables=variables, rows=rows)
    if media == "text/csv":
        header, *body = list(csv.reader(io.StringIO(text)))
        rows = [{k: Literal(v) for k, v in zip(header, line) if v != ""} for line in body]
        return Result(media, variables=header, rows=rows, lexical_only=True)
    if media == "text/tab-separated-values":
        header, *body = [line.split("\t") for line in text.splitlines()]
        rows = [{k.lstrip("?"): from_n3(v) for k, v in zip(header, line) if v != ""} for line in body]
        return Result(media, variables=[h.lstrip("?") for h in header], rows=rows)
    if media in RDFLIB_PARSER:
        return Result(media, graph=Graph().parse(data=text, format=RDFLIB_PARSER[media]))
    raise AssertionError(f"cannot read a response of type {media!r}: {text[:200]!r}")


def is_results_document(response: httpx.Response) -> bool:
    """True if the body reads as a query result (a 4xx must not carry one)."""
    try:
        result = read_result(response)
    except Exception:  # noqa: BLE001 - anything unreadable is, for this purpose, not a result
        return False
    return result.boolean is not None or bool(result.variables) or bool(result.graph)


# -- what the manifest does not say ---------------------------------------------------------------

Check = Callable[[Result], None]


def one_row_value_1(result: Result) -> None:
    """``SELECT (1 AS ?value) {}``: one row, ``?value`` bound to the integer 1."""
    assert result.variables == ["value"], result.variables
    expected = Literal("1") if result.lexical_only else Literal(1)
    assert result.rows == [{"value": expected}], result.rows


def is_true(result: Result) -> None:
    """``ASK {}`` is true over any dataset (the one empty solution matches)."""
    assert result.boolean is True


def same_graph(got: Graph | None, expected: Graph) -> None:
    """Compare as graphs; on failure, show what is missing and what is extra."""
    assert got is not None, "not a graph"
    if not isomorphic(got, expected):
        _, missing, extra = graph_diff(to_isomorphic(expected), to_isomorphic(got))
        raise AssertionError(f"missing {sorted(missing)}, extra {sorted(extra)}")


def empty_graph(result: Result) -> None:
    """``DESCRIBE <http://example.org/>`` with the (absent) ``data0.rdf`` as default graph:
    nothing is known about the resource, so the description is empty."""
    same_graph(result.graph, Graph())


def s_p_1(result: Result) -> None:
    """``CONSTRUCT { <s> <p> 1 } WHERE {}``: one triple, ``<s>`` and ``<p>`` resolved against the
    one base IRI the service chose (SPARQL Protocol 2.1.4 leaves the base to the service)."""
    assert result.graph is not None and len(result.graph) == 1, result.graph and sorted(result.graph)
    subject = next(iter(result.graph))[0]
    base = str(subject).removesuffix("s")
    assert isinstance(subject, URIRef) and ":" in base, f"{subject!r} is not an absolute IRI ending in 's'"
    same_graph(result.graph, Graph().add((URIRef(base + "s"), URIRef(base + "p"), Literal(1))))


@dataclass(frozen=True)
class Expect:
    """How to run one manifest test here."""

    kind: str  # "query" or "update"
    #: extra checks on the last response's body, beyond its format and mf:expectedBoolean
    check: Check | None = None
    #: a known server bug: the test runs, must fail, and the reason names the bug
    xfail: str | None = None


QUERY, UPDATE = "query", "update"

#: one entry per manifest test, keyed by the local name of its IRI
TESTS: dict[str, Expect] = {
    # positive query tests
    "query_post_form": Expect(QUERY, is_true),
    "query_dataset_default_graphs_get": Expect(QUERY),
    "query_dataset_default_graphs_post": Expect(QUERY),
    "query_dataset_named_graphs_post": Expect(QUERY),
    "query_dataset_named_graphs_get": Expect(QUERY),
    "query_dataset_full": Expect(QUERY),
    "query_multiple_dataset": Expect(QUERY),
    "query_get": Expect(QUERY, is_true),
    "query_content_type_select": Expect(QUERY, one_row_value_1),
    "query_content_type_ask": Expect(QUERY, is_true),
    "query_content_type_describe": Expect(QUERY, empty_graph),
    "query_content_type_construct": Expect(QUERY, s_p_1),
    "query_post_direct": Expect(QUERY, is_true),
    # negative query tests
    "bad_query_method": Expect(QUERY),
    "bad_multiple_queries": Expect(QUERY),
    "bad_query_wrong_media_type": Expect(QUERY),
    "bad_query_missing_form_type": Expect(QUERY),
    "bad_query_missing_direct_type": Expect(QUERY),
    "bad_query_non_utf8": Expect(QUERY),
    "bad_query_syntax": Expect(QUERY),
    # update tests (issue #5)
    "update_dataset_default_graph": Expect(UPDATE),
    "update_dataset_default_graphs": Expect(UPDATE),
    "update_dataset_named_graphs": Expect(UPDATE),
    "update_dataset_full": Expect(UPDATE),
    "update_post_form": Expect(UPDATE),
    "update_post_direct": Expect(UPDATE),
    "update_base_uri": Expect(UPDATE),
    "bad_update_get": Expect(UPDATE),
    "bad_multiple_updates": Expect(UPDATE),
    "bad_update_wrong_media_type": Expect(UPDATE),
    "bad_update_missing_form_type": Expect(UPDATE),
    "bad_update_non_utf8": Expect(UPDATE),
    "bad_update_syntax": Expect(UPDATE),
    "bad_update_dataset_conflict": Expect(UPDATE),
}


def _expects_success(test: ProtocolTest) -> bool:
    return any(s in {"2xx", "3xx"} for r in test.requests for s in r.statuses)


def _marks(test: ProtocolTest) -> list[pytest.MarkDecorator]:
    expect = TESTS.get(test.key)
    if expect is None:
        return []
    if expect.xfail:
        return [pytest.mark.xfail(reason=expect.xfail, strict=True)]
    return []


# -- running a test -------------------------------------------------------------------------------


def suite_data() -> dict[str, Path]:
    """Every ``ut:graphData`` of the suite: graph IRI → file (a graph IRI names one file throughout)."""
    data: dict[str, Path] = {}
    for test in MANIFEST_TESTS:
        for name, file in test.data.items():
            assert data.setdefault(name, file) == file, f"{name} names two files"
    return data


def _serve(path: Path, *, read_only: bool, token: bool = False) -> Iterator[TestClient]:
    """A store at ``path`` holding the suite's graphs, each file in the graph its label names
    (the default graph is their union), served by the app in-process with its lifespan;
    with ``token``, every request carries a write token."""
    store = EmbeddedStore(path)
    store.replace_graphs({URIRef(name): Graph().parse(file, format="nt") for name, file in suite_data().items()})
    store.close()
    settings = Settings(store=str(path), read_only=read_only, workers=2)
    headers = {"Authorization": f"Bearer {create_token(settings, 'w3c-suite')}"} if token else {}
    with TestClient(create_app(settings), headers=headers) as client:
        yield client


@pytest.fixture(scope="module")
def query_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One read-only endpoint for every query test: they only read, and every test whose data
    the manifest names (``ut:graphData``) names the same three graphs."""
    yield from _serve(tmp_path_factory.mktemp("w3c-protocol") / "store", read_only=True)


@pytest.fixture(scope="module")
def update_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A writable endpoint for the update tests (run in manifest order, as against a real endpoint),
    with a write token on every request."""
    yield from _serve(tmp_path_factory.mktemp("w3c-protocol-update") / "store", read_only=False, token=True)


def send(client: TestClient, request: Request) -> httpx.Response:
    assert request.path.startswith(MANIFEST_PREFIX), request.path
    url = ENDPOINT + request.path.removeprefix(MANIFEST_PREFIX)  # "/sparql/?query=…" → "/sparql?query=…"
    assert url == ENDPOINT or url.startswith(ENDPOINT + "?"), url
    return client.request(request.method, url, headers=request.headers, content=request.body)


def check_response(
    test: ProtocolTest, index: int, request: Request, response: httpx.Response, extra: Check | None
) -> None:
    where = f"{test.key} request {index + 1}: {request.method} {request.path}"
    status_class = f"{response.status_code // 100}xx"
    assert (
        status_class in request.statuses
    ), f"{where}: expected status {sorted(request.statuses)}, got {response.status_code}: {response.text[:300]}"
    if status_class not in {"2xx", "3xx"}:
        assert not is_results_document(response), f"{where}: a {response.status_code} carries a query result"
        return
    if request.expected_format is None:
        return
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    allowed = ALLOWED_MEDIA[request.expected_format]
    assert media in allowed, f"{where}: {request.expected_format} result sent as {media!r}, not one of {allowed}"
    result = read_result(response)
    if request.expected_format == "boolean":
        assert result.boolean is not None, f"{where}: not a boolean result"
        if request.expected_boolean is not None:
            assert result.boolean is request.expected_boolean, f"{where}: got {result.boolean}"
    elif request.expected_format == "tabular":
        assert result.boolean is None and result.graph is None, f"{where}: not a table"
    else:
        assert result.graph is not None, f"{where}: not a graph"
    if extra is not None:
        extra(result)


@pytest.mark.parametrize("test", [pytest.param(t, id=t.key, marks=_marks(t)) for t in MANIFEST_TESTS])
def test_protocol(test: ProtocolTest, request: pytest.FixtureRequest) -> None:
    """Send the test's requests in order; each response must be what the manifest expects."""
    expect = TESTS.get(test.key)
    assert expect is not None, f"{test.key} ({test.name!r}) is new in the manifest: add it to TESTS"
    client: TestClient = request.getfixturevalue("query_client" if expect.kind == QUERY else "update_client")
    for index, step in enumerate(test.requests):
        response = send(client, step)
        if expect.kind == UPDATE and not _expects_success(test):
            # a refused token would be a 4xx too, and prove nothing about the request itself
            assert response.status_code not in (401, 403), response.text
        last = index == len(test.requests) - 1
        check_response(test, index, step, response, expect.check if last else None)


# -- the table and the manifest agree -------------------------------------------------------------


def test_table_covers_the_manifest() -> None:
    """Every manifest test is in TESTS and every TESTS entry is in the manifest."""
    keys = [t.key for t in MANIFEST_TESTS]
    assert len(keys) == len(set(keys)) == 34
    assert set(keys) == set(TESTS), {"new in manifest": set(keys) - set(TESTS), "gone": set(TESTS) - set(keys)}


def test_table_kinds_follow_the_suites_naming() -> None:
    """The suite names update tests ``update_*``, ``bad_update*`` and ``bad_multiple_updates``:
    20 query tests (13 positive, 7 negative) and 14 update tests."""
    for key, expect in TESTS.items():
        assert (expect.kind == UPDATE) is ("update" in key), key
    queries = [k for k, e in TESTS.items() if e.kind == QUERY]
    assert len(queries) == 20 and sum(k.startswith("bad_") for k in queries) == 7


def test_data_files_are_the_suites() -> None:
    """Every ut:graphData file exists in the suite folder and parses as N-Triples."""
    files = {f for t in MANIFEST_TESTS for f in t.data.values()}
    assert files == {SUITE / f"data{i}.nt" for i in (1, 2, 3)}
    assert all(len(Graph().parse(f, format="nt")) == 1 for f in files)
