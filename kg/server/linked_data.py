"""``/id/{kind}/{slug}``: each resource, content-negotiated (HTML, Turtle, N-Triples, JSON-LD, RDF/XML).

The HTML page is built for reading: a summary first (label, kind, aliases, Wikidata), then
what a researcher asks of that kind (:mod:`kg.server.reading.sections`: an actor's stances
with their quotes, meetings and claims; every stance on a proposal with its whole quote; a
meeting's dates, place and participants), and last every triple and every link to the
resource, folded away in a ``<details>``. A claim's page shows its quote highlighted inside
its document, what it asserts in words with what the sentence puts on each fact (time,
hedges, conditions, dates), its estimate and the claims it corroborates or contradicts; a
document's page shows its full text with every claim's quote highlighted and linked (see
:func:`kg.server.descriptions.segments` for overlapping quotes).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from html import escape
from urllib.parse import quote

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kg.errors import NotFoundError
from kg.formats import QueryKind, choose_format, format_aliases, graph_offers, rdf_format_by_name
from kg.iris import Kind, is_slug, mint
from kg.namespaces import DCTERMS, NKG, OA, OWL, RDF, RDFS, SCHEMA, SD, SKOS, VOID, XSD
from kg.server.descriptions import (
    CONTEXT_CHARS,
    DESCRIBE,
    GRAPH_CONTENT,
    GRAPH_SIZE,
    INCOMING,
    INCOMING_COUNT,
    MAX_INCOMING,
    REPLIES,
    SPANS,
    TEXT,
    Description,
    describe,
    labels_of,
    literal_html,
    segments,
)
from kg.server.markup import alternates, href, html_page, short, term_link
from kg.server.reading.facts import QUALIFIER_PROPERTIES
from kg.server.reading.indexes import router as indexes_router
from kg.server.reading.search import router as search_router
from kg.server.reading.sections import (
    actor_sections,
    meeting_sections,
    place_sections,
    proposal_sections,
    qualifiers_html,
)
from kg.store import QueryOutcome
from kg.store.base import Store

__all__ = ["router"]

router = APIRouter()
# the indexes of each kind and the search live in kg.server.reading; they are served with the pages
router.include_router(indexes_router)
router.include_router(search_router)

# --- the page of any resource ---------------------------------------------------------------


def _properties(d: Description, *, elsewhere: dict[str, str] | None = None) -> str:
    """Every triple of the page: the resource's own, then one table per node under its IRI.

    ``elsewhere`` maps a property of the resource to what to show instead of its values
    (the full text of a document, shown above the table)."""
    elsewhere = elsewhere or {}
    out = []
    for subject in sorted(d.nodes, key=lambda s: (s != d.iri, s)):
        rows = []
        for predicate in sorted({p for p, _ in d.nodes[subject]}):
            values = sorted(d.values(subject, predicate), key=lambda o: (not isinstance(o, ox.NamedNode), o.value))
            if subject == d.iri and predicate in elsewhere:
                cells = elsewhere[predicate]
            else:
                cells = "<br>".join(d.link(o) for o in values)
            rows.append(f"<tr><th>{term_link(predicate, d.labels.get(predicate), title=short(predicate))}</th>"
                        f"<td>{cells}</td></tr>")
        if subject == d.iri:
            out.append(f"<h2 id=properties>Properties</h2><table class=props>{''.join(rows)}</table>")
        else:
            fragment = subject.split("#", 1)[-1]
            out.append(f"<h3 id='{escape(fragment)}'><code>#{escape(fragment)}</code></h3>"
                       f"<table class=props>{''.join(rows)}</table>")
    return "".join(out)


def _incoming(store: Store, iri: str) -> str:
    query = INCOMING.replace("{iri}", iri).replace("{limit}", str(MAX_INCOMING))
    rows = list(store.query(query).solutions())
    if not rows:
        return "<h2 id=incoming>Linked from</h2><p>nothing links here.</p>"
    subjects = [r["s"].value for r in rows if isinstance(r["s"], ox.NamedNode)]
    owners = {s: s.split("#", 1)[0] for s in subjects if "#" in s}
    labels = labels_of(store, [*subjects, *owners.values(), *(r["p"].value for r in rows)])
    grouped: dict[str, list[str]] = {}
    for row in rows:
        s, p = row["s"], row["p"].value
        if not isinstance(s, ox.NamedNode):
            item = literal_html(s)
        elif s.value in owners and s.value not in labels:
            owner = owners[s.value]
            item = (f'{term_link(s.value, labels.get(owner, short(owner)))} '
                    f'<span class=frag>#{escape(s.value.split("#", 1)[1])}</span>')
        else:
            item = term_link(s.value, labels.get(s.value))
        grouped.setdefault(p, []).append(f"<li>{item}</li>")
    body = "".join(
        f"<tr><th>{term_link(p, labels.get(p), title=short(p))}</th><td><ul>{''.join(items)}</ul></td></tr>"
        for p, items in grouped.items()
    )
    more = ""
    if len(rows) == MAX_INCOMING:
        total = next(store.query(INCOMING_COUNT.format(iri=iri)).solutions())["n"].value
        query = quote(f"SELECT ?s ?p WHERE {{ ?s ?p <{iri}> }} ORDER BY ?p ?s")
        more = (f"<p>The first {MAX_INCOMING} of {escape(total)} links; "
                f"<a href='/sparql?format=csv&amp;query={query}'>all of them (CSV)</a>.</p>")
    return f"<h2 id=incoming>Linked from</h2><table class=props>{body}</table>{more}"


#: how a page names its kind, in its summary
_KIND_NAMES = {Kind.ACTOR: "An actor", Kind.PLACE: "A place", Kind.MEETING: "A meeting", Kind.PROPOSAL: "A proposal",
               Kind.CLAIM: "A claim", Kind.DOCUMENT: "A document", Kind.GRAPH: "A named graph"}

_BASE_CLASSES = {str(c) for c in (NKG.Actor, NKG.Place, NKG.Meeting, NKG.Proposal, NKG.Claim, NKG.Document)}


def _summary(d: Description, kind: Kind) -> str:
    """What the resource is, first: its kind and types, aliases, Wikidata links, a note, the IRI."""
    types = d.values(d.iri, RDF.type)
    narrower = [t for t in types if t.value not in _BASE_CLASSES]
    types = narrower or types  # "A person", not "An actor: Actor, Person"
    rows = [("is", f"{_KIND_NAMES[kind]}" + (": " + ", ".join(d.link(t) for t in types) if types else ""))]
    aliases = d.values(d.iri, SKOS.altLabel)
    if aliases:
        rows.append(("also called", ", ".join(f"<q>{escape(a.value)}</q>" for a in aliases)))
    same = [o.value for o in d.values(d.iri, OWL.sameAs) if isinstance(o, ox.NamedNode)]
    if same:
        rows.append(("same as", ", ".join(f'<a class=sameas rel="owl:sameAs" href="{escape(s)}">{escape(short(s))}</a>'
                                          for s in same)))
    note = d.first(d.iri, SKOS.note)
    if note:
        rows.append(("note", f"<span class=note>{escape(note)}</span>"))
    rows.append(("IRI", f"<code class=iri>{escape(d.iri)}</code>"))
    return "<dl class=summary>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


# --- claims ---------------------------------------------------------------------------------


def _statement(d: Description, node: str) -> str:
    terms = [d.values(node, p) for p in (RDF.subject, RDF.predicate, RDF.object)]
    if not all(terms):
        return f"<li><code>{escape(node)}</code> (incomplete statement)</li>"
    s, p, o = (t[0] for t in terms)
    values = {prop: d.values(node, prop) for _, prop in QUALIFIER_PROPERTIES}
    qualifiers = qualifiers_html(values, d.labels)
    return (f"<li>{d.link(s)} <span class=pred>— {d.link(p)} —</span> {d.link(o)}"
            f"{' ' + qualifiers if qualifiers else ''}</li>")


def _estimate(d: Description, node: str) -> str:
    rows = [("measure", escape(d.first(node, NKG.measure) or ""))]
    value, low, high = (d.first(node, p) for p in (SCHEMA.value, SCHEMA.minValue, SCHEMA.maxValue))
    unit = escape(d.first(node, SCHEMA.unitText) or "")
    if value is not None:
        rows.append(("value", f"{escape(value)} {unit}"))
    if low is not None or high is not None:
        rows.append(("range", f"{escape(low or '…')} – {escape(high or '…')} {unit}"))
    date, words = d.first(node, NKG.referenceDate), d.first(node, NKG.dateWords)
    if date:
        rows.append(("as of", escape(date) + (f" (<q>{escape(words)}</q>)" if words else "")))
    sources = d.values(node, NKG.estimateSource)
    if sources:
        rows.append(("source", ", ".join(d.link(s) for s in sources)))
    return "<dl class=estimate>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _evidence(store: Store, d: Description, claim: str) -> str:
    """The quote highlighted in its document, with the text around its offsets."""
    slug = claim.rsplit("/", 1)[-1]
    out = []
    targets = [t.value for a in d.values(claim, NKG.evidence) for t in d.values(a.value, OA.hasTarget)]
    for number, target in enumerate(targets):
        source = d.first(target, OA.hasSource)
        selectors = [s.value for s in d.values(target, OA.hasSelector)]
        start, end, exact = (next((v for s in selectors if (v := d.first(s, p)) is not None), None)
                             for p in (OA.start, OA.end, OA.exact))
        if source is None or start is None or end is None:
            continue
        start_at, end_at = int(start), int(end)
        rows = list(store.query(TEXT.format(iri=source)).solutions())
        where = (f"<p>Characters [{start_at}, {end_at}) of {term_link(source, d.labels.get(source))} · "
                 f"<a href='{escape(href(source))}#claim-{escape(slug)}'>see it in the document</a></p>")
        text = rows[0]["text"].value if rows else ""
        if not 0 <= start_at < end_at <= len(text):
            out.append(where + "<p class=error>The document text does not reach these offsets.</p>")
            continue
        before, found, after = (text[max(0, start_at - CONTEXT_CHARS):start_at], text[start_at:end_at],
                                text[end_at:end_at + CONTEXT_CHARS])
        cut = (" cut-start" if start_at > CONTEXT_CHARS else "") + (
            " cut-end" if end_at + CONTEXT_CHARS < len(text) else "")
        check = ("" if exact is None or exact == found else
                 "<p class=error>The text at these offsets differs from the quote selector's exact text.</p>")
        mark_id = "quote" if number == 0 else f"quote-{number + 1}"
        out.append(f"<blockquote class='context{cut}' cite='{escape(source)}'>{escape(before)}"
                   f"<mark id={mark_id}>{escape(found)}</mark>{escape(after)}</blockquote>{where}{check}")
    return "<h2 id=in-context>In its document</h2>" + ("".join(out) or "<p>No located evidence.</p>")


def _claim(store: Store, d: Description) -> str:
    c = d.iri
    kinds = [t for t in d.values(c, RDF.type) if t.value.startswith(str(NKG)) and t.value != str(NKG.Claim)]
    rows = [
        ("claimant", ", ".join(d.link(o) for o in d.values(c, NKG.claimant))),
        ("kind", ", ".join(d.link(o) for o in kinds)),
        ("stated in", ", ".join(d.link(o) for o in d.values(c, NKG.statedIn))),
        ("hedge", ", ".join(f"<q>{escape(o.value)}</q>" for o in d.values(c, NKG.hedge))),
        ("CAMEO code", ", ".join(escape(o.value) for o in d.values(c, NKG.cameoCode))),
        ("about", ", ".join(d.link(o) for o in d.values(c, NKG.about))),
        ("corroborates", ", ".join(d.link(o) for o in d.values(c, NKG.corroborates))),
        ("contradicts", ", ".join(d.link(o) for o in d.values(c, NKG.contradicts))),
    ]
    replies: dict[str, list[str]] = {}
    for row in store.query(REPLIES.replace("{iri}", c)).solutions():
        label = row["label"].value if row["label"] else None
        replies.setdefault(row["p"].value, []).append(term_link(row["other"].value, label))
    rows += [("corroborated by", ", ".join(replies.get(str(NKG.corroborates), []))),
             ("contradicted by", ", ".join(replies.get(str(NKG.contradicts), [])))]
    quote_text = d.first(c, NKG.quote) or ""
    parts = [f"<blockquote class=quote>{escape(quote_text)}</blockquote>",
             "<dl class=claim>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows if v) + "</dl>",
             _evidence(store, d, c)]
    statements = [o.value for o in d.values(c, NKG.asserts)]
    if statements:
        items = "".join(_statement(d, s) for s in sorted(statements))
        parts.append(f"<h2 id=asserts>What it asserts</h2><ul class=statements>{items}</ul>")
    estimates = [o.value for o in d.values(c, NKG.estimate)]
    if estimates:
        parts.append("<h2 id=estimate-values>Estimate</h2>" + "".join(_estimate(d, e) for e in estimates)
                     + "<p class=views><a href='/views/estimates'>See it among the other estimates, over time</a></p>")
    return "".join(parts)


# --- documents -------------------------------------------------------------------------------


@dataclass
class _Located:
    claim: str
    start: int
    end: int
    label: str
    number: int = 0
    kinds: list[str] = field(default_factory=list)


def _located_claims(store: Store, iri: str) -> list[_Located]:
    found: dict[tuple[str, int, int], _Located] = {}
    for row in store.query(SPANS.replace("{iri}", iri)).solutions():
        key = (row["claim"].value, int(row["start"].value), int(row["end"].value))
        item = found.setdefault(key, _Located(*key, label=row["label"].value if row["label"] else short(key[0])))
        if row["kind"] is not None and row["kind"].value not in item.kinds:
            item.kinds.append(row["kind"].value)
    located = sorted(found.values(), key=lambda x: (x.start, x.end, x.claim))
    for number, item in enumerate(located, start=1):
        item.number = number
    return located


def _anchor(claim: str) -> str:
    return "claim-" + claim.rsplit("/", 1)[-1]


def _highlighted(text: str, located: list[_Located]) -> str:
    """The document text with every quote in a ``<mark>`` linking to its claim(s)."""
    out, anchored = [], set()
    for seg in segments(len(text), ((x.start, x.end, x) for x in located)):
        piece = escape(text[seg.start:seg.end])
        if not seg.covering:
            out.append(piece)
            continue
        for x in seg.covering:
            if x.claim not in anchored and x.start == seg.start:
                anchored.add(x.claim)
                out.append(f"<span class=anchor id='{escape(_anchor(x.claim))}'></span>")
        inner = min(seg.covering, key=lambda x: (x.end - x.start, x.number))
        ids = " ".join(_anchor(x.claim) for x in seg.covering)
        link = f"<a href='{escape(href(inner.claim))}' title='{escape(inner.label)}'>{piece}</a>"
        refs = ""
        if len(seg.covering) > 1:
            refs = "<sup class=refs>" + " ".join(
                f"<a href='{escape(href(x.claim))}' title='{escape(x.label)}'>{x.number}</a>" for x in seg.covering
            ) + "</sup>"
        classes = "hl" + (" multi" if len(seg.covering) > 1 else "") + (
            " start" if any(x.start == seg.start for x in seg.covering) else "")
        out.append(f"<mark id=at-{seg.start} class='{classes}' data-claims='{escape(ids)}'>{link}{refs}</mark>")
    return "".join(out)


def _document(store: Store, d: Description) -> str:
    doc = d.iri
    text = d.first(doc, SCHEMA.text) or ""
    located = _located_claims(store, doc)
    sha = d.first(doc, NKG.sha256)
    rows = [
        ("title", escape(d.first(doc, DCTERMS.title) or "")),
        ("author", ", ".join(d.link(o) for o in d.values(doc, SCHEMA.author))),
        ("published", ", ".join(escape(o.value) for o in d.values(doc, SCHEMA.datePublished))),
        ("language", escape(d.first(doc, SCHEMA.inLanguage) or "")),
        ("SHA-256", f"<code>{escape(sha)}</code>" if sha else ""),
        ("length", f"{len(text):,} characters, {len(located)} located quotes"),
    ]
    kind_labels = labels_of(store, {k for x in located for k in x.kinds})
    items = "".join(
        f"<li value={x.number}>{term_link(x.claim, x.label)} "
        f"<span class=kind>{', '.join(escape(kind_labels.get(k, short(k))) for k in x.kinds)}</span> "
        f"<a class=back href='#{escape(_anchor(x.claim))}' title='in the text'>[{x.start}, {x.end})</a></li>"
        for x in located
    )
    return (
        "<dl class=document>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows if v) + "</dl>"
        f"<h2 id=text>Text</h2><div class=doctext>{_highlighted(text, located)}</div>"
        f"<h2 id=claims>Claims ({len(located)})</h2><ol class=claims>{items}</ol>"
    )


#: the reading part of the page of each kind that has one (claims and documents: below)
_SECTIONS = {Kind.ACTOR: actor_sections, Kind.PROPOSAL: proposal_sections, Kind.MEETING: meeting_sections,
             Kind.PLACE: place_sections}


def _html(store: Store, iri: str, kind: Kind, triples: list[ox.Triple]) -> str:
    """Summary first, then what a reader asks of this kind, then every triple, folded away."""
    d = describe(store, iri, triples)
    title = d.first(iri, RDFS.label) or short(iri)
    body = _summary(d, kind)
    elsewhere: dict[str, str] = {}
    if kind in _SECTIONS:
        body += _SECTIONS[kind](store, d)
    elif kind is Kind.CLAIM:
        body += _claim(store, d)
    elif kind is Kind.DOCUMENT and d.first(iri, SCHEMA.text) is not None:
        body += _document(store, d)
        elsewhere[str(SCHEMA.text)] = "<a href=#text>the full text, above</a>"
    elif kind is Kind.GRAPH and d.first(iri, VOID.triples) is not None:
        query = quote(GRAPH_CONTENT.format(iri=iri))
        body += (f"<p>A named graph of this dataset: {escape(d.first(iri, VOID.triples) or '')} triples. Its content: "
                 + " · ".join(f"<a href='/sparql?format={f}&amp;query={query}'>{t}</a>"
                              for f, t in (("turtle", "Turtle"), ("ntriples", "N-Triples"), ("jsonld", "JSON-LD")))
                 + "; the whole dataset: <a href=/dumps/>dumps</a>.</p>")
    body += ("<details class=raw id=raw><summary>Every triple of this resource, and what links to it</summary>"
             + _properties(d, elsewhere=elsewhere) + _incoming(store, iri) + "</details>")
    return html_page(title, body, alternates=alternates(href(iri)))


def _graph_facts(store: Store, iri: str) -> list[ox.Triple]:
    """What the store knows about one of its named graphs: that it is one, and its size."""
    size = next(store.query(GRAPH_SIZE.format(iri=iri)).solutions())["n"]
    node, integer = ox.NamedNode(iri), ox.NamedNode(str(XSD.integer))
    return [ox.Triple(node, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(SD.Graph))),
            ox.Triple(node, ox.NamedNode(str(VOID.triples)), ox.Literal(size.value, datatype=integer))]


@router.get("/id/{kind}/{slug}", summary="A resource of the knowledge graph")
def resource(kind: str, slug: str, request: Request, format: str | None = None) -> Response:
    """The resource's description, as HTML or RDF by Accept (or ``?format=turtle|jsonld|…``)."""
    try:
        iri = str(mint(Kind(kind), slug)) if is_slug(slug) else None
    except ValueError:
        iri = None
    if iri is None:
        raise NotFoundError(f"no resource kind {kind!r} / slug {slug!r}")
    store = request.app.state.store
    triples = list(store.query(DESCRIBE.replace("{iri}", iri)).result)
    if kind == Kind.GRAPH.value and iri in store.named_graphs():
        triples += _graph_facts(store, iri)
    if not triples:
        raise NotFoundError(f"nothing is known about <{iri}>")
    key = choose_format(format, request.headers.get("accept"), graph_offers(html=True),
                        aliases=format_aliases(QueryKind.GRAPH), what="a resource")
    if key == "html":
        return HTMLResponse(_html(store, iri, Kind(kind), triples), headers={"Vary": "Accept"})
    fmt = rdf_format_by_name(key)
    buffer = io.BytesIO()
    QueryOutcome(QueryKind.GRAPH, triples).serialize(buffer, format_name=fmt.name)  # type: ignore[arg-type]
    return Response(buffer.getvalue(), media_type=fmt.media_type, headers={"Vary": "Accept"})
