"""The native copy SPARQL constraints read holds only the predicates they can read.

With literals kept as written, SPARQL constraints read a second copy of the data; it is cut
to the predicates their queries (and their shapes' targets) name, and to all the data when
a query can read any predicate. The cut must never change a result.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from pyshacl import validate as pyshacl_validate
from rdflib import Graph
from test_shacl_differential import result_keys

from kg.shacl import native_predicates
from kg.shacl.loading import load_for_validation, with_predicates
from kg.shacl.scale.footprint import Unbounded, query_predicates, query_reads
from kg.validation.check import validate_files

EX = "http://example.org/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = RDF + "type"
SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT ?this WHERE { ?this <http://example.org/a> ?x ; <http://example.org/b> ?y }", {"a", "b"}),
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this ex:a/ex:b|^ex:c ?x }", {"a", "b", "c"}),
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this (ex:a)+ ?x . ?x ex:d+ ?y }", {"a", "d"}),
        ("BASE <http://example.org/> SELECT ?this WHERE { ?this <a> ?x }", {"a"}),
        (
            "PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this ex:a ?x FILTER NOT EXISTS { ?x ex:e ?z } }",
            {"a", "e"},
        ),
        (
            "PREFIX ex: <http://example.org/> SELECT ?this WHERE { { SELECT ?this (COUNT(?v) AS ?n) WHERE { ?this ex:f ?v } GROUP BY ?this } FILTER (?n > 1) }",
            {"f"},
        ),
        (
            "PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this ex:a ?x FILTER NOT EXISTS { ?x ex:e ?z FILTER EXISTS { ?z ex:i ?m } } }",
            {"a", "e", "i"},
        ),
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this ex:a [ ex:b ( ?x ) ] }", {"a", "b", RDF + "first", RDF + "rest", RDF + "nil"}),
        # every IRI counts: a superset of the predicates is as good
        ("SELECT ?this WHERE { FILTER (?this = <http://example.org/x>) }", {"x"}),
    ],
)
def test_the_predicates_a_query_reads(query: str, expected: set[str]) -> None:
    assert query_predicates(query) == {p if p.startswith(RDF) else EX + p for p in expected}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this a ex:A ; ex:p [ a ex:B ] FILTER NOT EXISTS { ?this a ex:C } }", {"A", "B", "C"}),
        (f"PREFIX ex: <http://example.org/> SELECT ?this WHERE {{ ?this <{RDF_TYPE}> ex:A , ex:B }}", {"A", "B"}),
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { { SELECT ?this WHERE { ?this a ex:A } } }", {"A"}),
        # rdf:type named as a value, not as a predicate, reads no type triple
        (f"PREFIX ex: <http://example.org/> SELECT ?this WHERE {{ ?this ex:p <{RDF_TYPE}> }}", set()),
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this ex:p ?v }", set()),
        # any class
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this a ?class }", None),
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { VALUES ?c { ex:A } ?this a ?c }", None),
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this ex:p/a ex:A }", None),
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this ^a ex:A }", None),
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this (a|ex:p) ex:A }", None),
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this a \"A\" }", None),
        (f"PREFIX ex: <http://example.org/> SELECT ?this WHERE {{ ?this ex:p ?v FILTER (?v = <{RDF_TYPE}>) }}", None),
    ],
)
def test_the_classes_whose_type_triples_a_query_reads(query: str, expected: set[str] | None) -> None:
    """Type triples are split by class: a query reads those of the classes its type
    patterns name, and those of any class when rdf:type is read otherwise."""
    classes = query_reads(query).classes
    assert classes == (None if expected is None else {EX + c for c in expected})


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("SELECT ?this WHERE { ?this ?p ?o }", "variable predicate"),
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this !ex:a ?o }", "negated"),
        ("SELECT ?this WHERE { GRAPH <http://example.org/g> { ?this <http://example.org/a> ?o } }", "GraphGraphPattern"),
        ("SELECT ?this WHERE { SERVICE <http://example.org/sparql> { ?this <http://example.org/a> ?o } }", "ServiceGraphPattern"),
        ("SELECT ?this WHERE { ?this <http://example.org/a> }", "cannot read"),
        # a zero-length path matches every node, whatever its triples
        ("SELECT ?this WHERE { ?v <http://example.org/never>* ?v FILTER (?v = ?this) }", "length zero"),
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this ex:a/ex:b? ?v }", "length zero"),
        # IRIs rdflib reads otherwise than pyoxigraph (an escaped local name; a relative IRI with a colon)
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this ex:a\\-b ?v }", "otherwise"),
        ("BASE <http://example.org/> SELECT ?this WHERE { ?this <p/q:r> ?v }", "otherwise"),
        ("SELECT ?this FROM <http://example.org/g> WHERE { ?this <http://example.org/a> ?o }", "FROM"),
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this ex:a [ ?p ?o ] }", "variable"),
        ("PREFIX ex: <http://example.org/> SELECT ?this WHERE { ?this ex:a ?x FILTER EXISTS { ?x ?q ?z } }", "variable"),
    ],
)
def test_a_query_that_can_read_any_predicate_is_unbounded(query: str, why: str) -> None:
    with pytest.raises(Unbounded, match=why):
        query_predicates(query)


SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .

ex:SpanShape a sh:NodeShape ;
    sh:targetSubjectsOf ex:start ;
    sh:property [ sh:path ex:label ; sh:minCount 1 ] ;
    sh:sparql [ sh:select \"\"\"
        SELECT $this ?value WHERE {
            $this <http://example.org/start> ?s ; <http://example.org/end> ?value .
            FILTER (?value < ?s)
        }\"\"\" ] .

ex:ItemShape a sh:NodeShape ;
    sh:targetClass ex:Item ;
    sh:property [ sh:path ex:size ; sh:sparql [ sh:select \"\"\"
        SELECT $this ?value WHERE { $this $PATH ?value . FILTER (?value > 10) }\"\"\" ] ] .
"""

#: N-Triples with tabs between terms, a line with no space between them, a literal holding a
#: predicate's text, typed literals pyoxigraph would rewrite, and predicates nobody reads
DATA = """\
<http://example.org/s1>\t<http://example.org/start>\t"5"^^<http://www.w3.org/2001/XMLSchema#int> .
<http://example.org/s1><http://example.org/end>"3"^^<http://www.w3.org/2001/XMLSchema#integer>.
<http://example.org/s1> <http://example.org/label> "a span" .
<http://example.org/s2> <http://example.org/start> "1"^^<http://www.w3.org/2001/XMLSchema#int> .
<http://example.org/s2> <http://example.org/end> "4"^^<http://www.w3.org/2001/XMLSchema#integer> .
<http://example.org/s2> <http://example.org/note> "ends at <http://example.org/end> here" .
<http://example.org/i1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://example.org/Small> .
<http://example.org/Small> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <http://example.org/Item> .
<http://example.org/i1> <http://example.org/size> "12"^^<http://www.w3.org/2001/XMLSchema#integer> .
<http://example.org/i1> <http://example.org/weight> "99"^^<http://www.w3.org/2001/XMLSchema#integer> .
"""


def test_the_native_copy_holds_what_the_constraints_and_targets_read(tmp_path: Path) -> None:
    shapes = Graph().parse(data=SHAPES, format="turtle")
    footprint = native_predicates(shapes)
    assert footprint == {EX + "start", EX + "end", EX + "size", RDF_TYPE, SUBCLASS}
    data = tmp_path / "data.nt"
    data.write_text(DATA)
    store = ox.Store()
    native = ox.NamedNode("urn:native")
    load_for_validation(store, data, exact=True, native=native, native_predicates=footprint, in_memory=True)
    copied = {q.predicate.value for q in store.quads_for_pattern(None, None, None, native)}
    # and the line whose literal names ex:end: a line naming a predicate anywhere is kept
    assert copied == footprint | {EX + "note"}
    assert len(list(store.quads_for_pattern(None, None, None, ox.DefaultGraph()))) == 10  # the data, whole


def test_a_query_reading_any_predicate_copies_everything() -> None:
    shapes = Graph().parse(data=SHAPES.replace("<http://example.org/end> ?value", "?anything ?value"), format="turtle")
    assert native_predicates(shapes) is None


def test_the_cut_copy_finds_what_pyshacl_finds(tmp_path: Path) -> None:
    data = tmp_path / "data.nt"
    data.write_text(DATA)
    written_apart = tmp_path / "apart.nt"  # rdflib cannot read terms written together
    written_apart.write_text(DATA.replace("><", "> <").replace('>"3"', '> "3"'))
    shapes = Graph().parse(data=SHAPES, format="turtle")
    report = validate_files([data], shapes)
    _, expected, _ = pyshacl_validate(
        Graph().parse(written_apart), shacl_graph=shapes, inference="none", abort_on_first=False, allow_warnings=False, meta_shacl=False
    )
    assert result_keys(report.graph, shapes) == result_keys(expected, shapes)
    found = {(r.focus_node, r.value) for r in report.results}
    # s1 ends before it starts; i1 is an Item through its subclass; s2 has no label
    assert {(EX + "s1", '"3"^^<http://www.w3.org/2001/XMLSchema#integer>'), (EX + "i1", '"12"^^<http://www.w3.org/2001/XMLSchema#integer>')} <= found
    assert (EX + "s2", None) in found
    assert report.engines[EX + "SpanShape"] == "sparql"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # every line naming the predicate anywhere (a comment, a literal: a harmless superset),
        # whatever the spacing: tabs, CRLF, blank lines
        ('<http://e/a> <http://e/p> "x" .\r\n# <http://e/p>\n\n<http://e/a>\t<http://e/q>\t"<http://e/p>" .\n<http://e/a> <http://e/q> "p" .\n', [0, 1, 3]),
        # terms written together; the predicate's IRI as an object
        ('<http://e/a><http://e/p>"x".\n<http://e/a> <http://e/q> <http://e/p> .\n<http://e/b> <http://e/pq> _:c .\n<http://e/b> <http://e/p> _:c .\n', [0, 1, 3]),
        # lines ended by a carriage return alone are one line here: kept whole
        ('_:b<http://e/p> "x" .\r<http://e/a> <http://e/q> "y" .\r', [0, 1]),
        ('<http://e/a> <http://e/q> "y" .\r<http://e/a> <http://e/q> "x" .\r', []),
    ],
)
def test_the_lines_a_native_copy_keeps(text: str, kept: list[int]) -> None:
    lines = text.encode().splitlines(keepends=True)
    assert with_predicates(text.encode(), frozenset({"http://e/p"})) == b"".join(lines[i] for i in kept)


def test_escapes_keep_every_line() -> None:
    """An IRI may be written with escapes: a byte search cannot find every line naming it."""
    assert with_predicates(b'<http://e/a> <http://e/\\u0070> "x" .\n', frozenset({"http://e/p"})) is None
