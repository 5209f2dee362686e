"""Writes cost what they change: a replace is committed as its difference with the graph, a
SPARQL Update is evaluated on the store itself, and the gate checks the nodes the difference
can affect — including nodes the difference does not touch but that read what it removed.
A few thousand triples prove the logic; speed is measured by bench/write_bench.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic
from test_writes import assert_unchanged, snapshot

from kg.errors import ValidationFailed
from kg.iris import PROVENANCE_GRAPH
from kg.namespaces import NKG
from kg.rdfio import quads_to_graph
from kg.shacl.incremental import backward_predicates
from kg.store import EmbeddedStore, Store
from kg.store.base import Differ, GraphWrite, WriteMode
from kg.write.apply import apply_write
from kg.write.change import Change, FilesChange

EX = "http://example.org/ns#"
G, H = "http://example.org/graph/news", "http://example.org/graph/other"
DOCS, CLAIMS = 40, 12  # 40 documents, 12 claims each: about 2,600 triples

SHAPES = Graph().parse(data=f"""
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <{EX}> .
ex:ClaimShape a sh:NodeShape ; sh:targetClass ex:Claim ;
    sh:property [ sh:path ex:statedIn ; sh:minCount 1 ; sh:class ex:Document ] ;
    sh:property [ sh:path ( ex:statedIn ex:publisher ) ; sh:class ex:Actor ] .
ex:DocumentShape a sh:NodeShape ; sh:targetClass ex:Document ;
    sh:property [ sh:path [ sh:inversePath ex:statedIn ] ; sh:minCount 1 ] .
ex:TitledShape a sh:NodeShape ; sh:targetClass ex:Claim ;
    sh:sparql [ sh:message "the document a claim is stated in has a title" ;
        sh:select "SELECT $this WHERE {{ $this <{EX}statedIn> ?d FILTER NOT EXISTS {{ ?d <{EX}title> ?t }} }}" ] .
""", format="turtle")


def n(local: str) -> ox.NamedNode:
    return ox.NamedNode(EX + local)


TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def news() -> list[ox.Triple]:
    """Documents, each with a publisher (an actor) and a dozen claims stated in it."""
    out: list[ox.Triple] = []
    for d in range(DOCS):
        doc, actor = n(f"doc{d}"), n(f"actor{d % 5}")
        out += [ox.Triple(doc, TYPE, n("Document")), ox.Triple(doc, n("title"), ox.Literal(f"Document {d}")),
                ox.Triple(doc, n("publisher"), actor), ox.Triple(actor, TYPE, n("Actor"))]
        for c in range(CLAIMS):
            claim = n(f"claim{d}-{c}")
            out += [ox.Triple(claim, TYPE, n("Claim")), ox.Triple(claim, n("statedIn"), doc),
                    ox.Triple(claim, n("quote"), ox.Literal(f"quote {c} of {d}"))]
    return out


@pytest.fixture()
def loaded(tmp_path: Path) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(tmp_path / "store")
    apply_write(store, Change.replace(G, news()), agent="t", source=None, shapes=SHAPES)
    yield store
    store.close()


def test_an_identical_replace_commits_nothing_but_its_receipt(loaded: EmbeddedStore) -> None:
    before = snapshot(loaded)
    receipt = apply_write(loaded, Change.replace(G, news()), agent="t", source=None, shapes=SHAPES)
    assert (receipt.added, receipt.removed, receipt.focus_nodes) == (0, 0, 0)
    after = snapshot(loaded)
    prov = str(PROVENANCE_GRAPH)
    assert set(before) == set(after) and all(isomorphic(before[g], after[g]) for g in before if g not in (prov, "(union)"))
    rows = list(loaded.select(f"SELECT ?a ?r WHERE {{ GRAPH <{prov}> {{ <{receipt.iri}> <{NKG.triplesAdded}> ?a ; "
                              f"<{NKG.triplesRemoved}> ?r }} }}"))
    assert [(r["a"].value, r["r"].value) for r in rows] == [("0", "0")]


def test_a_small_replace_is_its_difference_and_checks_few_nodes(loaded: EmbeddedStore) -> None:
    triples = news()
    changed = [t for t in triples if t != ox.Triple(n("claim3-4"), n("quote"), ox.Literal("quote 4 of 3"))]
    changed.append(ox.Triple(n("claim3-4"), n("quote"), ox.Literal("a better quote")))
    receipt = apply_write(loaded, Change.replace(G, changed), agent="t", source=None, shapes=SHAPES)
    assert (receipt.added, receipt.removed) == (1, 1)
    assert 0 < receipt.focus_nodes < 20 and not receipt.whole_store
    expected = quads_to_graph(changed)
    assert isomorphic(quads_to_graph(loaded.graph_triples(G)), expected)
    union = {(t.subject, t.predicate, t.object) for t in (q.triple for q in loaded.oxigraph.quads_for_pattern(
        None, None, None, ox.DefaultGraph())) if t.subject != n("x")}
    assert (n("claim3-4"), n("quote"), ox.Literal("quote 4 of 3")) not in union
    assert (n("claim3-4"), n("quote"), ox.Literal("a better quote")) in union


@pytest.mark.parametrize(("removed", "shape", "path", "focus"), [
    # the claims of doc7 read its type through ex:statedIn (sh:class): untouched, they break
    (ox.Triple(n("doc7"), TYPE, n("Document")), "ClaimShape", f"<{EX}statedIn>", "claim7-0"),
    # two hops: a claim reads the type of its document's publisher
    (ox.Triple(n("actor2"), TYPE, n("Actor")), "ClaimShape", f"<{EX}statedIn>/<{EX}publisher>", "claim2-0"),
    # a SPARQL constraint reads the document's title from the claim
    (ox.Triple(n("doc9"), n("title"), ox.Literal("Document 9")), "TitledShape", None, "claim9-5"),
])
def test_a_removal_that_breaks_a_node_it_does_not_touch_is_refused(
        loaded: EmbeddedStore, removed: ox.Triple, shape: str, path: str | None, focus: str) -> None:
    before = snapshot(loaded)
    with pytest.raises(ValidationFailed) as caught:
        apply_write(loaded, Change.replace(G, [t for t in news() if t != removed]), agent="t", source=None,
                    shapes=SHAPES)
    fired = {(r.node_shape.rsplit("#", 1)[-1], r.focus_node) for r in caught.value.report.results}  # type: ignore[attr-defined]
    assert (shape, EX + focus) in fired
    if path is not None:
        paths = {r.path for r in caught.value.report.results if r.focus_node == EX + focus}  # type: ignore[attr-defined]
        assert any(p is not None and p.replace(" ", "") == path.replace(" ", "") for p in paths), paths
    assert_unchanged(before, loaded)
    assert loaded.staging_graphs() == []


def test_a_removal_read_through_an_inverse_path_is_refused(loaded: EmbeddedStore) -> None:
    """Every claim of doc5 goes: doc5 (only the object of what was removed) has no claim left."""
    before = snapshot(loaded)
    gone = [n(f"claim5-{c}") for c in range(CLAIMS)]
    with pytest.raises(ValidationFailed) as caught:
        apply_write(loaded, Change.replace(G, [t for t in news() if t.subject not in gone]), agent="t",
                    source=None, shapes=SHAPES)
    fired = {(r.node_shape.rsplit("#", 1)[-1], r.focus_node) for r in caught.value.report.results}  # type: ignore[attr-defined]
    assert fired == {("DocumentShape", EX + "doc5")}
    assert_unchanged(before, loaded)


# -- SPARQL Update, evaluated on the store: the same result as pyoxigraph applying it ------------

UPDATES = [
    f"PREFIX ex: <{EX}> INSERT DATA {{ GRAPH <{H}> {{ ex:a ex:p 1 , 2 ; ex:q [ ex:r 3 ] }} }}",
    f"PREFIX ex: <{EX}> DELETE DATA {{ GRAPH <{G}> {{ ex:doc1 ex:title \"Document 1\" }} }}",
    f"PREFIX ex: <{EX}> DELETE {{ GRAPH <{G}> {{ ?c ex:quote ?q }} }} INSERT {{ GRAPH <{G}> {{ ?c ex:quote \"new\" }} }} "
    f"WHERE {{ GRAPH <{G}> {{ ?c ex:statedIn ex:doc2 ; ex:quote ?q }} }}",
    f"PREFIX ex: <{EX}> WITH <{G}> DELETE {{ ?d ex:title ?t }} INSERT {{ ?d ex:label ?t }} WHERE {{ ?d ex:title ?t }}",
    f"PREFIX ex: <{EX}> DELETE WHERE {{ GRAPH <{G}> {{ ex:doc3 ex:title ?t }} }}",
    f"PREFIX ex: <{EX}> INSERT {{ GRAPH ?g {{ ?d ex:seen true . ?d ex:missing ?nothing }} }} "
    f"WHERE {{ GRAPH ?g {{ ?d a ex:Document OPTIONAL {{ ?d ex:none ?nothing }} }} }}",
    f"PREFIX ex: <{EX}> DELETE {{ GRAPH <{G}> {{ ?c ex:quote ?q }} }} INSERT {{ GRAPH <{G}> {{ ?c ex:quote ?q }} }} "
    f"WHERE {{ GRAPH <{G}> {{ ?c ex:quote ?q }} }}",
    f"PREFIX ex: <{EX}> INSERT {{ GRAPH <{H}> {{ ?d ex:p 1 }} }} USING <{G}> WHERE {{ ?d a ex:Document }}",
    f"PREFIX ex: <{EX}> INSERT DATA {{ GRAPH <{H}> {{ ex:x ex:p 1 }} }} ; "
    f"DELETE DATA {{ GRAPH <{H}> {{ ex:x ex:p 1 }} }} ; INSERT DATA {{ GRAPH <{H}> {{ ex:y ex:p 2 }} }}",
    f"DROP GRAPH <{G}>",
]


def _named(store: ox.Store) -> dict[str, Graph]:
    graphs: dict[str, Graph] = {}
    for q in store.quads_for_pattern(None, None, None, None):
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in (G, H):
            quads_to_graph([ox.Quad(q.subject, q.predicate, q.object)], graphs.setdefault(q.graph_name.value, Graph()))
    return graphs


@pytest.mark.parametrize("update", UPDATES)
def test_an_update_does_what_pyoxigraph_does(tmp_path: Path, update: str) -> None:
    store = EmbeddedStore(tmp_path / "store")
    apply_write(store, Change.replace(G, news()), agent="t", source=None, shapes=Graph())
    reference = ox.Store()
    reference.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(G)) for t in news())
    reference.update(update)
    apply_write(store, Change.sparql_update(update), agent="t", source=None, shapes=Graph())
    ours, theirs = _named(store.oxigraph), _named(reference)
    assert sorted(ours) == sorted(theirs)
    for name in ours:
        assert isomorphic(ours[name], theirs[name]), name
    store.close()


def test_template_blank_nodes_are_fresh_per_solution(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    apply_write(store, Change.replace(G, news()), agent="t", source=None, shapes=Graph())
    apply_write(store, Change.sparql_update(
        f"PREFIX ex: <{EX}> INSERT {{ GRAPH <{H}> {{ ?d ex:note [ ex:about ?d ] }} }} WHERE {{ GRAPH <{G}> {{ ?d a ex:Document }} }}"),
        agent="t", source=None, shapes=Graph())
    notes = {q.object for q in store.oxigraph.quads_for_pattern(None, n("note"), None, ox.NamedNode(H))}
    assert len(notes) == DOCS and all(isinstance(b, ox.BlankNode) for b in notes)
    store.close()


# -- which predicates a shape reads backwards ---------------------------------------------------

def test_backward_predicates_are_those_of_inverse_paths_and_sparql_constraints() -> None:
    assert backward_predicates(SHAPES) == frozenset({EX + "statedIn", EX + "title"})
    variable = Graph().parse(data="""@prefix sh: <http://www.w3.org/ns/shacl#> .
        [] sh:targetClass <http://e/C> ; sh:sparql [ sh:select "SELECT $this WHERE { ?x ?p $this }" ] .""",
                             format="turtle")
    assert backward_predicates(variable) is None
    forward = Graph().parse(data="""@prefix sh: <http://www.w3.org/ns/shacl#> .
        [] sh:targetClass <http://e/C> ; sh:sparql [ sh:select "SELECT $this WHERE { $this ?p ?o }" ] .""",
                            format="turtle")
    assert backward_predicates(forward) == frozenset()


def test_a_file_replace_is_compared_as_the_store_encodes_literals(tmp_path: Path) -> None:
    """A file whose typed literals are written differently from the stored form ("0.50" for
    "0.5") holds the same triples: replacing the graph by it changes nothing."""
    from kg.write.ingest import ingest_files

    store = EmbeddedStore(tmp_path / "store")
    lines = [f'<{EX}claim{i}> <{EX}confidence> "0.{i % 9 + 1}0"^^<http://www.w3.org/2001/XMLSchema#decimal> .'
             for i in range(300)] + [f'<{EX}claim{i}> <{EX}quote> "q{i}" .' for i in range(300)]
    first = tmp_path / "first.nt"
    first.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert ingest_files(store, [first], G, agent="t").added == 600
    copy = tmp_path / "copy.nt"  # the same bytes elsewhere: recognised by the graph's record
    copy.write_bytes(first.read_bytes())
    same = ingest_files(store, [copy], G, agent="t")
    assert (same.added, same.removed) == (0, 0)
    fewer = tmp_path / "fewer.nt"
    fewer.write_text("\n".join(lines[:-5] + [f'<{EX}claim0> <{EX}note> "new" .']) + "\n", encoding="utf-8")
    changed = ingest_files(store, [fewer], G, agent="t")
    assert (changed.added, changed.removed) == (1, 5)
    reference = ox.Store()  # the file as the store encodes it
    reference.load(path=str(fewer), format=ox.RdfFormat.N_TRIPLES)
    assert isomorphic(quads_to_graph(store.graph_triples(G)),
                      quads_to_graph(reference.quads_for_pattern(None, None, None, None)))
    store.close()


def test_the_projects_own_shapes_let_the_gate_walk_in_one_direction() -> None:
    """No shape of the project reads a variable predicate towards its focus node: one that did
    would make every write walk the graph both ways from what it touches (a one-triple Graph
    Store POST into a store with the corpus took seconds while the curation shape did)."""
    from kg.validation.check import load_shapes

    found = backward_predicates(load_shapes())
    assert found is not None
    assert {str(NKG.hedgeWords), str(NKG.condition), str(NKG.timeWords), str(NKG.asserts)} <= found


def test_a_replace_by_the_files_a_graph_was_read_from_reads_nothing_else(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store records which files each graph was last loaded or replaced from: a replace by
    the same bytes (same format, same base) with no write to the graph since is +0 −0 without
    parsing them; any other write to the graph makes the next replace compare again."""
    from kg.write import filediff
    from kg.write.ingest import ingest_files

    compared: list[str] = []

    def counting(store: Store, differ: Differ, change: FilesChange, *rest: Any) -> GraphWrite:
        compared.append(change.graph)
        return filediff.diff_files(store, differ, change, *rest)

    monkeypatch.setattr("kg.write.staging.diff_files", counting)
    store = EmbeddedStore(tmp_path / "store")
    data = tmp_path / "data.nt"
    data.write_text("".join(f'<{EX}s{i}> <{EX}p> "{i}"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
                            for i in range(200)), encoding="utf-8")
    ingest_files(store, [data], G, agent="t")  # a first load, in place
    again = ingest_files(store, [data], G, agent="t")
    assert (again.added, again.removed, compared) == (0, 0, [])
    assert again.sha256 == hashlib.sha256(data.read_bytes()).hexdigest()
    apply_write(store, Change.sparql_update(f'INSERT DATA {{ GRAPH <{G}> {{ <{EX}extra> <{EX}p> "x" }} }}'),
                agent="t", source=None)
    after_update = ingest_files(store, [data], G, agent="t")  # the graph changed since: compared
    assert (after_update.added, after_update.removed, compared) == (0, 1, [G])
    assert (ingest_files(store, [data], G, agent="t").removed, compared) == (0, [G])  # recorded again
    ingest_files(store, [data], H, agent="t")
    other = tmp_path / "other.nt"
    other.write_text(f'<{EX}s0> <{EX}p> "0"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n', encoding="utf-8")
    added = ingest_files(store, [other], G, agent="t", add=True)  # an addition: the graph holds more
    assert added.added == 0 and len(compared) == 2  # an addition is compared too
    assert ingest_files(store, [data], G, agent="t").removed == 0 and len(compared) == 3
    shrunk = ingest_files(store, [other], G, agent="t")
    assert (shrunk.added, shrunk.removed) == (0, 199)
    back = ingest_files(store, [data], G, agent="t")  # the record is other.nt's now
    assert (back.added, back.removed, compared[-1]) == (199, 0, G)
    data.write_text(data.read_text(encoding="utf-8").replace('"7"', '"7.0"'), encoding="utf-8")
    edited = ingest_files(store, [data], G, agent="t")  # new bytes, the same triples
    assert (edited.added, edited.removed, len(compared)) == (0, 0, 6)
    h_before = len(compared)
    assert ingest_files(store, [data], H, agent="t").removed == 0 and len(compared) == h_before + 1  # H: old bytes
    store.close()


def _counting_compares(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The graphs whose files were compared triple by triple (:func:`kg.write.filediff.diff_files`)."""
    from kg.write import filediff

    compared: list[str] = []

    def counting(store: Store, differ: Differ, change: FilesChange, *rest: Any) -> GraphWrite:
        compared.append(change.graph)
        return filediff.diff_files(store, differ, change, *rest)

    monkeypatch.setattr("kg.write.staging.diff_files", counting)
    return compared


def test_n_triples_bytes_are_the_same_triples_wherever_they_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """N-Triples have no relative IRI (the parser refuses one, so no base can change them): the
    same bytes at another path are recognised by the graph's record, not compared. A Turtle
    file's relative IRIs resolve against its own path: at another path they are other triples."""
    from kg.errors import InputError
    from kg.write import records
    from kg.write.ingest import ingest_files

    compared, hashed = _counting_compares(monkeypatch), []
    digest = records.triples_sha256

    def hashing(change: FilesChange, **options: bool) -> str | None:
        hashed.append(change.graph)
        return digest(change, **options)

    monkeypatch.setattr(records, "triples_sha256", hashing)
    relative = tmp_path / "relative.nt"
    relative.write_text(f"<a> <{EX}p> <{EX}o> .\n", encoding="utf-8")
    with pytest.raises(InputError, match="relative.nt:1"):
        ingest_files(EmbeddedStore(tmp_path / "refused"), [relative], G, agent="t")
    store = EmbeddedStore(tmp_path / "store")
    data = tmp_path / "a" / "data.nt"
    data.parent.mkdir()
    data.write_text("".join(f'<{EX}s{i}> <{EX}p> "{i}" .\n' for i in range(50)), encoding="utf-8")
    ingest_files(store, [data], G, agent="t")
    hashed.clear()  # the load hashed their triples for its record
    moved = tmp_path / "b" / "data.nt"
    moved.parent.mkdir()
    moved.write_bytes(data.read_bytes())
    same = ingest_files(store, [moved], G, agent="t")
    assert (same.added, same.removed, compared, hashed) == (0, 0, [], [])  # by the files: not even parsed

    turtle = tmp_path / "a" / "data.ttl"
    turtle.write_text(f"<doc> <{EX}p> <other> .\n", encoding="utf-8")
    ingest_files(store, [turtle], H, agent="t")
    hashed.clear()
    elsewhere = tmp_path / "b" / "data.ttl"
    elsewhere.write_bytes(turtle.read_bytes())
    moved_turtle = ingest_files(store, [elsewhere], H, agent="t")
    assert (moved_turtle.added, moved_turtle.removed, compared, hashed) == (1, 1, [H], [H])
    assert list(store.graph_triples(H)) == [ox.Triple(ox.NamedNode(elsewhere.with_name("doc").as_uri()), n("p"),
                                                      ox.NamedNode(elsewhere.with_name("other").as_uri()))]
    store.close()


def test_a_record_written_before_the_digest_of_triples_is_compared_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store's records from before (the files' sha256, format and base, in one digest) match
    no record of today: the first replace compares, exactly, and records anew."""
    import json

    from kg.store.base import READ_FROM, SOURCES_GRAPH
    from kg.write.ingest import ingest_files

    compared = _counting_compares(monkeypatch)
    store = EmbeddedStore(tmp_path / "store")
    data = tmp_path / "data.nt"
    data.write_text("".join(f'<{EX}s{i}> <{EX}p> "{i}" .\n' for i in range(30)), encoding="utf-8")
    ingest_files(store, [data], G, agent="t")
    old = [{"sha256": hashlib.sha256(data.read_bytes()).hexdigest(), "format": "ntriples", "base": data.resolve().as_uri()}]
    old_record = hashlib.sha256(json.dumps(["kg-files-1", old], sort_keys=True).encode()).hexdigest()
    raw, record = store.oxigraph, (ox.NamedNode(G), ox.NamedNode(READ_FROM))
    raw.remove(ox.Quad(*record, ox.Literal(store.source_record(G) or ""), ox.NamedNode(SOURCES_GRAPH)))
    raw.add(ox.Quad(*record, ox.Literal(old_record), ox.NamedNode(SOURCES_GRAPH)))
    assert store.source_record(G) == old_record
    again = ingest_files(store, [data], G, agent="t")
    assert (again.added, again.removed, compared) == (0, 0, [G])
    assert store.source_record(G) not in (None, old_record)
    assert ingest_files(store, [data], G, agent="t").removed == 0 and compared == [G]  # recognised again
    store.close()


def test_the_same_triples_written_otherwise_are_recognised_by_their_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A graph's record holds the sha256 of its triples in a canonical form: the same triples
    as Turtle, in another order, with a duplicate, replace it +0 −0 without a comparison. One
    triple more or less, a literal written otherwise ("7.0" for "7") or a blank node: compared,
    with the exact difference."""
    from kg.write.ingest import ingest_files

    monkeypatch.setattr("kg.write.records._FORK_BYTES", 0)  # hashed in a forked process, as large files are
    compared = _counting_compares(monkeypatch)
    store = EmbeddedStore(tmp_path / "store")
    rows = [(f"{EX}s{i}", f"{EX}p", f'"{i}"^^<http://www.w3.org/2001/XMLSchema#decimal>') for i in range(100)]
    rows += [(f"{EX}s{i}", f"{EX}label", f'"s {i}"@en') for i in range(100)]
    data = tmp_path / "data.nt"
    data.write_text("".join(f"<{s}> <{p}> {o} .\n" for s, p, o in rows), encoding="utf-8")
    ingest_files(store, [data], G, agent="t")
    recorded = store.source_record(G)
    assert recorded is not None and len(recorded.split()) == 2  # the files, and the triples

    def turtle(name: str, lines: list[tuple[str, str, str]]) -> Path:
        path = tmp_path / name
        written = [f"{s.replace(EX, 'ex:')} {p.replace(EX, 'ex:')} {o} .\n" for s, p, o in reversed(lines)]
        path.write_text(f"@prefix ex: <{EX}> .\n" + "".join(written + written[:3]), encoding="utf-8")
        return path

    same = ingest_files(store, [turtle("same.ttl", rows)], G, agent="t")
    assert (same.added, same.removed, compared) == (0, 0, [])
    one_less = ingest_files(store, [turtle("less.ttl", rows[1:])], G, agent="t")
    assert (one_less.added, one_less.removed, compared) == (0, 1, [G])
    back = ingest_files(store, [turtle("back.ttl", rows)], G, agent="t")  # the record of less.ttl's triples
    assert (back.added, back.removed, compared) == (1, 0, [G, G])
    assert ingest_files(store, [data], G, agent="t").removed == 0 and len(compared) == 2  # by the digest again
    written_otherwise = [(s, p, o.replace('"7"', '"7.0"')) for s, p, o in rows]
    otherwise = ingest_files(store, [turtle("seven.ttl", written_otherwise)], G, agent="t")
    assert (otherwise.added, otherwise.removed, len(compared)) == (0, 0, 3)  # stored alike, digests differ
    reference = ox.Store()
    reference.load(path=str(data), format=ox.RdfFormat.N_TRIPLES)
    assert isomorphic(quads_to_graph(store.graph_triples(G)),
                      quads_to_graph(reference.quads_for_pattern(None, None, None, None)))
    blank = tmp_path / "blank.nt"
    blank.write_text(data.read_text(encoding="utf-8") + f'_:b <{EX}p> "x" .\n', encoding="utf-8")
    with_blank = ingest_files(store, [blank], G, agent="t")
    assert (with_blank.added, with_blank.removed) == (1, 0)
    recorded = store.source_record(G)
    assert recorded is not None and len(recorded.split()) == 1  # a blank node: no digest of triples
    store.close()


def test_a_graph_loaded_in_place_beside_readers_is_hidden_until_its_commit(loaded: EmbeddedStore, tmp_path: Path) -> None:
    """A server loads a new graph from a request body where it will live (no copy at commit),
    while its own pages and queries read the same store handle: until the commit, nothing
    lists, reads or queries the graph, and the union does not hold its triples; a refused
    load leaves the store as it was."""
    from kg.formats import rdf_format_by_name

    body = tmp_path / "body.nt"
    body.write_text("".join(f'<{EX}new{i}> <{EX}label> "new {i}" .\n' for i in range(500)), encoding="utf-8")
    seen: dict[str, object] = {}

    def during(step: str) -> None:
        if step != "committing":
            return
        seen["listed"] = H in loaded.named_graphs()
        seen["exists"] = loaded.has_graph(H)
        seen["graphs"] = {r["g"].value for r in loaded.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")}
        seen["union"] = loaded.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}label> ?o }}")
        asked = loaded.query_dataset("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", named_graphs=[H])
        seen["named"] = int(next(iter(cast(ox.QuerySolutions, asked.result)))["n"].value)
        seen["quads"] = sum(1 for q in loaded.named_quads() if q.graph_name == ox.NamedNode(H))
        seen["loaded"] = sum(1 for _ in loaded.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(H)))

    change = Change.from_files(H, [(body, rdf_format_by_name("ntriples"))], in_place=True, shared=True)
    receipt = apply_write(loaded, change, agent="t", source=None, shapes=SHAPES, on_stage=during)
    assert seen == {"listed": False, "exists": False, "graphs": {G, str(PROVENANCE_GRAPH)}, "union": 0, "named": 0, "quads": 0, "loaded": 500}
    assert receipt.added == 500 and receipt.graphs[0].mode == "create"
    assert loaded.has_graph(H) and loaded.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}label> ?o }}") == 500
    before = snapshot(loaded)
    bad = tmp_path / "bad.nt"  # a document nothing is stated in breaks DocumentShape
    bad.write_text(f"<{EX}lonely> <{TYPE.value}> <{EX}Document> .\n", encoding="utf-8")
    refused = Change.from_files(EX + "third", [(bad, rdf_format_by_name("ntriples"))], in_place=True, shared=True)
    with pytest.raises(ValidationFailed):
        apply_write(loaded, refused, agent="t", source=None, shapes=SHAPES)
    assert_unchanged(before, loaded)


def test_triples_the_union_holds_already_change_nothing_the_gate_checks(loaded: EmbeddedStore) -> None:
    """The gate validates the union: a write adding, to another graph, triples the union holds
    already (a copy of part of a graph) changes no verdict, so it checks nothing — even a
    class hierarchy triple, which when new has every instance checked again."""
    subclass = ox.Triple(n("Claim"), ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf"), n("Statement"))
    new = apply_write(loaded, Change.add(G, [subclass]), agent="t", source=None, shapes=SHAPES)
    assert new.whole_store and new.added == 1
    copied = [subclass, *news()[:300]]
    again = apply_write(loaded, Change.add(H, copied), agent="t", source=None, shapes=SHAPES)
    assert (again.added, again.whole_store, again.focus_nodes) == (len(set(copied)), False, 0)
    one_more = [*copied, ox.Triple(n("claim0-0"), n("statedIn"), n("doc1"))]  # new to the union: checked
    checked = apply_write(loaded, Change.add(H, one_more), agent="t", source=None, shapes=SHAPES)
    assert checked.added == 1 and not checked.whole_store and checked.focus_nodes >= 1


def test_a_graph_loaded_in_place_of_triples_the_union_holds_is_not_copied_into_it(
        loaded: EmbeddedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server's in-place load (its union copy made by the commit) of triples another graph
    holds: the union holds them already, so the commit copies nothing; the graph then holds
    them, and so does the union once the other graph is gone. One triple the union lacks and
    the copy is made."""
    from kg.formats import rdf_format_by_name

    copies: list[bool] = []
    real = loaded.commit

    def commit(writes: list[GraphWrite]) -> None:
        copies.extend(not w.union_loaded for w in writes if w.mode is WriteMode.LOADED)
        real(writes)

    monkeypatch.setattr(loaded, "commit", commit)
    held, fresh = tmp_path / "held.nt", tmp_path / "fresh.nt"
    held.write_text("".join(f"{t} .\n" for t in news()[:600]), encoding="utf-8")
    fresh.write_text(held.read_text(encoding="utf-8") + f'<{EX}claim0-0> <{EX}quote> "one more" .\n', encoding="utf-8")
    nt = rdf_format_by_name("ntriples")
    receipt = apply_write(loaded, Change.from_files(H, [(held, nt)], in_place=True, shared=True), agent="t",
                          source=None, shapes=SHAPES)
    assert copies == [False] and receipt.added == len(set(news()[:600])) and receipt.focus_nodes == 0
    third = EX + "third"
    apply_write(loaded, Change.from_files(third, [(fresh, nt)], in_place=True, shared=True), agent="t",
                source=None, shapes=SHAPES)
    assert copies == [False, True]
    apply_write(loaded, Change.delete(G), agent="t", source=None, shapes=SHAPES)
    union = {ox.Triple(q.subject, q.predicate, q.object)
             for q in loaded.oxigraph.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    written = {ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(path=str(fresh), format=ox.RdfFormat.N_TRIPLES)}
    assert len(written) == len(set(news()[:600])) + 1 and written <= union and not set(news()[600:]) - written & union
