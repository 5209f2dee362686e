"""``/ontology`` and ``/shapes``: HTML documentation of the ontology and the SHACL shapes, and
the RDF itself by content negotiation.

Both are read with rdflib from the files (:func:`kg.resources.ontology_file`,
:func:`kg.resources.shape_files`), not from the store, and parsed once per version of the files.
RDF clients get Turtle unless they ask for JSON-LD, N-Triples, RDF/XML or N3; browsers get
HTML; ``?format=`` chooses for both. Each term's section has the term's own fragment as its
id, so ``/ontology#Claim`` is where ``nkg:Claim`` is documented and ``/shapes#ClaimShape``
where ``nkgsh:ClaimShape`` is.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from rdflib import BNode, URIRef
from rdflib.collection import Collection

from kg.formats import QueryKind, choose_format, format_aliases, graph_offers, rdf_format_by_name
from kg.namespaces import DCTERMS, NKG, OWL, RDF, RDFS
from kg.server import markup
from kg.server.docs_model import KINDS, Docs, ShapeIndex, Words, dl, docs, shape_index, text_of
from kg.server.shape_docs import shapes_docs

__all__ = ["router", "ontology_docs"]

router = APIRouter()

#: name → media type of what the ontology and shapes pages are offered in: the RDF formats, HTML
_OFFERS = {**graph_offers(html=False), "html": "text/html", "xhtml": "application/xhtml+xml"}

# --- the ontology page -----------------------------------------------------------------------


def _term_section(w: Words, term: URIRef, kind: str, index: ShapeIndex) -> str:
    g, classes, props = w.d.ontology, *index
    is_property = kind.endswith("property")
    supers = list(g.objects(term, RDFS.subClassOf))
    disjoint = set(g.objects(term, OWL.disjointWith)) | set(g.subjects(OWL.disjointWith, term))
    for group in g.subjects(RDF.type, OWL.AllDisjointClasses):
        head = g.value(group, OWL.members)
        members = list(Collection(g, head)) if head is not None else []
        if term in members:
            disjoint |= {m for m in members if m != term}
    kinds = [t for t in g.objects(term, RDF.type) if t not in {k for k, _, _ in KINDS}]
    if is_property:
        shape_links = ", ".join(f"{w.link(shape)} <span class=how>({escape(how)})</span>"
                                for shape, how in sorted(props.get(term, set())))
    else:
        shape_links = w.links(classes.get(term, set()))
    rows = [("IRI", f"<code>{escape(str(term))}</code>")]
    if is_property:
        rows += [("domain", w.links(g.objects(term, RDFS.domain)) or "—"),
                 ("range", w.links(g.objects(term, RDFS.range)) or "—"),
                 ("subproperty of", w.links(g.objects(term, RDFS.subPropertyOf))),
                 ("superproperty of", w.links(s for s in g.subjects(RDFS.subPropertyOf, term)
                                              if isinstance(s, URIRef))),
                 ("inverse of", w.links(g.objects(term, OWL.inverseOf))),
                 ("characteristics", w.links(kinds))]
    else:
        supers.sort(key=lambda s: (isinstance(s, BNode), str(s)))
        rows += [("subclass of", ", ".join(w.expression(s) for s in supers)),
                 ("superclass of", w.links(s for s in g.subjects(RDFS.subClassOf, term) if isinstance(s, URIRef))),
                 ("equivalent to", ", ".join(w.expression(e) for e in g.objects(term, OWL.equivalentClass))),
                 ("disjoint with", w.links(disjoint)),
                 ("domain of", w.links(g.subjects(RDFS.domain, term))),
                 ("range of", w.links(g.subjects(RDFS.range, term)))]
    rows += [("constrained by", shape_links), ("defined by", w.links(g.objects(term, RDFS.isDefinedBy)))]
    comment = text_of(g, term, RDFS.comment)
    return (f"<section class=term id='{escape(w.anchor(term))}'><h3>{escape(w.label(term) or w.qname(term))} "
            f"<code>{escape(w.qname(term))}</code> <span class=kind>{escape(kind)}</span></h3>"
            + (f"<p>{escape(comment)}</p>" if comment else "") + dl(rows) + "</section>")


def ontology_docs(d: Docs) -> str:
    """The ontology as an HTML page."""
    g, w = d.ontology, Words(d, "ontology")
    index = shape_index(d)
    header = next(iter(g.subjects(RDF.type, OWL.Ontology)), None)
    title = (text_of(g, header, DCTERMS.title) if header else None) or "Ontology"
    meta = []
    if header is not None:
        for prop, name in ((OWL.versionInfo, "version"), (OWL.versionIRI, "version IRI"),
                           (DCTERMS.license, "license"),
                           (DCTERMS.created, "created")):
            meta.append((name, w.links(g.objects(header, prop))))
        meta.insert(0, ("IRI", f"<code>{escape(str(header))}</code>"))
        meta.append(("namespace", f"<code>{escape(str(NKG))}</code> (prefix <code>nkg:</code>)"))
    description = text_of(g, header, DCTERMS.description) if header else None
    own = {t: k for t, k in d.terms.items() if str(t).startswith(str(NKG))}
    external = {t: k for t, k in d.terms.items() if t not in own}
    groups: dict[str, list[URIRef]] = {}
    for rdf_type, heading, _ in KINDS:
        for term in sorted(own):
            if (term, RDF.type, rdf_type) in g and term not in {t for ts in groups.values() for t in ts}:
                groups.setdefault(heading, []).append(term)
    toc = "".join(
        f"<li><a href='#{escape(h.lower().replace(' ', '-'))}'>{escape(h)}</a> ({len(ts)}): "
        + ", ".join(w.link(t) for t in ts) + "</li>" for h, ts in groups.items()
    ) + f"<li><a href='#external-terms'>External terms</a> ({len(external)})</li>"
    sections = "".join(
        f"<h2 id='{escape(h.lower().replace(' ', '-'))}'>{escape(h)}</h2>"
        + "".join(_term_section(w, t, own[t], index) for t in ts) for h, ts in groups.items()
    )
    classes, props = index
    ext_rows = "".join(
        f"<tr id='{escape(w.anchor(t))}'><td><a href='{escape(str(t))}'><code>{escape(w.qname(t))}</code></a></td>"
        f"<td>{escape(k)}</td><td>{escape(w.label(t) or '')}</td>"
        f"<td>{w.links(g.objects(t, RDFS.range))}</td><td>"
        + ", ".join(w.link(s) for s in sorted(classes.get(t, set())))
        + ", ".join(w.link(s) for s, _ in sorted(props.get(t, set()))) + "</td></tr>"
        for t, k in sorted(external.items(), key=lambda i: (i[1], w.qname(i[0])))
    )
    body = (
        (f"<p>{escape(description)}</p>" if description else "") + dl(meta)
        + f"<nav class=toc><ul>{toc}</ul></nav>{sections}"
        + "<h2 id=external-terms>External terms</h2><p>Terms of other vocabularies the data uses, declared "
          "in the ontology so that OWL tools know each one's kind.</p>"
        + f"<table><tr><th>term</th><th>kind</th><th>label</th><th>range</th><th>constrained by</th></tr>"
          f"{ext_rows}</table>"
    )
    return markup.html_page(title, body, alternates=markup.alternates("/ontology"))




def _respond(request: Request, format: str | None, name: str) -> Response:
    """``name`` ("ontology" or "shapes") in the negotiated format; each rendering made once per
    version of the files."""
    d = docs()
    key = choose_format(format, request.headers.get("accept"), _OFFERS,
                        aliases=format_aliases(QueryKind.GRAPH), what=f"the {name}")
    headers = {"Vary": "Accept"}
    if key in ("html", "xhtml"):
        if (name, "html") not in d.rendered:
            page = ontology_docs if name == "ontology" else shapes_docs
            d.rendered[(name, "html")] = page(d).encode("utf-8")
        return HTMLResponse(d.rendered[(name, "html")], headers=headers)
    fmt = rdf_format_by_name(key)
    if (name, fmt.name) not in d.rendered:
        graph = d.ontology if name == "ontology" else d.shapes
        if fmt.name == "turtle" and name == "ontology":
            data = d.ontology_path.read_bytes()  # the source itself, comments and all
        elif fmt.name == "jsonld":
            context = {p: str(ns) for p, ns in graph.namespaces() if p}
            data = graph.serialize(format="json-ld", context=context, auto_compact=True, encoding="utf-8")
        else:
            data = graph.serialize(format=fmt.rdflib, encoding="utf-8")
        d.rendered[(name, fmt.name)] = data
    media = fmt.media_type + ("; charset=utf-8" if fmt.media_type.startswith("text/") else "")
    return Response(d.rendered[(name, fmt.name)], media_type=media, headers=headers)


@router.get("/ontology", summary="The ontology: HTML documentation, or the OWL itself as RDF")
def ontology(request: Request, format: str | None = None) -> Response:
    """The ontology by Accept: Turtle (the source file) for RDF clients, HTML for browsers;
    ``?format=html|turtle|jsonld|ntriples|rdfxml|n3`` overrides it."""
    return _respond(request, format, "ontology")


@router.get("/shapes", summary="The SHACL shapes: HTML documentation, or the shapes as RDF")
def shapes(request: Request, format: str | None = None) -> Response:
    """All shapes files as one graph, by Accept (``?format=`` overrides it)."""
    return _respond(request, format, "shapes")
