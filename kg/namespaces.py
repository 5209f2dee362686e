"""Every namespace the project uses, and the one ``PREFIXES`` table.

The table feeds Turtle serialisation, SPARQL prologues, the JSON-LD context and the
service description, so a prefix is declared here once and nowhere else.
"""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SH, SKOS, VOID, XSD

__all__ = [
    "NKG",
    "SCHEMA",
    "OA",
    "SEM",
    "SD",
    "WD",
    "RESOURCE_BASE",
    "ONTOLOGY_IRI",
    "PREFIXES",
    "RDF",
    "RDFS",
    "OWL",
    "XSD",
    "SH",
    "SKOS",
    "DCTERMS",
    "FOAF",
    "ORG",
    "PROV",
    "VOID",
    "DCAT",
    "SPDX",
    "NKGSH",
    "HYDRA",
    "sparql_prologue",
    "bind_prefixes",
]

#: The project's own vocabulary (the contract in DESIGN.md).
NKG = Namespace("https://w3id.org/negotiation-kg/ontology#")
#: The ontology document itself (no fragment).
ONTOLOGY_IRI = "https://w3id.org/negotiation-kg/ontology"
#: Resources: ``{RESOURCE_BASE}{kind}/{slug}``; minted only by :mod:`kg.iris`.
RESOURCE_BASE = "https://w3id.org/negotiation-kg/id/"

#: the project's SHACL shapes (shapes/*.ttl)
NKGSH = Namespace("https://w3id.org/negotiation-kg/shapes#")

SCHEMA = Namespace("https://schema.org/")
#: SPDX terms, for the checksums of the dumps (rdflib ships no SPDX namespace)
SPDX = Namespace("http://spdx.org/rdf/terms#")
OA = Namespace("http://www.w3.org/ns/oa#")
SEM = Namespace("http://semanticweb.cs.vu.nl/2009/11/sem/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
WD = Namespace("http://www.wikidata.org/entity/")
#: Hydra, for the paged collections of the indexes (``/id/``, ``/id/{kind}/``)
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")

#: prefix → namespace IRI, in the order they are written out.
PREFIXES: dict[str, str] = {
    "nkg": str(NKG),
    "schema": str(SCHEMA),
    "prov": str(PROV),
    "oa": str(OA),
    "dcterms": str(DCTERMS),
    "skos": str(SKOS),
    "foaf": str(FOAF),
    "org": str(ORG),
    "sem": str(SEM),
    "sd": str(SD),
    "void": str(VOID),
    "dcat": str(DCAT),
    "spdx": str(SPDX),
    "nkgsh": str(NKGSH),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
    "sh": str(SH),
    "wd": str(WD),
    "actor": RESOURCE_BASE + "actor/",
    "place": RESOURCE_BASE + "place/",
    "meeting": RESOURCE_BASE + "meeting/",
    "proposal": RESOURCE_BASE + "proposal/",
    "claim": RESOURCE_BASE + "claim/",
    "document": RESOURCE_BASE + "document/",
    "graph": RESOURCE_BASE + "graph/",
}


def sparql_prologue(prefixes: dict[str, str] | None = None) -> str:
    """The ``PREFIX`` lines for a SPARQL query, so queries can use the project's prefixes."""
    table = PREFIXES if prefixes is None else prefixes
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in table.items())


def bind_prefixes(graph: "object") -> None:
    """Bind every project prefix on an rdflib graph or dataset (for readable Turtle/TriG)."""
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri, override=True, replace=True)  # type: ignore[attr-defined]
