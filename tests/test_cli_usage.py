"""The command line as people type it: global options before or after the command, exit codes
as documented, messages that say what and where, query output a person and a program can
read, and ``-o`` files that are whole or absent."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from kg.formats import QueryKind
from kg.sparql.results import QUERY_FORMATS, column_order, render_table

SELECT = "SELECT ?d ?t WHERE { ?d a <https://w3id.org/negotiation-kg/ontology#Document> ; <http://purl.org/dc/terms/title> ?t }"
CONSTRUCT = "CONSTRUCT WHERE { ?s a <https://w3id.org/negotiation-kg/ontology#State> }"
README_QUERY_WITHOUT_RDF = """PREFIX nkg: <https://w3id.org/negotiation-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?proposal ?actor ?quote WHERE {
  ?p nkg:opposedBy ?a ; rdfs:label ?proposal . ?a rdfs:label ?actor .
  ?claim nkg:asserts [ rdf:subject ?p ; rdf:predicate nkg:opposedBy ; rdf:object ?a ] ; nkg:quote ?quote .
}"""

Kg = Callable[..., Result]


# --- global options ------------------------------------------------------------------------------


def test_store_before_and_after_the_command(kg_cli: Kg, tmp_path: Path) -> None:
    after = kg_cli("build", "--store", tmp_path / "after")
    assert after.exit_code == 0, after.output
    assert (tmp_path / "after" / "CURRENT").is_file()
    before = kg_cli("--store", tmp_path / "after", "query", "ASK { ?s ?p ?o }", "--format", "json")
    assert json.loads(before.stdout)["boolean"] is True


def test_the_option_nearer_the_command_wins(kg_cli: Kg, store_path: Path, tmp_path: Path) -> None:
    done = kg_cli("--store", tmp_path / "nowhere", "query", "ASK { ?s ?p ?o }", "--format", "json", "--store", store_path)
    assert done.exit_code == 0, done.output


def test_environment_and_config_file_still_apply(kg_cli: Kg, store_path: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kg.toml").write_text(f'store = "{store_path}"\n', encoding="utf-8")
    assert kg_cli("query", "ASK { ?s ?p ?o }", "--format", "json").exit_code == 0
    monkeypatch.setenv("KG_STORE", str(tmp_path / "nowhere"))
    assert kg_cli("query", "ASK { ?s ?p ?o }").exit_code == 2  # the environment beats kg.toml
    assert kg_cli("query", "ASK { ?s ?p ?o }", "--store", store_path).exit_code == 0  # the command line beats both
    other = tmp_path / "other.toml"
    other.write_text(f'store = "{store_path}"\n', encoding="utf-8")
    monkeypatch.delenv("KG_STORE")
    (tmp_path / "kg.toml").write_text('store = "/nowhere"\n', encoding="utf-8")
    assert kg_cli("query", "ASK { ?s ?p ?o }", "--config", other).exit_code == 0


def test_options_after_a_subcommand_of_a_group(kg_cli: Kg, tmp_path: Path) -> None:
    store = tmp_path / "s" / "store"
    done = kg_cli("token", "create", "alice", "--store", store)
    assert done.exit_code == 0, done.output
    assert (tmp_path / "s" / "store.tokens.json").is_file()
    listed = kg_cli("token", "--store", store, "list")
    assert "alice" in listed.stdout


def test_quiet_says_nothing_on_stderr(kg_cli: Kg, tmp_path: Path) -> None:
    done = kg_cli("build", "--store", tmp_path / "store", "--quiet")
    assert done.exit_code == 0 and done.stderr == ""


# --- exit codes ------------------------------------------------------------------------------------


def test_a_missing_store_is_unusable_input(kg_cli: Kg, tmp_path: Path) -> None:
    for command in (["validate"], ["query", "ASK {}"], ["dump"], ["ontology", "check"]):
        done = kg_cli(*command, "--store", tmp_path / "missing")
        assert done.exit_code == 2, (command, done.output)
        assert f"no store at {tmp_path / 'missing'}; run 'kg build' first" in done.output
    unreachable = kg_cli("query", "ASK {}", "--store", "http://127.0.0.1:1/sparql")
    assert unreachable.exit_code == 2 and "could not be reached" in unreachable.output


# --- messages ----------------------------------------------------------------------------------------


def test_an_undeclared_prefix_is_named_with_its_place(kg_cli: Kg, store_path: Path) -> None:
    done = kg_cli("query", README_QUERY_WITHOUT_RDF, "--store", store_path)
    assert done.exit_code == 2
    assert done.output.strip() == ("Error: prefix `rdf:` is not declared (line 5, column 35); "
                                   "add PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>")


@pytest.mark.parametrize("query,fmt,message", [
    ("ASK { ?s ?p ?o }", "csv", "CSV is for SELECT results; use table, json or xml for ASK"),
    (CONSTRUCT, "csv", "CSV is for SELECT results; use turtle, ntriples, jsonld or rdfxml for CONSTRUCT"),
    (CONSTRUCT, "json", "JSON is for SELECT and ASK results; use turtle, ntriples, jsonld or rdfxml for CONSTRUCT"),
    (SELECT, "turtle", "Turtle is for CONSTRUCT and DESCRIBE results; use table, json, xml, csv or tsv for SELECT"),
])
def test_a_format_that_cannot_hold_the_result(kg_cli: Kg, store_path: Path, query: str, fmt: str, message: str) -> None:
    done = kg_cli("query", query, "--format", fmt, "--store", store_path)
    assert done.exit_code == 2 and done.output.strip() == f"Error: {message}"


def test_the_formats_help_offers_are_those_that_work(kg_cli: Kg, store_path: Path) -> None:
    from kg.sparql.results import ALL_QUERY_FORMATS

    shown = " ".join(kg_cli("query", "--help").output.split())
    assert "SELECT: table, json, xml, csv, tsv; ASK: table, json, xml; CONSTRUCT/DESCRIBE: turtle, ntriples, jsonld, " \
           "rdfxml." in shown
    assert f"[{'|'.join(ALL_QUERY_FORMATS)}]" in shown
    queries = {QueryKind.SOLUTIONS: SELECT, QueryKind.BOOLEAN: "ASK { ?s ?p ?o }", QueryKind.GRAPH: CONSTRUCT}
    for kind, text in queries.items():
        works = {f for f in ALL_QUERY_FORMATS if kg_cli("query", text, "--format", f, "--store", store_path).exit_code == 0}
        assert works == set(QUERY_FORMATS[kind]), kind


# --- query output ------------------------------------------------------------------------------------


def test_select_star_columns_come_in_the_query_order(kg_cli: Kg, store_path: Path) -> None:
    query = "SELECT * WHERE { ?s a ?type ; ?p ?o } LIMIT 2"
    for fmt in ("json", "csv", "tsv", "xml"):
        done = kg_cli("query", query, "--format", fmt, "--store", store_path)
        assert done.exit_code == 0, done.output
        if fmt == "json":
            assert json.loads(done.stdout)["head"]["vars"] == ["s", "type", "p", "o"]
        elif fmt == "csv":
            assert done.stdout.splitlines()[0] == "s,type,p,o"
        elif fmt == "tsv":
            assert done.stdout.splitlines()[0] == "?s\t?type\t?p\t?o"
        else:
            assert done.stdout.index('name="s"') < done.stdout.index('name="type"') < done.stdout.index('name="o"')
    assert column_order("SELECT ?o ?s WHERE { ?s ?p ?o }", ["o", "s"]) == ["o", "s"]
    assert column_order("SELECT DISTINCT * { ?b ?a ?c }", ["a", "b", "c"]) == ["b", "a", "c"]


def test_every_output_ends_with_a_newline(kg_cli: Kg, store_path: Path) -> None:
    for query, fmt in ((SELECT, "json"), (SELECT, "xml"), ("ASK {}", "json"), (CONSTRUCT, "jsonld"), (CONSTRUCT, "ntriples")):
        done = kg_cli("query", query, "--format", fmt, "--store", store_path)
        assert done.stdout.endswith("\n") and not done.stdout.endswith("\n\n\n"), (query, fmt)


def test_a_table_on_a_terminal(kg_cli: Kg, store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kg.cli.read.stdout_is_terminal", lambda: True)
    done = kg_cli("query", SELECT + " ORDER BY ?t", "--store", store_path)
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["d", "t"] and set(lines[1]) <= {"─", " "}
    assert lines[2].startswith("document:000_08f43cbfc8a050d9") and "Istanbul 2.0" in lines[2]
    assert lines[-1] == "(2 rows)"
    monkeypatch.setattr("kg.cli.read.stdout_is_terminal", lambda: False)
    assert json.loads(kg_cli("query", SELECT, "--store", store_path).stdout)["head"]["vars"] == ["d", "t"]


def test_a_table_fits_its_width() -> None:
    text = render_table(["a", "b"], [["x" * 100, "short"]], width=40)
    assert all(len(line) <= 40 for line in text.splitlines())
    assert "…" in text and text.endswith("(1 row)\n")


# --- -o FILE -----------------------------------------------------------------------------------------


def test_output_files_are_whole_or_absent(kg_cli: Kg, store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    done = kg_cli("query", SELECT, "-o", out / "docs.csv", "--store", store_path)
    assert done.exit_code == 0 and done.stdout == ""
    assert (out / "docs.csv").read_text(encoding="utf-8").splitlines()[0] == "d,t"  # the extension chose CSV
    (out / "kept.json").write_text("what was there", encoding="utf-8")
    failed = kg_cli("query", "SELECT * WHERE {", "-o", out / "kept.json", "--store", store_path)
    assert failed.exit_code == 2
    assert (out / "kept.json").read_text(encoding="utf-8") == "what was there"
    assert sorted(p.name for p in out.iterdir()) == ["docs.csv", "kept.json"]  # no temporary file left
    dumped = kg_cli("dump", "--format", "nquads", "-o", out / "all.nq", "--store", store_path)
    assert dumped.exit_code == 0 and (out / "all.nq").stat().st_size > 100_000
    report = kg_cli("validate", "--format", "json", "-o", out / "report.json", "--store", store_path)
    assert report.exit_code == 0 and json.loads((out / "report.json").read_text(encoding="utf-8"))["conforms"] is True


def test_a_failing_validation_still_writes_its_report(kg_cli: Kg, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("<http://example.org/c> a <https://w3id.org/negotiation-kg/ontology#Claim> .\n", encoding="utf-8")
    done = kg_cli("validate", bad, "--format", "junit", "-o", tmp_path / "report.xml")
    assert done.exit_code == 1 and 'failures="' in (tmp_path / "report.xml").read_text(encoding="utf-8")


def test_progress_stays_silent_off_a_terminal(kg_cli: Kg, store_path: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(store_path, store)
    big = tmp_path / "big.nt"
    big.write_text("".join(f'<http://example.org/s{i}> <http://www.w3.org/2000/01/rdf-schema#comment> "c{i}" .\n'
                           for i in range(20_000)), encoding="utf-8")
    done = kg_cli("ingest", big, "--graph", "http://example.org/big", "--store", store)
    assert done.exit_code == 0, done.output
    assert "%|" not in done.stderr and "\r" not in done.stderr


def test_progress_shows_after_the_delay_and_only_then(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import time

    from kg.cli import progress as progress_module

    monkeypatch.setattr(progress_module, "DELAY_SECONDS", 0.3)
    quick = progress_module.Progress(label="Ingesting", total_bytes=1000, enabled=True)
    quick.advance(1000)
    quick.close()
    assert capsys.readouterr().err == ""
    slow = progress_module.Progress(label="Ingesting", total_bytes=None, enabled=True)
    slow.stage("validating")
    time.sleep(1.0)  # no update comes from a stage that only ends: the ticker draws the line
    slow.close()
    assert "Ingesting: validating" in capsys.readouterr().err
