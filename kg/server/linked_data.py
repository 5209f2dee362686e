"""``/id/{kind}/{slug}``: each resource, content-negotiated (HTML, Turtle, N-Triples, JSON-LD, RDF/XML)."""

from __future__ import annotations

import html
import io

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ..formats import GRAPH_FORMATS, QueryKind, negotiate, output_format
from ..iris import Kind, is_slug, mint
from ..namespaces import PREFIXES, RESOURCE_BASE, sparql_prologue
from ..store import QueryOutcome

router = APIRouter()

_OFFERS = ["text/html", *(f.media_type for f in GRAPH_FORMATS)]

#: the resource and the nodes hanging off it under its own IRI (claim#evidence, …)
_DESCRIBE = sparql_prologue() + """
CONSTRUCT { ?s ?p ?o } WHERE {
  <{iri}> (nkg:evidence|nkg:asserts|nkg:estimate|oa:hasTarget|oa:hasSelector)* ?s .
  FILTER (?s = <{iri}> || STRSTARTS(STR(?s), "{iri}#"))
  ?s ?p ?o .
}"""
_INCOMING = sparql_prologue() + """
SELECT DISTINCT ?s ?p ?label WHERE { ?s ?p <{iri}> . OPTIONAL { ?s rdfs:label ?label } }
ORDER BY ?p ?s LIMIT 500"""
_LABELS = sparql_prologue() + "SELECT ?o ?label WHERE {{ VALUES ?o {{ {values} }} ?o rdfs:label ?label }}"


def _short(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def _link(iri: str, label: str | None = None) -> str:
    href = iri[len(RESOURCE_BASE) - 4:] if iri.startswith(RESOURCE_BASE) else iri
    return f'<a href="{html.escape(href)}">{html.escape(label or _short(iri))}</a>'


def _html(store: object, iri: str, triples: list[object]) -> str:
    labels: dict[str, str] = {}
    objects = {t.object.value for t in triples if type(t.object).__name__ == "NamedNode"}  # type: ignore[attr-defined]
    if objects:
        values = " ".join(f"<{o}>" for o in sorted(objects))
        for row in store.query(_LABELS.format(values=values)).result:  # type: ignore[attr-defined]
            labels[row["o"].value] = row["label"].value
    own = [t for t in triples if t.subject.value == iri]  # type: ignore[attr-defined]
    title = next((t.object.value for t in own if t.predicate.value.endswith("rdf-schema#label")), iri)  # type: ignore[attr-defined]
    rows = []
    for t in sorted(triples, key=lambda t: (t.subject.value != iri, t.subject.value, t.predicate.value)):  # type: ignore[attr-defined]
        obj = t.object  # type: ignore[attr-defined]
        if type(obj).__name__ == "NamedNode":
            cell = _link(obj.value, labels.get(obj.value))
        else:
            text = obj.value if len(obj.value) < 2000 else obj.value[:2000] + "…"
            cell = f"<span class=lit>{html.escape(text)}</span>"
        subject = "" if t.subject.value == iri else html.escape(t.subject.value.split("#", 1)[-1])  # type: ignore[attr-defined]
        rows.append(f"<tr><td>{subject}</td><td>{_link(t.predicate.value)}</td><td>{cell}</td></tr>")  # type: ignore[attr-defined]
    incoming = [
        f"<li>{_link(r['s'].value, r['label'].value if r['label'] else None)} {_short(r['p'].value)}</li>"
        for r in store.query(_INCOMING.replace("{iri}", iri)).result  # type: ignore[attr-defined]
    ]
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        "<link rel=stylesheet href=/static/style.css></head><body>"
        f"<p><a href=/>query</a></p><h1>{html.escape(title)}</h1><p><code>{html.escape(iri)}</code></p>"
        f"<table><tr><th>node</th><th>property</th><th>value</th></tr>{''.join(rows)}</table>"
        f"<h2>Linked from</h2><ul>{''.join(incoming) or '<li>nothing</li>'}</ul></body></html>"
    )


@router.get("/id/{kind}/{slug}", summary="A resource of the knowledge graph")
def resource(kind: str, slug: str, request: Request, format: str | None = None) -> Response:
    """The resource's description, as HTML or RDF by Accept (or ``?format=turtle|jsonld|…``)."""
    try:
        iri = str(mint(Kind(kind), slug)) if is_slug(slug) else None
    except ValueError:
        iri = None
    if iri is None:
        return JSONResponse({"error": "not found", "message": f"no resource kind {kind!r} / slug {slug!r}"}, 404)
    store = request.app.state.store
    triples = list(store.query(_DESCRIBE.replace("{iri}", iri)).result)
    if not triples:
        return JSONResponse({"error": "not found", "message": f"nothing is known about <{iri}>"}, 404)
    key = format or negotiate(request.headers.get("accept"), _OFFERS)
    if key in ("text/html", "html"):
        return HTMLResponse(_html(store, iri, triples), headers={"Vary": "Accept"})
    fmt = output_format(QueryKind.GRAPH, key) if key else None
    if fmt is None:
        return JSONResponse({"error": "not acceptable", "message": f"offered: {', '.join(_OFFERS)}"}, 406)
    buffer = io.BytesIO()
    QueryOutcome(QueryKind.GRAPH, triples).serialize(buffer, format_name=fmt.name)  # type: ignore[arg-type]
    return Response(buffer.getvalue(), media_type=fmt.media_type, headers={"Vary": "Accept"})
