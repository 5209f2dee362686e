"""The rules drafter must not propose what the project counts as wrong data: a stance given to
the wrong actor, a negated verb read the other way, a question, a condition's antecedent or a
hypothetical report read as a stance held, a former or possible stance drafted as current, an
author's judgement given to the party it judges. Each case is a sentence of a short synthetic
article (or of a seed article) read by the rules alone, without the SHACL gate."""

from __future__ import annotations

import pytest

from kg.build.annotations import load_gazetteer
from kg.build.model import Entity
from kg.draft.backends import Context
from kg.draft.backends.rules import claims_of
from kg.draft.gazetteer import Gazetteer
from kg.draft.model import DraftClaim, DraftEntity
from kg.draft.text import sentences
from kg.errors import Location
from kg.iris import Kind
from kg.resources import default_corpus_dir

CORPUS = default_corpus_dir()
AUTHOR = "the-author"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    """The seed gazetteer: labels and aliases only."""
    return Gazetteer(load_gazetteer(CORPUS / "annotations" / "entities.yaml"))


def _drafted(gazetteer: Gazetteer, body: str, entities: list[DraftEntity] | None = None) -> list[DraftClaim]:
    """The claims the rules draft for an article whose body is ``body``, in order; the entities
    they declare join ``entities``."""
    text = f"Synthetic wire\n\nBy Ann Wire • June 2, 2025\n\n{body}\n"
    context = Context(text, tuple(sentences(text)), gazetteer, AUTHOR, None)
    return claims_of(context, context.sentences, [] if entities is None else entities)


def _draft(gazetteer: Gazetteer, body: str, entities: list[DraftEntity] | None = None) -> dict[str, DraftClaim]:
    """:func:`_drafted`, by quote."""
    return {c.quote: c for c in _drafted(gazetteer, body, entities)}


def _stances(claim: DraftClaim) -> set[tuple[str, str, str, str]]:
    return {(f.subject, f.predicate, f.object, f.time) for f in claim.asserts
            if f.predicate in ("proposedBy", "supportedBy", "opposedBy")}


def _no_stances(gazetteer: Gazetteer, *lines: str) -> dict[str, DraftClaim]:
    """The claims drafted for ``lines`` read as one article, having asserted that none of those
    sentences drafts a stance (the whole mapping is compared, so a failure names each one)."""
    claims = _draft(gazetteer, " ".join(lines))
    assert {s: _stances(claims[s]) for s in lines} == {s: set() for s in lines}
    return claims


def test_a_negated_verb_is_read_the_right_way(gazetteer: Gazetteer) -> None:
    claims = _draft(gazetteer, "Ukraine refused to accept a short-term pause in fighting. "
                               "Russia did not reject a 30-day ceasefire on Monday, officials said. "
                               "Ukraine failed to reject a short-term pause in fighting.")
    refused = claims["Ukraine refused to accept a short-term pause in fighting."]
    assert _stances(refused) == {("short-term-pause", "opposedBy", "ukraine", "current")}
    did_not = claims["Russia did not reject a 30-day ceasefire on Monday, officials said."]
    # Russia said nothing here, nor did the author: unnamed officials did, and deny the stance
    assert did_not.claimant == "unnamed-officials" and not _stances(did_not)
    assert not _stances(claims["Ukraine failed to reject a short-term pause in fighting."])


def test_the_speaker_is_not_the_actor_of_the_stance_reported(gazetteer: Gazetteer) -> None:
    claims = _draft(gazetteer, "Ukraine said Russia rejected security guarantees for Ukraine. "
                               "If Russia rejects a 30-day ceasefire, Ukraine will propose a short-term pause in fighting.")
    said = claims["Ukraine said Russia rejected security guarantees for Ukraine."]
    assert said.claimant == "ukraine"
    assert _stances(said) == {("security-guarantees-for-ukraine", "opposedBy", "russia", "current")}
    conditional = claims["If Russia rejects a 30-day ceasefire, Ukraine will propose a short-term pause in fighting."]
    assert conditional.claimant == AUTHOR  # the antecedent of a condition is no report of Russia's
    assert _stances(conditional) == {("short-term-pause", "proposedBy", "ukraine", "announced")}
    assert conditional.asserts[0].conditions == ["If Russia rejects a 30-day ceasefire"]


def test_a_possible_or_hypothetical_statement_is_not_a_current_one(gazetteer: Gazetteer) -> None:
    claims = _draft(gazetteer, "Moscow can claim that it supports a 30-day ceasefire. "
                               "Russia would reject a 30-day ceasefire. "
                               "The United States may support a 30-day ceasefire. "
                               "Russia is expected to reject a 30-day ceasefire.")
    can_claim = claims["Moscow can claim that it supports a 30-day ceasefire."]
    assert can_claim.claimant == AUTHOR and not _stances(can_claim)
    would = claims["Russia would reject a 30-day ceasefire."]
    assert would.claimant == AUTHOR
    assert _stances(would) == {("thirty-day-ceasefire", "opposedBy", "russia", "hypothetical")}
    may = claims["The United States may support a 30-day ceasefire."]
    assert _stances(may) == {("thirty-day-ceasefire", "supportedBy", "united-states", "hypothetical")}
    expected = claims["Russia is expected to reject a 30-day ceasefire."]
    assert expected.claimant == AUTHOR
    assert [(f.time, f.time_words) for f in expected.asserts] == [("hypothetical", "is expected to")]


def test_a_former_stance_is_former(gazetteer: Gazetteer) -> None:
    claims = _draft(gazetteer, "Turkey had long opposed the deployment of European forces on Ukrainian territory "
                               "until last week. Ukraine previously supported a short-term pause in fighting. "
                               "France has long opposed a 30-day ceasefire.")
    had = claims["Turkey had long opposed the deployment of European forces on Ukrainian territory until last week."]
    assert [(f.predicate, f.object, f.time, f.time_words) for f in had.asserts] == [
        ("opposedBy", "turkiye", "former", "until last week")]
    previously = claims["Ukraine previously supported a short-term pause in fighting."]
    assert _stances(previously) == {("short-term-pause", "supportedBy", "ukraine", "former")}
    still = claims["France has long opposed a 30-day ceasefire."]  # still held: current
    assert _stances(still) == {("thirty-day-ceasefire", "opposedBy", "france", "current")}


def test_a_question_asked_is_no_stance(gazetteer: Gazetteer) -> None:
    claims = _draft(gazetteer, "Ukraine asked whether Russia would accept a 30-day ceasefire. "
                               "Russia wondered if Ukraine supports a short-term pause in fighting. "
                               "Does Ukraine support a short-term pause in fighting?")
    assert all(not _stances(c) for c in claims.values())
    assert claims["Ukraine asked whether Russia would accept a 30-day ceasefire."].claimant == "ukraine"


def test_a_report_keeps_its_hedge(gazetteer: Gazetteer) -> None:
    claims = _draft(gazetteer, "Russia was reported to have rejected a 30-day ceasefire.")
    reported = claims["Russia was reported to have rejected a 30-day ceasefire."]
    assert reported.claimant == AUTHOR
    assert [f.hedges for f in reported.asserts] == [["was reported to"]]


def test_an_authors_judgement_of_a_declaration_stays_the_authors(gazetteer: Gazetteer) -> None:
    claims = _draft(gazetteer, "Russia's declaration of support for a short-term pause in fighting was a mistake. "
                               "Russia's position remains unchanged: a 30-day ceasefire is pointless.")
    assert claims["Russia's declaration of support for a short-term pause in fighting was a mistake."].claimant == AUTHOR
    assert claims["Russia's position remains unchanged: a 30-day ceasefire is pointless."].claimant == "russia"


@pytest.mark.parametrize(("document", "starts", "claimant"), [
    # the author judges the declaration ("has pushed the negotiating atmosphere into …")
    ("002_1ed21c23b6fc676c", "The Ukrainian president’s declaration of readiness", AUTHOR),
    # what Moscow *can* claim is the author's supposition, not Moscow's statement
    ("000_08f43cbfc8a050d9", "Should escalation follow, Moscow can claim", AUTHOR),
    ("002_1ed21c23b6fc676c", "Russia’s position remains unchanged", "russia"),
])
def test_seed_sentences_keep_their_claimant(gazetteer: Gazetteer, document: str, starts: str, claimant: str) -> None:
    text = (CORPUS / "documents" / f"{document}.txt").read_text(encoding="utf-8")
    context = Context(text, tuple(sentences(text)), gazetteer, AUTHOR, None)
    found = [c for c in claims_of(context, context.sentences, []) if c.quote.startswith(starts)]
    assert found and all(c.claimant == claimant for c in found)


def test_a_speaker_named_after_the_words_is_the_claimant(gazetteer: Gazetteer) -> None:
    claims = _draft(gazetteer, "“We will never accept a 30-day ceasefire,” Foreign Minister Andrii Sybiha said. "
                               "Ukraine and Russia both reject a short-term pause in fighting, Bloomberg reported. "
                               "Critics say Russia opposes a 30-day ceasefire.")
    quoted = claims["“We will never accept a 30-day ceasefire,” Foreign Minister Andrii Sybiha said."]
    assert (quoted.claimant, quoted.kind) == ("andrii-sybiha", "quoted") and not _stances(quoted)
    reported = claims["Ukraine and Russia both reject a short-term pause in fighting, Bloomberg reported."]
    assert reported.claimant == "bloomberg"
    assert _stances(reported) == {("short-term-pause", "opposedBy", "ukraine", "current"),
                                  ("short-term-pause", "opposedBy", "russia", "current")}
    # what unnamed critics say is neither the author's judgement nor a stance the author reports as fact
    critics = claims["Critics say Russia opposes a 30-day ceasefire."]
    assert not _stances(critics)


def test_what_is_denied_or_held_by_nobody_is_no_stance(gazetteer: Gazetteer) -> None:
    _no_stances(gazetteer,
                "Russia rejected claims that it opposed a short-term pause in fighting.",
                "Russia denied that it rejected a 30-day ceasefire.",
                "Neither Russia nor Ukraine accepted a 30-day ceasefire.",
                "Russia hardly supports a 30-day ceasefire.",
                "Ukraine stopped short of rejecting a 30-day ceasefire.",
                "Russia has yet to accept a 30-day ceasefire.")


def test_a_call_is_its_owners_and_a_condition_keeps_its_words(gazetteer: Gazetteer) -> None:
    claims = _draft(gazetteer, "Russia rejected Ukraine's call for a 30-day ceasefire. "
                               "Ukraine accepted a short-term pause in fighting only if Russia withdraws its troops.")
    call = claims["Russia rejected Ukraine's call for a 30-day ceasefire."]
    assert _stances(call) == {("thirty-day-ceasefire", "proposedBy", "ukraine", "current"),
                              ("thirty-day-ceasefire", "opposedBy", "russia", "current")}
    only_if = claims["Ukraine accepted a short-term pause in fighting only if Russia withdraws its troops."]
    assert [f.conditions for f in only_if.asserts] == [["only if Russia withdraws its troops"]]


def test_the_one_told_is_not_the_one_holding_and_a_readiness_is_hypothetical(gazetteer: Gazetteer) -> None:
    claims = _draft(gazetteer, "Russia reportedly told Turkey it opposes a 30-day ceasefire. "
                               "Kyiv says it would be ready to accept a short-term pause in fighting, "
                               "provided Moscow halts strikes.")
    told = claims["Russia reportedly told Turkey it opposes a 30-day ceasefire."]
    assert told.claimant == "russia"
    assert [(f.object, f.hedges) for f in told.asserts] == [("russia", ["reportedly"])]
    ready = claims["Kyiv says it would be ready to accept a short-term pause in fighting, provided Moscow halts strikes."]
    assert [(f.object, f.time, f.time_words, f.conditions) for f in ready.asserts] == [
        ("ukraine", "hypothetical", "would be ready to", ["provided Moscow halts strikes"])]


def test_unlikely_given_up_accused_and_asked_are_no_stance(gazetteer: Gazetteer) -> None:
    claims = _no_stances(gazetteer,
                         "Russia is unlikely to accept a 30-day ceasefire.",
                         "Ukraine has dropped its demand for a 30-day ceasefire.",
                         "Ukraine withdrew its proposal for a 30-day ceasefire.",
                         "Russia accused Ukraine of rejecting a short-term pause in fighting.",
                         "Why does Russia reject a 30-day ceasefire?")
    assert claims["Why does Russia reject a 30-day ceasefire?"].claimant == AUTHOR  # a question asks; Russia says nothing
    assert claims["Russia accused Ukraine of rejecting a short-term pause in fighting."].claimant == "russia"


def test_a_titled_speaker_with_a_lower_case_title_is_the_claimant(gazetteer: Gazetteer) -> None:
    text = "Kremlin spokesman Dmitry Peskov said Russia would consider a short-term pause in fighting."
    claim = _draft(gazetteer, text)[text]
    assert claim.claimant == "dmitry-peskov"  # not the author: the words are Peskov's
    assert ("dmitry-peskov", "jobTitle", "Kremlin spokesman") in {(f.subject, f.predicate, f.object)
                                                                  for f in claim.asserts}


def test_a_named_source_after_according_to_is_the_claimant(gazetteer: Gazetteer) -> None:
    """"X did Y, according to Z": the words are Z's, even when Z is new to the gazetteer; the
    stance stays X's."""
    claims = _draft(gazetteer, "Russia rejected a 30-day ceasefire, according to Kremlin spokesman Dmitry Peskov.")
    sourced = claims["Russia rejected a 30-day ceasefire, according to Kremlin spokesman Dmitry Peskov."]
    assert (sourced.claimant, sourced.kind) == ("dmitry-peskov", "paraphrased")
    assert _stances(sourced) == {("thirty-day-ceasefire", "opposedBy", "russia", "current")}
    assert ("dmitry-peskov", "jobTitle", "Kremlin spokesman") in {(f.subject, f.predicate, f.object)
                                                                  for f in sourced.asserts}


def test_words_of_unnamed_officials_are_theirs_and_the_stance_stays_the_actors(gazetteer: Gazetteer) -> None:
    """"X did Y, officials said": the claimant is the unnamed officials (declared as a group the
    text does not name), never X as if X had said it, nor the author; the stance stays X's, as
    with a named source ("…, according to Kremlin spokesman Dmitry Peskov")."""
    entities: list[DraftEntity] = []
    body = ("Russia rejected a 30-day ceasefire on Monday, officials said. "
            "U.S. officials said Russia opposes a short-term pause in fighting. "
            "Ukraine backed a 30-day ceasefire, according to people familiar with the talks.")
    claims = _draft(gazetteer, body, entities)
    officials = claims["Russia rejected a 30-day ceasefire on Monday, officials said."]
    assert (officials.claimant, officials.kind) == ("unnamed-officials", "paraphrased")
    assert _stances(officials) == {("thirty-day-ceasefire", "opposedBy", "russia", "current")}
    us = claims["U.S. officials said Russia opposes a short-term pause in fighting."]
    assert us.claimant == "unnamed-u-s-officials"  # not the United States as if the state had said it
    assert _stances(us) == {("short-term-pause", "opposedBy", "russia", "current")}
    familiar = claims["Ukraine backed a 30-day ceasefire, according to people familiar with the talks."]
    assert familiar.claimant == "unnamed-people-familiar-with-the-talks"
    assert _stances(familiar) == {("thirty-day-ceasefire", "supportedBy", "ukraine", "current")}
    declared = {e.id: (e.type, e.label) for e in entities}
    assert declared == {"unnamed-officials": ("Coalition", "Unnamed officials"),
                        "unnamed-u-s-officials": ("Coalition", "Unnamed U.S. officials"),
                        "unnamed-people-familiar-with-the-talks": ("Coalition", "Unnamed people familiar with the talks")}
    assert "does not say whose" in next(e.note or "" for e in entities if e.id == "unnamed-officials")


def test_an_unnamed_judge_gives_an_opinion_not_a_stance(gazetteer: Gazetteer) -> None:
    claims = _no_stances(gazetteer, "Analysts said Russia rejected a 30-day ceasefire.",
                         "Russia opposes a short-term pause in fighting, critics say.")
    assert claims["Analysts said Russia rejected a 30-day ceasefire."].claimant == "unnamed-analysts"
    assert claims["Russia opposes a short-term pause in fighting, critics say."].claimant == "unnamed-critics"


def test_a_group_another_document_declared_is_not_merged(gazetteer: Gazetteer) -> None:
    """Unnamed officials of one article are not known to be those of another: a name the
    gazetteer already has gets the document's own id."""
    known = Gazetteer([*load_gazetteer(CORPUS / "annotations" / "entities.yaml"),
                       Entity("unnamed-officials", Kind.ACTOR, "Coalition", "Unnamed officials", (), None, None,
                              Location("another document"))])
    text = "Synthetic wire\n\nBy Ann Wire • June 2, 2025\n\nRussia rejected a 30-day ceasefire, officials said.\n"
    context = Context(text, tuple(sentences(text)), known, AUTHOR, None, (), "wire-1")
    entities: list[DraftEntity] = []
    assert [c.claimant for c in claims_of(context, context.sentences, entities)] == ["unnamed-officials-wire-1"]
    assert [e.label for e in entities] == ["Unnamed officials"]


def test_a_quoted_readiness_with_a_condition_is_a_conditional_support(gazetteer: Gazetteer) -> None:
    """A minister quoted saying Ukraine is "ready for X if Russia is ready too": Ukraine supports X,
    on the condition the text gives, verbatim; the readiness is held now (not hypothetical), and
    the condition keeps the plain triple out of the graph. A readiness denied is no stance."""
    claims = _draft(gazetteer, "Ukraine is “ready for a 30-day ceasefire if Russia is ready too,” "
                               "Foreign Minister Andrii Sybiha said. "
                               "Foreign Minister Andrii Sybiha said Ukraine was “ready for a 30-day ceasefire "
                               "if Russia is ready too.” "
                               "Russia is not ready for a 30-day ceasefire.")
    for quote in ("Ukraine is “ready for a 30-day ceasefire if Russia is ready too,” Foreign Minister Andrii Sybiha said.",
                  "Foreign Minister Andrii Sybiha said Ukraine was “ready for a 30-day ceasefire if Russia is ready too.”"):
        claim = claims[quote]
        assert (claim.claimant, claim.kind) == ("andrii-sybiha", "quoted")
        assert [(f.subject, f.predicate, f.object, f.time, f.conditions) for f in claim.asserts
                if f.predicate == "supportedBy"] == [
            ("thirty-day-ceasefire", "supportedBy", "ukraine", "current", ["if Russia is ready too"])]
    assert not _stances(claims["Russia is not ready for a 30-day ceasefire."])


def test_a_titled_speaker_after_a_quote_and_a_spokesman_are_the_claimants(gazetteer: Gazetteer) -> None:
    """A lower-case title after the words ("…,” Kremlin spokesman Dmitry Peskov told reporters.")
    names the speaker; "Putin's spokesman" speaks, not Putin, named or not; "Ukraine's demand for"
    is a noun, not Ukraine saying anything."""
    entities: list[DraftEntity] = []
    body = ("\"We are not against a pause as such,\" Kremlin spokesman Dmitry Peskov told reporters. "
            "Putin's spokesman said Russia rejected a 30-day ceasefire. "
            "Putin's spokesman Dmitry Peskov said Russia rejected a short-term pause in fighting. "
            "Ukraine's demand for a 30-day ceasefire is unrealistic.")
    claims = _draft(gazetteer, body, entities)
    quoted = claims["\"We are not against a pause as such,\" Kremlin spokesman Dmitry Peskov told reporters."]
    assert (quoted.claimant, quoted.kind) == ("dmitry-peskov", "quoted")
    unnamed = claims["Putin's spokesman said Russia rejected a 30-day ceasefire."]
    assert unnamed.claimant == "unnamed-spokesman-of-vladimir-putin"
    assert _stances(unnamed) == {("thirty-day-ceasefire", "opposedBy", "russia", "current")}
    named = claims["Putin's spokesman Dmitry Peskov said Russia rejected a short-term pause in fighting."]
    assert named.claimant == "dmitry-peskov"
    assert claims["Ukraine's demand for a 30-day ceasefire is unrealistic."].claimant == AUTHOR
    # one unnamed person is a Person; a group the text cites collectively, a Coalition
    assert {e.id: e.type for e in entities if e.id.startswith("unnamed-")} == {
        "unnamed-spokesman-of-vladimir-putin": "Person"}


def test_unnamed_sources_with_what_the_text_says_of_them(gazetteer: Gazetteer) -> None:
    entities: list[DraftEntity] = []
    body = ("Ukraine had supported a 30-day ceasefire until Russia launched a new offensive, officials in Kyiv said. "
            "Russia will propose a short-term pause in fighting, a senior Russian official said on condition of anonymity.")
    claims = [(c.claimant, _stances(c)) for c in _drafted(gazetteer, body, entities)]
    assert claims == [("unnamed-officials-in-kyiv", {("thirty-day-ceasefire", "supportedBy", "ukraine", "former")}),
                      ("unnamed-senior-russian-official", {("short-term-pause", "proposedBy", "russia", "announced")})]
    assert {e.id: e.type for e in entities} == {"unnamed-officials-in-kyiv": "Coalition",
                                                "unnamed-senior-russian-official": "Person"}


def test_a_relative_clause_keeps_its_actor_and_only_its_own_hedges(gazetteer: Gazetteer) -> None:
    """"The Kremlin, which has long opposed X, appeared to soften its tone, according to two
    diplomats …": one claim, the diplomats'; the opposition is the Kremlin's (Russia), held now,
    without the main clause's "appeared"; never the diplomats' stance."""
    quote = ("The Kremlin, which has long opposed a 30-day ceasefire, appeared to soften its tone, "
             "according to two diplomats briefed on the talks.")
    claims = _draft(gazetteer, quote + " Whether Washington would back a short-term pause in fighting remains unclear.")
    claim = claims[quote]
    assert claim.claimant == "unnamed-diplomats-briefed-on-the-talks"
    assert [(f.subject, f.predicate, f.object, f.time, f.hedges) for f in claim.asserts] == [
        ("thirty-day-ceasefire", "opposedBy", "russia", "current", [])]
    # an open question, put as a clause, is no stance
    assert not _stances(claims["Whether Washington would back a short-term pause in fighting remains unclear."])


def test_wire_attributions_an_inference_and_a_quoted_question(gazetteer: Gazetteer) -> None:
    entities: list[DraftEntity] = []
    body = ("Moscow has not ruled out a short-term pause in fighting, Reuters reported on Wednesday. "
            "The move is a clear sign that Russia largely rejects a 30-day ceasefire. "
            "“Why should we accept a 30-day ceasefire when Ukraine keeps attacking?” Foreign Minister Sergei Lavrov asked. "
            "Ukraine and the United States backed the proposal, while Russia refused to accept a short-term pause in fighting. "
            "Ukraine’s foreign ministry said Russia rejected a 30-day ceasefire.")
    claims = [(c.quote[:24], c.claimant, c.kind, _stances(c), [f.hedges for f in c.asserts if f.predicate == "opposedBy"])
              for c in _drafted(gazetteer, body, entities)]
    assert claims == [
        ("Moscow has not ruled out", "reuters", "paraphrased", set(), []),  # the outlet's report, not the author's
        # the author's inference about Russia, never Russia's own claim; its hedge reaches the fact
        ("The move is a clear sign", AUTHOR, "analysis", {("thirty-day-ceasefire", "opposedBy", "russia", "current")},
         [["largely"]]),
        # a quoted question and its speaker are one claim, the speaker's; a question states no stance
        ("“Why should we accept a ", "sergei-lavrov", "quoted", set(), []),
        # what they backed is "the proposal", not the pause of the next clause
        ("Ukraine and the United S", AUTHOR, "analysis", {("short-term-pause", "opposedBy", "russia", "current")}, [[]]),
        # the subject of the first verb speaks; Russia is what the ministry reports
        ("Ukraine’s foreign minist", "ukraine", "paraphrased", {("thirty-day-ceasefire", "opposedBy", "russia", "current")},
         [[]]),
    ]
    assert {e.id: e.type for e in entities} == {"reuters": "NewsOutlet", "sergei-lavrov": "Person"}


def test_a_role_named_after_the_words_and_an_attribution_that_goes_on(gazetteer: Gazetteer) -> None:
    """"…, Zelenskiy's chief of staff said." is the chief of staff's, not the president's; "…,”
    Foreign Minister Sergei Lavrov said, adding that …" is the minister's, quoted."""
    claims = _draft(gazetteer, "Russia rejected a short-term pause in fighting, Zelenskiy’s chief of staff said. "
                               "“We reject a 30-day ceasefire,” Foreign Minister Sergei Lavrov said, adding that "
                               "Moscow would consider a short-term pause in fighting.")
    chief = claims["Russia rejected a short-term pause in fighting, Zelenskiy’s chief of staff said."]
    assert chief.claimant == "unnamed-chief-of-staff-of-volodymyr-zelenskyy"
    assert _stances(chief) == {("short-term-pause", "opposedBy", "russia", "current")}
    lavrov = claims["“We reject a 30-day ceasefire,” Foreign Minister Sergei Lavrov said, adding that "
                    "Moscow would consider a short-term pause in fighting."]
    assert (lavrov.claimant, lavrov.kind) == ("sergei-lavrov", "quoted")


def test_a_speaker_referred_back_to_by_a_role(gazetteer: Gazetteer) -> None:
    """"The minister added that …" is the minister named before, found by the title the text
    gave him (or the gazetteer's names: "the Ukrainian president"); a role no speaker before holds
    is an unnamed person the draft declares for review — never the author."""
    entities: list[DraftEntity] = []
    body = ("Foreign Minister Andrii Sybiha said Russia rejected a 30-day ceasefire. "
            "The minister added that Kyiv remains open to a short-term pause in fighting. "
            "Volodymyr Zelensky called for a 30-day ceasefire. "
            "The president said Ukraine supports a short-term pause in fighting. "
            "The spokesman said Russia rejects a short-term pause in fighting.")
    claims = [(c.quote[:16], c.claimant, _stances(c)) for c in _drafted(gazetteer, body, entities)][1::2]
    assert claims == [
        ("The minister add", "andrii-sybiha", {("short-term-pause", "supportedBy", "ukraine", "current")}),
        ("The president sa", "volodymyr-zelenskyy", {("short-term-pause", "supportedBy", "ukraine", "current")}),
    ]
    spokesman = _drafted(gazetteer, body)[-1]
    assert spokesman.claimant == "unnamed-spokesman"
    assert [e.type for e in entities if e.id == "unnamed-spokesman"] == ["Person"]


def test_an_expectation_or_a_wish_is_no_stance_held(gazetteer: Gazetteer) -> None:
    """"Ukraine expects Russia to reject X": Russia's rejection is a supposition of Ukraine's, and
    Ukraine holds nothing; "wants Russia to accept X" is a wish, no one's stance; "urged Russia to
    accept X" is the urger's support, not Russia's."""
    claims = _draft(gazetteer, "Ukraine expects Russia to reject a 30-day ceasefire. "
                               "The United States wants Russia to accept a short-term pause in fighting. "
                               "Ukraine urged Russia to accept a 30-day ceasefire. "
                               "Russia is expected to reject a short-term pause in fighting.")
    expects = claims["Ukraine expects Russia to reject a 30-day ceasefire."]
    assert expects.claimant == "ukraine"
    assert [(f.object, f.time, f.time_words) for f in expects.asserts] == [("russia", "hypothetical", "expects Russia to")]
    assert not _stances(claims["The United States wants Russia to accept a short-term pause in fighting."])
    assert _stances(claims["Ukraine urged Russia to accept a 30-day ceasefire."]) == {
        ("thirty-day-ceasefire", "supportedBy", "ukraine", "current")}
    passive = claims["Russia is expected to reject a short-term pause in fighting."]
    assert passive.claimant == AUTHOR  # others expect it; Russia says nothing
