"""Large N-Triples validated in predicate groups give the results of a whole validation.

Each group's process loads only the triples its jobs read (with every type, subclass and
label triple); anything the scheme cannot split goes the usual way, with the same results
and the same errors.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyshacl import validate as pyshacl_validate
from rdflib import RDF, RDFS, Graph, URIRef
from test_shacl_differential import result_keys

import kg.validation.check
from kg.errors import InputError
from kg.rdfio import read_graph
from kg.shacl.plan import job_reads
from kg.shacl.scale import groups, linefiles, packing
from kg.shacl.scale.groups import _split_range, validate_in_groups
from kg.shacl.scale.linefiles import byte_ranges, line_pieces
from kg.shacl.scale.packing import EVERY_GROUP, OTHER, footprints_of, plan_groups, type_key
from kg.validation.check import validate_files

EX = "http://example.org/news#"

SPARQL_ANY_PREDICATE = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:S a sh:NodeShape ; sh:targetClass ex:Item ;
    sh:sparql [ sh:select "SELECT $this WHERE { $this ?p ?o . FILTER (isLiteral(?o) && STRLEN(STR(?o)) > 3) }" ] .
"""


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every file counts as large (literals in canonical form, groups tried first); the
    list receives what each attempt at groups answered."""
    monkeypatch.setattr(kg.validation.check, "EXACT_BYTES", 0)
    attempts: list[object] = []

    def spied(*args: object, **kwargs: object) -> object:
        found = validate_in_groups(*args, **kwargs)  # type: ignore[arg-type]
        attempts.append(found)
        return found

    monkeypatch.setattr(kg.validation.check, "validate_in_groups", spied)
    return attempts


@pytest.mark.parametrize("count", ["two", "several"])
def test_groups_give_pyshacls_results(
    generated: tuple[Path, Graph, Graph], large: list[object], count: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two groups, or (a store too large for two in the budget) several per core: pyshacl's
    results, labels of focus nodes included, and every shape checked by the compiled engine."""
    data_file, shapes, expected = generated
    if count == "several":
        # two groups hold about 55% of the data each: make that more than half the budget
        monkeypatch.setattr(packing, "MEMORY_PER_BYTE", 3 * 1024**3 / data_file.stat().st_size)
    planned: list[int] = []
    sized = groups.sized_groups

    def spied(*args: object) -> object:
        found = sized(*args)  # type: ignore[arg-type]
        planned.append(len(found) if found else 0)
        return found

    monkeypatch.setattr(groups, "sized_groups", spied)
    report = validate_files([data_file], shapes, memory_mb=3072)
    assert large and large[0] is not None, "the groups validated the file"
    assert planned == [2] if count == "two" else planned[0] > 2
    assert result_keys(report.graph, shapes) == result_keys(expected, shapes)
    assert len(report.results) >= 3 and set(report.engines.values()) == {"sparql"}
    data = Graph().parse(data_file)
    labels = {r.focus_node: data.value(URIRef(r.focus_node), RDFS.label) for r in report.results}
    assert any(labels.values()), "some reported node has a label"
    assert {r.focus_node: r.focus_label for r in report.results} == {n: str(v) if v is not None else None for n, v in labels.items()}


def test_a_group_that_dies_leaves_the_file_to_the_usual_way(
    generated: tuple[Path, Graph, Graph], large: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_file, shapes, expected = generated

    def dies(*_: object) -> None:
        os._exit(3)

    monkeypatch.setattr(groups, "_check_group", dies)
    report = validate_files([data_file], shapes, memory_mb=3072)
    assert large == [None]
    assert result_keys(report.graph, shapes) == result_keys(expected, shapes)


def _with_line(data_file: Path, out: Path, line: str, at: int | None = None) -> Path:
    """A copy of ``data_file`` with ``line`` inserted before line ``at`` (0-based; the middle by default)."""
    lines = data_file.read_bytes().splitlines(keepends=True)
    lines.insert(len(lines) // 2 if at is None else at, line.encode())
    out.write_bytes(b"".join(lines))
    return out


@pytest.mark.parametrize(
    ("why", "line"),
    [
        ("blank node", '_:b1 <http://example.org/news#quote> "x" .\n'),
        ("escaped IRI", '<http://example.org/id/x> <http://example.org/news#qu\\u006Fte> "x" .\n'),
        ("terms written together", '<http://example.org/id/x><http://example.org/news#quote>"x".\n'),
        ("tabs", '<http://example.org/id/x>\t<http://example.org/news#quote>\t"x" .\n'),
        # a tab after the subject, and the object an IRI used as a predicate elsewhere
        ("a tab after the subject", '<http://example.org/id/claim/1>\t<http://example.org/news#x> <http://example.org/news#quote> .\n'),
        ("a leading space", ' <http://example.org/id/claim/1> <http://example.org/news#quote> "x" .\n'),
        ("an integer subtype", '<http://example.org/id/x> <http://example.org/news#wordCount> "4"^^<http://www.w3.org/2001/XMLSchema#int> .\n'),
    ],
)
def test_lines_that_cannot_be_split_go_the_usual_way(
    generated: tuple[Path, Graph, Graph], large: list[object], tmp_path: Path, why: str, line: str
) -> None:
    data_file, shapes, _ = generated
    changed = _with_line(data_file, tmp_path / "changed.nt", line)  # in the middle: the second byte range meets it
    # rdflib's N-Triples parser refuses terms written together: pyoxigraph reads the file
    _, expected, _ = pyshacl_validate(read_graph([changed]), shacl_graph=shapes, inference="none", allow_warnings=False)
    report = validate_files([changed], shapes, memory_mb=3072)
    assert large == [None], why
    assert result_keys(report.graph, shapes) == result_keys(expected, shapes)


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ('<http://example.org/id/x> <http://www.w3.org/2000/01/rdf-schema#label> "open .\n', "syntax error"),
        # a predicate no query reads: its lines are only parsed, and must be
        ('<http://example.org/id/x> <http://example.org/news#unread> "open .\n', "syntax error"),
        ("<http://example.org/id/x> <http://example.org/news#unread> <relative> .\n", "absolute IRI"),
    ],
)
def test_a_syntax_error_is_named_by_file_and_line(
    generated: tuple[Path, Graph, Graph], large: list[object], tmp_path: Path, line: str, what: str
) -> None:
    data_file, shapes, _ = generated
    broken = _with_line(data_file, tmp_path / "broken.nt", line, at=100)
    with pytest.raises(InputError) as caught:
        validate_files([broken], shapes, memory_mb=3072)
    assert large == [None]
    assert f"{broken}:101" in str(caught.value) and what in str(caught.value)


def test_a_blank_file_among_others_is_named(generated: tuple[Path, Graph, Graph], large: list[object], tmp_path: Path) -> None:
    data_file, shapes, _ = generated
    blank = tmp_path / "blank.nt"
    blank.write_bytes(b"\n  \n\t\n")
    with pytest.raises(InputError, match="the file is empty") as caught:
        validate_files([data_file, blank], shapes, memory_mb=3072)
    assert large == [None] and str(blank) in str(caught.value)


def test_lines_ended_by_carriage_returns_go_the_usual_way(
    generated: tuple[Path, Graph, Graph], large: list[object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without line feeds a file cannot be cut into pieces by lines: the usual loader reads it."""
    data_file, shapes, expected = generated
    monkeypatch.setattr(linefiles, "CHUNK_BYTES", 4096)
    cr = tmp_path / "cr.nt"
    cr.write_bytes(data_file.read_bytes().replace(b"\n", b"\r"))
    report = validate_files([cr], shapes, memory_mb=3072)
    assert large == [None]
    assert result_keys(report.graph, shapes) == result_keys(expected, shapes)


NQ_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:S a sh:NodeShape ; sh:targetClass ex:Item ; sh:property [ sh:path ex:name ; sh:minCount 1 ] .
"""


@pytest.mark.parametrize("grouped", [False, True])
def test_quads_in_named_graphs_are_validated(tmp_path: Path, grouped: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """SHACL validates one data graph: the quads of every graph of an N-Quads file are merged
    into it (pyoxigraph's loaders keep them in their own graphs whatever they are told)."""
    if grouped:
        monkeypatch.setattr(kg.validation.check, "EXACT_BYTES", 0)
    data = tmp_path / "data.nq"
    data.write_text(
        "<http://example.org/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://example.org/Item> <http://example.org/g1> .\n"
        '<http://example.org/b> <http://example.org/name> "b" <http://example.org/g2> .\n'
        "<http://example.org/b> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://example.org/Item> .\n"
    )
    report = validate_files([data], Graph().parse(data=NQ_SHAPES, format="turtle"))
    assert [(r.focus_node, r.constraint_component.rsplit("#", 1)[-1]) for r in report.results] == [
        ("http://example.org/a", "MinCountConstraintComponent")
    ]


def test_other_formats_and_unbounded_queries_are_not_grouped(generated: tuple[Path, Graph, Graph], tmp_path: Path) -> None:
    data_file, shapes, _ = generated
    turtle = tmp_path / "gen.ttl"
    Graph().parse(data_file).serialize(turtle, format="turtle")
    assert validate_in_groups([turtle], shapes, processes=2, budget=3 * 1024**3) is None
    assert validate_in_groups([data_file], shapes, processes=1, budget=3 * 1024**3) is None
    assert job_reads(Graph().parse(data=SPARQL_ANY_PREDICATE, format="turtle")) is None
    # a triple term: its inner triple's predicate is not the line's
    term = tmp_path / "term.nt"
    term.write_bytes(data_file.read_bytes() + b'<http://example.org/id/x> <http://example.org/news#about> <<( <http://example.org/id/x> <http://example.org/news#quote> "x" )>> .\n')
    assert validate_in_groups([term], shapes, processes=2, budget=3 * 1024**3) is None


def _split(path: Path, folder: Path, parts: int = 2) -> list[dict[str, tuple[Path, int]]]:
    return [_split_range(path, start, end, folder, f"range{n}", "nt") for n, (start, end) in enumerate(byte_ranges(path, parts))]


def test_every_job_lands_in_one_group_that_holds_what_it_reads(generated: tuple[Path, Graph, Graph], tmp_path: Path) -> None:
    data_file, shapes, _ = generated
    reads = job_reads(shapes)
    assert reads is not None and len(reads) > 20
    sizes: dict[str, int] = {}
    for written in _split(data_file, tmp_path):
        for name, (_, size) in written.items():
            sizes[name] = sizes.get(name, 0) + size
    assert sum(sizes.values()) == data_file.stat().st_size, "every line went to its predicate's or class's file"
    assert type_key(EX + "Claim") in sizes and str(RDF.type) not in sizes, "type triples split by class"
    data = Graph().parse(data_file)
    hierarchy = [(str(s), str(o)) for s, o in data.subject_objects(RDFS.subClassOf)]
    footprints = footprints_of(reads, sizes, hierarchy)
    total = sum(sizes.values())
    shares = {p: n / total for p, n in sizes.items()}
    for parts in (1, 2, 5):
        found = plan_groups(footprints, shares, parts)
        assert 1 <= len(found) <= parts
        keys = [key for group in found for key in group.jobs]
        assert sorted(keys, key=str) == sorted(footprints, key=str)
        for group in found:
            assert EVERY_GROUP <= group.predicates
            assert all(footprints[key] <= group.predicates for key in group.jobs)
        # jobs reading one predicate share a group: no predicate is loaded twice
        data_predicates = [p for group in found for p in group.predicates if p in sizes and p not in EVERY_GROUP and " " not in p]
        assert len(data_predicates) == len(set(data_predicates))
    two = plan_groups(footprints, shares, 2)
    assert max(g.share for g in two) < 0.8, "two groups split the data"
    # a job of the document shape reads the type triples of the subclasses of ex:Document
    # (the data types no node as ex:Document itself), and not those of claims
    (document_job,) = [key for key in reads if str(key[0]).endswith("DocumentShape") and EX + "language" in reads[key].predicates]
    assert {type_key(EX + c) for c in ("NewsArticle", "PressRelease")} <= footprints[document_job]
    assert type_key(EX + "Claim") not in footprints[document_job]


def test_type_lines_are_split_by_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past CLASS_FILES classes, and for objects that are not one plain IRI, type lines go
    to the file of rdf:type, which every group loads."""
    monkeypatch.setattr(groups, "CLASS_FILES", 2)
    path = tmp_path / "types.nt"
    lines = [f"<http://e/s{i}> <{RDF.type}> <http://e/C{i % 4}> .\n".encode() for i in range(20)]
    odd = [f'<http://e/t> <{RDF.type}> "C0" .\n'.encode(), f"<http://e/u> <{RDF.type}> <http://e/C0>.\n".encode()]
    path.write_bytes(b"".join(lines + odd))
    files: dict[str, list[bytes]] = {}
    for written in _split(path, tmp_path, parts=2):
        assert len([name for name in written if name != str(RDF.type)]) == 2, "a limit per byte range"
        for name, (out, _) in written.items():
            files.setdefault(name, []).extend(out.read_bytes().splitlines(keepends=True))
    assert sorted(line for found in files.values() for line in found) == sorted(lines + odd)
    by_class = {name for name in files if name != str(RDF.type)}
    assert by_class <= {type_key(f"http://e/C{i}") for i in range(4)}
    for name in by_class:
        assert all(line.split()[2] == f"<{name.split(' ', 1)[1]}>".encode() for line in files[name])
    assert set(odd) <= set(files[str(RDF.type)])


def test_type_lines_after_one_not_split_by_class_still_are(tmp_path: Path) -> None:
    """A type triple whose object is not one plain IRI goes to the file of rdf:type; the
    type lines after it still go to their classes' files."""
    path = tmp_path / "types.nt"
    odd = f'<http://e/t> <{RDF.type}> "C0" .\n'.encode()
    lines = [f"<http://e/s{i}> <{RDF.type}> <http://e/C{i % 3}> .\n".encode() for i in range(9)]
    path.write_bytes(odd + b"".join(lines))
    (written,) = _split(path, tmp_path, parts=1)
    assert set(written) == {str(RDF.type)} | {type_key(f"http://e/C{i}") for i in range(3)}
    assert written[str(RDF.type)][0].read_bytes() == odd


def test_split_files_hold_every_line_by_predicate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Comments and blank lines are dropped; past PREDICATE_FILES, predicates share one file."""
    monkeypatch.setattr(groups, "PREDICATE_FILES", 3)
    path = tmp_path / "data.nt"
    lines = [f"<http://e/s{i}> <http://e/p{i % 5}> \"{i}\" .\n".encode() for i in range(50)]
    path.write_bytes(b"# a comment\n\n" + b"".join(lines) + b"  \r\n")
    files: dict[str, list[bytes]] = {}
    for written in _split(path, tmp_path, parts=3):
        assert len([name for name in written if name != OTHER]) <= 3 and OTHER in written
        for name, (out, _) in written.items():
            files.setdefault(name, []).extend(out.read_bytes().splitlines(keepends=True))
    assert sorted(line for found in files.values() for line in found) == sorted(lines)
    assert all(line.split()[1] == f"<{name}>".encode() for name, found in files.items() if name != OTHER for line in found)


def test_more_predicates_than_files_give_the_same_results(
    generated: tuple[Path, Graph, Graph], large: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_file, shapes, expected = generated
    monkeypatch.setattr(groups, "PREDICATE_FILES", 4)
    report = validate_files([data_file], shapes, memory_mb=3072)
    assert large and large[0] is not None
    assert result_keys(report.graph, shapes) == result_keys(expected, shapes)


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_byte_ranges_hand_out_every_line_once(tmp_path: Path, parts: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linefiles, "CHUNK_BYTES", 48)  # more than a line, less than two
    path = tmp_path / "lines.nt"
    text = b"".join(f"<http://e/s{i}> <http://e/p> \"{'x' * (i % 5)}\" .\n".encode() for i in range(40))
    path.write_bytes(text)
    pieces = [piece for start, end in byte_ranges(path, parts) for piece in line_pieces(path, start, end)]
    assert b"".join(pieces) == text
    assert all(piece.endswith(b"\n") for piece in pieces)
