"""The W3C SPARQL 1.1 Protocol query tests again, with Virtuoso evaluating the queries behind ``/sparql``.

The manifest, the table of expectations and the checks are those of :mod:`test_w3c_protocol`;
only the store differs: a Virtuoso server holding the suite's graphs (under a catalogue and
union graph of this module's own), served through ``kg``'s app.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator

import pytest
from rdflib import Graph, URIRef

from conftest import remote_settings
from kg.server import create_app
from kg.store import RemoteStore
from test_w3c_protocol import MANIFEST_TESTS, QUERY, TESTS, ProtocolTest, _marks, check_response, send, suite_data
from virtuoso import VirtuosoServer

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def remote_query_client(virtuoso: VirtuosoServer) -> Iterator[TestClient]:
    token = uuid.uuid4().hex
    settings = remote_settings(
        virtuoso.sparql_url, read_only=True, workers=1,
        remote_catalogue_graph=f"https://example.org/{token}/catalogue",
        remote_union_graph=f"https://example.org/{token}/union",
    )
    store = RemoteStore(settings)
    store.replace_graphs({URIRef(name): Graph().parse(file, format="nt") for name, file in suite_data().items()})
    store.close()
    with TestClient(create_app(settings)) as client:
        yield client


QUERY_TESTS = [t for t in MANIFEST_TESTS if TESTS[t.key].kind == QUERY]


@pytest.mark.parametrize("test", [pytest.param(t, id=t.key, marks=_marks(t)) for t in QUERY_TESTS])
def test_protocol_on_virtuoso(test: ProtocolTest, remote_query_client: TestClient) -> None:
    """Send the test's requests in order; each response must be what the manifest expects."""
    expect = TESTS[test.key]
    for index, step in enumerate(test.requests):
        response = send(remote_query_client, step)
        last = index == len(test.requests) - 1
        check_response(test, index, step, response, expect.check if last else None)
