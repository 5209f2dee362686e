"""The W3C SPARQL 1.1 Protocol tests again, with Virtuoso behind ``/sparql``: the query tests
with Virtuoso evaluating the queries, the update tests with the writes going through the
gate into Virtuoso.

The manifest, the table of expectations and the checks are those of :mod:`test_w3c_protocol`;
only the store differs: a Virtuoso server holding the suite's graphs (under a catalogue and
union graph of each fixture's own), served through ``kg``'s app.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import discard_remote, fresh_remote, settings_of
from rdflib import Graph, URIRef
from test_w3c_protocol import (
    MANIFEST_TESTS,
    QUERY,
    TESTS,
    UPDATE,
    ProtocolTest,
    _expects_success,
    _marks,
    check_response,
    send,
    suite_data,
)
from virtuoso import VirtuosoServer

from kg.ops.tokens import create_token
from kg.server import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _serve_remote(virtuoso: VirtuosoServer, tokens: Path | None) -> Iterator[TestClient]:
    """The suite's graphs in a remote store of their own, served in-process; with ``tokens``
    (a tokens file), writable and every request carries a write token."""
    store = fresh_remote(virtuoso)
    settings = settings_of(store, read_only=tokens is None, workers=1, tokens_file=tokens)
    store.replace_graphs({URIRef(name): Graph().parse(file, format="nt") for name, file in suite_data().items()})
    headers = {"Authorization": f"Bearer {create_token(settings, 'w3c-suite')}"} if tokens is not None else {}
    try:
        with TestClient(create_app(settings), headers=headers) as client:
            yield client
    finally:
        discard_remote(store)


@pytest.fixture(scope="module")
def remote_query_client(virtuoso: VirtuosoServer) -> Iterator[TestClient]:
    yield from _serve_remote(virtuoso, None)


@pytest.fixture(scope="module")
def remote_update_client(virtuoso: VirtuosoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A writable endpoint for the update tests, run in manifest order as against a real endpoint."""
    yield from _serve_remote(virtuoso, tmp_path_factory.mktemp("w3c-remote-update") / "tokens.json")


QUERY_TESTS = [t for t in MANIFEST_TESTS if TESTS[t.key].kind == QUERY]
UPDATE_TESTS = [t for t in MANIFEST_TESTS if TESTS[t.key].kind == UPDATE]


@pytest.mark.parametrize("test", [pytest.param(t, id=t.key, marks=_marks(t)) for t in QUERY_TESTS])
def test_protocol_on_virtuoso(test: ProtocolTest, remote_query_client: TestClient) -> None:
    """Send the test's requests in order; each response must be what the manifest expects."""
    expect = TESTS[test.key]
    for index, step in enumerate(test.requests):
        response = send(remote_query_client, step)
        last = index == len(test.requests) - 1
        check_response(test, index, step, response, expect.check if last else None)


@pytest.mark.parametrize("test", [pytest.param(t, id=t.key, marks=_marks(t)) for t in UPDATE_TESTS])
def test_update_protocol_on_virtuoso(test: ProtocolTest, remote_update_client: TestClient) -> None:
    """The update tests: each response must be what the manifest expects."""
    expect = TESTS[test.key]
    for index, step in enumerate(test.requests):
        response = send(remote_update_client, step)
        if not _expects_success(test):
            assert response.status_code not in (401, 403), response.text
        last = index == len(test.requests) - 1
        check_response(test, index, step, response, expect.check if last else None)
