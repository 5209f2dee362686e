"""Who says what: a sentence cut into clause-sized claims, each with its claimant and kind.

The author is the claimant unless the text gives the words to someone else: an actor as the
subject of a reporting verb ("Bloomberg estimated", "the Russian Federation said", "Moscow
rejects"), "according to X", "for X," / "in X's view" / "X's position", "which X sees as";
a pronoun subject ("They do not see…") continues the previous clause's actor. An author's
frame ("It is noteworthy that…", "Thus,") keeps the author's judgement the author's. A
reported claim with quotation marks after its verb is ``quoted``, without them ``paraphrased``;
the author's own claims are ``analysis`` (``takeaway`` under a "key takeaways" heading).

A source the text leaves unnamed ("…, officials said.", "according to people familiar with the
talks", "Putin's spokesman said") is the claimant as the group or person the draft declares for it
(:mod:`kg.draft.speakers`), never the actor the words speak of, nor the author; so is a person the
gazetteer does not know, named with a title ("…,” Kremlin spokesman Dmitry Peskov told reporters").
A possessive is not a subject: "Ukraine's demand for…" is no report of Ukraine's, and "Putin's
spokesman said" is the spokesman's.

A sentence is cut where a clause gives the words to another claimant (", who has repeatedly
called for…", ", which in Russia's view…", "; the next moment, it calls for…"), so each claim
has one claimant and its quote stays the text's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.draft.gazetteer import Gazetteer, Mention
from kg.draft.speakers import ACCORDING, REPORTING, ROLES, TRAILING, Unnamed, referred_back, unnamed_source
from kg.draft.text import is_question
from kg.iris import Kind

__all__ = ["Segment", "attribute", "REPORTING"]

_VERB = re.compile(rf"\b{REPORTING}\b")
#: "X's position is/remains …", "X's declaration that …": the noun introduces what X holds; not
#: "X's declaration of readiness … has pushed …", where the verb is the author's judgement of it
_POSSESSIVE = re.compile(r"^[’']s (?:position|view|assessment|stance|declaration|statement|announcement|remarks)\b"
                         r"(?: on [^,:;]{1,40}?)?\s*(?::|\bthat\b|\b(?:is|was|remains|remained|has remained)\b)")
#: a verb that is not a report of the actor's words or act: negated ("did not reject"), a modal
#: ("can claim", "would reject") or an infinitive ("is expected to reject", "failed to reject")
_NOT_A_REPORT = re.compile(r"\b(?:not|never|n[’']t|no longer|can|cannot|could|may|might|must|should|shall|will|"
                           r"would|to)\s+(?:\w+\s+)?$")
_FRAME = re.compile(r"^(?:It is (?:noteworthy|worth noting|clear|no coincidence|completely understandable)|Thus,|"
                    r"Historically|Indeed|Complicating|All this|These|This is)")
_PRONOUN = re.compile(r"^(?:(?:[Tt]he|[Oo]ne|[Aa]nd)[\w ]{0,25}, |and |but )?(?:(?:[Tt]hey|[Ii]t|[Hh]e|[Ss]he)\b(?! is\b| was\b| would\b| will\b)"
                      r"|(?:but|and) (?:\w+ly )?(?=\w+s\b)|(?:Its|Their|His|Her) (?:position|view|assessment|stance)\b)")
_SPLIT = re.compile(r';[”"’]? |, (?=who |which |while |whereas |although |but (?:\w+ly )?\w+s\b)|—(?=[a-z])')
#: cuts after which a clause is a claim of its own even when the claimant goes on
_OWN = re.compile(r"^(?:which|who|although|but)\b")
#: a person the gazetteer does not know, as the subject of a reporting verb, with a title
#: before the name ("Foreign Minister Andrii Sybiha said", "Kremlin spokesman Dmitry Peskov said")
_NEW_SPEAKER = re.compile(rf"(?:[A-Z][\w’' ]{{0,40}}, )?(?P<title>[A-Z][a-z]+(?:[’']s)? (?:(?:[A-Z][a-z]+|[a-z]+) ){{0,2}})?"
                          rf"(?P<name>[A-Z][a-z][\w’'-]+(?: [A-Z][a-z][\w’'-]+){{1,2}}) {REPORTING}\b")
_QUOTES = re.compile(r"[“\"]")
#: a source's title and name ("Kremlin spokesman Dmitry Peskov", "Foreign Minister Andrii Sybiha")
#: a news outlet named as the one that reported ("Reuters", "The Associated Press")
_OUTLET = re.compile(r"(?P<title>)?(?P<name>(?:The )?[A-Z][\w&.-]*(?: [A-Z][\w&.-]*){0,3})")
_SOURCE_NAME = re.compile(r"(?P<title>[A-Z][a-z]+ (?:(?:[A-Z][a-z]+|[a-z]+) ){0,2})?"
                          r"(?P<name>[A-Z][a-z][\w’'-]+(?: [A-Z][a-z][\w’'-]+){1,2})")


@dataclass
class Segment:
    """A clause-sized span of one sentence with its claimant (``None``: the author) and kind."""

    start: int
    end: int
    claimant: str | None
    kind: str
    verb_at: int | None = None  # where the reporting verb is, for the stances
    new_name: str | None = None  # a speaker the gazetteer does not know: the name
    new_title: str | None = None  # and the title the text gives them
    unnamed: Unnamed | None = None  # a source the text does not name: the group to declare
    new_type: str = "Person"  # the type of the speaker the gazetteer does not know (a news outlet that reported)


def _actor_subject(text: str, start: int, end: int, mentions: list[Mention]) -> tuple[str, int] | None:
    """The actor that a reporting verb near the clause's start has as its subject (the one
    nearest the verb: "U.S. President Donald Trump predicted" is Trump's), and the verb's offset."""
    found: list[tuple[int, int, int, str]] = []
    question = is_question(text[start:end])
    for mention in mentions:
        if mention.entity.kind is Kind.ACTOR and re.search(r"\b(?:(?:unacceptable|acceptable) to|according to)\s+$",
                                                           text[max(start, mention.start - 20) : mention.start]):
            return mention.entity.id, mention.start  # "… is unacceptable to Moscow", "according to Kyiv"
    for mention in mentions:
        if mention.entity.kind is not Kind.ACTOR or mention.start - start > 80:
            continue
        lead = text[start : mention.start].strip().lower()
        before = text[max(start, mention.start - 12) : mention.start].lower()
        if lead in ("for", "according to", "in the view of") and text[mention.end : mention.end + 1] == ",":
            return mention.entity.id, mention.end
        if re.search(r"\b(from|to|with|by|of|on|against|than|for)\s+(its\s+|the\s+|their\s+)?$", before) \
                or re.search(r"\b(?:if|unless|whether|provided|that)\s+$", before, re.IGNORECASE):
            continue  # "If Russia rejects X, …", "a clear sign that Russia rejects X" report nothing Russia said
        if question and re.search(r"\b(?:do|does|did|will|would|can|could|should|is|are|was|were|has|have)\s+$",
                                  before, re.IGNORECASE):
            continue  # "Why does Russia reject X?" asks; Russia says nothing
        after = text[mention.end : min(end, mention.end + 70)]
        if _POSSESSIVE.match(after):
            return mention.entity.id, mention.end
        verb = _VERB.search(after)
        if verb is None:
            continue
        gap = after[: verb.start()]
        if re.match(rf"[’']s (?:(?:{ROLES})\b|$)", gap):
            continue  # "Ukraine's demand for", "Putin's spokesman (Dmitry Peskov) said": not the owner's words
        if re.search(r"[.;:?]|\bthat\b|\bwhich\b|\breason to\b|\b(?:this|the|a|an|its|their|his|her)\s+$", gap) \
                or len(gap.split()) > 7 or _NOT_A_REPORT.search(gap):
            continue
        found.append((mention.end + verb.start(), len(gap), mention.start, mention.entity.id))
    if found:  # the subject of the first verb ("Ukraine's foreign ministry said Russia rejected" is Ukraine's);
        # of two before one verb, the nearest ("U.S. President Donald Trump predicted" is Trump's)
        verb_at, _, _, ident = min(found)
        return ident, verb_at
    for mention in mentions:
        if mention.entity.kind is Kind.ACTOR and re.search(r"\bin\s+$", text[max(start, mention.start - 5) : mention.start]) \
                and text[mention.end : mention.end + 7] in ("’s view", "'s view"):
            return mention.entity.id, mention.start
    return None


def _trailing(text: str, start: int, end: int, mentions: list[Mention]) -> tuple[str, int] | None:
    """The known actor named as the speaker after the words ("…, Bloomberg reported."), with the
    clause's start as where its words begin (so quotation marks anywhere in it make it quoted)."""
    tail = TRAILING.search(text, start, end)
    if tail is None:
        return None
    named = [m for m in mentions if m.entity.kind is Kind.ACTOR and tail.start("who") <= m.start < tail.end("who")]
    return (named[-1].entity.id, start) if named else None


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    cuts = [start] + [m.end() if m.group().startswith(";") else m.start() + (1 if m.group().startswith(",") else 0)
                      for m in _SPLIT.finditer(text, start, end)] + [end]
    lead = re.match(r"(?:While|Whereas|Although) [^,]{5,80}, ", text[start:end])
    if lead:  # a leading subordinate clause ("While Kiev has a reason to …, the proposal is …")
        cuts = sorted({*cuts, start + lead.end()})
    if len(cuts) > 2 and re.match(r" (?:which|who) ", text[cuts[1] : cuts[1] + 7]) \
            and len(text[start : cuts[1]].split()) <= 3:
        del cuts[1]  # "The Kremlin, which …, appeared to …": a bare subject is no claim of its own
    out = []
    for a, b in zip(cuts, cuts[1:]):
        while a < b and text[a] in " ,—":
            a += 1
        while b > a and text[b - 1] in " ,;—":
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def attribute(text: str, start: int, end: int, gazetteer: Gazetteer, *, takeaway: bool,
              previous: str | None) -> list[Segment]:
    """The claims of the sentence ``text[start:end]``: one segment, or more where a clause gives
    the words to another claimant. ``previous`` is the claimant of the sentence before
    (a pronoun subject continues it)."""
    if takeaway:
        return [Segment(start, end, None, "takeaway")]
    segments: list[Segment] = []
    for a, b in _pieces(text, start, end):
        mentions = gazetteer.mentions(text, a, b)
        found = None if _FRAME.match(text[a:b]) else _trailing(text, a, b, mentions) or _actor_subject(text, a, b, mentions)
        claimant, verb_at = (found if found else (None, None))
        back = referred_back(text, a, b)
        unnamed = None if back is not None else unnamed_source(text, a, b, mentions)
        if back is not None:  # "The minister added that …": a speaker named before (``^role``: the caller finds whom)
            claimant, verb_at, found = "^" + back[0], back[1], None
        elif unnamed is not None:  # "Russia rejected X, officials said": the officials' words, not Russia's
            claimant, verb_at, found = "?" + unnamed[0].label, unnamed[1], None
        verb = _VERB.search(text, a, b)
        if claimant is None and verb is not None and text.startswith("who ", a):
            before = [m for m in gazetteer.mentions(text, start, a) if m.entity.kind is Kind.ACTOR]
            if before:  # ", who has repeatedly called for": the actor named just before
                claimant, verb_at = before[-1].entity.id, verb.start()
        if claimant is None and previous and _PRONOUN.match(text[a:b]) and verb is not None:
            claimant, verb_at = previous, verb.start()
        new, outlet = None, False
        according = ACCORDING.search(text, a, b)
        if according is not None and not any(according.start("who") <= m.start < according.end("who")
                                              for m in mentions if m.entity.kind is Kind.ACTOR):
            # a person the gazetteer does not know gives the words, whoever the clause's subject is:
            # the claim is the source's ("…, according to Kremlin spokesman Dmitry Peskov")
            new = _SOURCE_NAME.fullmatch(according.group("who").strip())
            if new is not None and gazetteer.find(new.group("name")) is None:
                claimant, verb_at, found = "?" + new.group("name"), a, None
            else:
                new = None
        tail = TRAILING.search(text, a, b)
        if claimant is None and found is None and new is None and tail is not None:
            new = _SOURCE_NAME.fullmatch(tail.group("who").strip())  # "Foreign Minister Andrii Sybiha said."
            if new is None and tail.group("verb").startswith("report"):
                new, outlet = _OUTLET.fullmatch(tail.group("who").strip()), True  # "…, Reuters reported."
            if new is not None and gazetteer.find(new.group("name")) is None:
                claimant, verb_at = "?" + new.group("name"), a
            else:
                new = None
        # a titled person the gazetteer does not know, speaking before any known actor does ("Foreign
        # Minister Andrii Sybiha said Russia rejected X" is Sybiha's, not Russia's)
        if new is None and unnamed is None and back is None and (claimant is None if found is None else claimant == found[0]) \
                and not _FRAME.match(text[a:b]):
            new = _NEW_SPEAKER.match(text, a, b)
            if new is not None and gazetteer.find(new.group("name")) is None and not any(
                    m.start < new.end("name") and text[m.end : m.end + 2] not in ("’s", "'s")  # "Putin's spokesman X"
                    for m in mentions if m.entity.kind is Kind.ACTOR) and (found is None or new.end("name") < found[1]):
                claimant, verb_at = "?" + new.group("name"), new.end("name")
            else:
                new = None
        kind = "analysis"
        if claimant is not None:
            kind = "quoted" if verb_at is not None and _QUOTES.search(text, verb_at, b) else "paraphrased"
        # a clause after a semicolon with its own reporting verb is a statement of its own
        own = _OWN.match(text[a:b]) or (claimant is not None and ";" in text[a - 3 : a] and verb_at is not None)
        if segments and claimant == segments[-1].claimant and not own:
            segments[-1].end = b  # the same claimant goes on: one claim
            continue
        segments.append(Segment(a, b, claimant, kind, verb_at,
                                new.group("name") if new else None,
                                (new.group("title") or "").strip() or None if new else None,
                                unnamed[0] if unnamed else None, "NewsOutlet" if new and outlet else "Person"))
        previous = claimant or previous
    return segments
