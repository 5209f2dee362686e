"""Stances from cue verbs, with the hedges, conditions and times the clause puts on them.

``propose/offer/call for/demand`` → ``proposedBy``; ``support/back/accept/insist on/prioritise/
ready for/open to`` → ``supportedBy``; ``reject/oppose/refuse/unacceptable to/not interested in`` → ``opposedBy``.
The actor is the owner of a call ("Ukraine's call for"), else the actors named before the verb
(its subject: "Ukraine and European allies prioritised…"), else the actor a relative clause is
about ("The Kremlin, which has long opposed…"), else the clause's reported speaker; the proposal
is the first one named after the verb in the verb's own clause ("proposed by Moscow",
"unacceptable to Moscow": the one named before). A question states no stance, a negated verb
none either, and the author never holds one (nor does a source the text leaves unnamed:
:mod:`kg.draft.backends.rules`).

Hedge words ("reportedly", "likely", "appears to", "largely", "albeit cautiously") and
conditions ("if …", "provided …", "unless …") are kept verbatim on the fact — those of a
relative clause on its own stance only; "until recently" makes it former, "would"
hypothetical, "will" announced.
"""

from __future__ import annotations

import re

from kg.draft.gazetteer import Gazetteer, Mention
from kg.draft.model import DraftFact
from kg.iris import Kind

__all__ = ["stances", "hedges_in", "HEDGES"]

_CUES: list[tuple[str, re.Pattern[str], bool]] = [
    # (predicate, verb, passive: the proposal comes before and the actor after)
    ("proposedBy", re.compile(r"\b(?:proposed|offered|put forward|suggested) by\b"), True),
    ("opposedBy", re.compile(r"\b(?:unacceptable|opposed|rejected) (?:to|by)\b"), True),
    ("supportedBy", re.compile(r"\b(?:supported|backed|accepted) by\b"), True),
    ("proposedBy", re.compile(r"\b(?:propos(?:e|es|ed|ing|als? for)|offer(?:s|ed|ing)?|call(?:s|ed|ing)? for|"
                              r"demand(?:s|ed|ing)?|put(?:s|ting)? forward)\b"), False),
    ("supportedBy", re.compile(r"\b(?:support(?:s|ed|ing)?(?! from)|back(?:s|ed|ing)?|accept(?:s|ed|ing)?|"
                               r"insist(?:s|ed|ing)? on|prioriti[sz](?:e|es|ed|ing)|agree(?:s|d)? to|"
                               r"endors(?:e|es|ed|ing)|welcom(?:e|es|ed|ing)|"
                               # a readiness for the proposal itself ("is ready for a 30-day ceasefire if …"),
                               # not for an act ("open to sending a delegation")
                               r"(?:ready|prepared) for|open to(?! \w+ing\b))\b"), False),
    ("opposedBy", re.compile(r"\b(?:reject(?:s|ed|ing)?|oppos(?:e|es|ed|ing)|refus(?:e|es|ed|ing)|"
                             r"not interested in)\b"), False),
]
#: words that weaken or limit what a sentence says, kept verbatim
HEDGES = re.compile(
    r"\b(?:reportedly|allegedly|apparently|likely|probably|possibly|perhaps|largely|mostly|essentially|"
    r"almost certainly|more or less|to some extent|somewhat|albeit(?: \w+ly)?|at least nominal|temporarily|partly|"
    r"partially|all but|"
    r"appears? to|appeared|seems? to|seemingly|may|might|could|effectively|is considered|considered|"
    r"perceived as|(?:is|was|are|were) (?:reported|said|believed|thought) to)\b"
)
_CONDITION = re.compile(r"\b(?:(?:only |even )?[Ii]f|[Pp]rovided(?: that)?|[Uu]nless|[Aa]s long as|[Oo]n condition that|[Uu]nder conditions that)\b"
                        r"[^,;.—()]*")
#: where a new clause (and a new subject) begins
_CLAUSE = re.compile(r"[;:]|, (?:while|whereas|but|and|although)\b|\bwho\b|\bwhich\b")
_NEGATION = re.compile(r"\b(?:not|never|no longer|n[’']t)\s+(?:\w+\s+){0,2}$"
                       r"|\b(?:refus\w*|fail\w*|declin\w*|unwilling|unlikely|reluctant|yet) to\s+(?:\w+\s+)?$"  # "refused to accept"
                       r"|\b(?:hardly|barely|scarcely|short of)\s+(?:\w+\s+)?$"  # "stopped short of rejecting"
                       # a proposal given up: "has dropped its demand for", "withdrew its proposal for"
                       r"|\b(?:dropp|withdr[ae]w|abandon|shelv|scrap|retract)\w*\s+(?:its|their|his|her|the)\s+$"
                       r"|\b(?:reason|right|need|pressure|temptation) to\s+$")  # "has a reason to demand": no stance
_FORMER = re.compile(r"\b(?:until (?:quite )?recently|formerly|used to)\b")
#: just before the verb: a stance the text places before now ("had long opposed", "previously backed")
_PAST = re.compile(r"\b(?:had(?: (?:long|once|previously|initially|earlier))?|previously|once|formerly|initially)\s+$")
#: "had long opposed … until last week": when it ended
_UNTIL = re.compile(r"\buntil\b[^,;.—()]*")
#: just before the verb: a possibility or expectation, not a stance held ("may support", "is expected to reject")
_MAYBE = re.compile(r"\b(?:may|might|could|can|should|must|(?:is|are|was|were) (?:expected|likely|set|poised) to)\s+"
                    r"(?:\w+ly\s+)?$")
#: the verb is what someone asks or wonders, not what anyone holds ("asked whether Russia would accept")
_INDIRECT = re.compile(r"\b(?:[Ww]hether|(?:ask|wonder|question)\w*\s+if)\b"
                       # what is denied or an accusation is not held: "denied that it rejected",
                       # "rejected claims that it opposed", "accused Ukraine of rejecting"
                       r"|\b(?:den(?:y|ies|ied)|accus\w*|"
                       r"(?:reject|dismiss)\w* (?:the )?(?:claims?|reports?|suggestions?|accusations?))\b"
                       # nobody holds it: "Neither Russia nor Ukraine accepted"
                       r"|\b(?:[Nn]either|nor|[Nn]o one|[Nn]obody|[Nn]one of)\b")
#: a relative clause set off by commas: ", which has long opposed X,"
_RELATIVE = re.compile(r",\s+(?:which|who)\b[^,;]*(?=,|;|$)")
_TOLD = re.compile(r"\b(?:told|tells|tell|informed|assured|warned|urged|asked|pressed|pushed|encouraged|invited|"
                   r"persuaded|called on)\s+(?:the\s+)?$")
#: "Ukraine expects Russia to reject X": Russia's rejection is expected, not held, and Ukraine holds
#: nothing; "The United States wants Russia to accept X": a wish, no one's stance
_EXPECTS = re.compile(r"\bexpect(?:s|ed|ing)?\s+(?P<who>(?:[\w’'.-]+\s+){1,4}?)to\s+(?:\w+\s+)?$")
_WISHES = re.compile(r"\b(?:want|wish|hope|prefer)\w*\s+(?:[\w’'.-]+\s+){1,4}?to\s+(?:\w+\s+)?$")
#: a speech verb: the actors before it are speakers, not the subject of the stance after it ("was
#: reported to" is a hedge, not a speech)
_SPEECH = re.compile(r"(?<!is )(?<!was )(?<!are )(?<!were )"
                     r"\b(?:said|says|say|stated|states|told|tells|declared|declares|announced|announces|claimed|claims|"
                     r"claim|argued|argues|insisted|insists|warned|warns|added|adds|believes|believe|reported|reports)\b(?! on\b)(?: that\b)?")


def hedges_in(text: str, start: int, end: int) -> list[str]:
    """The hedge words of ``text[start:end]``, verbatim, each once."""
    out: list[str] = []
    for match in HEDGES.finditer(text, start, end):
        if match.group() not in out:
            out.append(match.group())
    return out


def _subjects(text: str, start: int, verb: int, mentions: list[Mention]) -> list[tuple[str, int]]:
    out = []
    for m in mentions:
        if m.entity.kind is not Kind.ACTOR or m.end > verb or m.start < start:
            continue
        before = text[max(start, m.start - 10) : m.start].lower()
        if re.search(r"\b(from|to|with|by|on|against|than|for|in)\s+(its\s+|the\s+|their\s+)?$", before):
            continue
        out.append((m.entity.id, m.start))
    return out


def _antecedent(text: str, clause: int, gazetteer: Gazetteer) -> list[tuple[str, int]]:
    """The actor a relative clause is about: "The Kremlin, which has long opposed X" is the
    Kremlin's stance (the actor named just before ", which" / ", who", in this clause or before it)."""
    rel = re.search(r",\s+(?:which|who)\s*$", text[max(0, clause - 12) : clause])
    if rel is None:
        return []
    comma = max(0, clause - 12) + rel.start()
    named = [m for m in gazetteer.mentions(text, max(0, comma - 60), comma) if m.end == comma]
    return [(named[-1].entity.id, named[-1].start)] if named and named[-1].entity.kind is Kind.ACTOR else []


def stances(text: str, start: int, end: int, gazetteer: Gazetteer, *, speaker: str | None,
            question: bool) -> list[DraftFact]:
    """The stances the clause ``text[start:end]`` states; ``speaker`` is its reported claimant."""
    if question or (speaker is None and _SPEECH.search(text, start, end)):
        return []  # a question; or words someone unnamed says ("critics say", "officials said"): not the author's
    mentions = gazetteer.mentions(text, start, end)
    proposals = [m for m in mentions if m.entity.kind is Kind.PROPOSAL]
    if not proposals:
        return []
    facts: list[DraftFact] = []
    seen: set[tuple[str, str, str]] = set()
    conditions = [(m.start(), m.end()) for m in _CONDITION.finditer(text, start, end)]
    for predicate, cue, passive in _CUES:
        for verb in cue.finditer(text, start, end):
            if _NEGATION.search(text[max(start, verb.start() - 25) : verb.start()]) \
                    or _INDIRECT.search(text, start, verb.start()) \
                    or any(a < verb.start() < b for a, b in conditions):  # "If Russia rejects X, …": no stance
                continue
            if passive:
                before = [p for p in proposals if p.start < verb.start()]
                agents = [m for m in mentions if m.entity.kind is Kind.ACTOR and m.start >= verb.end()
                          and m.start - verb.end() <= 3]
                if not before or not agents:
                    continue
                pairs = [(before[-1].entity.id, agents[0].entity.id, agents[0].start)]
            else:
                # the verb's own object, not a proposal of a clause it governs ("rejected claims that it opposed X")
                # and in its own clause ("backed the proposal, while Russia refused X": not X)
                after = [p for p in proposals if p.start >= verb.end() and p.start - verb.end() <= 60
                         and not re.search(r"\bthat\b", text[verb.end() : p.start])
                         and not _CLAUSE.search(text, verb.end(), p.start)]
                if not after:
                    continue
                # "proposals for a 30-day ceasefire and a security guarantee mechanism": each one
                joined = [after[0]] + [p for prev, p in zip(after, after[1:])
                                       if re.fullmatch(r"\s*(?:,|and|or|,\s*and)\s+(?:an?\s+|the\s+)?(?:\w+\s+)?",
                                                       text[prev.end : p.start])]
                clause = max([start, *(m.end() for m in _CLAUSE.finditer(text, start, verb.start())),
                              *(m.end() for m in _SPEECH.finditer(text, start, verb.start()))])
                inside = [m for m in mentions if not any(a <= m.start < b for a, b in conditions)
                          # "Russia told Turkey it opposes X": Turkey is told, not the one opposing
                          and not _TOLD.search(text, max(0, m.start - 12), m.start)]
                if _WISHES.search(text, clause, verb.start()):
                    continue
                expects = _EXPECTS.search(text, clause, verb.start())
                if expects is not None:  # only the one expected to act, and as a supposition (_qualified)
                    inside = [m for m in inside if expects.start("who") <= m.start < expects.end("who")]
                owner = [m for m in inside if m.entity.kind is Kind.ACTOR and re.fullmatch(r"[’']s\s+", text[m.end : verb.start()])]
                actors = ([(owner[-1].entity.id, owner[-1].start)] if owner  # "Ukraine's call for": Ukraine's alone
                          else _subjects(text, clause, verb.start(), inside) or (
                              [] if expects else _antecedent(text, clause, gazetteer) or ([(speaker, start)] if speaker else [])))
                pairs = [(p.entity.id, actor, at) for p in joined for actor, at in actors]
            for proposal, actor, at in pairs:
                if (proposal, predicate, actor) in seen:
                    continue
                seen.add((proposal, predicate, actor))
                facts.append(_qualified(text, start, end, verb.start(), at, proposal, predicate, actor))
    return facts


def _qualified(text: str, start: int, end: int, verb: int, actor_at: int, proposal: str, predicate: str,
               actor: str) -> DraftFact:
    fact = DraftFact(proposal, predicate, actor)
    # a relative clause qualifies its own verb only: in "The Kremlin, which has long opposed X, appeared
    # to soften", "appeared" is not on the opposition; in "Russia, which reportedly lost ground,
    # rejected X", "reportedly" is not on the rejection
    relatives = [m.span() for m in _RELATIVE.finditer(text, start, end)]
    inside = next(((a, b) for a, b in relatives if a < verb < b), None)
    keep = (lambda a, b: inside[0] <= a and b <= inside[1]) if inside else (
        lambda a, b: not any(x <= a and b <= y for x, y in relatives))
    fact.hedges = list(dict.fromkeys(m.group() for m in HEDGES.finditer(text, start, end) if keep(*m.span())))
    fact.conditions = [m.group().rstrip() for m in _CONDITION.finditer(text, start, end)
                       if len(m.group().split()) > 1 and keep(*m.span())]
    before = text[max(start, verb - 30) : verb]
    former = _FORMER.search(text, max(start, actor_at - 40), min(end, actor_at + 10))
    past = _PAST.search(before)
    maybe = _MAYBE.search(before) or _EXPECTS.search(text, max(start, verb - 50), verb)
    # "would accept", "would be ready to accept"
    modal = re.search(r"\b(would|will)\s+(?:(?:\w+\s+){0,2}to\s+|\w+\s+)?$", text[max(start, verb - 30) : verb])
    if former:
        fact.time, fact.time_words = "former", former.group()
    elif past:
        until = _UNTIL.search(text, verb, end)
        fact.time, fact.time_words = "former", (until.group() if until else past.group()).strip()
    elif maybe:
        fact.time, fact.time_words = "hypothetical", maybe.group().strip()
    elif modal:
        fact.time = "hypothetical" if modal.group(1) == "would" else "announced"
        fact.time_words = text[max(start, verb - 30) + modal.start(1) : verb].strip() or modal.group(1)
    return fact
