"""``kg ontology check`` both ways, and the ontology's own quality checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph, URIRef

from kg.cli import main
from kg.namespaces import NKG, OWL, RDF, RDFS
from kg.rdfio import read_graph
from kg.resources import ontology_file
from kg.validation.ontology import check_ontology, disjointness_conflicts, run_quality_checks

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java (apt-get install default-jre-headless)")
CHIMERA = URIRef("https://w3id.org/negotiation-kg/id/actor/chimera")


def test_contract_terms_are_declared() -> None:
    onto = read_graph([ontology_file()])
    for term in ("Actor", "Person", "Organization", "State", "Delegation", "Meeting", "Proposal", "Claim",
                 "Document", "Place", "participant", "hostedBy", "proposedBy", "supportedBy", "opposedBy",
                 "discussedAt", "represents", "claimant", "statedIn", "quote", "about", "asserts", "evidence",
                 "scheduledDate"):
        assert (NKG[term], RDFS.label, None) in onto, term
        assert (NKG[term], RDFS.comment, None) in onto, term
    assert (URIRef("https://w3id.org/negotiation-kg/ontology"), OWL.versionIRI, None) in onto


def test_quality_checks_pass_on_the_built_data(union_graph: Graph) -> None:
    rows = run_quality_checks(read_graph([ontology_file()]) + union_graph)
    assert rows and all(not r for r in rows.values()), rows


def test_quality_checks_catch_an_undeclared_term_and_a_missing_label(union_graph: Graph) -> None:
    bad = read_graph([ontology_file()]) + union_graph
    bad.add((CHIMERA, NKG.inventedProperty, CHIMERA))
    bad.remove((NKG.Place, RDFS.label, None))
    rows = run_quality_checks(bad)
    assert any(str(NKG.inventedProperty) in r.values() for r in rows["undeclared-term-violation"])
    assert any(str(NKG.Place) in r.values() for r in rows["missing-label-violation"])


def test_disjointness_analysis_names_the_individual() -> None:
    onto = read_graph([ontology_file()])
    onto.add((CHIMERA, RDF.type, NKG.Person))
    onto.add((CHIMERA, RDF.type, NKG.State))
    conflicts = disjointness_conflicts(onto)
    assert str(CHIMERA) in conflicts
    assert conflicts[str(CHIMERA)] == [(str(NKG.Organization), str(NKG.Person))]


@needs_java
def test_reasoner_finds_the_built_data_consistent(union_graph: Graph) -> None:
    result = check_ontology(union_graph)
    assert result.consistent and result.ok, result.render()


@needs_java
def test_reasoner_rejects_a_person_that_is_a_state(tmp_path: Path) -> None:
    bad = tmp_path / "chimera.ttl"
    bad.write_text(
        "@prefix nkg: <https://w3id.org/negotiation-kg/ontology#> .\n"
        f"<{CHIMERA}> a nkg:Person , nkg:State .\n",
        encoding="utf-8",
    )
    out = CliRunner().invoke(main, ["ontology", "check", str(bad)])
    assert out.exit_code == 1
    assert "INCONSISTENT" in out.stdout and str(CHIMERA) in out.stdout


def _ingest_into_copy(store_path: Path, tmp_path: Path) -> Path:
    """A copy of the built store with one archivist ingest in it (so a receipt in the provenance graph)."""
    store = tmp_path / "store"
    shutil.copytree(store_path, store)
    note = tmp_path / "note.ttl"
    note.write_text('<https://example.org/note/1> <http://www.w3.org/2000/01/rdf-schema#comment> "checked" .\n',
                    encoding="utf-8")
    done = CliRunner().invoke(main, ["ingest", str(note), "--graph", "https://example.org/graph/notes",
                                     "--store", str(store)])
    assert done.exit_code == 0, done.output
    return store


def test_receipts_write_times_the_reasoner_reads(store_path: Path, tmp_path: Path) -> None:
    """HermiT refuses an xsd:dateTime with more than three fractional digits: receipts write milliseconds."""
    from kg.store import EmbeddedStore

    store = EmbeddedStore(_ingest_into_copy(store_path, tmp_path), read_only=True)
    try:
        rows = list(store.select("SELECT ?t WHERE { GRAPH ?g { ?a <http://www.w3.org/ns/prov#endedAtTime> ?t } }"))
    finally:
        store.close()
    assert rows
    for row in rows:
        # the store keeps the canonical form, which drops trailing zeros: "09.320" reads "09.32"
        clock = row["t"].value.split("T")[1].split("+")[0].rstrip("Z")
        fraction = clock.split(".")[1] if "." in clock else ""
        assert len(fraction) <= 3, row["t"].value


def test_finer_times_are_cut_for_the_reasoner_only() -> None:
    from rdflib import Literal

    from kg.namespaces import XSD
    from kg.validation.ontology import hermit_literals

    data = Graph()
    data.add((CHIMERA, URIRef("http://www.w3.org/ns/prov#endedAtTime"),
              Literal("2026-12-06T20:41:51.288138+00:00", datatype=XSD.dateTime, normalize=False)))
    cut = hermit_literals(data)
    assert {str(o) for o in cut.objects()} == {"2026-12-06T20:41:51.288+00:00"}
    assert {str(o) for o in data.objects()} == {"2026-12-06T20:41:51.288138+00:00"}


@needs_java
@pytest.mark.reasoner
def test_ontology_check_is_consistent_after_an_ingest(store_path: Path, tmp_path: Path) -> None:
    """After a write, the store holds receipts (provenance, timestamps): still consistent, exit 0."""
    store = _ingest_into_copy(store_path, tmp_path)
    out = CliRunner().invoke(main, ["ontology", "check", "--store", str(store)])
    assert out.exit_code == 0, out.output
    assert "Reasoner (HermiT): consistent" in out.stdout
    assert "Traceback" not in out.output


@needs_java
def test_a_java_error_is_a_message_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever else HermiT refuses comes back as one line and exit 3, never Java's stack."""
    import owlready2  # type: ignore[import-untyped]

    said = ('Java error message is:\nException in thread "main" org.semanticweb.HermiT.datatypes.'
            'MalformedLiteralException: Literal "x"^^<http://www.w3.org/2001/XMLSchema#dateTime> is malformed\n'
            '\tat org.semanticweb.HermiT.Reasoner.loadOntology(Reasoner.java:117)\n')

    def refuse(*args: object, **kwargs: object) -> None:
        raise owlready2.OwlReadyJavaError(said)

    monkeypatch.setattr(owlready2, "sync_reasoner_hermit", refuse)
    data = tmp_path / "data.ttl"
    data.write_text(f"<{CHIMERA}> a <https://w3id.org/negotiation-kg/ontology#Person> .\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["ontology", "check", str(data)])
    assert out.exit_code == 3, out.output
    assert out.output.strip() == ('Error: HermiT could not read the ontology and data: Literal '
                                  '"x"^^<http://www.w3.org/2001/XMLSchema#dateTime> is malformed')
