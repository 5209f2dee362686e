"""The SPARQL service description (``sd:`` + VoID) returned by ``GET /sparql`` without a query."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from rdflib import BNode, Graph, Literal, URIRef

from ..formats import negotiate
from ..namespaces import RDFS, SD, VOID, XSD, bind_prefixes

_TYPES = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]
_RDFLIB = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/n-triples": "nt",
           "application/rdf+xml": "xml"}


def describe_service(endpoint: str, store: object) -> Graph:
    """The description of the endpoint at ``endpoint``: features, formats, graphs with sizes."""
    g = Graph()
    bind_prefixes(g)
    service = URIRef(endpoint)
    g.add((service, SD.endpoint, service))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    for fmt in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                "Turtle", "N-Triples", "JSON-LD", "RDF_XML"):
        g.add((service, SD.resultFormat, URIRef(f"http://www.w3.org/ns/formats/{fmt}")))
    dataset, default = BNode(), BNode()
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDFS.comment, Literal("the union of all named graphs", lang="en")))
    counts = store.query(  # type: ignore[attr-defined]
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g", union_default_graph=False
    ).result
    for row in counts:
        named, graph = BNode(), BNode()
        g.add((dataset, SD.namedGraph, named))
        g.add((named, SD.name, URIRef(row["g"].value)))
        g.add((named, SD.graph, graph))
        g.add((graph, VOID.triples, Literal(int(row["n"].value), datatype=XSD.integer)))
    return g


def service_description(request: Request) -> Response:
    """The service description in the negotiated RDF format (Turtle by default)."""
    media = negotiate(request.headers.get("accept"), _TYPES) or "text/turtle"
    graph = describe_service(str(request.url_for("sparql")), request.app.state.store)
    return Response(graph.serialize(format=_RDFLIB[media]), media_type=media)
