"""The build: determinism, the evidence it writes, and every way an annotation can be wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from kg.build.annotations import find_quote
from kg.build.dataset import BuildResult, build_dataset, build_into_store
from kg.build.rdfize import document_graph_iri
from kg.errors import BuildError, InputError
from kg.namespaces import NKG, OA, RDF, SCHEMA
from kg.store import EmbeddedStore


def test_two_builds_are_isomorphic(built: BuildResult) -> None:
    again = build_dataset()
    assert set(again.graphs) == set(built.graphs)
    for name, graph in built.graphs.items():
        if not isomorphic(graph, again.graphs[name]):
            _, only_first, only_second = graph_diff(to_isomorphic(graph), to_isomorphic(again.graphs[name]))
            pytest.fail(f"{name} differs: {len(only_first)} vs {len(only_second)} triples")


def test_one_named_graph_per_document_plus_entities_and_ontology(built: BuildResult) -> None:
    names = {str(g) for g in built.graphs}
    assert "https://w3id.org/negotiation-kg/id/graph/ontology" in names
    assert "https://w3id.org/negotiation-kg/id/graph/entities" in names
    assert str(document_graph_iri("000_08f43cbfc8a050d9")) in names
    assert str(document_graph_iri("002_1ed21c23b6fc676c")) in names
    assert len(names) == 4


def test_each_document_graph_holds_its_full_text_and_only_its_claims(built: BuildResult) -> None:
    for doc_id in ("000_08f43cbfc8a050d9", "002_1ed21c23b6fc676c"):
        graph = built.graphs[document_graph_iri(doc_id)]
        (document,) = graph.subjects(RDF.type, NKG.Document)
        text = str(graph.value(document, SCHEMA.text))
        source = (Path(__file__).resolve().parents[2] / "shared" / "corpus" / f"{doc_id}.txt")
        if source.is_file():
            assert text == source.read_text(encoding="utf-8")
        for claim in graph.subjects(RDF.type, NKG.Claim):
            assert graph.value(claim, NKG.statedIn) == document


def test_corpus_size_meets_the_coverage_floor(built: BuildResult, union_graph) -> None:  # type: ignore[no-untyped-def]
    assert built.claims > 40
    assert len(set(union_graph.subjects(RDF.type, NKG.Actor))) > 20
    assert len(set(union_graph.subjects(RDF.type, NKG.Meeting))) >= 5
    assert len(set(union_graph.subjects(RDF.type, NKG.Proposal))) >= 6


def test_every_selector_points_at_its_quote(union_graph) -> None:  # type: ignore[no-untyped-def]
    checked = 0
    for target in union_graph.subjects(RDF.type, OA.SpecificResource):
        text = str(union_graph.value(union_graph.value(target, OA.hasSource), SCHEMA.text))
        selectors = list(union_graph.objects(target, OA.hasSelector))
        exact = next(str(union_graph.value(s, OA.exact)) for s in selectors if union_graph.value(s, OA.exact))
        start = next(int(union_graph.value(s, OA.start)) for s in selectors if union_graph.value(s, OA.start) is not None)
        end = next(int(union_graph.value(s, OA.end)) for s in selectors if union_graph.value(s, OA.end) is not None)
        assert text[start:end] == exact
        checked += 1
    assert checked > 40


def test_find_quote_reports_ambiguity_and_honours_occurrence() -> None:
    text = "peace now; peace now; peace later"
    assert isinstance(find_quote(text, "peace now", None), str)
    assert find_quote(text, "peace now", 2) == (11, 20)
    assert "occurs 2 time" in str(find_quote(text, "peace now", 3))
    hint = find_quote("the “root causes”", '"root causes"', None)
    assert isinstance(hint, str) and "normalised" in hint


def _claims_file(corpus: Path) -> Path:
    return corpus / "annotations" / "002_1ed21c23b6fc676c.yaml"


def _first_quote_line(path: Path) -> tuple[int, str]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip().startswith("quote:"):
            return number, line
    raise AssertionError("no quote line")


def _break(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_quote_not_in_document_fails_with_file_and_line(corpus_copy: Path) -> None:
    path = _claims_file(corpus_copy)
    number, line = _first_quote_line(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[number - 1] = line.replace("quote:", "quote: 'Words the author never wrote' #", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BuildError) as info:
        build_dataset(corpus_copy)
    message = str(info.value)
    assert "002_1ed21c23b6fc676c.yaml:" in message
    assert "Words the author never wrote" in message and "not found" in message
    line_no = int(re.search(r"\.yaml:(\d+)", message).group(1))  # type: ignore[union-attr]
    assert abs(line_no - number) <= 4  # the claim's first line, just above its quote


def test_ambiguous_quote_without_occurrence_fails(corpus_copy: Path) -> None:
    path = _claims_file(corpus_copy)
    text = path.read_text(encoding="utf-8")
    # The standfirst of 002 is repeated in its body: drop an occurrence hint.
    assert "occurrence: 2" in text
    path.write_text(text.replace("    occurrence: 2\n", "", 1), encoding="utf-8")
    with pytest.raises(BuildError, match=r"occurs 2 times .* add 'occurrence: N'"):
        build_dataset(corpus_copy)


def test_unknown_entity_fails(corpus_copy: Path) -> None:
    _break(_claims_file(corpus_copy), "claimant: nhat-lam", "claimant: nobody-at-all")
    with pytest.raises(BuildError, match=r"002_1ed21c23b6fc676c\.yaml:\d+: .*unknown entity 'nobody-at-all'"):
        build_dataset(corpus_copy)


def test_schema_break_fails(corpus_copy: Path) -> None:
    _break(_claims_file(corpus_copy), "kind: analysis", "kind: rumour")
    with pytest.raises(BuildError, match=r"\.yaml:\d+: claim .*kind 'rumour' is not one of"):
        build_dataset(corpus_copy)
    _break(_claims_file(corpus_copy), "kind: rumour", "knd: analysis")
    with pytest.raises(BuildError, match=r"unknown keys \['knd'\]"):
        build_dataset(corpus_copy)


def test_wrong_predicate_kind_fails(corpus_copy: Path) -> None:
    path = corpus_copy / "annotations" / "000_08f43cbfc8a050d9.yaml"
    _break(path, "- [istanbul-talks-2025, participant, russia]", "- [istanbul-talks-2025, participant, istanbul]")
    with pytest.raises(BuildError, match=r"object of participant: 'istanbul' is a place, expected actor"):
        build_dataset(corpus_copy)


def test_qualified_assertion_is_checked_like_a_plain_one(corpus_copy: Path) -> None:
    path = _claims_file(corpus_copy)
    _break(path, "        hedge: to some extent\n", "        hedge: to some extent\n        certainty: high\n")
    with pytest.raises(BuildError, match=r"002_1ed21c23b6fc676c\.yaml:\d+: an assertion has unknown keys \['certainty'\]"):
        build_dataset(corpus_copy)
    _break(path, "        certainty: high\n", "")
    _break(path, "fact: [thirty-day-ceasefire, supportedBy, donald-trump]", "fact: [thirty-day-ceasefire, supportedBy, moscow]")
    with pytest.raises(BuildError, match=r"object of supportedBy: 'moscow' is a place, expected actor"):
        build_dataset(corpus_copy)


def test_yaml_syntax_error_names_line_and_column(corpus_copy: Path) -> None:
    path = _claims_file(corpus_copy)
    path.write_text(path.read_text(encoding="utf-8") + "\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"002_1ed21c23b6fc676c\.yaml:\d+:\d+: YAML syntax"):
        build_dataset(corpus_copy)


def test_fixity_mismatch_fails(corpus_copy: Path) -> None:
    doc = corpus_copy / "documents" / "002_1ed21c23b6fc676c.txt"
    doc.write_text(doc.read_text(encoding="utf-8") + " ", encoding="utf-8")
    with pytest.raises(BuildError, match="fixity check failed"):
        build_dataset(corpus_copy)


def test_failed_build_leaves_the_store_exactly_as_it_was(tmp_path: Path, corpus_copy: Path, built: BuildResult) -> None:
    store = EmbeddedStore(tmp_path / "store")
    store.replace_graphs(built.graphs)
    before = _canonical(store)
    _break(_claims_file(corpus_copy), "claimant: nhat-lam", "claimant: nobody-at-all")
    with pytest.raises(BuildError):
        build_into_store(store, corpus_copy)
    assert _canonical(store) == before
    store.close()


def test_rebuild_replaces_a_document_graph(tmp_path: Path, corpus_copy: Path, built: BuildResult) -> None:
    store = EmbeddedStore(tmp_path / "store")
    store.replace_graphs(built.graphs)
    path = _claims_file(corpus_copy)
    text = path.read_text(encoding="utf-8")
    first_claim = re.search(r"- id: (l-[a-z0-9-]+)", text).group(1)  # type: ignore[union-attr]
    path.write_text(text.replace(f"- id: {first_claim}", f"- id: {first_claim}-renamed", 1), encoding="utf-8")
    result = build_into_store(store, corpus_copy)
    assert not result.report.failed()
    ask = "ASK {{ <https://w3id.org/negotiation-kg/id/claim/{}> ?p ?o }}"
    assert store.query(ask.format(first_claim + "-renamed")).result
    assert not store.query(ask.format(first_claim)).result
    store.close()


def _canonical(store: EmbeddedStore) -> bytes:
    import io

    buffer = io.BytesIO()
    store.dump(buffer, format_name="nquads")
    return b"\n".join(sorted(buffer.getvalue().splitlines()))
