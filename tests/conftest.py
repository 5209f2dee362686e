"""Shared fixtures: one built store per test session, and helpers to run SPARQL on it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph

from kg.build import BuildResult, build_dataset, union
from kg.resources import default_corpus_dir
from kg.store import EmbeddedStore

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
    path = tmp_path_factory.mktemp("store") / "store"
    store = EmbeddedStore(path)
    store.replace_graphs(built.graphs)
    store.close()
    return path


@pytest.fixture(scope="session")
def store(store_path: Path) -> Iterator[EmbeddedStore]:
    """The loaded store, opened read-only (tests must not write to it)."""
    s = EmbeddedStore(store_path, read_only=True)
    yield s
    s.close()


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the default corpus, for tests that break it on purpose."""
    target = tmp_path / "corpus"
    shutil.copytree(default_corpus_dir(), target)
    return target


def select(store: EmbeddedStore, sparql: str) -> list[dict[str, str]]:
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
