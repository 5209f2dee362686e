"""Who gives a clause its words when the text does not name them: the reporting verbs, and the
sources a text leaves unnamed.

An unnamed source is the claimant of the words it gives, as a group or person the draft declares
("Unnamed officials", "Unnamed senior Russian official", "Unnamed spokesman of Vladimir Putin") —
never the actor the words speak of, and never the author. It is found where the text puts it:
after the words ("…, officials said."; "…, a diplomat said on condition of anonymity."), after
"according to" ("according to people familiar with the talks"), or as the subject of a reporting
verb ("Two senior diplomats told Reuters…", "which many experts consider…", "Putin's spokesman
said…"). Who reports what happened (officials, sources, diplomats, a spokesman) keeps the stance
the words state; who judges it (analysts, experts, critics, observers) gives an opinion, from
which no stance is drafted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.draft.gazetteer import Mention
from kg.iris import Kind

__all__ = ["ACCORDING", "REPORTING", "ROLES", "TRAILING", "Unnamed", "referred_back", "unnamed_source"]

#: reporting and public-act verbs: an actor as their subject makes the claim the actor's
REPORTING = (
    r"(?:said|says|say|stated|states|stating|told|tells|declared|declares|declare|announced|announces|"
    r"claimed|claims|claim|maintained|maintains|maintain|warned|warns|estimated|estimates|predicted|predicts|"
    r"termed|terms|(?<!-)called|exclaimed|exclaims|acknowledged|acknowledges|telegraphs|telegraphed|insisted|"
    r"(?:has |have |had )?(?:repeatedly )?call(?:ed|s)? for|(?:has |have )?continued to call for|"
    r"reject(?:ed|s)?|demand(?:ed|s)?|urged|urges|see|sees|saw|considers?|believes?|argued|argues|"
    r"denied|denies|confirmed|confirms|promised|promises|threatened|threatens|vowed|vows|asked|asks|wondered|accused|accuses|"
    r"(?<!is )(?<!are )(?<!was )(?<!were )(?<!be )(?<!been )expect(?:s|ed)?)"
)
#: the speaker named after the words ("“…,” Foreign Minister Andrii Sybiha said.", "…, Bloomberg reported.")
TRAILING = re.compile(r"[,”\"]\s*(?P<who>[^,“”\"]{2,80}?)\s+(?P<verb>said|says|say|reported|reports|added|adds|stated|"
                      r"announced|claimed|claims|warned|asked|asks|replied|wrote|told (?:\w+ ){0,2}?\w+)"
                      # "…, officials said on Monday.", "…, a diplomat said on condition of anonymity."
                      r"(?: (?:on|late|earlier|in|at|after) [^,;.“”\"]{1,40})?"
                      # "…,” Foreign Minister Sergei Lavrov said, adding that …"
                      r"(?:,\s+adding\b[^“”\"]*)?[.!]?$")
#: the source named at the clause's end ("Russia rejected it, according to Kremlin spokesman Dmitry Peskov.")
ACCORDING = re.compile(r",?\s*according to (?P<who>[^,;“”\"]{2,80}?)[.!]?$")

#: a person who speaks for an actor: "Putin's spokesman" is not Putin
ROLES = r"spokes(?:man|woman|person)|aide|adviser|advisor|envoy|representative|chief of staff|press secretary"
#: who reports what happened ("officials in Kyiv", "diplomats briefed on the talks"), and who judges it
_REPORTERS = (rf"(?:officials?|sources?|diplomats?|insiders?|aides?|negotiators?|{ROLES}|"
              r"people(?= (?:familiar|close|briefed|involved|with knowledge)))"
              r"(?: (?:briefed on|familiar with|close to|involved in|with knowledge of|in|from|at) [^,;.“”\"]{2,40}?)?")
_JUDGES = r"analysts?|experts?|observers?|critics?|commentators?"
#: words before the noun that say which or whose ("senior", "Russian", "U.S.")
_QUALIFIERS = ("senior", "junior", "high-ranking", "top", "anonymous", "unnamed", "independent", "military",
               "government", "security", "intelligence", "western", "several", "other")
_UNNAMED = re.compile(
    rf"(?P<who>(?:(?i:an?|one|two|three|four|several|some|many|most|other|the)\s+)?"
    rf"(?P<whose>(?:(?:(?i:{'|'.join(_QUALIFIERS)})|[A-Z][\w.’'-]*)\s+){{0,3}}?)"
    rf"(?:(?P<reports>(?i:{_REPORTERS}))|(?P<judges>(?i:{_JUDGES}))))(?![\w-])"
)
#: what may come before the subject at the clause's start ("which", "On Monday,")
_LEAD = r"(?:(?:which|who|and|but|while|whereas|although|as)\s+|[A-Z][\w ]{0,30}, )?"
#: an unnamed source as the subject of a reporting verb at the clause's start
_SUBJECT = re.compile(rf"{_LEAD}{_UNNAMED.pattern}(?:\s+\w+ly)?\s+{REPORTING}\b")
#: a known actor's unnamed spokesman as the subject ("Putin's spokesman said", "Moscow's envoy told")
_ROLE = re.compile(rf"(?P<owner>[^\s’']+(?: [^\s’']+){{0,3}})[’']s (?P<role>{ROLES})")
_ROLE_SUBJECT = re.compile(rf"{_LEAD}{_ROLE.pattern}(?:\s+\w+ly)?\s+{REPORTING}\b")


#: a speaker the text named before and now refers back to by a role ("The minister added that …")
_BACK_ROLES = (r"(?:foreign |defence |defense |prime )?minister|president|spokes(?:man|woman|person)|envoy|ambassador|"
               r"chancellor|secretary|leader|negotiator")
_BACK = re.compile(rf"{_LEAD}[Tt]he (?P<role>{_BACK_ROLES})(?:\s+\w+ly)?\s+(?:{REPORTING}|added|adds)\b")


@dataclass(frozen=True)
class Unnamed:
    """A source the text cites without naming it: the label and type of the entity the draft
    declares for it, a note that quotes the text's words, and whether it judges."""

    label: str
    type: str
    note: str
    judges: bool


def _unnamed(match: re.Match[str]) -> Unnamed:
    """The source an unnamed source is, from its words in the text ("two senior Russian officials")."""
    whose = [w if w[0].isupper() and w.lower() not in _QUALIFIERS else w.lower() for w in match.group("whose").split()]
    noun = match.group("reports") or match.group("judges")
    label = " ".join(["Unnamed", *whose, noun[0].lower() + noun[1:]])
    judges = match.group("judges") is not None
    head = noun.split()[0].lower()
    one = not head.endswith("s") and head != "people"
    said = "" if judges or any(w[0].isupper() for w in [*whose, *noun.split()[1:]]) else (
        "; it does not say whose " + ("they are" if not one else "it is"))
    return Unnamed(label, "Person" if one else "Coalition",
                   f"A source the text cites as “{match.group('who')}”, without a name{said}.", judges)


def unnamed_source(text: str, start: int, end: int, mentions: list[Mention]) -> tuple[Unnamed, int] | None:
    """The unnamed source that gives the words of ``text[start:end]``, and where its verb is (the
    clause's start when the source is named after the words)."""
    for tail in (TRAILING.search(text, start, end), ACCORDING.search(text, start, end)):
        if tail is None:
            continue
        after = _ROLE.fullmatch(text, tail.start("who"), tail.end("who"))  # "…, Zelensky's chief of staff said."
        if after is not None and (role := _role(text, after, mentions)) is not None:
            return role, start
        source = _UNNAMED.fullmatch(tail.group("who").strip())
        if source is not None:
            return _unnamed(source), start
    role_match = _ROLE_SUBJECT.match(text, start, end)
    if role_match is not None and (role := _role(text, role_match, mentions)) is not None:
        return role, role_match.end()  # "Putin's spokesman said": the known actor's spokesman
    lead = _SUBJECT.match(text, start, end)
    return (_unnamed(lead), lead.end()) if lead is not None else None


def _role(text: str, match: re.Match[str], mentions: list[Mention]) -> Unnamed | None:
    """The unnamed person who holds a role of a known actor ("Putin's spokesman")."""
    owner = next((m for m in mentions if m.entity.kind is Kind.ACTOR and (m.start, m.end) == match.span("owner")), None)
    if owner is None:
        return None
    words = text[match.start("owner") : match.end("role")]
    return Unnamed(f"Unnamed {match.group('role')} of {owner.entity.label}", "Person",
                   f"A source the text cites as “{words}”, without a name.", False)


def referred_back(text: str, start: int, end: int) -> tuple[str, int] | None:
    """The role by which the clause refers back to its speaker ("The minister added that …", "…,
    the spokesman said."), and where its verb is; whom it means is for the caller, who knows the
    speakers before (:mod:`kg.draft.backends.rules`)."""
    tail = TRAILING.search(text, start, end)
    if tail is not None and (role := re.fullmatch(rf"[Tt]he (?P<role>{_BACK_ROLES})", tail.group("who").strip())):
        return role.group("role"), start
    lead = _BACK.match(text, start, end)
    return (lead.group("role"), lead.end()) if lead is not None else None
