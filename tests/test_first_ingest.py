"""A first ingest of N-Triples files, into a store that holds nothing but receipts, with shapes
that target the files' nodes is validated from the files before anything loads
(:mod:`kg.write.firstload`): refused, the store is as it was (no graph, no journal entry, no
receipt) and the report is the one the gate finds on disk; accepted, the graph is loaded with
its receipt and the on-disk check does not run. Whenever that answer could differ, the write
goes the usual way. Speed is measured by bench/write_bench.py (``ingest, --shapes``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph
from test_writes import assert_unchanged, snapshot

import kg.shacl.scale.groups
import kg.validation.check
import kg.write.apply
import kg.write.gate
from kg.errors import InputError, ValidationFailed
from kg.formats import rdf_format_by_name
from kg.iris import PROVENANCE_GRAPH
from kg.namespaces import OWL, PROV
from kg.store import EmbeddedStore
from kg.store.base import WriteMode
from kg.store.journal import pending
from kg.validation.model import ValidationReport
from kg.write.apply import apply_write
from kg.write.change import Change
from kg.write.provenance import Receipt

EX = "http://example.org/first#"
G, H = "http://example.org/graph/first", "http://example.org/graph/earlier"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

SHAPES = Graph().parse(data=f"""
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <{EX}> .
ex:ClaimShape a sh:NodeShape ; sh:targetClass ex:Claim ;
    sh:property [ sh:path ex:statedIn ; sh:minCount 1 ; sh:class ex:Document ] ;
    sh:property [ sh:path ex:quote ; sh:minCount 1 ; sh:severity sh:Warning ] .
""", format="turtle")


def news(*, unstated: tuple[int, ...] = (), unquoted: tuple[int, ...] = (), docs: int = 8, claims: int = 5) -> str:
    """N-Triples of documents with claims stated in them; claims ``unstated`` name no document,
    claims ``unquoted`` have no quote (numbered across documents)."""
    out = []
    for d in range(docs):
        doc = f"<{EX}doc{d}>"
        out += [f"{doc} <{TYPE}> <{EX}Document> .", f'{doc} <{EX}title> "Document {d}" .']
        for c in range(claims):
            n = d * claims + c
            claim = f"<{EX}claim{n}>"
            out.append(f"{claim} <{TYPE}> <{EX}Claim> .")
            if n not in unstated:
                out.append(f"{claim} <{EX}statedIn> {doc} .")
            if n not in unquoted:
                out.append(f'{claim} <{EX}quote> "quote {n}" .')
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def receipts_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store that holds nothing but receipts (a graph written, then dropped)."""
    path = tmp_path_factory.mktemp("template") / "store"
    store = EmbeddedStore(path)
    data = Graph().parse(data=f"<{EX}a> <{EX}p> <{EX}b> .", format="nt")
    apply_write(store, Change.replace(H, data), agent="t", source=None, shapes=SHAPES)
    apply_write(store, Change.delete(H), agent="t", source=None, shapes=SHAPES)
    assert store.named_graphs() == [str(PROVENANCE_GRAPH)]
    store.close()
    return path


@pytest.fixture()
def fresh(receipts_only: Path, tmp_path: Path) -> Iterator[Callable[[], EmbeddedStore]]:
    """Copies of the receipts-only store, opened (closed after the test)."""
    opened: list[EmbeddedStore] = []

    def copy() -> EmbeddedStore:
        path = tmp_path / f"store{len(opened)}"
        shutil.copytree(receipts_only, path)
        opened.append(EmbeddedStore(path))
        return opened[-1]

    yield copy
    for store in opened:
        store.close()


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often each way of validating ran: the files before the load, or the gate once the
    files are loaded (which validates the store where it lies, or what the write touches)."""
    count = {"files": 0, "gate": 0}

    def spy(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            count[name] += 1
            return real(*args, **kwargs)
        return counted

    monkeypatch.setattr("kg.write.firstload.validate_files", spy("files", kg.validation.check.validate_files))
    monkeypatch.setattr("kg.write.apply.check_write", spy("gate", kg.write.gate.check_write))
    return count


def ingest(store: EmbeddedStore, path: Path, fmt: str = "ntriples", shapes: Graph = SHAPES) -> Receipt:
    change = Change.from_files(G, [(path, rdf_format_by_name(fmt))], in_place=True)
    return apply_write(store, change, agent="t", source=None, shapes=shapes)


def refusal(store: EmbeddedStore, path: Path, fmt: str = "ntriples") -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        ingest(store, path, fmt)
    return caught.value


def usual_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes from here on go the way they went before files were validated first."""
    monkeypatch.setattr(kg.write.apply, "validate_first", lambda *args, **kwargs: None)


def verdict(failed: ValidationFailed) -> set[tuple[str, str, str | None, str]]:
    report = failed.report
    assert isinstance(report, ValidationReport)
    return {(r.severity, r.focus_node, r.path, r.node_shape) for r in report.results}


def test_a_refused_first_ingest_loads_nothing(fresh: Callable[[], EmbeddedStore], calls: dict[str, int],
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "news.nt"
    data.write_text(news(unstated=(3, 17), unquoted=(4,)), encoding="utf-8")
    store = fresh()
    begun: list[str] = []
    real_begin = store.begin_load

    def begin_load(graph: str) -> None:
        begun.append(graph)
        real_begin(graph)

    monkeypatch.setattr(store, "begin_load", begin_load)
    before = snapshot(store)
    failed = refusal(store, data)
    assert str(failed).startswith("the write would break the shapes (2 violations); nothing was written\n")
    assert {(s, f, p, n) for s, f, p, n in verdict(failed) if s == "Violation"} == {
        ("Violation", f"{EX}claim{n}", f"<{EX}statedIn>", f"{EX}ClaimShape") for n in (3, 17)}
    assert calls == {"files": 1, "gate": 0} and begun == []
    assert_unchanged(before, store)
    assert pending(store.oxigraph) == [] and store.staging_graphs() == [] and not store.has_graph(G)
    # the report is the one the gate finds once the file is loaded
    usual_way(monkeypatch)
    assert verdict(refusal(fresh(), data)) == verdict(failed)
    assert calls == {"files": 1, "gate": 1}


def test_large_files_are_validated_in_groups_with_what_shapes_read_of_the_ontology(
        fresh: Callable[[], EmbeddedStore], calls: dict[str, int], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Validating in groups (what a large file gets) takes no blank node and no integer subtype:
    the ontology's OWL restrictions and ranges, which these shapes cannot read, are left out."""
    data = tmp_path / "news.nt"
    data.write_text(news(unstated=(0, 9)), encoding="utf-8")
    answers: list[bool] = []
    real = kg.shacl.scale.groups.validate_in_groups

    def grouped(*args: Any, **kwargs: Any) -> Any:
        answer = real(*args, **kwargs)
        answers.append(answer is not None)
        return answer

    monkeypatch.setattr(kg.validation.check, "validate_in_groups", grouped)
    monkeypatch.setattr(kg.validation.check, "EXACT_BYTES", 0)
    failed = refusal(fresh(), data)
    assert answers == [True] and calls == {"files": 1, "gate": 0}
    usual_way(monkeypatch)
    assert verdict(refusal(fresh(), data)) == verdict(failed)


def test_blank_nodes_of_the_files_are_validated_first_too(fresh: Callable[[], EmbeddedStore],
                                                          calls: dict[str, int], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "news.nt"
    data.write_text(news() + f"_:anonymous <{TYPE}> <{EX}Claim> .\n", encoding="utf-8")
    failed = refusal(fresh(), data)
    assert calls == {"files": 1, "gate": 0}
    usual_way(monkeypatch)
    usual = refusal(fresh(), data)
    # blank nodes are named anew by each parser: compare all but their names
    assert [(s, f[:2], p, n) for s, f, p, n in sorted(verdict(failed))] == [
        (s, f[:2], p, n) for s, f, p, n in sorted(verdict(usual))] != []
    assert {f[:2] for _, f, _, _ in verdict(failed)} == {"_:"}


def test_an_accepted_first_ingest_is_validated_once(fresh: Callable[[], EmbeddedStore], calls: dict[str, int],
                                                    tmp_path: Path) -> None:
    data = tmp_path / "news.nt"
    data.write_text(news(unquoted=(6,)), encoding="utf-8")
    store = fresh()
    receipt = ingest(store, data)
    assert calls == {"files": 1, "gate": 0}
    assert [(g.graph, g.mode, g.added) for g in receipt.graphs] == [(G, WriteMode.LOADED.value, 8 * 2 + 40 * 3 - 1)]
    assert [(w["focus_node"], w["path"]) for w in receipt.warnings] == [(f"{EX}claim6", f"<{EX}quote>")]
    assert (receipt.focus_nodes, receipt.whole_store) == (1, True)
    assert store.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }}") == receipt.added
    assert store.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{ <{receipt.iri}> a ?t }} }}") == 1
    assert pending(store.oxigraph) == [] and store.staging_graphs() == []


def test_nodes_targeted_through_the_ontology_or_the_receipts_go_the_usual_way(
        fresh: Callable[[], EmbeddedStore], calls: dict[str, int], tmp_path: Path) -> None:
    """Receipts targeted, the file naming none: nothing to validate first. Ontology classes
    targeted too: results about them are not about the new graph, which only the gate can tell."""
    data = tmp_path / "news.nt"
    data.write_text(news(), encoding="utf-8")
    receipts = Graph().parse(data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <{EX}ReceiptShape> a sh:NodeShape ; sh:targetClass <{PROV.Activity}> ;
            sh:property [ sh:path <{EX}reviewedBy> ; sh:minCount 1 ] .""", format="turtle")
    assert ingest(fresh(), data, shapes=receipts).added
    assert calls == {"files": 0, "gate": 1}
    classes = SHAPES + Graph().parse(data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <{EX}ClassShape> a sh:NodeShape ; sh:targetClass <{OWL.Class}> ;
            sh:property [ sh:path <{EX}reviewedBy> ; sh:minCount 1 ] .""", format="turtle")
    assert ingest(fresh(), data, shapes=classes).added
    assert calls == {"files": 1, "gate": 2}


def test_a_syntax_error_is_reported_by_the_loader_as_before(fresh: Callable[[], EmbeddedStore], calls: dict[str, int],
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "broken.nt"
    data.write_text(news(docs=1, claims=1) + f"<{EX}claim0> <{EX}quote> \"unterminated .\n", encoding="utf-8")
    store = fresh()
    before = snapshot(store)
    with pytest.raises(InputError) as caught:
        ingest(store, data)
    assert calls == {"files": 1, "gate": 0}
    assert_unchanged(before, store)
    assert caught.value.location is not None and caught.value.location.line == 6
    usual_way(monkeypatch)
    with pytest.raises(InputError) as usual:
        ingest(fresh(), data)
    assert (str(caught.value), caught.value.location) == (str(usual.value), usual.value.location)


def test_turtle_goes_the_usual_way(fresh: Callable[[], EmbeddedStore], calls: dict[str, int], tmp_path: Path) -> None:
    data = tmp_path / "news.ttl"
    data.write_text(news(unstated=(1,)), encoding="utf-8")
    failed = refusal(fresh(), data, "turtle")
    assert {f for s, f, _, _ in verdict(failed) if s == "Violation"} == {f"{EX}claim1"}
    assert calls == {"files": 0, "gate": 1}
