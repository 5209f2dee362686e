"""Where validation runs does not change what it finds.

Files are validated in memory (with a twin process when asked for, ``validate_twin``) or
in a temporary on-disk store (``validate_memory_mb``) that worker processes query; checks
over every focus node use set-at-a-time query forms (``MINUS``, grouped counts, value
tests sharing one pass) where a check of a few named focus nodes uses per-node ones.
Every combination must give pyshacl's results.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from pyshacl import validate as pyshacl_validate
from rdflib import Graph, URIRef
from test_shacl_differential import result_keys

import kg.validation.check
from kg.config import load_settings
from kg.errors import InputError
from kg.rdfio import to_oxigraph_term
from kg.shacl.loading import mentions_integer_subtypes
from kg.shacl.scale.parallel import Twin
from kg.validation.check import memory_estimate, validate_files, validate_graph, validate_store

SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .

ex:ItemShape a sh:NodeShape ;
    sh:targetClass ex:Item ;
    sh:property [ sh:path ex:score ; sh:datatype xsd:decimal ; sh:minInclusive 0 ; sh:maxInclusive 1 ;
                  sh:pattern "^[0-9]" ; sh:maxLength 4 ] ;
    sh:property [ sh:path ex:owner ; sh:minCount 1 ; sh:maxCount 1 ; sh:class ex:Person ] ;
    sh:property [ sh:path ex:tag ; sh:maxCount 2 ; sh:in ( "a" "b" "c" ) ; sh:nodeKind sh:Literal ] ;
    sh:property [ sh:path [ sh:inversePath ex:holds ] ; sh:minCount 1 ; sh:class ex:Person ] .
"""

DATA = """
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .

ex:ann a ex:Person ; ex:holds ex:i1 , ex:i2 , ex:i4 .
ex:box ex:holds ex:i3 .
ex:i1 a ex:Item ; ex:score "0.5"^^xsd:decimal ; ex:owner ex:ann ; ex:tag "a" , "b" .
ex:i2 a ex:Item ; ex:score "1.50"^^xsd:decimal , "-0.25"^^xsd:decimal , "0.7"^^xsd:double ; ex:owner ex:ann , ex:box .
ex:i3 a ex:Item ; ex:score "12345"^^xsd:decimal ; ex:tag "a" , "b" , "d" , ex:c .
ex:i4 a ex:Item ; ex:owner ex:box ; ex:tag "c" .
ex:other ex:score "7"^^xsd:decimal ; ex:tag "z" .
"""


def _graphs() -> tuple[Graph, Graph]:
    return Graph().parse(data=DATA, format="turtle"), Graph().parse(data=SHAPES, format="turtle")


def test_set_at_a_time_forms_give_pyshacls_results() -> None:
    """Value tests sharing a pass (one value failing several of them gives a result each),
    sh:class and sh:minCount as MINUS, sh:maxCount as a grouped count, on a plain and an
    inverse path; the node that is no target (ex:other) is not reported."""
    data, shapes = _graphs()
    _, expected, _ = pyshacl_validate(data, shacl_graph=shapes, inference="none", allow_warnings=False)
    ours = validate_graph(data, shapes)
    assert set(ours.engines.values()) == {"sparql"}
    assert result_keys(ours.graph, shapes) == result_keys(expected, shapes)
    assert sum(1 for r in ours.results if r.focus_node.endswith("/i2") and r.path and "score" in r.path) >= 4
    assert not any(r.focus_node.endswith("/other") for r in ours.results)


def test_grouped_counts_count_distinct_values_on_longer_paths() -> None:
    """The grouped sh:maxCount counts rows only on a one-step path; a sequence path can
    reach one value by two routes, which must count once (as pyshacl counts)."""
    shapes = Graph().parse(
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:Item ;
            sh:property [ sh:path ( ex:part ex:tag ) ; sh:maxCount 2 ] ;
            sh:property [ sh:path ex:tag ; sh:maxCount 2 ] .
        """,
        format="turtle",
    )
    data = Graph().parse(
        data="""
        @prefix ex: <http://example.org/> .
        ex:twice a ex:Item ; ex:part ex:p1 , ex:p2 , ex:p3 .
        ex:p1 ex:tag ex:a . ex:p2 ex:tag ex:a , ex:b . ex:p3 ex:tag ex:b .
        ex:thrice a ex:Item ; ex:part ex:p4 ; ex:tag ex:a , ex:b , ex:c .
        ex:p4 ex:tag ex:a , ex:b , ex:c .
        """,
        format="turtle",
    )
    _, expected, _ = pyshacl_validate(data, shacl_graph=shapes, inference="none", allow_warnings=False)
    ours = validate_graph(data, shapes)
    assert set(ours.engines.values()) == {"sparql"}
    assert result_keys(ours.graph, shapes) == result_keys(expected, shapes)
    assert sorted(r.focus_node.rsplit("/", 1)[-1] for r in ours.results) == ["thrice", "thrice"]


def test_checking_named_focus_nodes_finds_the_same_as_checking_all() -> None:
    """The per-node forms (a focus list, as a change is checked) and the set-at-a-time
    forms (every focus node) agree, node by node."""
    data, shapes = _graphs()
    store = ox.Store()
    for s, p, o in data:
        store.add(ox.Quad(*(to_oxigraph_term(t) for t in (s, p, o))))  # type: ignore[arg-type]
    every = validate_store(store, shapes)
    focus = [URIRef(f"http://example.org/i{n}") for n in range(1, 5)]
    named = validate_store(store, shapes, focus=focus)
    assert result_keys(named.graph, shapes) == result_keys(every.graph, shapes)
    assert len(every.results) > 8


def _crashing_twin(self: Twin, sending: object, build: object, plan: object) -> None:
    """A twin that takes three queries and dies before answering any."""
    for _ in range(3):
        self.claim()
    os._exit(1)


@pytest.mark.parametrize("layout", ["memory", "memory-twin", "memory-twin-crashes", "disk-workers"])
def test_every_store_layout_gives_pyshacls_results(
    generated: tuple[Path, Graph, Graph], layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In memory, alone or with a twin process sharing the queries (one that crashes
    after taking some leaves them to this process), or on disk with workers."""
    data_file, shapes, expected = generated
    answered: list[int] = []
    if layout.startswith("memory-twin"):
        monkeypatch.setattr(kg.validation.check, "TWIN_BYTES", 0)
        answers = Twin.answers

        def counted(self: Twin, timeout: float) -> dict[object, object]:
            found = answers(self, timeout)
            answered.append(len(found))
            return found  # type: ignore[return-value]

        monkeypatch.setattr(Twin, "answers", counted)
        # this process starts its queries a second late, so the twin surely takes some
        validate_store_now = kg.validation.check.validate_store

        def late(*args: object, **kwargs: object) -> object:
            time.sleep(1.0)
            return validate_store_now(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(kg.validation.check, "validate_store", late)
    if layout == "memory-twin-crashes":
        monkeypatch.setattr(Twin, "_main", _crashing_twin)
    report = validate_files(
        [data_file], shapes, memory_mb=0 if layout == "disk-workers" else None, twin=layout.startswith("memory-twin")
    )
    assert set(report.engines.values()) == {"sparql"}
    assert result_keys(report.graph, shapes) == result_keys(expected, shapes)
    assert len(report.results) > 5
    if layout == "memory-twin":
        assert answered and answered[0] > 0, "the twin answered some of the queries"
    elif layout == "memory-twin-crashes":
        assert answered == [0]


def test_no_twin_unless_asked_for(generated: tuple[Path, Graph, Graph], monkeypatch: pytest.MonkeyPatch) -> None:
    """A twin holds a second copy of the store: by default (``validate_twin`` off) none
    starts, however large the input, and the results are the same."""
    data_file, shapes, expected = generated
    monkeypatch.setattr(kg.validation.check, "TWIN_BYTES", 0)

    def refused(*args: object) -> None:
        raise AssertionError("a twin was started")

    monkeypatch.setattr(Twin, "__init__", refused)
    report = validate_files([data_file], shapes)
    assert result_keys(report.graph, shapes) == result_keys(expected, shapes)


def test_the_twin_is_a_setting_off_by_default() -> None:
    assert load_settings(environ={}).validate_twin is False
    assert load_settings(environ={"KG_VALIDATE_TWIN": "1"}).validate_twin is True


def test_memory_estimate_follows_size_format_and_copies(tmp_path: Path) -> None:
    nt, ttl = tmp_path / "a.nt", tmp_path / "a.ttl"
    nt.write_bytes(b"x" * 1000)
    ttl.write_bytes(b"x" * 1000)
    assert memory_estimate([nt], copies=2) == 2 * memory_estimate([nt])
    # Turtle says the same in fewer bytes than N-Triples: more memory per byte
    assert memory_estimate([ttl]) > memory_estimate([nt]) > 1000
    assert memory_estimate([tmp_path / "missing.nt"]) == 0


def test_memory_budget_is_a_setting() -> None:
    assert load_settings(environ={}).validate_memory_mb > 0
    assert load_settings(environ={"KG_VALIDATE_MEMORY_MB": "512"}).validate_memory_mb == 512


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("a.nt", '<http://e/s> <http://e/p> "4"^^<http://www.w3.org/2001/XMLSchema#int> .\n', True),
        ("a.nq", '<http://e/s> <http://e/p> "4"^^<http://www.w3.org/2001/XMLSchema#unsignedByte> <http://e/g> .\n', True),
        ("a.nt", '<http://e/s> <http://e/p> "4"^^<http://www.w3.org/2001/XMLSchema#integer> .\n', False),
        ("a.nt", '<http://e/int> <http://e/p> "XMLSchema int" .\n', False),
        ("a.ttl", '@prefix x: <http://www.w3.org/2001/XMLSchema#> . <http://e/s> <http://e/p> "4"^^x:long .\n', True),
        ("a.ttl", '<http://e/s> <http://e/p> "4"^^<http://www.w3.org/2001/XMLSchema#short> .\n', True),
        ("a.ttl", '<http://e/s> <http://e/p> 4 .\n', False),
    ],
)
def test_the_scan_for_integer_subtypes(tmp_path: Path, name: str, text: str, expected: bool) -> None:
    """Files above the exact size still load exactly when they use an integer subtype
    (which the store would report as xsd:integer): N-Triples and N-Quads are scanned for
    the full datatype IRI, other formats for the subtype's local name."""
    path = tmp_path / name
    path.write_text(text)
    assert mentions_integer_subtypes(path) is expected


def test_a_stuck_twin_does_not_hold_validation_up() -> None:
    """A twin that takes a query and never answers: after the wait, this process gets
    nothing from it (and evaluates what is missing itself); closing stops the twin."""

    def stuck(store: ox.Store) -> list[tuple[str, str | None]]:
        time.sleep(60)
        return []

    twin = Twin(ox.Store, stuck)
    try:
        started = time.monotonic()
        assert twin.answers(timeout=0.5) == {}
        assert time.monotonic() - started < 5
    finally:
        twin.close()
    assert not twin._process.is_alive()


def test_a_counter_left_locked_stops_the_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    """A twin killed while it held the shared counter would leave it locked: taking the
    next query then gives up (an index past any list) instead of waiting for ever."""
    import threading

    import kg.shacl.scale.parallel as parallel

    monkeypatch.setattr(parallel, "_CLAIM_PATIENCE", 0.2)

    def never_built() -> ox.Store:
        # the twin must not take from the counter while the test reads it (it would once,
        # finding nothing to do); closing the twin kills it in its sleep
        time.sleep(60)
        return ox.Store()

    with Twin(never_built, lambda store: []) as twin:
        assert twin.claim() == 0
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with twin._next.get_lock():
                held.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait(5)
        try:
            assert twin.claim() == sys.maxsize
        finally:
            release.set()
            holder.join()
        assert twin.claim() > 0


def test_a_twin_answer_naming_unknown_blank_nodes_is_evaluated_again() -> None:
    """Answers are kept only if their blank nodes are this store's own."""
    from kg.shacl.run import _same_blank_nodes

    store = ox.Store()
    known = ox.BlankNode()
    store.add(ox.Quad(known, ox.NamedNode("http://e/p"), ox.Literal("x")))
    assert _same_blank_nodes(store, [{"this": known, "value": ox.Literal("x")}])
    assert not _same_blank_nodes(store, [{"this": known}, {"this": ox.BlankNode()}])
    assert _same_blank_nodes(store, [])


def test_shapes_pyshacl_refuses_give_an_input_error(tmp_path: Path) -> None:
    """A SPARQL constraint on a property shape whose subquery drops ``$this`` cannot be
    joined with targets (the property shape has none): it goes to pyshacl, which refuses the
    shapes; the caller gets an InputError saying why, not a traceback."""
    data = tmp_path / "d.nt"
    data.write_text(
        "<http://ex/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://ex/C> .\n<http://ex/a> <http://ex/p> <http://ex/b> .\n"
    )
    shapes = Graph().parse(
        data="""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://ex/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ;
            sh:sparql [ sh:select "SELECT $this ?value WHERE { $this $PATH ?value . { SELECT ?value WHERE { ?value ?q ?r } } }" ] ] .""",
        format="turtle",
    )
    with pytest.raises(InputError, match="pre-bound variables must be selected"):
        validate_files([data], shapes)
