"""``/id/`` and ``/id/{kind}/``: the kinds of resource with their counts, and every resource of
a kind with its label, what a reader counts on it (claims, stances, meetings…) and a link.

HTML for people; for machines, by ``Accept`` or ``?format=``, the same list as a
`Hydra <https://www.w3.org/ns/hydra/core>`_ collection in any RDF format: the kind's IRI
(``https://w3id.org/negotiation-kg/id/actor/``) is a ``hydra:Collection`` with
``hydra:totalItems`` and one ``hydra:member`` per resource (each with its ``rdfs:label`` and
``rdf:type``), and the page asked for is its ``hydra:view``, a ``hydra:PartialCollectionView``
with ``hydra:first``/``previous``/``next``/``last`` (``?page=N``, :data:`PAGE_SIZE` members a
page). ``/id/`` is a collection whose members are the kinds' collections. The counts of
the HTML table are SPARQL away (the queries below) and are not in the RDF.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from html import escape

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from kg.errors import NotFoundError
from kg.formats import QueryKind, choose_format, format_aliases, graph_offers, rdf_format_by_name
from kg.iris import Kind
from kg.namespaces import HYDRA, NKG, PREFIXES, RDF, RDFS, RESOURCE_BASE, SD, XSD, sparql_prologue
from kg.server.descriptions import labels_of
from kg.server.markup import alternates, html_page, short, term_link
from kg.store.base import Store

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter()

#: members listed on one page of a kind
PAGE_SIZE = 500

#: the class whose instances make up each kind (graphs are the store's named graphs)
_CLASS = {Kind.ACTOR: NKG.Actor, Kind.PLACE: NKG.Place, Kind.MEETING: NKG.Meeting, Kind.PROPOSAL: NKG.Proposal,
          Kind.CLAIM: NKG.Claim, Kind.DOCUMENT: NKG.Document}
_PLURAL = {Kind.ACTOR: "Actors", Kind.PLACE: "Places", Kind.MEETING: "Meetings", Kind.PROPOSAL: "Proposals",
           Kind.CLAIM: "Claims", Kind.DOCUMENT: "Documents", Kind.GRAPH: "Named graphs"}
_STANCE = "FILTER (?p IN (nkg:proposedBy, nkg:supportedBy, nkg:opposedBy))"


@dataclass(frozen=True)
class Column:
    """A column of a kind's table: a count of ``?x`` (``count``) or a sample value ``?x``, for each ``?s``."""

    heading: str
    pattern: str
    count: bool = True


_COLUMNS: dict[Kind, tuple[Column, ...]] = {
    Kind.ACTOR: (Column("stances", f"?x rdf:object ?s ; rdf:predicate ?p . {_STANCE} ?c nkg:asserts ?x ."),
                 Column("meetings", "?st rdf:object ?s ; rdf:predicate ?p ; rdf:subject ?x . "
                                    "FILTER (?p IN (nkg:participant, nkg:hostedBy)) ?c nkg:asserts ?st ."),
                 Column("claims made", "?x nkg:claimant ?s ."),
                 Column("claims about", "?x nkg:about ?s .")),
    Kind.PROPOSAL: (Column("stances", f"?x rdf:subject ?s ; rdf:predicate ?p . {_STANCE} ?c nkg:asserts ?x ."),
                    Column("claims about", "?x nkg:about ?s .")),
    Kind.MEETING: (Column("date", "?s schema:startDate ?x .", count=False),
                   Column("participants", "?s nkg:participant ?x ."),
                   Column("claims about", "?x nkg:about ?s .")),
    Kind.PLACE: (Column("meetings", "?x schema:location ?s ."), Column("claims about", "?x nkg:about ?s .")),
    Kind.CLAIM: (Column("claimant", "?s nkg:claimant ?x .", count=False),
                 Column("document", "?s nkg:statedIn ?x .", count=False),
                 Column("facts", "?s nkg:asserts ?x .")),
    Kind.DOCUMENT: (Column("published", "?s schema:datePublished ?x .", count=False),
                    Column("claims", "?x nkg:statedIn ?s .")),
    Kind.GRAPH: (),
}

_TOTAL = sparql_prologue() + "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{cls}> }}"
_MEMBERS = sparql_prologue() + """
SELECT ?s ?label WHERE {
  { SELECT ?s (SAMPLE(?l) AS ?label) WHERE { ?s a <{cls}> . OPTIONAL { ?s rdfs:label ?l } } GROUP BY ?s }
} ORDER BY LCASE(STR(?label)) ?s LIMIT {limit} OFFSET {offset}"""
_COLUMN = sparql_prologue() + "SELECT ?s ({aggregate} AS ?v) WHERE {{ VALUES ?s {{ {values} }} {pattern} }} GROUP BY ?s"


def _total(store: Store, kind: Kind) -> int:
    if kind is Kind.GRAPH:
        return len(store.named_graphs())
    return int(next(store.query(_TOTAL.format(cls=_CLASS[kind])).solutions())["n"].value)


def _members(store: Store, kind: Kind, page: int) -> list[tuple[str, ox.Literal | None]]:
    """(IRI, label) of the members on ``page`` (1-based), by label."""
    if kind is Kind.GRAPH:
        graphs = store.named_graphs()[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
        return [(g, None) for g in graphs]
    query = (_MEMBERS.replace("{cls}", str(_CLASS[kind])).replace("{limit}", str(PAGE_SIZE))
             .replace("{offset}", str((page - 1) * PAGE_SIZE)))
    return [(r["s"].value, r["label"] if isinstance(r["label"], ox.Literal) else None)
            for r in store.query(query).solutions() if isinstance(r["s"], ox.NamedNode)]


def _column(store: Store, column: Column, iris: list[str]) -> dict[str, ox.NamedNode | ox.Literal | ox.BlankNode]:
    out = {}
    aggregate = "COUNT(DISTINCT ?x)" if column.count else "SAMPLE(?x)"
    for start in range(0, len(iris), 200):
        values = " ".join(f"<{i}>" for i in iris[start:start + 200])
        query = _COLUMN.format(aggregate=aggregate, values=values, pattern=column.pattern)
        out.update({r["s"].value: r["v"] for r in store.query(query).solutions() if r["v"] is not None})
    return out


def _collection(kind: Kind | None) -> str:
    return RESOURCE_BASE + (f"{kind.value}/" if kind else "")


def _rdf(request: Request, key: str, triples: list[ox.Triple]) -> Response:
    fmt = rdf_format_by_name(key)  # :func:`_choice` chose it
    buffer = io.BytesIO()
    if fmt.prefixes:
        ox.serialize(triples, buffer, fmt.oxigraph, prefixes={**PREFIXES, "hydra": str(HYDRA)})
    else:
        ox.serialize(triples, buffer, fmt.oxigraph)
    return Response(buffer.getvalue(), media_type=fmt.media_type, headers={"Vary": "Accept"})


def _t(s: str, p: object, o: ox.NamedNode | ox.Literal) -> ox.Triple:
    return ox.Triple(ox.NamedNode(s), ox.NamedNode(str(p)), o)


def _count(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=ox.NamedNode(str(XSD.integer)))


def _choice(request: Request, format: str | None) -> str:
    """``html`` or an RDF format's name, as ``format=`` or Accept asks (406 in the words every
    other route uses)."""
    return choose_format(format, request.headers.get("accept"), graph_offers(html=True),
                         aliases=format_aliases(QueryKind.GRAPH), what="an index")


def _formats(path: str) -> str:
    return " · ".join(f"<a href='{escape(url)}' type='{escape(media)}'>{escape(name)}</a>"
                      for name, media, url in alternates(path))


@router.get("/id/", summary="The kinds of resource, with their counts")
def kinds(request: Request, format: str | None = None) -> Response:
    """Each kind (actor, place, meeting, proposal, claim, document, graph) with how many there
    are; HTML, or a Hydra collection of the kinds' collections in RDF (``Accept`` or ``?format=``)."""
    store: Store = request.app.state.store
    key = _choice(request, format)
    counts = {kind: _total(store, kind) for kind in Kind}
    if key != "html":
        top = _collection(None)
        triples = [_t(top, RDF.type, ox.NamedNode(str(HYDRA.Collection))), _t(top, HYDRA.totalItems, _count(len(counts)))]
        for kind, n in counts.items():
            iri = _collection(kind)
            triples += [_t(top, HYDRA.member, ox.NamedNode(iri)), _t(iri, RDF.type, ox.NamedNode(str(HYDRA.Collection))),
                        _t(iri, RDFS.label, ox.Literal(_PLURAL[kind], language="en")),
                        _t(iri, HYDRA.totalItems, _count(n))]
        return _rdf(request, key, triples)
    rows = "".join(f"<tr><td><a href='/id/{kind.value}/'>{_PLURAL[kind]}</a></td><td class=n>{n:,}</td></tr>"
                   for kind, n in counts.items())
    # one search box a page: the header's finds labels, aliases and quotes from here too
    body = ("<p>Every resource of the knowledge graph, by kind; the search box at the top finds them by label, "
            "alias or the words of a quote.</p>"
            f"<table class=index><caption>Kinds of resource</caption><tr><th scope=col>kind</th>"
            f"<th scope=col class=n>resources</th></tr>{rows}</table>"
            f"<p class=formats>This list as {_formats('/id/')} (a Hydra collection).</p>")
    return HTMLResponse(html_page("Index", body), headers={"Vary": "Accept"})


@router.get("/id/{kind}/", summary="Every resource of one kind")
def kind_index(kind: str, request: Request, format: str | None = None,
               page: int = Query(1, ge=1, description=f"page of {PAGE_SIZE} resources, from 1")) -> Response:
    """Every resource of the kind, by label, with its counts (HTML), or a page of the Hydra
    collection in RDF (``Accept`` or ``?format=``)."""
    try:
        which = Kind(kind)
    except ValueError:
        raise NotFoundError(f"no kind {kind!r}; the kinds are {', '.join(k.value for k in Kind)}") from None
    store: Store = request.app.state.store
    key = _choice(request, format)
    total = _total(store, which)
    last = max(1, -(-total // PAGE_SIZE))
    if page > last:
        raise NotFoundError(f"page {page} of /id/{which.value}/: there are {last} (of {PAGE_SIZE} resources each)")
    members = _members(store, which, page)
    if key != "html":
        return _rdf(request, key, _hydra(which, members, total, page, last))
    iris = [m for m, _ in members]
    columns = [(c, _column(store, c, iris)) for c in _COLUMNS[which]]
    linked = {v.value for _, values in columns for v in values.values() if isinstance(v, ox.NamedNode)}
    labels = labels_of(store, linked) if linked else {}
    heads = "".join(f"<th scope=col{' class=n' if c.count else ''}>{escape(c.heading)}</th>" for c, _ in columns)
    rows = []
    for iri, label in members:
        cells = []
        for c, values in columns:
            v = values.get(iri)
            if c.count:
                cells.append(f"<td class=n>{escape(v.value) if v is not None else '0'}</td>")
            elif isinstance(v, ox.NamedNode):
                cells.append(f"<td>{term_link(v.value, labels.get(v.value))}</td>")
            else:
                cells.append(f"<td>{escape(v.value) if v is not None else ''}</td>")
        rows.append(f"<tr><td>{term_link(iri, label.value if label else short(iri))}</td>{''.join(cells)}</tr>")
    paging = ""
    if last > 1:
        links = [f"<a href='?page={p}'{' aria-current=page' if p == page else ''}>{p}</a>" for p in range(1, last + 1)]
        paging = f"<nav class=paging aria-label=pages>Page {page} of {last}: {' '.join(links)}</nav>"
    body = (f"<p>{total:,} {escape(_PLURAL[which].lower())}, by label. <a href=/id/>All kinds</a>.</p>{paging}"
            f"<table class=index><caption>{escape(_PLURAL[which])}</caption><colgroup><col class=label></colgroup>"
            f"<tr><th scope=col>{which.value}</th>{heads}</tr>{''.join(rows)}</table>{paging}"
            f"<p class=formats>This list as {_formats(f'/id/{which.value}/')} (a Hydra collection).</p>")
    return HTMLResponse(html_page(_PLURAL[which], body), headers={"Vary": "Accept"})


def _hydra(kind: Kind, members: list[tuple[str, ox.Literal | None]], total: int, page: int,
           last: int) -> list[ox.Triple]:
    """One page of the kind's collection, as Hydra: the collection, its members and the view."""
    iri = _collection(kind)
    view = f"{iri}?page={page}"
    triples = [_t(iri, RDF.type, ox.NamedNode(str(HYDRA.Collection))), _t(iri, HYDRA.totalItems, _count(total)),
               _t(iri, RDFS.label, ox.Literal(_PLURAL[kind], language="en")), _t(iri, HYDRA.view, ox.NamedNode(view)),
               _t(view, RDF.type, ox.NamedNode(str(HYDRA.PartialCollectionView))),
               _t(view, HYDRA.first, ox.NamedNode(f"{iri}?page=1")), _t(view, HYDRA.last, ox.NamedNode(f"{iri}?page={last}"))]
    if page > 1:
        triples.append(_t(view, HYDRA.previous, ox.NamedNode(f"{iri}?page={page - 1}")))
    if page < last:
        triples.append(_t(view, HYDRA.next, ox.NamedNode(f"{iri}?page={page + 1}")))
    cls = str(_CLASS.get(kind, SD.NamedGraph))
    for member, label in members:
        triples += [_t(iri, HYDRA.member, ox.NamedNode(member)), _t(member, RDF.type, ox.NamedNode(cls))]
        if label is not None:
            triples.append(_t(member, RDFS.label, label))
    return triples
