"""The drafter's gazetteer finds a known entity however the text romanises its name
("Zelensky" for the gazetteer's "Zelenskyy", "Kiev" for "Kyiv"), and merges nothing else: another
name, an acronym in a word's clothes, a longer word, a key two entities share."""

from __future__ import annotations

import pytest

from kg.build.annotations import load_gazetteer
from kg.build.model import Entity
from kg.draft.backends import Context
from kg.draft.backends.rules import claims_of
from kg.draft.gazetteer import Gazetteer
from kg.draft.model import DraftEntity
from kg.draft.text import sentences
from kg.errors import Location
from kg.iris import Kind
from kg.resources import default_corpus_dir

CORPUS = default_corpus_dir()


@pytest.fixture(scope="module")
def seeds() -> Gazetteer:
    """The seed gazetteer: it spells the Ukrainian president "Zelenskyy" only."""
    return Gazetteer(load_gazetteer(CORPUS / "annotations" / "entities.yaml"))


def _entity(ident: str, kind: Kind, type_: str, label: str, *alt: str) -> Entity:
    return Entity(ident, kind, type_, label, alt, None, None, Location("test"))


def _found(gazetteer: Gazetteer, text: str) -> list[tuple[str, str]]:
    return [(text[m.start : m.end], m.entity.id) for m in gazetteer.mentions(text)]


@pytest.mark.parametrize("spelling", ["Volodymyr Zelensky", "Volodymyr Zelenskiy", "Volodymyr Zelenskii",
                                      "Volodymyr Zelenskyi", "VOLODYMYR ZELENSKY"])
def test_a_romanisation_variant_is_the_known_person(seeds: Gazetteer, spelling: str) -> None:
    assert _found(seeds, f"{spelling}’s office said so.") == [(spelling, "volodymyr-zelenskyy")]
    known = seeds.find(spelling)
    assert known is not None and known.id == "volodymyr-zelenskyy"


def test_a_speaker_spelt_otherwise_is_no_new_entity(seeds: Gazetteer) -> None:
    text = "Synthetic wire\n\nBy Ann Wire • June 2, 2025\n\nVolodymyr Zelensky said Ukraine supports a 30-day ceasefire.\n"
    entities: list[DraftEntity] = []
    context = Context(text, tuple(sentences(text)), seeds, "the-author", None)
    claims = claims_of(context, context.sentences, entities)
    assert [c.claimant for c in claims] == ["volodymyr-zelenskyy"] and entities == []


def test_a_russian_derived_place_spelling_is_the_ukrainian_one() -> None:
    gazetteer = Gazetteer([_entity("kyiv", Kind.PLACE, "Place", "Kyiv"), _entity("kharkiv", Kind.PLACE, "Place", "Kharkiv")])
    assert _found(gazetteer, "Talks in Kiev and Kharkov.") == [("Kiev", "kyiv"), ("Kharkov", "kharkiv")]


@pytest.mark.parametrize("text", [
    "Olena Zelenska spoke.",            # another name: a different ending is no variant
    "Kyivstar was hacked.",             # a longer word holding the name
    "Zelenskyy-era policy.",            # a name inside a compound, as the exact names are not matched
    "Us and them, the minister said.",  # an acronym ("US") matched only in capitals
])
def test_no_false_merge(seeds: Gazetteer, text: str) -> None:
    assert _found(seeds, text) == []


def test_a_key_two_entities_share_matches_neither() -> None:
    gazetteer = Gazetteer([_entity("andriy-a", Kind.ACTOR, "Person", "Andriy Kovalenko"),
                           _entity("andrii-b", Kind.ACTOR, "Person", "Andrii Kovalenko")])
    assert _found(gazetteer, "Andrij Kovalenko said so.") == []
    # exact names still go first
    assert _found(gazetteer, "Andriy Kovalenko said so.") == [("Andriy Kovalenko", "andriy-a")]
