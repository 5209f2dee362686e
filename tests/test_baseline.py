"""Baselines: ``--write-baseline`` records today's results, ``--baseline`` fails only on new ones.

Fingerprints must survive what does not change a result (other lines moving, blank nodes
getting new identifiers on every parse) and change with what does.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import Result

from kg.errors import InputError
from kg.validation.baseline import fingerprint, read_baseline
from kg.validation.model import ValidationResult

SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:ThingShape a sh:NodeShape ;
  sh:targetClass ex:Thing ;
  sh:property [ sh:path ex:size ; sh:datatype xsd:integer ] ;
  sh:property [ sh:path ex:name ; sh:minCount 1 ] .
"""

OLD = """\
@prefix ex: <http://example.org/> .
ex:a a ex:Thing ; ex:name "A" ; ex:size "big" .
ex:b a ex:Thing .
[] a ex:Thing ; ex:name "anonymous" ; ex:size "small" .
"""


@pytest.fixture()
def run(kg_cli, tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "shapes.ttl").write_text(SHAPES, encoding="utf-8")
    (tmp_path / "data.ttl").write_text(OLD, encoding="utf-8")
    return kg_cli


def _json(out: Result) -> list[dict[str, object]]:
    return json.loads(out.stdout)["results"]  # type: ignore[no-any-return]


def test_write_then_use_a_baseline(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("validate", "data.ttl", "--shapes", "shapes.ttl").exit_code == 1
    written = run("validate", "data.ttl", "--shapes", "shapes.ttl", "--write-baseline", "known.txt", "--format", "json")
    assert written.exit_code == 0  # the results just recorded are accepted
    assert all(r["known"] for r in _json(written)) and len(_json(written)) == 3
    lines = [line for line in (tmp_path / "known.txt").read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    assert len(lines) == 3
    assert sorted(line.split()[0] for line in lines) == sorted(str(r["fingerprint"]) for r in _json(written))

    again = run("validate", "data.ttl", "--shapes", "shapes.ttl", "--baseline", "known.txt", "--format", "json")
    assert again.exit_code == 0
    assert all(r["known"] for r in _json(again))


def test_a_new_result_fails_a_run_with_a_baseline(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("validate", "data.ttl", "--shapes", "shapes.ttl", "--write-baseline", "known.txt")
    # lines move, the blank node gets a new identifier, and one new violation appears
    (tmp_path / "data.ttl").write_text("# moved down\n\n" + OLD + 'ex:c a ex:Thing ; ex:name "C" ; ex:size "huge" .\n', encoding="utf-8")
    out = run("validate", "data.ttl", "--shapes", "shapes.ttl", "--baseline", "known.txt", "--format", "json")
    assert out.exit_code == 1
    new = [r for r in _json(out) if not r["known"]]
    assert [(r["focus_node"], r["value"]) for r in new] == [("http://example.org/c", '"huge"')]
    assert sum(1 for r in _json(out) if r["known"]) == 3

    text = run("validate", "data.ttl", "--shapes", "shapes.ttl", "--baseline", "known.txt")
    assert text.stdout.startswith("Conforms: no (4 results, 3 known from the baseline)")
    assert text.stdout.count("[Violation, known]") == 3
    junit = ET.fromstring(run("validate", "data.ttl", "--shapes", "shapes.ttl", "--baseline", "known.txt", "--format", "junit").stdout)
    assert [f.get("message", "").split(" ")[0].rstrip(":") for f in junit.iter("failure")] == ["http://example.org/c"]
    github = run("validate", "data.ttl", "--shapes", "shapes.ttl", "--baseline", "known.txt", "--format", "github").stdout
    assert github.count("::error ") == 1 and github.count("::notice ") == 3 and "(known)" in github


def test_fixed_results_leave_the_baseline_harmlessly(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("validate", "data.ttl", "--shapes", "shapes.ttl", "--write-baseline", "known.txt")
    (tmp_path / "data.ttl").write_text('@prefix ex: <http://example.org/> .\nex:a a ex:Thing ; ex:name "A" .\n', encoding="utf-8")
    out = run("validate", "data.ttl", "--shapes", "shapes.ttl", "--baseline", "known.txt")
    assert out.exit_code == 0 and out.stdout.startswith("Conforms: yes")


def _result(**changes: object) -> ValidationResult:
    base = dict(
        severity="Violation", focus_node="http://example.org/a", focus_label=None, path="<http://example.org/p>",
        value='"x"', source_shape="_:b1", node_shape="http://example.org/S",
        constraint_component="http://www.w3.org/ns/shacl#DatatypeConstraintComponent", message="m",
    )
    base.update(changes)
    return ValidationResult(**base)  # type: ignore[arg-type]


def test_what_a_fingerprint_depends_on() -> None:
    one = fingerprint(_result())
    # not: messages, labels, lines, severity, the blank node's identifier, the engine
    assert one == fingerprint(_result(message="other", focus_label="A", source_file="f.ttl", source_line=9))
    assert one == fingerprint(_result(source_shape="_:b2", engine="other", severity="Warning"))
    # yes: focus, path, value, shape, component
    for change in (
        {"focus_node": "http://example.org/b"},
        {"path": "<http://example.org/q>"},
        {"value": '"y"'},
        {"node_shape": "http://example.org/T"},
        {"source_shape": "http://example.org/Named"},
        {"constraint_component": "http://www.w3.org/ns/shacl#ClassConstraintComponent"},
    ):
        assert fingerprint(_result(**change)) != one, change
    # blank focus nodes and values count as blank, whatever their identifier
    assert fingerprint(_result(focus_node="_:x1")) == fingerprint(_result(focus_node="_:x2"))


def test_unreadable_baselines_are_unusable_input(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = run("validate", "data.ttl", "--shapes", "shapes.ttl", "--baseline", "nowhere.txt")
    assert missing.exit_code == 2 and "nowhere.txt" in missing.output
    (tmp_path / "bad.txt").write_text("# comment\n\nnot-a-fingerprint  something\n", encoding="utf-8")
    bad = run("validate", "data.ttl", "--shapes", "shapes.ttl", "--baseline", "bad.txt")
    assert bad.exit_code == 2 and "bad.txt:3:1" in bad.output and "fingerprint" in bad.output
    with pytest.raises(InputError) as caught:
        read_baseline(tmp_path / "bad.txt")
    assert caught.value.location is not None and caught.value.location.line == 3
