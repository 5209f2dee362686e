"""The SPARQL service description (``sd:`` + VoID) returned by ``GET /sparql`` without a query.

It says what the endpoint supports (language, features, result formats) and describes its
dataset with VoID: sizes, the vocabularies and URI space it uses, the named graphs with their
triple counts, and the dumps (``void:dataDump``) with their media type, byte size and SHA-256
(an SPDX checksum), so a harvester can fetch a dump and check it.

A browser (a client that ranks ``text/html`` first, with no ``format=``) gets it as a page: the
header every page has, a word on how to query, and the description in Turtle — the header's
"service description" link is no dead end of bare text.

Nodes that have no IRI of their own get blank-node ids derived from what they describe, so the
description is the same text from one process to the next (Turtle, N-Triples, JSON-LD alike).
"""

from __future__ import annotations

import hashlib
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from rdflib import BNode, Graph, Literal, URIRef

from kg.formats import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    QueryKind,
    RdfFormatInfo,
    ResultFormatInfo,
    choose_format,
    format_aliases,
    graph_offers,
    negotiate,
    rdf_format_by_name,
)
from kg.namespaces import DCAT, DCTERMS, NKG, PREFIXES, RDF, RDFS, RESOURCE_BASE, SD, SPDX, VOID, XSD, bind_prefixes
from kg.server.dumps import dump_index
from kg.server.markup import alternates, html_page
from kg.server.responses import prefers_html
from kg.store.base import Store

__all__ = ["describe_service", "service_description", "router"]

router = APIRouter()

_TYPES = [f.media_type for f in GRAPH_FORMATS]
_RDFLIB = {f.media_type: f.rdflib for f in GRAPH_FORMATS}

_GRAPH_COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
#: VoID statistics of the default graph (the union of the named graphs, each triple once)
_STATISTICS = """
SELECT ?triples ?properties ?subjects ?objects ?classes WHERE {
  { SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?p) AS ?properties)
           (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects) WHERE { ?s ?p ?o } }
  { SELECT (COUNT(DISTINCT ?c) AS ?classes) WHERE { ?x a ?c } }
}"""


def _node(*parts: str) -> BNode:
    """A blank node whose id depends only on ``parts`` (stable across processes)."""
    return BNode("n" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16])


def _integer(value: object) -> Literal:
    return Literal(int(str(value)), datatype=XSD.integer)


#: what the description says of the answer cache (:mod:`kg.server.answer_cache`) when it is on
CACHE_NOTE = ("Answers to queries and pages are kept while the store is unchanged and dropped at every commit; "
              "an answer that comes from there has the header 'X-Cache: hit' (and 'Age'), a fresh one "
              "'X-Cache: miss'. Every kept answer has an ETag: send it in If-None-Match to get 304 while it "
              "is current.")


def describe_service(endpoint: str, store: Store, *, base: str | None = None, cached: bool = False) -> Graph:
    """The description of the endpoint at ``endpoint``: features, formats, graphs with sizes, VoID.

    ``base`` is the server's root URL (the dumps are under ``{base}dumps/``); by default the
    endpoint's URL without its last path segment. ``cached``: answers may come from the answer
    cache, which the description then says (an ``rdfs:comment`` of the service).
    """
    base = base or endpoint.rsplit("/", 1)[0] + "/"
    g = Graph()
    bind_prefixes(g)
    g.bind("dcat", DCAT)
    service = URIRef(endpoint)
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, service))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    formats: tuple[ResultFormatInfo | RdfFormatInfo, ...] = (*RESULT_FORMATS, *GRAPH_FORMATS)
    for fmt in formats:
        g.add((service, SD.resultFormat, URIRef(fmt.oxigraph.iri)))
    if cached:
        g.add((service, RDFS.comment, Literal(CACHE_NOTE, lang="en")))

    dataset, default = URIRef(f"{endpoint}#dataset"), URIRef(f"{endpoint}#default-graph")
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, RDFS.comment, Literal("the union of all named graphs", lang="en")))
    for row in store.query(_GRAPH_COUNTS, union_default_graph=False).solutions():
        name = row["g"].value
        named, graph = _node("named-graph", name), _node("graph", name)
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(name)))
        g.add((named, SD.graph, graph))
        g.add((graph, RDF.type, SD.Graph))
        g.add((graph, VOID.triples, _integer(row["n"].value)))
    _void(g, dataset, default, service, base, store)
    return g


def _void(g: Graph, dataset: URIRef, default: URIRef, service: URIRef, base: str, store: Store) -> None:
    """The dataset as a ``void:Dataset``: statistics, URI space, vocabulary and dumps."""
    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, DCTERMS.title, Literal("negotiation-kg", lang="en")))
    g.add((dataset, DCTERMS.description, Literal(
        "A knowledge graph of diplomatic negotiations: actors, meetings, proposals and the claims "
        "source documents make about them, each with its quote and its place in the document.", lang="en")))
    g.add((dataset, VOID.sparqlEndpoint, service))
    g.add((dataset, VOID.uriSpace, Literal(RESOURCE_BASE)))
    g.add((dataset, VOID.vocabulary, URIRef(str(NKG))))
    for prefix in ("schema", "prov", "oa", "dcterms", "skos", "owl"):
        g.add((dataset, VOID.vocabulary, URIRef(PREFIXES[prefix])))
    stats = next(store.query(_STATISTICS).solutions())
    for prop, var in ((VOID.triples, "triples"), (VOID.classes, "classes"), (VOID.properties, "properties"),
                      (VOID.distinctSubjects, "subjects"), (VOID.distinctObjects, "objects")):
        g.add((dataset, prop, _integer(stats[var].value)))
    g.add((default, VOID.triples, _integer(stats["triples"].value)))
    for dump in dump_index(store):
        url = URIRef(base + dump["path"].lstrip("/"))
        checksum = _node("checksum", dump["path"], dump["sha256"])
        g.add((dataset, VOID.dataDump, url))
        g.add((dataset, VOID.feature, URIRef(rdf_format_by_name(dump["format"]).oxigraph.iri)))
        g.add((url, RDF.type, DCAT.Distribution))
        g.add((url, DCAT.downloadURL, url))
        g.add((url, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{dump['media_type']}")))
        g.add((url, DCTERMS["format"], Literal(dump["media_type"])))
        g.add((url, DCAT.byteSize, Literal(dump["bytes"], datatype=XSD.nonNegativeInteger)))
        g.add((url, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, Literal(dump["sha256"], datatype=XSD.hexBinary)))


def _jsonld_context(g: Graph) -> dict[str, str]:
    return {prefix: str(ns) for prefix, ns in g.namespaces() if prefix in PREFIXES}


def render(graph: Graph, media: str) -> bytes:
    """The graph in ``media`` (one of the offered types); JSON-LD is compacted with the prefixes."""
    if media == "application/ld+json":
        return graph.serialize(format="json-ld", context=_jsonld_context(graph), auto_compact=True,
                               encoding="utf-8")
    return graph.serialize(format=_RDFLIB[media], encoding="utf-8")


def service_description(request: Request) -> Response:
    """The service description in the negotiated RDF format (Turtle by default, also JSON-LD,
    N-Triples, RDF/XML; ``?format=`` names one for browsers)."""
    accept = request.headers.get("accept")
    if request.query_params.get("format") is None and prefers_html(request):
        return HTMLResponse(_page(request), headers={"Vary": "Accept"})
    if negotiate(accept, _TYPES) is None:
        accept = None  # a client that asks for query results without a query gets the description in Turtle
    name = choose_format(request.query_params.get("format"), accept, graph_offers(html=False),
                         aliases=format_aliases(QueryKind.GRAPH), what="the service description")
    media = rdf_format_by_name(name).media_type
    return Response(render(_described(request), media), media_type=media, headers={"Vary": "Accept"})


def _described(request: Request) -> Graph:
    """:func:`describe_service` of the endpoint this request reached."""
    return describe_service(str(request.url_for("sparql")), request.app.state.store, base=str(request.base_url),
                            cached=getattr(request.app.state, "answers", None) is not None)


def _page(request: Request) -> str:
    """The description for a person: how to query the endpoint, then the description in Turtle."""
    endpoint = str(request.url_for("sparql"))
    graph = _described(request)
    body = (f"<p>The SPARQL 1.1 endpoint is <code>{escape(endpoint)}</code>: send a query as <code>?query=</code> "
            "(GET) or in a POST body, and the answer comes in the format <code>Accept</code> or <code>format=</code> "
            "asks for. To write and run queries here, with the competency questions as examples, use "
            "<a href=/>the query page</a>; the whole dataset is in the <a href=/dumps/>dumps</a>.</p>"
            "<p>What the endpoint supports and the dataset it serves (SPARQL Service Description and VoID), "
            "in Turtle:</p>"
            f"<pre class=rdf>{escape(render(graph, 'text/turtle').decode('utf-8'))}</pre>")
    return html_page("SPARQL service description", body, alternates=alternates("/sparql"))


@router.get("/.well-known/void", summary="The VoID description of the dataset (the service description)")
def well_known_void(request: Request) -> Response:
    """The dataset's VoID description, where VoID says to look for it (same graph as ``GET /sparql``)."""
    return service_description(request)
