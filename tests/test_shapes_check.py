"""Shapes that are not valid SHACL are refused: exit 2, the file and line of the offending
triple, what is wrong, and no report. Well-formed shapes (the project's own) pass untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.compare import isomorphic

from kg.namespaces import SH
from kg.resources import shape_files
from kg.validation.shapes_check import prepare_shapes
from kg.validation.sources import read_located

HEAD = (
    "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
    "@prefix ex: <http://example.org/> .\n"
    "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
    "ex:S a sh:NodeShape ;\n"
    "  sh:targetNode ex:x ;\n"
)  # the case's own line is line 6

DATA = "<http://example.org/x> <http://example.org/p> \"1\" .\n"


@pytest.fixture()
def run(kg_cli, tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "data.nt").write_text(DATA, encoding="utf-8")
    return kg_cli


@pytest.mark.parametrize(
    "line,words",
    [
        ('  sh:property [ sh:path "p" ] .', "sh:path is not a well-formed SHACL property path"),
        ("  sh:property [ sh:path ( ex:p ) ] .", "sh:path is not a well-formed SHACL property path"),
        ("  sh:property [ sh:path [ sh:inversePath ex:p ; sh:zeroOrMorePath ex:q ] ] .", "well-formed SHACL property path"),
        ("  sh:property [ sh:path [ sh:alternativePath ex:p ] ] .", "well-formed SHACL property path"),
        ("  sh:property [ sh:path ex:p ; sh:minCount -1 ] .", "sh:minCount must be a non-negative xsd:integer"),
        ('  sh:property [ sh:path ex:p ; sh:maxCount "2" ] .', "sh:maxCount must be a non-negative xsd:integer"),
        ("  sh:property [ sh:path ex:p ; sh:minLength 1.5 ] .", "sh:minLength must be a non-negative xsd:integer"),
        ("  sh:property [ sh:path ex:p ; sh:maxCount 1, 2 ] .", "sh:maxCount may have one value per shape"),
        ('  sh:datatype "xsd:string" .', "sh:datatype must be an IRI"),
        ("  sh:datatype xsd:string, xsd:integer .", "sh:datatype may have one value per shape"),
        ("  sh:in ex:list .", "sh:in must be a SHACL list"),
        ("  sh:languageIn ( ex:en ) .", "sh:languageIn must list literals"),
        ("  sh:nodeKind ex:Whatever .", "sh:nodeKind must be one of"),
        ('  sh:class "Person" .', "sh:class must be an IRI"),
        ('  sh:closed "yes" .', "sh:closed must be true or false"),
        ("  sh:or ( ex:A ex:B ex:A ) ; sh:and ex:notAList .", "sh:and must be a SHACL list"),
        ('  sh:targetClass "ex:Thing" .', "sh:targetClass must be an IRI"),
        ("  sh:minInclusive ex:five .", "sh:minInclusive must be a literal"),
        ('  sh:sparql [ sh:select "SELECT $this WHERE { $this ?p ?o . MINUS { $this ?p 1 } }" ] .', "uses MINUS"),
        ('  sh:sparql [ sh:select "SELECT $this WHERE { VALUES ?o { 1 } $this ?p ?o }" ] .', "uses VALUES"),
        ('  sh:sparql [ sh:select "SELECT $this WHERE { BIND (ex:x AS $this) }" ] .', "AS ?this (it is pre-bound)"),
        ('  sh:sparql [ sh:select "SELECT $this WHERE { { SELECT ?o WHERE { $this ?p ?o } } }" ] .', "does not return the pre-bound $this"),
        ('  sh:sparql [ sh:select "SELECT $this WHERE { $this ?p }" ] .', "the SPARQL query does not parse"),
    ],
)
def test_ill_formed_shapes_are_refused(run, tmp_path: Path, line: str, words: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "shapes.ttl").write_text(HEAD + line + "\n", encoding="utf-8")
    out = run("validate", "data.nt", "--shapes", "shapes.ttl")
    assert out.exit_code == 2, out.output
    assert "shapes.ttl:6" in out.output, out.output
    assert words in out.output
    assert "https://www.w3.org/TR/shacl/#" in out.output  # says where the rule is
    assert not out.stdout.startswith("Conforms")


def test_a_subquery_that_returns_this_is_allowed(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "shapes.ttl").write_text(
        HEAD + '  sh:sparql [ sh:select "SELECT $this WHERE { { SELECT $this ?o WHERE { $this ?p ?o } } }" ] .\n',
        encoding="utf-8",
    )
    out = run("validate", "data.nt", "--shapes", "shapes.ttl", "--format", "json")
    assert out.exit_code == 1, out.output  # valid shape, and the query finds a row: a violation


SHAPES_GRAPH_QUERY = 'sh:select "SELECT $this WHERE { GRAPH $shapesGraph { $currentShape ?p ?o } }"'


def test_shapes_graph_in_a_shape_of_its_own(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "shapes.ttl").write_text(HEAD + f"  sh:sparql [ {SHAPES_GRAPH_QUERY} ] .\n", encoding="utf-8")
    out = run("validate", "data.nt", "--shapes", "shapes.ttl", "--format", "json")
    assert out.exit_code == 1, out.output  # the shape has triples in the shapes graph: one result


def test_a_feature_the_validator_lacks_is_a_clear_refusal(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """$shapesGraph in a shape reached through sh:node is left to pyshacl, which lacks it."""
    (tmp_path / "shapes.ttl").write_text(
        HEAD + f"  sh:node ex:Inner .\nex:Inner sh:sparql [ {SHAPES_GRAPH_QUERY} ] .\n", encoding="utf-8"
    )
    out = run("validate", "data.nt", "--shapes", "shapes.ttl")
    assert out.exit_code == 2
    assert "shapes.ttl" in out.output and "not support" in out.output


def test_the_projects_shapes_are_well_formed_and_kept_as_they_are() -> None:
    shapes, index = read_located(shape_files())
    prepared = prepare_shapes(shapes, index)
    assert isomorphic(prepared, shapes)


def test_prefixes_reach_imported_declarations_and_unique_lang_needs_true(tmp_path: Path) -> None:
    path = tmp_path / "s.ttl"
    path.write_text(
        HEAD
        + '  sh:property [ sh:path ex:p ; sh:uniqueLang "1"^^xsd:boolean ] , [ sh:path ex:q ; sh:uniqueLang true ] .\n'
        "ex:Prefixes <http://www.w3.org/2002/07/owl#imports> ex:Imported .\n"
        'ex:Imported sh:declare [ sh:prefix "im" ; sh:namespace "http://example.org/im#"^^xsd:anyURI ] .\n'
        'ex:Q sh:prefixes ex:Prefixes ; sh:select "SELECT $this WHERE { $this im:p ?o }" .\n',
        encoding="utf-8",
    )
    shapes, index = read_located([path])
    prepared = prepare_shapes(shapes, index)
    ex = "http://example.org/"
    assert len(list(prepared.objects(URIRef(ex + "Prefixes"), SH.declare))) == 1
    assert list(prepared.objects(None, SH.uniqueLang)) == [Literal("true", datatype=URIRef("http://www.w3.org/2001/XMLSchema#boolean"))]
