"""The default backend: rules over sentences, the gazetteer and cue words — offline, no model.

Each sentence (headings, bylines and one-line labels left out) becomes one claim, or several
where a clause gives the words to another claimant (:mod:`kg.draft.attribution`); each claim
carries the entities it names (``about``), its hedges, the stances its clause states
(:mod:`kg.draft.stances`) and the number with a unit it gives (:mod:`kg.draft.estimates`).
"""

from __future__ import annotations

import re

from kg.draft.attribution import attribute
from kg.draft.backends import Context, Proposal
from kg.draft.estimates import estimate_in
from kg.draft.metadata import slugify
from kg.draft.model import DraftClaim, DraftEntity, DraftFact
from kg.draft.stances import hedges_in, stances
from kg.draft.text import Span, is_question
from kg.iris import Kind

__all__ = ["RulesBackend", "claims_of"]


def _is_label(text: str, span: Span) -> bool:
    """A heading, byline or label rather than a sentence: short, and no sentence's end."""
    words = span.of(text).split()
    return len(words) <= 8 and not span.of(text).rstrip("”\"’)").endswith((".", "?", "!"))


def claims_of(context: Context, spans: list[Span] | tuple[Span, ...], entities: list[DraftEntity]) -> list[DraftClaim]:
    """The claims the rules find in ``spans`` (sentences of ``context.text``); the speakers it
    finds that the gazetteer does not know are added to ``entities``."""
    text, gazetteer = context.text, context.gazetteer
    takeaways = {(s.start, s.end) for s in context.takeaways}
    out: list[DraftClaim] = []
    previous: str | None = None
    new: dict[str, DraftEntity] = {}
    unnamed: set[str] = set()  # a source the text does not name reports or judges; it holds no stance
    titles: dict[str, str] = {}  # the titles the text gives the new speakers ("Foreign Minister")
    for span in spans:
        if _is_label(text, span):
            continue
        question = is_question(span.of(text))
        segments = attribute(text, span.start, span.end, gazetteer,
                             takeaway=(span.start, span.end) in takeaways, previous=previous)
        for seg in segments:
            if seg.new_name is not None:
                ident = slugify(seg.new_name)
                if ident in gazetteer.entities:
                    ident = f"{ident}-{'outlet' if seg.new_type == 'NewsOutlet' else 'person'}"
                what = "A news outlet the text names as reporting" if seg.new_type == "NewsOutlet" else "A speaker the text names"
                new.setdefault(ident, DraftEntity(ident, "actor", seg.new_type, seg.new_name, f"{what}; not yet in the store."))
                seg.claimant = ident
                if seg.new_title:
                    titles[ident] = seg.new_title
            elif seg.unnamed is not None:
                ident = slugify(seg.unnamed.label)
                if ident in gazetteer.entities:  # a group of another document: these are not known to be them
                    ident = f"{ident}-{context.document or 'here'}"
                new.setdefault(ident, DraftEntity(ident, "actor", seg.unnamed.type, seg.unnamed.label, seg.unnamed.note))
                unnamed.add(ident)
                seg.claimant = ident
            elif seg.claimant is not None and seg.claimant.startswith("^"):
                seg.claimant = _referent(seg.claimant[1:], out, titles, context, new)
            claimant = seg.claimant or context.author
            mentioned = [m.entity.id for m in gazetteer.mentions(text, seg.start, seg.end)]
            about = [i for i in dict.fromkeys(mentioned) if i != context.author]
            claim = DraftClaim(seg.kind, claimant, seg.start, seg.end, text[seg.start : seg.end],
                               hedges=hedges_in(text, seg.start, seg.end), about=about)
            judged = seg.unnamed is not None and seg.unnamed.judges  # an opinion of critics, analysts: no stance
            claim.asserts = [f for f in stances(text, seg.start, seg.end, gazetteer, speaker=seg.claimant,
                                                question=question or judged)
                            if f.object != context.author and f.object not in unnamed]
            if seg.new_title and seg.new_name:
                claim.asserts.append(DraftFact(claimant, "jobTitle", seg.new_title))
            claim.estimate = estimate_in(text, seg.start, seg.end, context.anchor)
            if claim.estimate is not None and seg.claimant is not None:
                known = gazetteer.entities.get(seg.claimant)
                if known is not None and known.kind is Kind.ACTOR:
                    claim.estimate.sources = [seg.claimant]
            out.append(claim)
        previous = segments[-1].claimant if segments else previous
    entities.extend(new.values())
    return out


def _referent(role: str, before: list[DraftClaim], titles: dict[str, str], context: Context,
              new: dict[str, DraftEntity]) -> str:
    """Whom "the minister" of "The minister added that …" means: the latest speaker of the claims
    before whose title or names hold the role ("Foreign Minister Andrii Sybiha"); else an unnamed
    person with that role the draft declares, for a reviewer to merge — never the author."""
    word = role.split()[-1].lower()
    for claim in reversed(before[-6:]):
        known = context.gazetteer.entities.get(claim.claimant)
        evidence = [titles.get(claim.claimant, "")] + (context.gazetteer.names(claim.claimant)
                                                       if known is not None and known.type in ("Person", "OfficeHolder")
                                                       else [])
        if any(re.search(rf"\b{word}\b", e, re.IGNORECASE) for e in evidence):
            return claim.claimant
    label = f"Unnamed {role.lower()}"
    ident = slugify(label)
    if ident in context.gazetteer.entities:
        ident = f"{ident}-{context.document or 'here'}"
    new.setdefault(ident, DraftEntity(ident, "actor", "Person", label,
                                      f"The text refers back to “the {role}”, whom it may have named before; "
                                      "a reviewer replaces this with that person."))
    return ident


class RulesBackend:
    """Sentences, gazetteer, cue words: no model, no download."""

    method = "rules"

    def propose(self, context: Context) -> Proposal:
        """Every claim the rules find in the document's sentences."""
        entities: list[DraftEntity] = []
        return Proposal(claims_of(context, context.sentences, entities), entities, [])
