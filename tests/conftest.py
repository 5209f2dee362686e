"""Shared fixtures: one built store per test session, and helpers to run SPARQL on it.

The remote store's fixtures start one private Virtuoso server per session
(:mod:`virtuoso`); tests that write to it use graphs of their own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pyshacl import validate as pyshacl_validate
from rdflib import Graph, URIRef
from virtuoso import VirtuosoServer, virtuoso_missing

from kg.build.dataset import BuildResult, build_dataset, union
from kg.cli import main as kg_main
from kg.config import Settings, load_settings
from kg.resources import default_corpus_dir
from kg.store import EmbeddedStore, RemoteStore

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built() -> BuildResult:
    """The default corpus, built and validated once (nothing written)."""
    result = build_dataset()
    assert not result.report.failed(), result.report.results[:5]
    return result


@pytest.fixture(scope="session")
def union_graph(built: BuildResult) -> Graph:
    """Every triple of the built dataset in one rdflib graph."""
    return union(built.graphs)


@pytest.fixture(scope="session")
def store_path(tmp_path_factory: pytest.TempPathFactory, built: BuildResult) -> Path:
    """A directory holding the embedded store loaded with the default corpus."""
    return stored(tmp_path_factory.mktemp("store") / "store", built.graphs)


def stored(path: Path, graphs: Mapping[URIRef, Graph]) -> Path:
    """``path`` made an embedded store holding ``graphs``, closed again (for a server to open)."""
    store = EmbeddedStore(path)
    store.replace_graphs(graphs)
    store.close()
    return path


@pytest.fixture(scope="session")
def embedded_store(store_path: Path) -> Iterator[EmbeddedStore]:
    """The loaded store, opened read-only (tests must not write to it)."""
    s = EmbeddedStore(store_path, read_only=True)
    yield s
    s.close()


@pytest.fixture(scope="session")
def store(embedded_store: EmbeddedStore) -> EmbeddedStore:
    """The loaded embedded store (a module may override this name, e.g. to ask every store)."""
    return embedded_store


def skip_without_virtuoso() -> None:
    """Skip the test when Virtuoso is not installed, saying how to install it; fail instead
    where it must run (``REQUIRE_VIRTUOSO`` set, as ``.ci/run`` does)."""
    missing = virtuoso_missing()
    if missing is not None:
        if os.environ.get("REQUIRE_VIRTUOSO"):
            pytest.fail(missing)
        pytest.skip(missing)


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    """One Virtuoso server for the session (skipped when not installed, unless CI requires it)."""
    skip_without_virtuoso()
    server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso")).start()
    yield server
    server.stop()


def remote_settings(url: str, **changes: object) -> Settings:
    """Settings for a remote store at ``url`` (nothing read from the environment or kg.toml)."""
    return load_settings(config_file=None, environ={"KG_CONFIG": "/nonexistent/kg.toml"}, store=url, **changes)


def fresh_remote(server: VirtuosoServer, **changes: object) -> RemoteStore:
    """A remote store of its own on ``server``: fresh union and catalogue graphs."""
    token = uuid.uuid4().hex
    return RemoteStore(remote_settings(
        server.sparql_url,
        remote_union_graph=f"https://example.org/{token}/union",
        remote_catalogue_graph=f"https://example.org/{token}/catalogue",
        **changes,
    ))


def settings_of(store: RemoteStore, **changes: object) -> Settings:
    """Settings that open ``store`` again (its server, catalogue and union graphs), e.g. for an app."""
    return remote_settings(store.url, remote_union_graph=store.union, remote_catalogue_graph=store.catalogue, **changes)


def discard_remote(store: RemoteStore) -> None:
    """Drop every graph ``store`` wrote on its server (the provenance graph's IRI is shared by
    every store, so a test that writes must leave none behind), then close it."""
    graphs = [*store.named_graphs(), store.union, store.catalogue]
    store.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs))
    store.drop_staging()
    store.close()


@pytest.fixture(scope="session")
def remote_store(virtuoso: VirtuosoServer, built: BuildResult) -> Iterator[RemoteStore]:
    """The Virtuoso server loaded with the default corpus (tests must not write to its graphs)."""
    store = RemoteStore(remote_settings(virtuoso.sparql_url))
    store.replace_graphs(built.graphs)
    yield store
    store.close()


@pytest.fixture(scope="session", params=["embedded", "virtuoso"])
def any_store(request: pytest.FixtureRequest) -> EmbeddedStore | RemoteStore:
    """The loaded corpus in each kind of store, for contract tests that must hold for both."""
    return request.getfixturevalue("embedded_store" if request.param == "embedded" else "remote_store")  # type: ignore[no-any-return]


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the default corpus, for tests that break it on purpose."""
    target = tmp_path / "corpus"
    shutil.copytree(default_corpus_dir(), target)
    return target


def select(store: EmbeddedStore | RemoteStore, sparql: str) -> list[dict[str, str]]:
    """Rows of a SELECT over the union graph: variable name → plain value (IRI or lexical form).

    Unbound variables are left out of the row.
    """
    solutions = store.query(sparql).result
    names = [v.value for v in solutions.variables]  # type: ignore[union-attr]
    rows = []
    for solution in solutions:  # type: ignore[union-attr]
        row = {}
        for name in names:
            term = solution[name]
            if term is not None:
                row[name] = term.value
        rows.append(row)
    return rows


@pytest.fixture()
def kg_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``kg`` run in-process by click's runner, in a temporary working directory and without
    ``KG_*`` variables; a call fails the test on any exception other than the exit, or a traceback."""
    for key in list(os.environ):
        if key.startswith("KG_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str | Path) -> Result:
        result = CliRunner().invoke(kg_main, [str(a) for a in args])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        assert "Traceback" not in result.output
        return result

    return invoke


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Graph, Graph]:
    """3000 triples from the benchmark generator, its shapes, and pyshacl's report of them."""
    reference = Path(__file__).resolve().parents[1].parent / "shared" / "bench-reference"
    if not (reference / "gen_data.py").is_file():
        pytest.skip("../shared/bench-reference is not beside the repo")
    folder = tmp_path_factory.mktemp("gen")
    subprocess.run([sys.executable, str(reference / "gen_data.py"), "3000", str(folder / "gen")], check=True, capture_output=True)
    data_file = folder / "gen.nt"
    shapes = Graph().parse(reference / "shapes.ttl")
    _, expected, _ = pyshacl_validate(Graph().parse(data_file), shacl_graph=shapes, inference="none", allow_warnings=False)
    return data_file, shapes, expected
