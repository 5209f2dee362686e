"""``kg validate FILES``: exit codes, the four report formats, --fail-on, --shapes, and
unreadable input (exit 2, ``file:line:column``, never a traceback)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import Result
from rdflib import Graph, Literal, URIRef

from kg.build.dataset import BuildResult
from kg.build.rdfize import ENTITIES_GRAPH
from kg.iris import Kind, parse
from kg.namespaces import NKG, RDF, SCHEMA, SH

NKGSH = "https://w3id.org/negotiation-kg/shapes#"
CLAIM_SHAPE = NKGSH + "ClaimShape"


# --------------------------------------------------------------------------- data


def _is_entity(node: object) -> bool:
    parsed = parse(str(node)) if isinstance(node, URIRef) else None
    return parsed is not None and parsed[0] in {Kind.ACTOR, Kind.PLACE, Kind.MEETING, Kind.PROPOSAL}


class Files:
    """A conforming slice of the built data (one claim that asserts no fact, its
    evidence, its document and the entities it names), in one file or split in two."""

    def __init__(self, built: BuildResult, union_graph: Graph) -> None:
        u = union_graph
        claims = sorted(
            c
            for c in u.subjects(RDF.type, NKG.Claim)
            if (c, NKG.asserts, None) not in u and (c, NKG.estimate, None) not in u
        )
        assert claims, "the corpus has no claim without facts"
        self.claim: URIRef = claims[0]  # type: ignore[assignment]
        self.document = u.value(self.claim, NKG.statedIn)
        doc = Graph()
        for s in {self.claim, self.document} | {s for s in u.subjects() if str(s).startswith(f"{self.claim}#")}:
            for t in u.triples((s, None, None)):
                doc.add(t)
        for p in (NKG.corroborates, NKG.contradicts):
            doc.remove((self.claim, p, None))
        self.documents = doc
        ents = Graph()
        for node in {n for s, p, o in doc if p != SCHEMA.mentions for n in (s, o) if _is_entity(n)}:
            for t in built.graphs[ENTITIES_GRAPH].triples((node, None, None)):
                ents.add(t)
        assert len(ents) > 0
        self.entities = ents

    def write(self, directory: Path, graph: Graph, name: str, fmt: str = "turtle") -> Path:
        path = directory / name
        path.write_text(graph.serialize(format=fmt), encoding="utf-8")
        return path

    def valid(self, directory: Path) -> Path:
        return self.write(directory, self.documents + self.entities, "valid.ttl")

    def without_claimant(self, directory: Path) -> Path:
        g = self.documents + self.entities
        assert (self.claim, NKG.claimant, None) in g
        g.remove((self.claim, NKG.claimant, None))
        return self.write(directory, g, "no-claimant.ttl")


@pytest.fixture(scope="module")
def files(built: BuildResult, union_graph: Graph) -> Files:
    return Files(built, union_graph)


Runner = Callable[..., Result]


@pytest.fixture()
def run(kg_cli: Runner) -> Runner:
    """Invoke ``kg`` in an empty directory with no KG_* settings from the environment."""
    return kg_cli


def _location(output: str, path: Path) -> tuple[int, int]:
    """The line and column the error message gives for ``path``."""
    match = re.search(re.escape(str(path)) + r":(\d+):(\d+)", output)
    assert match, f"no {path}:line:column in {output!r}"
    return int(match.group(1)), int(match.group(2))


# --------------------------------------------------------------------------- conforming input


def test_conforming_file_exits_0_in_every_format(run: Runner, files: Files, tmp_path: Path) -> None:
    path = files.valid(tmp_path)

    text = run("validate", path)
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("Conforms: yes")

    out = run("validate", path, "--format", "json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data == {"conforms": True, "results": []}

    ttl = run("validate", path, "--format", "turtle")
    assert ttl.exit_code == 0
    report = Graph().parse(data=ttl.stdout, format="turtle")
    node = report.value(predicate=RDF.type, object=SH.ValidationReport)
    assert node is not None
    assert report.value(node, SH.conforms) == Literal(True)
    assert (None, SH.result, None) not in report

    junit = run("validate", path, "--format", "junit")
    assert junit.exit_code == 0
    suite = ET.fromstring(junit.stdout)
    assert suite.tag == "testsuite" and suite.get("failures") == "0"
    names = {case.get("name") for case in suite.iter("testcase")}
    assert CLAIM_SHAPE in names and NKGSH + "ProvenanceShape" in names
    assert not list(suite.iter("failure"))


def test_files_are_validated_as_one_graph(run: Runner, files: Files, tmp_path: Path) -> None:
    """Two files together conform; the document file alone names a claimant it does not type."""
    documents = files.write(tmp_path, files.documents, "document.ttl")
    entities = files.write(tmp_path, files.entities, "entities.nt", fmt="nt")
    together = run("validate", documents, entities, "--format", "json")
    assert together.exit_code == 0, together.output
    alone = run("validate", documents, "--format", "json")
    assert alone.exit_code == 1
    results = json.loads(alone.stdout)["results"]
    assert any(
        r["node_shape"] == CLAIM_SHAPE and r["path"] == f"<{NKG.claimant}>" and r["focus_node"] == str(files.claim)
        for r in results
    ), results


# --------------------------------------------------------------------------- violating input


def test_violation_exits_1_and_json_names_the_shape(run: Runner, files: Files, tmp_path: Path) -> None:
    path = files.without_claimant(tmp_path)
    out = run("validate", path, "--format", "json")
    assert out.exit_code == 1
    data = json.loads(out.stdout)
    assert data["conforms"] is False
    hits = [
        r
        for r in data["results"]
        if r["node_shape"] == CLAIM_SHAPE
        and r["path"] == f"<{NKG.claimant}>"
        and r["focus_node"] == str(files.claim)
        and r["constraint_component"] == str(SH.MinCountConstraintComponent)
        and r["severity"] == "Violation"
    ]
    assert len(hits) == 1, data["results"]
    assert hits[0]["focus_label"]  # the claim's label, for readers
    assert hits[0]["message"]


def test_violation_as_text(run: Runner, files: Files, tmp_path: Path) -> None:
    out = run("validate", files.without_claimant(tmp_path))
    assert out.exit_code == 1
    assert out.stdout.startswith("Conforms: no")
    assert CLAIM_SHAPE in out.stdout and str(files.claim) in out.stdout


def test_violation_as_turtle_is_a_w3c_report(run: Runner, files: Files, tmp_path: Path) -> None:
    out = run("validate", files.without_claimant(tmp_path), "--format", "turtle")
    assert out.exit_code == 1
    report = Graph().parse(data=out.stdout, format="turtle")
    node = report.value(predicate=RDF.type, object=SH.ValidationReport)
    assert node is not None
    assert report.value(node, SH.conforms) == Literal(False)
    results = list(report.objects(node, SH.result))
    assert any(
        report.value(r, SH.focusNode) == files.claim
        and report.value(r, SH.resultPath) == NKG.claimant
        and report.value(r, SH.sourceConstraintComponent) == SH.MinCountConstraintComponent
        for r in results
    )


def test_violation_as_junit_has_a_failure(run: Runner, files: Files, tmp_path: Path) -> None:
    out = run("validate", files.without_claimant(tmp_path), "--format", "junit")
    assert out.exit_code == 1
    suite = ET.fromstring(out.stdout)
    assert int(suite.get("failures", "0")) >= 1
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    failures = cases[CLAIM_SHAPE].findall("failure")
    assert failures
    assert any(f.get("type") == str(SH.MinCountConstraintComponent) for f in failures)
    assert any(str(files.claim) in (f.get("message") or "") for f in failures)
    assert not cases[NKGSH + "DocumentShape"].findall("failure")


# --------------------------------------------------------------------------- --shapes and --fail-on

CUSTOM_SHAPES = """
@prefix sh:  <http://www.w3.org/ns/shacl#> .
@prefix nkg: <https://w3id.org/negotiation-kg/ontology#> .
@prefix t:   <https://example.org/test-shapes#> .

t:ShortQuote a sh:NodeShape ;
    sh:targetClass nkg:Claim ;
    sh:property [ sh:path nkg:quote ; sh:maxLength 5 ; sh:severity sh:{severity} ;
                  sh:message "quotes should be short" ] .
"""


@pytest.mark.parametrize(
    "severity,fail_on,code",
    [
        ("Warning", None, 0),
        ("Warning", "violation", 0),
        ("Warning", "warning", 1),
        ("Warning", "info", 1),
        ("Info", "warning", 0),
        ("Info", "info", 1),
        ("Violation", "violation", 1),
    ],
)
def test_fail_on(run: Runner, files: Files, tmp_path: Path, severity: str, fail_on: str | None, code: int) -> None:
    shapes = tmp_path / "custom.ttl"
    shapes.write_text(CUSTOM_SHAPES.replace("{severity}", severity), encoding="utf-8")
    args: list[str | Path] = ["validate", files.valid(tmp_path), "--shapes", shapes, "--format", "json"]
    if fail_on:
        args += ["--fail-on", fail_on]
    out = run(*args)
    assert out.exit_code == code, out.output
    data = json.loads(out.stdout)
    # only the custom shapes ran, and the one long quote broke them at the given severity
    assert [(r["node_shape"], r["severity"], r["focus_node"]) for r in data["results"]] == [
        ("https://example.org/test-shapes#ShortQuote", severity, str(files.claim))
    ]


def test_text_output_shows_the_warning_that_fails_the_run(run: Runner, files: Files, tmp_path: Path) -> None:
    shapes = tmp_path / "custom.ttl"
    shapes.write_text(CUSTOM_SHAPES.replace("{severity}", "Warning"), encoding="utf-8")
    out = run("validate", files.valid(tmp_path), "--shapes", shapes, "--fail-on", "warning")
    assert out.exit_code == 1
    assert "https://example.org/test-shapes#ShortQuote" in out.stdout
    assert "Conforms: yes" not in out.stdout


def test_custom_shapes_replace_the_projects(run: Runner, files: Files, tmp_path: Path) -> None:
    """With --shapes only those shapes run: the missing claimant goes unnoticed."""
    shapes = tmp_path / "custom.ttl"
    shapes.write_text(CUSTOM_SHAPES.replace("{severity}", "Warning"), encoding="utf-8")
    out = run("validate", files.without_claimant(tmp_path), "--shapes", shapes, "--format", "json")
    assert out.exit_code == 0
    assert {r["node_shape"] for r in json.loads(out.stdout)["results"]} == {
        "https://example.org/test-shapes#ShortQuote"
    }


# --------------------------------------------------------------------------- unreadable input: exit 2


def test_turtle_syntax_error_names_file_line_column(run: Runner, tmp_path: Path) -> None:
    path = tmp_path / "broken.ttl"
    path.write_text(
        "@prefix ex: <http://example.org/> .\n"
        "ex:a ex:b ex:c .\n"
        "ex:a ex:b zz:c .\n",  # zz: is not declared; it starts in column 11
        encoding="utf-8",
    )
    out = run("validate", path)
    assert out.exit_code == 2
    assert _location(out.output, path) == (3, 11)
    assert "zz" in out.output
    assert not out.stdout.startswith("Conforms")


def test_unterminated_string_names_its_line(run: Runner, tmp_path: Path) -> None:
    path = tmp_path / "unterminated.ttl"
    path.write_text('@prefix ex: <http://example.org/> .\n\nex:a ex:b "no end .\n', encoding="utf-8")
    out = run("validate", path, "--format", "json")
    assert out.exit_code == 2
    line, column = _location(out.output, path)
    assert line == 3 and column >= 1
    with pytest.raises(json.JSONDecodeError):
        json.loads(out.stdout)  # no report was written


def test_second_file_broken_names_that_file(run: Runner, files: Files, tmp_path: Path) -> None:
    good = files.valid(tmp_path)
    bad = tmp_path / "second.ttl"
    bad.write_text("<http://example.org/a> <http://example.org/b> .\n", encoding="utf-8")
    out = run("validate", good, bad)
    assert out.exit_code == 2
    assert _location(out.output, bad)[0] == 1
    assert str(good) + ":" not in out.output


@pytest.mark.parametrize("content", ["", "   \n\n\t\n"], ids=["empty", "whitespace"])
def test_empty_file(run: Runner, tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.ttl"
    path.write_text(content, encoding="utf-8")
    out = run("validate", path)
    assert out.exit_code == 2
    assert str(path) in out.output
    assert "empty" in out.output


def test_unknown_extension(run: Runner, files: Files, tmp_path: Path) -> None:
    path = files.valid(tmp_path).rename(tmp_path / "valid.txt")
    out = run("validate", path)
    assert out.exit_code == 2
    assert str(path) in out.output
    assert "unknown RDF format" in out.output


def test_missing_file(run: Runner, tmp_path: Path) -> None:
    path = tmp_path / "nowhere.ttl"
    out = run("validate", path)
    assert out.exit_code == 2
    assert str(path) in out.output


def test_shapes_file_that_does_not_parse(run: Runner, files: Files, tmp_path: Path) -> None:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "<https://example.org/S> a sh:NodeShape ;\n"
        "    sh:targetClass .\n",  # no object
        encoding="utf-8",
    )
    out = run("validate", files.valid(tmp_path), "--shapes", shapes)
    assert out.exit_code == 2
    line, _ = _location(out.output, shapes)
    assert line == 3
    assert not out.stdout.startswith("Conforms")


def test_shapes_file_with_unknown_extension(run: Runner, files: Files, tmp_path: Path) -> None:
    shapes = tmp_path / "shapes.txt"
    shapes.write_text(CUSTOM_SHAPES.replace("{severity}", "Warning"), encoding="utf-8")
    out = run("validate", files.valid(tmp_path), "--shapes", shapes)
    assert out.exit_code == 2
    assert str(shapes) in out.output


def test_bad_option_is_a_usage_error(run: Runner, files: Files, tmp_path: Path) -> None:
    out = run("validate", files.valid(tmp_path), "--format", "yaml")
    assert out.exit_code == 2
    assert "--format" in out.output


def _passed_to_validate_files(monkeypatch: pytest.MonkeyPatch, keyword: str) -> list[object]:
    """What each call of ``validate_files`` the command makes gets as ``keyword`` (filled as
    the command runs; the calls go on to the real function)."""
    import kg.validation.run

    seen: list[object] = []
    original = kg.validation.run.validate_files

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(kwargs.get(keyword))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kg.validation.run, "validate_files", spy)
    return seen


def test_the_memory_budget_setting_reaches_the_validator(
    run: Runner, files: Files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``validate_memory_mb`` (kg.toml or KG_VALIDATE_MEMORY_MB) decides where files are
    validated; the command passes it on, and a budget of 0 (an on-disk store) gives the same verdict."""
    seen = _passed_to_validate_files(monkeypatch, "memory_mb")
    monkeypatch.setenv("KG_VALIDATE_MEMORY_MB", "0")
    result = run("validate", files.without_claimant(tmp_path))
    assert result.exit_code == 1 and "claimant" in result.stdout
    assert seen == [0]


def test_the_twin_setting_reaches_the_validator(
    run: Runner, files: Files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``validate_twin`` (kg.toml or KG_VALIDATE_TWIN) is passed on by the command; off unless set."""
    seen = _passed_to_validate_files(monkeypatch, "twin")
    assert run("validate", files.without_claimant(tmp_path)).exit_code == 1
    monkeypatch.setenv("KG_VALIDATE_TWIN", "true")
    assert run("validate", files.without_claimant(tmp_path)).exit_code == 1
    assert seen == [False, True]
