"""The reading part of a resource page: what a researcher asks of an actor, a proposal, a
meeting or a place, answered with the facts the claims assert and the words that say so.

Every fact is shown with what its sentence puts on it (time, hedge, condition, dates) and
with the whole quote of each claim behind it, linked to the claim, so a former, announced,
hypothetical or conditional fact never reads as a plain current one. The raw triples of the
page are rendered elsewhere (:mod:`kg.server.linked_data`) and folded away.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape
from urllib.parse import quote

import pyoxigraph as ox

from kg.namespaces import NKG, SCHEMA, sparql_prologue
from kg.server.descriptions import Description, labels_of
from kg.server.markup import term_link
from kg.server.reading.facts import CLAIM_KIND, QUALIFIER_PROPERTIES, Fact, Term, facts_about
from kg.store.base import Store

__all__ = ["actor_sections", "meeting_sections", "place_sections", "proposal_sections", "qualifiers_html"]

STANCES = (str(NKG.proposedBy), str(NKG.supportedBy), str(NKG.opposedBy))
#: how a stance reads from the actor's side, and as a heading on the proposal's page
_POSITION = {str(NKG.proposedBy): "proposed", str(NKG.supportedBy): "supported", str(NKG.opposedBy): "opposed"}
_HEADING = {str(NKG.proposedBy): "Proposed by", str(NKG.supportedBy): "Supported by",
            str(NKG.opposedBy): "Opposed by"}
_ROLE = {str(NKG.participant): "participant", str(NKG.hostedBy): "host"}
_WORDS = (str(NKG.hedgeWords), str(NKG.condition), str(NKG.timeWords))
#: at most this many claims are listed in one section (with a link to all of them)
MAX_CLAIMS = 300

#: claims linked to ``{iri}`` by ``{predicate}`` (nkg:claimant, nkg:about), with quote and document
_CLAIMS = sparql_prologue() + """
SELECT ?claim ?quote ?document ?claimant ?kind WHERE {
  ?claim {predicate} <{iri}> .
  OPTIONAL { ?claim nkg:quote ?quote }
  OPTIONAL { ?claim nkg:statedIn ?document }
  OPTIONAL { ?claim nkg:claimant ?claimant }
  {claim kind}
} ORDER BY ?document ?claim LIMIT {limit}""".replace("{claim kind}", CLAIM_KIND)
_COUNT = sparql_prologue() + "SELECT (COUNT(DISTINCT ?claim) AS ?n) WHERE {{ ?claim {predicate} <{iri}> }}"
#: resources linked to ``{iri}`` by a plain triple ``?s {predicate} <{iri}>`` (meetings at a place, …)
_SUBJECTS = sparql_prologue() + """
SELECT DISTINCT ?s ?date WHERE {
  ?s {predicate} <{iri}> . OPTIONAL { ?s schema:startDate ?date }
} ORDER BY ?date ?s LIMIT 500"""


def qualifiers_html(values: dict[str, list[Term]], labels: dict[str, str]) -> str:
    """What the sentence puts on a fact, so the page never shows a qualified fact as a plain one.

    ``values`` maps each qualifier property to its values; the text's words are shown as quotations.
    """
    cells = []
    for name, prop in QUALIFIER_PROPERTIES:
        found = values.get(prop, [])
        if not found:
            continue
        if prop in _WORDS:
            shown = ", ".join(f"<q>{escape(v.value)}</q>" for v in found)
        elif prop == str(NKG.timeStatus):
            shown = ", ".join(term_link(v.value, labels.get(v.value)) for v in found)
        else:
            shown = ", ".join(escape(v.value) for v in found)
        cells.append(f"<span class=qualifier>{escape(name)}: {shown}</span>")
    return "<span class=qualifiers>" + " · ".join(cells) + "</span>" if cells else ""


def _labels(store: Store, facts: Iterable[Fact], extra: Iterable[str] = ()) -> dict[str, str]:
    named = set(extra)
    for f in facts:
        named |= {f.subject, f.predicate, *(e.claim for e in f.evidence), *(e.document for e in f.evidence if e.document)}
        named |= {x for e in f.evidence for x in (e.claimant, e.kind) if x}
        if isinstance(f.object, ox.NamedNode):
            named.add(f.object.value)
        named |= {v.value for vs in f.qualifiers.values() for v in vs if isinstance(v, ox.NamedNode)}
    return labels_of(store, named)


def _claim_link(claim: str, kind: str | None, labels: dict[str, str]) -> str:
    """A link to ``claim`` named by its kind (``key takeaway``, ``quoted statement``…), else "the claim"."""
    name = labels.get(kind, "").lower() if kind else ""
    return term_link(claim, name or "the claim")


def _evidence(fact: Fact, labels: dict[str, str]) -> str:
    """Each claim behind a fact: its whole quote, then the claim (by its kind), its claimant and
    its document as links — so an author's analysis never reads as the party's own statement."""
    out = []
    for e in fact.evidence:
        source = _claim_link(e.claim, e.kind, labels)
        if e.claimant:
            source += " by " + term_link(e.claimant, labels.get(e.claimant))
        if e.document:
            source += " in " + term_link(e.document, labels.get(e.document))
        out.append(f"<blockquote class=evidence>{escape(e.quote)}</blockquote><p class=source>{source}</p>")
    return "".join(out)


def _fact_item(fact: Fact, lead: str, labels: dict[str, str]) -> str:
    qualifiers = qualifiers_html(fact.qualifiers, labels)
    return f"<li class=fact><p>{lead}{' ' + qualifiers if qualifiers else ''}</p>{_evidence(fact, labels)}</li>"


def _term(term: Term, labels: dict[str, str]) -> str:
    if isinstance(term, ox.NamedNode):
        return term_link(term.value, labels.get(term.value))
    return escape(term.value)


def _claims(store: Store, iri: str, predicate: str, *, heading: str, ident: str, show_claimant: bool) -> str:
    """A section listing the claims linked to ``iri`` by ``predicate``, each with its whole quote."""
    rows = list(store.query(_CLAIMS.replace("{predicate}", predicate).replace("{iri}", iri)
                            .replace("{limit}", str(MAX_CLAIMS))).solutions())
    if not rows:
        return f"<h2 id={ident}>{escape(heading)}</h2><p>None.</p>"
    names = {r[k].value for r in rows for k in ("claim", "document", "claimant", "kind") if r[k] is not None}
    labels = labels_of(store, names)
    by_document: dict[str, list[str]] = {}
    seen: set[str] = set()
    for r in rows:
        if r["claim"].value in seen:
            continue  # a second claimant or kind of the same claim: the first is shown
        seen.add(r["claim"].value)
        if show_claimant and r["claimant"] is not None:
            who = f"<p class=source>{term_link(r['claimant'].value, labels.get(r['claimant'].value))} · "
        else:
            who = "<p class=source>"
        link = _claim_link(r["claim"].value, r["kind"].value if r["kind"] is not None else None, labels)
        item = (f"<li class=claim><blockquote class=evidence>{escape(r['quote'].value if r['quote'] else '')}"
                f"</blockquote>{who}{link}</p></li>")
        by_document.setdefault(r["document"].value if r["document"] is not None else "", []).append(item)
    parts = []
    for document, items in by_document.items():
        title = term_link(document, labels.get(document)) if document else "no document"
        parts.append(f"<h3>In {title} ({len(items)})</h3><ul class=claims>{''.join(items)}</ul>")
    more = ""
    if len(rows) == MAX_CLAIMS:
        total = next(store.query(_COUNT.format(predicate=predicate, iri=iri)).solutions())["n"].value
        query = quote(_CLAIMS.replace("{predicate}", predicate).replace("{iri}", iri).replace("{limit}", "100000"))
        more = (f"<p>The first {MAX_CLAIMS} of {escape(total)}; "
                f"<a href='/sparql?format=csv&amp;query={query}'>all of them (CSV)</a>.</p>")
    return f"<h2 id={ident}>{escape(heading)} ({len(rows)})</h2>{''.join(parts)}{more}"


def _grouped(facts: list[Fact], key: Callable[[Fact], str], labels: dict[str, str],
             lead: Callable[[Fact], str], *, order: Callable[[str], str] = str) -> str:
    """Facts in groups (one ``<h3>`` per key, a list of facts under it)."""
    groups: dict[str, list[Fact]] = {}
    for f in facts:
        groups.setdefault(key(f), []).append(f)
    return "".join(
        f"<h3>{term_link(k, labels.get(k))}</h3><ul class=facts>{''.join(_fact_item(f, lead(f), labels) for f in fs)}</ul>"
        for k, fs in sorted(groups.items(), key=lambda kv: order(kv[0]))
    )


def _sectioned(html: str) -> str:
    """Each ``<h2 id=…>`` of the page's own markup and what follows it, up to the next, as a
    ``<section>`` named by its heading (data never holds ``<h2``: every text is escaped)."""
    first, *rest = html.split("<h2 id=")
    return first + "".join(f"<section aria-labelledby={piece.split('>', 1)[0]}><h2 id={piece}</section>"
                           for piece in rest)


def _view_link(path: str, iri: str | None, text: str) -> str:
    target = path + (f"?focus={quote(iri, safe='')}" if iri else "")
    return f"<p class=views><a href='{escape(target)}'>{escape(text)}</a></p>"


# --- per kind -------------------------------------------------------------------------------


def actor_sections(store: Store, d: Description) -> str:
    """An actor: its stances (with quotes), the meetings it took part in, other facts, the
    claims it made and the claims about it."""
    iri = d.iri
    facts = facts_about(store, iri, as_subject=False) + facts_about(store, iri, as_subject=True)
    dates = {r["s"].value: r["date"].value for p in ("nkg:participant", "nkg:hostedBy")
             for r in store.query(_SUBJECTS.replace("{predicate}", p).replace("{iri}", iri)).solutions()
             if r["date"] is not None}
    labels = _labels(store, facts)
    stances = [f for f in facts if f.predicate in STANCES and f.object.value == iri]
    meetings = [f for f in facts if f.predicate in _ROLE and f.object.value == iri]
    others = [f for f in facts if f not in stances and f not in meetings]
    parts = [f"<h2 id=stances>Stances ({len(stances)})</h2>"]
    if stances:
        parts.append("<p>Each proposal this actor took a position on, with what the sentence puts on it and the "
                     "words of each claim.</p>" + _view_link("/views/stances", iri, "See them in the stance matrix"))
        parts.append(_grouped(stances, lambda f: f.subject, labels,
                              lambda f: f"<strong class=position>{_POSITION[f.predicate]}</strong>"))
    else:
        parts.append("<p>No stance on any proposal is asserted.</p>")
    parts.append(f"<h2 id=meetings>Meetings ({len({f.subject for f in meetings})})</h2>")
    if meetings:
        parts.append(_view_link("/views/timeline", iri, "See them on the timeline of meetings"))
        parts.append(_grouped(meetings, lambda f: f.subject, labels,
                              lambda f: f"<strong class=position>{_ROLE[f.predicate]}</strong>"
                                        + (f" · {escape(dates[f.subject])}" if f.subject in dates else ""),
                              order=lambda m: f"{dates.get(m, '9999')} {m}"))
    else:
        parts.append("<p>No meeting is asserted.</p>")
    if others:
        items = "".join(_fact_item(f, _sentence(f, labels), labels) for f in others)
        parts.append(f"<h2 id=facts>Other facts ({len(others)})</h2><ul class=facts>{items}</ul>")
    parts.append(_claims(store, iri, "nkg:claimant", heading="Claims it made", ident="claims-made",
                         show_claimant=False))
    parts.append(_claims(store, iri, "nkg:about", heading="Claims about it", ident="claims-about", show_claimant=True))
    return _sectioned("".join(parts))


def _sentence(f: Fact, labels: dict[str, str]) -> str:
    return (f"{term_link(f.subject, labels.get(f.subject))} <span class=pred>— "
            f"{term_link(f.predicate, labels.get(f.predicate))} —</span> {_term(f.object, labels)}")


def proposal_sections(store: Store, d: Description) -> str:
    """A proposal: every stance on it with the whole quote behind it, where it was discussed,
    and the claims about it by document."""
    iri = d.iri
    facts = facts_about(store, iri, as_subject=True)
    labels = _labels(store, facts)
    stances = [f for f in facts if f.predicate in STANCES]
    parts = [f"<h2 id=stances>Stances ({len(stances)})</h2>"]
    if stances:
        parts.append("<p>Every stance a claim asserts, with what its sentence puts on it and the whole quote; "
                     "only current stances without a condition are also plain properties of the proposal.</p>"
                     + _view_link("/views/stances", iri, "See this proposal in the stance matrix"))
        for predicate in STANCES:
            mine = [f for f in stances if f.predicate == predicate]
            if mine:
                items = "".join(_fact_item(f, _term(f.object, labels), labels) for f in mine)
                ident = "stances-" + _POSITION[predicate]
                parts.append(f"<h3 id={ident}>{_HEADING[predicate]} ({len(mine)})</h3><ul class=facts>{items}</ul>")
    else:
        parts.append("<p>No stance on this proposal is asserted.</p>")
    discussed = [f for f in facts if f.predicate == str(NKG.discussedAt)]
    if discussed:
        items = "".join(_fact_item(f, _term(f.object, labels), labels) for f in discussed)
        parts.append(f"<h2 id=discussed>Discussed at</h2><ul class=facts>{items}</ul>")
    parts.append(_claims(store, iri, "nkg:about", heading="Claims about it", ident="claims-about", show_claimant=True))
    return _sectioned("".join(parts))


def _dates(d: Description) -> str:
    """When a meeting was planned and when it was held, in words."""
    planned = [v.value for v in d.values(d.iri, NKG.scheduledDate)]
    start = [v.value for v in d.values(d.iri, SCHEMA.startDate)]
    end = [v.value for v in d.values(d.iri, SCHEMA.endDate)]
    held = ", ".join(start) + (" to " + ", ".join(end) if end and end != start else "")
    if planned and start:
        if set(planned) == set(start):
            return f"planned for {escape(', '.join(planned))} and held then ({escape(held)})"
        return f"planned for {escape(', '.join(planned))}; held {escape(held)}"
    if planned:
        return f"planned for {escape(', '.join(planned))}; no date it was held is asserted"
    if start:
        return f"held {escape(held)}; no planned date is asserted"
    return "no date is asserted"


def meeting_sections(store: Store, d: Description) -> str:
    """A meeting: its dates (planned and held), place, hosts and participants with their
    qualifiers and quotes, the proposals discussed there, and the claims about it."""
    iri = d.iri
    facts = facts_about(store, iri, as_subject=True)
    discussed = [f for f in facts_about(store, iri, as_subject=False) if f.predicate == str(NKG.discussedAt)]
    labels = _labels(store, facts + discussed)
    rows = [("when", _dates(d)),
            ("where", ", ".join(d.link(o) for o in d.values(iri, SCHEMA.location)) or "no place is asserted"),
            ("hosted by", ", ".join(d.link(o) for o in d.values(iri, NKG.hostedBy)))]
    parts = ["<dl class=meeting>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows if v) + "</dl>",
             _view_link("/views/timeline", None, "See it on the timeline of meetings")]
    people = [f for f in facts if f.predicate in _ROLE]
    parts.append(f"<h2 id=participants>Hosts and participants ({len({f.object.value for f in people})})</h2>")
    if people:
        items = "".join(_fact_item(f, f"{_term(f.object, labels)} <span class=position>{_ROLE[f.predicate]}</span>",
                                   labels) for f in sorted(people, key=lambda f: (f.predicate, f.object.value)))
        parts.append("<p>As the claims assert them: an announced or hypothetical participation is not one "
                     f"that took place.</p><ul class=facts>{items}</ul>")
    else:
        parts.append("<p>No participant is asserted.</p>")
    when_where = [f for f in facts if f.predicate not in _ROLE]
    if when_where:
        items = "".join(_fact_item(f, f"{term_link(f.predicate, labels.get(f.predicate))}: {_term(f.object, labels)}",
                                   labels) for f in when_where)
        parts.append(f"<h2 id=evidence>Date and place, with their evidence</h2><ul class=facts>{items}</ul>")
    if discussed:
        items = "".join(_fact_item(f, _term(ox.NamedNode(f.subject), labels), labels) for f in discussed)
        parts.append(f"<h2 id=proposals>Proposals discussed ({len(discussed)})</h2><ul class=facts>{items}</ul>")
    parts.append(_claims(store, iri, "nkg:about", heading="Claims about it", ident="claims-about", show_claimant=True))
    return _sectioned("".join(parts))


def place_sections(store: Store, d: Description) -> str:
    """A place: the meetings held there and the claims about it."""
    iri = d.iri
    rows = list(store.query(_SUBJECTS.replace("{predicate}", "schema:location").replace("{iri}", iri)).solutions())
    labels = labels_of(store, [r["s"].value for r in rows])
    items = "".join(f"<li>{term_link(r['s'].value, labels.get(r['s'].value))}"
                    f"{' · ' + escape(r['date'].value) if r['date'] is not None else ''}</li>" for r in rows)
    parts = [f"<h2 id=meetings>Meetings here ({len(rows)})</h2>" + (f"<ul>{items}</ul>" if rows else "<p>None.</p>")]
    parts.append(_claims(store, iri, "nkg:about", heading="Claims about it", ident="claims-about", show_claimant=True))
    return _sectioned("".join(parts))
