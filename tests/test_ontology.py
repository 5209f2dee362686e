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
