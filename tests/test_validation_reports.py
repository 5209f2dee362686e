"""``kg validate`` reports for CI: where each result is (file:line), the five formats, folders, --fail-on.

The data is small and written here, so every expected line number can be read off the text.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pyoxigraph as ox
import pytest
from click.testing import Result
from rdflib import Graph, Literal

from kg.namespaces import RDF, SH
from kg.rdfio import parse_file_lines

SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:PersonShape a sh:NodeShape ;
  sh:targetClass ex:Person ;
  sh:property [ sh:path ex:age ; sh:datatype xsd:integer ; sh:maxCount 1 ] ;
  sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:severity sh:Warning ; sh:message "a person has a name" ] ;
  sh:property [ sh:path [ sh:inversePath ex:knows ] ; sh:class ex:Person ] .
ex:PlaceShape a sh:NodeShape ;
  sh:targetClass ex:Place ;
  sh:property [ sh:path ex:population ; sh:datatype xsd:integer ; sh:severity sh:Info ] .
"""

DATA = """\
@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

ex:alice a ex:Person ;
  rdfs:label "Alice, the first" ;
  ex:name "Alice" ;
  ex:age "forty" .

ex:bob a ex:Person ;
  rdfs:label "Bob" ;
  ex:age 3, 4 .

ex:rock ex:knows ex:alice .
"""

EX = "http://example.org/"
PERSON_SHAPE = EX + "PersonShape"


@pytest.fixture()
def run(kg_cli, tmp_path: Path):  # type: ignore[no-untyped-def]
    return kg_cli


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(SHAPES, encoding="utf-8")
    data = tmp_path / "data.ttl"
    data.write_text(DATA, encoding="utf-8")
    return Path("data.ttl"), Path("shapes.ttl")


def _results(out: Result) -> list[dict[str, object]]:
    return json.loads(out.stdout)["results"]  # type: ignore[no-any-return]


def _by(results: list[dict[str, object]], focus: str, component: str) -> dict[str, object]:
    hits = [r for r in results if r["focus_node"] == EX + focus and str(r["constraint_component"]).endswith(component)]
    assert len(hits) == 1, results
    return hits[0]


# --------------------------------------------------------------------------- lines of triples


def test_every_line_of_a_turtle_file(tmp_path: Path) -> None:
    path = tmp_path / "lines.ttl"
    path.write_text(
        "@prefix ex: <http://ex/> .\n"  # 1
        "ex:a ex:b ex:c ;\n"  # 2
        "   ex:d\n"  # 3
        '     "x" ;\n'  # 4
        "   ex:e [ ex:f 1 ;\n"  # 5
        "          ex:g 2 ] .\n"  # 6
        'ex:z ex:y """two\n'  # 7
        'lines""" .\n'  # 8
        "ex:q ex:r ex:s\n"  # 9
        ".\n",  # 10
        encoding="utf-8",
    )
    lines = {(str(q.predicate).strip("<>").rsplit("/", 1)[-1]): line for q, line in parse_file_lines(path)}
    assert lines == {"b": 2, "d": 4, "f": 5, "g": 6, "e": 6, "y": 8, "r": 9}


@pytest.mark.parametrize(
    "name,text,expected",
    [
        ("a.nt", "<http://ex/a> <http://ex/b> <http://ex/c> .\n\n<http://ex/a> <http://ex/d> \"x\" .\n", [1, 3]),
        ("a.nq", "<http://ex/a> <http://ex/b> <http://ex/c> <http://ex/g> .\n# note\n<http://ex/a> <http://ex/d> \"x\" .\n", [1, 3]),
        ("a.trig", "<http://ex/g> {\n  <http://ex/a> <http://ex/b> <http://ex/c> .\n\n  <http://ex/a> <http://ex/d> 1 .\n}\n", [2, 4]),
        (
            "a.rdf",
            '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://ex/">\n'
            ' <rdf:Description rdf:about="http://ex/a">\n   <ex:b rdf:resource="http://ex/c"/>\n\n   <ex:d>x</ex:d>\n'
            " </rdf:Description>\n</rdf:RDF>\n",
            [4, 6],
        ),
        ("a.jsonld", '{"@id": "http://ex/a",\n "http://ex/b": {"@id": "http://ex/c"},\n "http://ex/d": "x"}\n', [None, None]),
    ],
)
def test_lines_in_every_format(tmp_path: Path, name: str, text: str, expected: list[int | None]) -> None:
    """Streaming formats give each triple its line; JSON-LD, whose parser may hold a triple back, gives none."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert [line for _, line in sorted(parse_file_lines(path), key=lambda ql: str(ql[0].predicate))] == expected


# --------------------------------------------------------------------------- results located


def test_json_gives_each_result_its_file_and_line(run, files: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    data, shapes = files
    out = run("validate", data, "--shapes", shapes, "--format", "json")
    assert out.exit_code == 1
    results = _results(out)
    assert len(results) == 4
    # the value's own triple
    datatype = _by(results, "alice", "DatatypeConstraintComponent")
    assert (datatype["source_file"], datatype["source_line"]) == ("data.ttl", 7)
    # an inverse path: the triple that points at the focus node
    inverse = _by(results, "alice", "ClassConstraintComponent")
    assert inverse["path"] == f"^<{EX}knows>" and inverse["source_line"] == 13
    # no value, but the predicate is there: its first triple
    assert _by(results, "bob", "MaxCountConstraintComponent")["source_line"] == 11
    # nothing on the path: the focus node's first triple
    missing = _by(results, "bob", "MinCountConstraintComponent")
    assert missing["source_line"] == 9 and missing["severity"] == "Warning"
    assert all(r["engine"] == "sparql" and r["known"] is False and len(str(r["fingerprint"])) == 32 for r in results)
    assert datatype["focus_label"] == "Alice, the first"


def test_text_groups_by_shape_with_labels_and_lines(run, files: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    data, shapes = files
    out = run("validate", data, "--shapes", shapes)
    assert out.exit_code == 1
    text = out.stdout
    assert text.startswith("Conforms: no (4 results)")
    assert text.count(f"\n{PERSON_SHAPE}  (4)\n") == 1
    assert f"[Violation] {EX}alice (Alice, the first)  data.ttl:7" in text
    assert f"[Warning] {EX}bob (Bob)  data.ttl:9" in text
    assert "a person has a name" in text
    assert text.rstrip().endswith("3 new results at --fail-on violation or worse: the run fails")


def test_junit_one_case_per_shape_one_failure_per_focus_node(run, files: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    data, shapes = files
    out = run("validate", data, "--shapes", shapes, "--format", "junit")
    assert out.exit_code == 1
    suite = ET.fromstring(out.stdout)
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {PERSON_SHAPE, EX + "PlaceShape"}
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    failures = cases[PERSON_SHAPE].findall("failure")
    # alice has two violations and bob one: two failures; bob's warning does not fail the run
    assert sorted(f.get("message", "").split(" ")[0] for f in failures) == [EX + "alice", EX + "bob"]
    alice = next(f for f in failures if f.get("message", "").startswith(EX + "alice"))
    assert (alice.get("file"), alice.get("line")) == ("data.ttl", "7")
    assert "DatatypeConstraintComponent" in alice.get("type", "") and "ClassConstraintComponent" in alice.get("type", "")
    assert "a person has a name" in (cases[PERSON_SHAPE].findtext("system-out") or "")
    assert not cases[EX + "PlaceShape"].findall("failure")


def test_junit_follows_fail_on(run, files: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    data, shapes = files
    out = run("validate", data, "--shapes", shapes, "--format", "junit", "--fail-on", "warning")
    failures = ET.fromstring(out.stdout).iter("failure")
    bob = [f for f in failures if f.get("message", "").startswith(EX + "bob")]
    assert len(bob) == 1 and "MinCountConstraintComponent" in bob[0].get("type", "")
    assert bob[0].get("line") == "11"  # the first of bob's results (maxCount, on ex:age)


def test_github_annotations(run, files: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    data, shapes = files
    out = run("validate", data, "--shapes", shapes, "--format", "github")
    assert out.exit_code == 1
    lines = out.stdout.splitlines()
    assert "::error file=data.ttl,line=7,title=PersonShape%3A Datatype::" + EX + "alice (Alice, the first)" in out.stdout
    assert any(line.startswith("::warning file=data.ttl,line=9,title=PersonShape%3A MinCount::") for line in lines)
    assert sum(line.startswith("::error ") for line in lines) == 3
    assert lines[-1] == "SHACL: 4 results, 0 known, 3 failing at --fail-on violation"


def test_github_escapes_what_would_break_a_command(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "s.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix ex: <http://example.org/> .\n"
        'ex:S a sh:NodeShape ; sh:targetNode ex:x ; sh:property [ sh:path ex:p ; sh:minCount 1 ; sh:severity sh:Info ;\n'
        '  sh:message "100% wrong,\\nsecond line" ] .\n',
        encoding="utf-8",
    )
    (tmp_path / "a,b.ttl").write_text("<http://example.org/x> <http://example.org/q> 1 .\n", encoding="utf-8")
    out = run("validate", "a,b.ttl", "--shapes", "s.ttl", "--format", "github")
    assert out.exit_code == 0  # an Info result does not fail at --fail-on violation
    first = out.stdout.splitlines()[0]
    assert first.startswith("::notice file=a%2Cb.ttl,line=1,title=S%3A MinCount::")
    assert first.endswith("100%25 wrong,%0Asecond line")


def test_info_results_pass_by_default_and_fail_on_info(run, tmp_path: Path, files: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    _, shapes = files
    (tmp_path / "place.nt").write_text(
        f'<{EX}x> <{RDF}type> <{EX}Place> .\n<{EX}x> <{EX}population> "many" .\n', encoding="utf-8"
    )
    assert run("validate", "place.nt", "--shapes", shapes).exit_code == 0
    out = run("validate", "place.nt", "--shapes", shapes, "--fail-on", "info", "--format", "json")
    assert out.exit_code == 1
    [result] = _results(out)
    assert (result["severity"], result["source_file"], result["source_line"]) == ("Info", "place.nt", 2)


def test_turtle_is_the_w3c_report(run, files: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    data, shapes = files
    out = run("validate", data, "--shapes", shapes, "--format", "turtle")
    graph = Graph().parse(data=out.stdout, format="turtle")
    report = graph.value(predicate=RDF.type, object=SH.ValidationReport)
    assert graph.value(report, SH.conforms) == Literal(False)
    assert len(list(graph.objects(report, SH.result))) == 4


def test_turtle_report_quotes_an_ill_typed_boolean(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "s.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix ex: <http://example.org/> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        "ex:S a sh:NodeShape ; sh:targetNode ex:x ; sh:property [ sh:path ex:p ; sh:datatype xsd:boolean ] .\n",
        encoding="utf-8",
    )
    (tmp_path / "d.ttl").write_text(
        '<http://example.org/x> <http://example.org/p> "none"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n',
        encoding="utf-8",
    )
    out = run("validate", "d.ttl", "--shapes", "s.ttl", "--format", "turtle")
    assert out.exit_code == 1
    # read back with pyoxigraph: rdflib would itself rewrite the lexical form while parsing
    values = [q.object for q in ox.parse(out.stdout, format=ox.RdfFormat.TURTLE) if q.predicate.value == str(SH.value)]
    assert [v.value for v in values] == ["none"]  # as written in the data, not rewritten to "false"


# --------------------------------------------------------------------------- folders


def test_a_folder_is_its_rdf_files(run, tmp_path: Path, files: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    _, shapes = files
    folder = tmp_path / "data"
    (folder / "people").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    (folder / "people" / "bob.ttl").write_text(DATA, encoding="utf-8")
    (folder / "README.md").write_text("not RDF", encoding="utf-8")
    (folder / ".hidden" / "broken.ttl").write_text("this is not turtle", encoding="utf-8")
    out = run("validate", "data", "--shapes", shapes, "--format", "json")
    assert out.exit_code == 1, out.output
    assert {r["source_file"] for r in _results(out)} == {str(Path("data") / "people" / "bob.ttl")}


def test_a_folder_without_rdf_files_is_unusable(run, tmp_path: Path, files: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    _, shapes = files
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x", encoding="utf-8")
    out = run("validate", "empty", "--shapes", shapes)
    assert out.exit_code == 2
    assert "empty" in out.output and "no RDF files" in out.output


def test_locating_after_the_fact_finds_the_same_places(tmp_path: Path) -> None:
    """For data an engine loaded itself: reading the files again gives every result the
    place the one-pass reader gave it (the data here has no blank nodes)."""
    from kg.validation.check import validate_graph
    from kg.validation.sources import locate, locate_in_files, read_located

    (tmp_path / "data.ttl").write_text(DATA + '\nex:carol a ex:Person ; rdfs:label "Carol" ; ex:age "01"^^<http://www.w3.org/2001/XMLSchema#byte> .\n', encoding="utf-8")
    (tmp_path / "more.nt").write_text(f'<{EX}dave> <{RDF}type> <{EX}Person> .\n<{EX}dave> <{EX}age> "x\\ny" .\n', encoding="utf-8")
    shapes = Graph().parse(data=SHAPES, format="turtle")
    files = [tmp_path / "data.ttl", tmp_path / "more.nt"]
    data, index = read_located(files)
    report = validate_graph(data, shapes)
    once = locate(report, index)
    later = locate_in_files(report, files)
    places = [(r.focus_node, r.constraint_component, r.source_file, r.source_line) for r in once.results]
    assert places == [(r.focus_node, r.constraint_component, r.source_file, r.source_line) for r in later.results]
    assert all(line is not None for *_, line in places) and len(places) >= 6
    assert (f"{EX}dave", str(SH.DatatypeConstraintComponent), str(files[1]), 2) in places


@pytest.mark.parametrize("processes", ["one", "two", "lines longer than a piece"])
def test_locating_in_large_ntriples_reads_the_lines_of_results(tmp_path: Path, processes: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """N-Triples are searched line by line for the terms of results, then only those lines
    are parsed: the places are the ones the one-pass reader gives, in plainly written
    files (first and last terms read as bytes) and in files with tabs, escapes, comments,
    blank nodes, terms written together and carriage returns (read with more care)."""
    from kg.shacl.scale import linefiles
    from kg.validation import sources
    from kg.validation.check import validate_graph
    from kg.validation.sources import locate, locate_in_files, read_located

    if processes != "one":
        monkeypatch.setattr(sources, "_PARALLEL_BYTES", 0)
    if processes == "lines longer than a piece":
        monkeypatch.setattr(linefiles, "CHUNK_BYTES", 40)  # every file is then parsed whole
    person, knows, age, name, a = f"<{EX}Person>", f"<{EX}knows>", f"<{EX}age>", f"<{EX}name>", f"<{RDF}type>"
    integer = "<http://www.w3.org/2001/XMLSchema#integer>"
    plain = [
        f"<{EX}ann> {a} {person} .",
        f'<{EX}ann> {age} "old" .',
        f"<{EX}rock> {knows} <{EX}ann> .",  # ann is known by a non-person: found by the object
        f"<{EX}stone> {knows} <{EX}ann> .",
        f'<{EX}bob> {age} "3"^^{integer} .',
        f"<{EX}bob> {a} {person} .",
        f'<{EX}bob> {age} "4"^^{integer} .',
        f"<{EX}x1> <{EX}likes> <{EX}bob> .",
        f"<{EX}x2> <{EX}likes> <{EX}bob> .",
        f"<{EX}fay> {a} {person} .",  # no line feed at the end
    ]
    odd = [
        "# people",
        f"<{EX}gil>\t{a}\t{person} .",  # tabs
        "",
        f"<{EX}cy><{RDF}type>{person}.",  # terms written together
        f'<{EX}cy> {name} "C\\u0079" .',  # an escape
        f"_:d {a} {person} .\r",  # a blank node, a carriage return
        f"_:d {knows} _:d .",
        f"  <{EX}eve> {a} {person} .",  # leading spaces
        f'<{EX}eve> {name} "Eve" .',
    ]
    files = [tmp_path / "plain.nt", tmp_path / "odd.nt"]
    files[0].write_bytes("\n".join(plain).encode())
    files[1].write_bytes("\n".join(odd).encode() + b"\n")
    # liked by two: a result without a value, placed where bob is first an object of ex:likes
    shapes = Graph().parse(data=SHAPES + "ex:PersonShape sh:property [ sh:path [ sh:inversePath ex:likes ] ; sh:maxCount 1 ] .\n", format="turtle")
    graph, index = read_located(files)
    report = validate_graph(graph, shapes)
    once = locate(report, index)
    later = locate_in_files(report, files)

    def places(found: object) -> list[tuple[str, str, str | None, str | None, int | None]]:
        return sorted((r.focus_node, r.constraint_component, r.path, r.source_file, r.source_line) for r in found.results)  # type: ignore[attr-defined]

    assert places(later) == places(once)
    assert len(places(once)) >= 8 and all(line is not None for *_, line in places(once))
    where: dict[tuple[str, str], set[tuple[str, int | None]]] = {}
    for r in later.results:
        where.setdefault((r.focus_node.rsplit("/", 1)[-1], r.constraint_component.rsplit("#", 1)[-1]), set()).add((Path(r.source_file or "").name, r.source_line))
    assert where[("ann", "ClassConstraintComponent")] == {("plain.nt", 3), ("plain.nt", 4)}  # by their objects
    assert where[("bob", "MaxCountConstraintComponent")] == {("plain.nt", 5), ("plain.nt", 8)}  # ex:age, ^ex:likes
    assert where[("fay", "MinCountConstraintComponent")] == {("plain.nt", 10)}  # no line feed after it
    assert where[("gil", "MinCountConstraintComponent")] == {("odd.nt", 2)}
