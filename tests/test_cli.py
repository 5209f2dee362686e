"""The ``kg`` command line: build, query and dump through click, and a run from another directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

from kg.cli import main
from kg.config import load_settings
from kg.errors import ConfigError


def _run(*args: str) -> "object":
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def test_query_select_in_every_results_format(store_path: Path) -> None:
    sparql = "SELECT ?d ?t WHERE { ?d a <https://w3id.org/negotiation-kg/ontology#Document> ; <http://purl.org/dc/terms/title> ?t } ORDER BY ?t"
    out = _run("--store", str(store_path), "query", sparql, "--format", "json")
    assert out.exit_code == 0, out.output
    bindings = json.loads(out.stdout)["results"]["bindings"]
    assert [b["t"]["value"] for b in bindings] == [
        "Istanbul 2.0: A pre-meditated choreography of failure",
        "Istanbul-2: When diplomacy returns to reality",
    ]
    csv = _run("--store", str(store_path), "query", sparql, "--format", "csv")
    assert csv.stdout.splitlines()[0].strip() == "d,t"
    tsv = _run("--store", str(store_path), "query", sparql, "--format", "tsv")
    assert tsv.stdout.splitlines()[0].strip() == "?d\t?t"
    xml = _run("--store", str(store_path), "query", sparql, "--format", "xml")
    assert "<sparql" in xml.stdout and "Istanbul-2" in xml.stdout


def test_query_construct_as_rdf(store_path: Path) -> None:
    sparql = (
        "CONSTRUCT { ?a <http://www.w3.org/2000/01/rdf-schema#label> ?l } WHERE "
        "{ ?a a <https://w3id.org/negotiation-kg/ontology#State> ; <http://www.w3.org/2000/01/rdf-schema#label> ?l }"
    )
    graphs = []
    for fmt, parser in (("turtle", "turtle"), ("ntriples", "nt"), ("jsonld", "json-ld"), ("rdfxml", "xml")):
        out = _run("--store", str(store_path), "query", sparql, "--format", fmt)
        assert out.exit_code == 0, out.output
        graphs.append(Graph().parse(data=out.stdout, format=parser))
    assert len(graphs[0]) >= 6
    assert all(isomorphic(graphs[0], g) for g in graphs[1:])


def test_query_errors_are_clear(store_path: Path) -> None:
    bad = _run("--store", str(store_path), "query", "SELEKT * WHERE { ?s ?p ?o }")
    assert bad.exit_code == 2
    assert "`SELEKT` is not a SPARQL keyword (line 1, column 1)" in bad.output
    unclosed = _run("--store", str(store_path), "query", "SELECT * WHERE { ?s ?p ?o ")
    assert unclosed.exit_code == 2
    assert "SPARQL syntax error at 1:27: the query ends too early (1 `{` not closed)" in unclosed.output
    mismatch = _run("--store", str(store_path), "query", "ASK { ?s ?p ?o }", "--format", "turtle")
    assert mismatch.exit_code == 2
    assert "Turtle is for CONSTRUCT and DESCRIBE results; use table, json or xml for ASK" in mismatch.output


def test_query_without_a_store_says_build_first(tmp_path: Path) -> None:
    """A store that is not there is unusable input (2), not a failed check (1)."""
    out = _run("--store", str(tmp_path / "nothing"), "query", "ASK {}")
    assert out.exit_code == 2 and "kg build" in out.output


@pytest.mark.parametrize("fmt,parser", [("nquads", "nquads"), ("trig", "trig"), ("jsonld", "json-ld")])
def test_dump_dataset_formats_round_trip(store_path: Path, fmt: str, parser: str) -> None:
    out = CliRunner().invoke(main, ["--store", str(store_path), "dump", "--format", fmt])
    assert out.exit_code == 0
    ds = Dataset()
    ds.parse(data=out.stdout_bytes, format=parser)
    names = {str(g.identifier) for g in ds.graphs() if len(g)}
    assert "https://w3id.org/negotiation-kg/id/graph/entities" in names
    assert any(n.endswith("document-000_08f43cbfc8a050d9") for n in names)


def test_dump_triples_is_the_union(store_path: Path, union_graph: Graph) -> None:
    for fmt, parser in (("turtle", "turtle"), ("ntriples", "nt")):
        out = CliRunner().invoke(main, ["--store", str(store_path), "dump", "--format", fmt])
        assert out.exit_code == 0
        assert isomorphic(Graph().parse(data=out.stdout_bytes, format=parser), union_graph)


def test_build_then_validate_through_the_cli(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    built = CliRunner().invoke(main, ["--store", store, "build"])
    assert built.exit_code == 0, built.output
    assert "claims" in built.stderr
    checked = CliRunner().invoke(main, ["--store", store, "validate"])
    assert checked.exit_code == 0 and "Conforms: yes" in checked.stdout


def test_build_error_exit_code_and_location(tmp_path: Path, corpus_copy: Path) -> None:
    path = corpus_copy / "annotations" / "002_1ed21c23b6fc676c.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("claimant: nhat-lam", "claimant: ghost", 1), encoding="utf-8")
    out = CliRunner().invoke(main, ["--store", str(tmp_path / "s"), "--corpus", str(corpus_copy), "build"])
    assert out.exit_code == 1
    assert "002_1ed21c23b6fc676c.yaml:" in out.stderr and "'ghost'" in out.stderr
    assert out.exception is None or isinstance(out.exception, SystemExit)


def test_settings_precedence(tmp_path: Path) -> None:
    toml = tmp_path / "kg.toml"
    toml.write_text('store = "/from/file"\nport = 9000\n', encoding="utf-8")
    settings = load_settings(config_file=toml, environ={"KG_PORT": "9100"})
    assert settings.store == "/from/file" and settings.port == 9100
    assert load_settings(config_file=toml, environ={}, store="/from/cli").store == "/from/cli"
    with pytest.raises(ConfigError, match="port"):
        load_settings(config_file=None, environ={"KG_PORT": "eighty"})


def test_installed_command_runs_from_any_directory(tmp_path: Path) -> None:
    """The packaged ontology, shapes and corpus are found without the source tree as cwd."""
    env = {**os.environ, "KG_STORE": str(tmp_path / "store")}
    kg = [sys.executable, "-c", "from kg.cli import main; main()"]
    built = subprocess.run([*kg, "build"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    asked = subprocess.run(
        [*kg, "query", "ASK { ?c a <https://w3id.org/negotiation-kg/ontology#Claim> }", "--format", "json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert asked.returncode == 0 and json.loads(asked.stdout)["boolean"] is True
