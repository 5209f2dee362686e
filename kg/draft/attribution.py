"""Who says what: a sentence cut into clause-sized claims, each with its claimant and kind.

The author is the claimant unless the text gives the words to someone else: an actor as the
subject of a reporting verb ("Bloomberg estimated", "the Russian Federation said", "Moscow
rejects"), "according to X", "for X," / "in X's view" / "X's position", "which X sees as";
a pronoun subject ("They do not see…") continues the previous clause's actor. An author's
frame ("It is noteworthy that…", "Thus,") keeps the author's judgement the author's. A
reported claim with quotation marks after its verb is ``quoted``, without them ``paraphrased``;
the author's own claims are ``analysis`` (``takeaway`` under a "key takeaways" heading).

A source the text leaves unnamed ("…, officials said.", "Two senior diplomats told Reuters…",
"according to people familiar with the talks", "which many experts consider…") is the
claimant, as a group the draft declares ("Unnamed officials"; "Unnamed Russian officials" when the
text says whose) — never the actor named in the words they give, and never the author. Who reports
(officials, sources, diplomats) keeps the stance the words state, as a named source does
("…, according to Kremlin spokesman Dmitry Peskov"); who judges (analysts, experts, critics,
observers) gives an opinion, and no stance is drafted from it.

A sentence is cut where a clause gives the words to another claimant (", who has repeatedly
called for…", ", which in Russia's view…", "; the next moment, it calls for…"), so each claim
has one claimant and its quote stays the text's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.draft.gazetteer import Gazetteer, Mention
from kg.iris import Kind

__all__ = ["Segment", "attribute", "REPORTING"]

#: reporting and public-act verbs: an actor as their subject makes the claim the actor's
REPORTING = (
    r"(?:said|says|say|stated|states|stating|told|tells|declared|declares|declare|announced|announces|"
    r"claimed|claims|claim|maintained|maintains|maintain|warned|warns|estimated|estimates|predicted|predicts|"
    r"termed|terms|(?<!-)called|exclaimed|exclaims|acknowledged|acknowledges|telegraphs|telegraphed|insisted|"
    r"(?:has |have |had )?(?:repeatedly )?call(?:ed|s)? for|(?:has |have )?continued to call for|"
    r"reject(?:ed|s)?|demand(?:ed|s)?|urged|urges|see|sees|saw|considers?|believes?|argued|argues|"
    r"denied|denies|confirmed|confirms|promised|promises|threatened|threatens|vowed|vows|asked|asks|wondered|accused|accuses)"
)
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
_NEW_SPEAKER = re.compile(rf"(?:[A-Z][\w’' ]{{0,40}}, )?(?P<title>[A-Z][a-z]+ (?:(?:[A-Z][a-z]+|[a-z]+) ){{0,2}})?"
                          rf"(?P<name>[A-Z][a-z][\w’'-]+(?: [A-Z][a-z][\w’'-]+){{1,2}}) {REPORTING}\b")
_QUOTES = re.compile(r"[“\"]")
#: the speaker named after the words ("“…,” Foreign Minister Andrii Sybiha said.", "…, Bloomberg reported.")
_TRAILING = re.compile(r"[,”\"]\s*(?P<who>[^,“”\"]{2,80}?)\s+(?:said|says|say|reported|reports|added|adds|stated|"
                       r"announced|claimed|claims|warned|told (?:\w+ ){0,2}?\w+)"
                       # "…, officials said on Monday.", "…, a diplomat said on condition of anonymity."
                       r"(?: (?:on|late|earlier|in|at|after) [^,;.“”\"]{1,40})?[.!]?$")
#: the source named at the clause's end ("Russia rejected it, according to Kremlin spokesman Dmitry Peskov.")
_ACCORDING = re.compile(r",?\s*according to (?P<who>[^,;“”\"]{2,80}?)[.!]?$")
#: a source's title and name ("Kremlin spokesman Dmitry Peskov", "Foreign Minister Andrii Sybiha")
_SOURCE_NAME = re.compile(r"(?P<title>[A-Z][a-z]+ (?:(?:[A-Z][a-z]+|[a-z]+) ){0,2})?"
                          r"(?P<name>[A-Z][a-z][\w’'-]+(?: [A-Z][a-z][\w’'-]+){1,2})")
_TRAILING_NAME = re.compile(r"(?P<title>(?:[A-Z][a-z]+ ){1,3})?(?P<name>[A-Z][a-z][\w’'-]+(?: [A-Z][a-z][\w’'-]+){1,2})$")


#: who reports what happened, and who judges it
_REPORTERS = r"officials?|sources?|diplomats?|insiders?|aides?|negotiators?|people (?:familiar|close) with [^,;.“”\"]{3,40}?"
_JUDGES = r"analysts?|experts?|observers?|critics?|commentators?"
#: words before the noun that say which or whose ("senior", "Russian", "U.S.")
_QUALIFIERS = ("senior", "junior", "high-ranking", "top", "anonymous", "unnamed", "independent", "military",
               "government", "security", "intelligence", "western", "several", "other")
_UNNAMED = re.compile(
    rf"(?P<who>(?:(?i:an?|one|two|three|four|several|some|many|most|other|the)\s+)?"
    rf"(?P<whose>(?:(?:(?i:{'|'.join(_QUALIFIERS)})|[A-Z][\w.’'-]*)\s+){{0,3}}?)"
    rf"(?:(?P<reports>(?i:{_REPORTERS}))|(?P<judges>(?i:{_JUDGES}))))(?![\w-])"
)
#: an unnamed source as the subject of a reporting verb at the clause's start
_UNNAMED_SUBJECT = re.compile(rf"(?:(?:which|who|and|but|while|whereas|although|as)\s+)?{_UNNAMED.pattern}"
                              rf"(?:\s+\w+ly)?\s+{REPORTING}\b")


@dataclass(frozen=True)
class Unnamed:
    """A source the text cites without naming it: the group's label, a note, whether it judges."""

    label: str
    note: str
    judges: bool


def _unnamed(match: re.Match[str]) -> Unnamed:
    """The group an unnamed source is, from its words in the text ("two senior Russian officials")."""
    whose = [w if w[0].isupper() and w.lower() not in _QUALIFIERS else w.lower() for w in match.group("whose").split()]
    noun = match.group("reports") or match.group("judges")
    label = " ".join(["Unnamed", *whose, noun[0].lower() + noun[1:]])
    judges = match.group("judges") is not None
    said = "" if judges or any(w[0].isupper() for w in whose) else "; it does not say whose they are"
    return Unnamed(label, f"A source the text cites as “{match.group('who')}”, without names{said}.", judges)


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


def _actor_subject(text: str, start: int, end: int, mentions: list[Mention]) -> tuple[str, int] | None:
    """The actor that a reporting verb near the clause's start has as its subject (the one
    nearest the verb: "U.S. President Donald Trump predicted" is Trump's), and the verb's offset."""
    found: list[tuple[int, int, str, int]] = []
    question = text[start:end].rstrip("”\"’) ").endswith("?")
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
                or re.search(r"\b(?:if|unless|whether|provided)\s+$", before, re.IGNORECASE):
            continue  # "If Russia rejects X, …" reports nothing Russia said
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
        if re.search(r"[.;:?]|\bthat\b|\bwhich\b|\breason to\b|\b(?:this|the|a|an|its|their|his|her)\s+$", gap) \
                or len(gap.split()) > 7 or _NOT_A_REPORT.search(gap):
            continue
        found.append((len(gap), mention.start, mention.entity.id, mention.end + verb.start()))
    if found:  # the actor nearest its verb; of two as near, the first ("Ukraine said Russia rejected")
        _, _, ident, verb_at = min(found)
        return ident, verb_at
    for mention in mentions:
        if mention.entity.kind is Kind.ACTOR and re.search(r"\bin\s+$", text[max(start, mention.start - 5) : mention.start]) \
                and text[mention.end : mention.end + 7] in ("’s view", "'s view"):
            return mention.entity.id, mention.start
    return None


def _trailing(text: str, start: int, end: int, mentions: list[Mention]) -> tuple[str, int] | None:
    """The known actor named as the speaker after the words ("…, Bloomberg reported."), with the
    clause's start as where its words begin (so quotation marks anywhere in it make it quoted)."""
    tail = _TRAILING.search(text, start, end)
    if tail is None:
        return None
    named = [m for m in mentions if m.entity.kind is Kind.ACTOR and tail.start("who") <= m.start < tail.end("who")]
    return (named[-1].entity.id, start) if named else None


def _unnamed_source(text: str, start: int, end: int) -> tuple[Unnamed, int] | None:
    """The unnamed source that gives the clause's words, and where its words' verb is: named after
    them ("…, officials said."), after "according to", or as the subject of a reporting verb at the
    clause's start ("Officials said…", "which many experts consider…")."""
    for tail in (_TRAILING.search(text, start, end), _ACCORDING.search(text, start, end)):
        source = _UNNAMED.fullmatch(tail.group("who").strip()) if tail is not None else None
        if source is not None:
            return _unnamed(source), start
    lead = _UNNAMED_SUBJECT.match(text, start, end)
    return (_unnamed(lead), lead.end()) if lead is not None else None


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    cuts = [start] + [m.end() if m.group().startswith(";") else m.start() + (1 if m.group().startswith(",") else 0)
                      for m in _SPLIT.finditer(text, start, end)] + [end]
    lead = re.match(r"(?:While|Whereas|Although) [^,]{5,80}, ", text[start:end])
    if lead:  # a leading subordinate clause ("While Kiev has a reason to …, the proposal is …")
        cuts = sorted({*cuts, start + lead.end()})
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
        unnamed = _unnamed_source(text, a, b)
        if unnamed is not None:  # "Russia rejected X, officials said": the officials' words, not Russia's
            claimant, verb_at, found = "?" + unnamed[0].label, unnamed[1], None
        verb = _VERB.search(text, a, b)
        if claimant is None and verb is not None and text.startswith("who ", a):
            before = [m for m in gazetteer.mentions(text, start, a) if m.entity.kind is Kind.ACTOR]
            if before:  # ", who has repeatedly called for": the actor named just before
                claimant, verb_at = before[-1].entity.id, verb.start()
        if claimant is None and previous and _PRONOUN.match(text[a:b]) and verb is not None:
            claimant, verb_at = previous, verb.start()
        new = None
        according = _ACCORDING.search(text, a, b)
        if according is not None and not any(according.start("who") <= m.start < according.end("who")
                                              for m in mentions if m.entity.kind is Kind.ACTOR):
            # a person the gazetteer does not know gives the words, whoever the clause's subject is:
            # the claim is the source's ("…, according to Kremlin spokesman Dmitry Peskov")
            new = _SOURCE_NAME.fullmatch(according.group("who").strip())
            if new is not None and gazetteer.find(new.group("name")) is None:
                claimant, verb_at, found = "?" + new.group("name"), a, None
            else:
                new = None
        tail = _TRAILING.search(text, a, b)
        if claimant is None and found is None and new is None and tail is not None:
            new = _TRAILING_NAME.fullmatch(tail.group("who").strip())  # "Foreign Minister Andrii Sybiha said."
            if new is not None and gazetteer.find(new.group("name")) is None:
                claimant, verb_at = "?" + new.group("name"), a
            else:
                new = None
        if claimant is None and found is None and new is None and not _FRAME.match(text[a:b]):
            new = _NEW_SPEAKER.match(text, a, b)
            if new is not None and gazetteer.find(new.group("name")) is None and not any(
                    m.start < new.end("name") for m in mentions if m.entity.kind is Kind.ACTOR):
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
                                unnamed[0] if unnamed else None))
        previous = claimant or previous
    return segments
