"""``kg build``: documents + annotations → dataset → SHACL gate → store.

Nothing is written unless every quote is placed and the dataset conforms to the
shapes; then every graph is replaced in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef

from kg.build.annotations import load_annotations
from kg.build.corpus import load_documents
from kg.build.rdfize import build_graphs
from kg.errors import BuildError, Location
from kg.resources import default_corpus_dir, ontology_file
from kg.store import Store
from kg.validation.check import validate_graph
from kg.validation.model import ValidationReport

__all__ = ["BuildResult", "build_dataset", "build_into_store", "union"]


@dataclass
class BuildResult:
    """What a build produced: the graphs, and the validation report of their union."""

    graphs: dict[URIRef, Graph]
    report: ValidationReport
    claims: int
    documents: int

    @property
    def triples(self) -> int:
        """Number of triples across all graphs (a triple in two graphs counts twice)."""
        return sum(len(g) for g in self.graphs.values())


def union(graphs: dict[URIRef, Graph]) -> Graph:
    """Every triple of every graph in one rdflib graph."""
    out = Graph()
    for graph in graphs.values():
        out += graph
    return out


def build_dataset(corpus: Path | None = None, *, shapes: Graph | None = None) -> BuildResult:
    """Read the corpus, build its graphs and validate them. Writes nothing."""
    corpus_dir = corpus or default_corpus_dir()
    documents = load_documents(corpus_dir)
    annotations_dir = corpus_dir / "annotations"
    if not annotations_dir.is_dir():
        raise BuildError("the corpus has no annotations/ folder", location=Location(str(corpus_dir)))
    annotations = load_annotations(annotations_dir, documents)
    graphs = build_graphs(annotations, ontology=ontology_file())
    report = validate_graph(union(graphs), shapes)
    claims = sum(len(d.claims) for d in annotations.documents.values())
    return BuildResult(graphs, report, claims, len(documents))


def build_into_store(store: Store, corpus: Path | None = None) -> BuildResult:
    """Build, validate and, only if the dataset conforms, replace its graphs in ``store``."""
    result = build_dataset(corpus)
    if result.report.failed():
        return result
    store.replace_graphs(result.graphs)
    return result
