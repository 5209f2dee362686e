"""Drafting backends behind one small interface: a backend proposes claims for a document.

``rules`` (the default) works offline with no model: sentences, the gazetteer, cue words.
``spacy`` uses a spaCy pipeline the user has installed (its sentences and named entities);
``openai`` asks a chat model behind an OpenAI-compatible endpoint (llama.cpp, vLLM, Ollama
servers speak it). Whatever a backend proposes passes the same gate afterwards
(:mod:`kg.draft.gate`): a quote not verbatim in the text, a claimant or proposal that is not
an entity, a hedge that is not the quote's own words — each is dropped, never written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from kg.draft.gazetteer import Gazetteer
from kg.draft.model import DraftClaim, DraftEntity
from kg.draft.text import Span

__all__ = ["Backend", "Context", "Proposal"]


@dataclass(frozen=True)
class Context:
    """What a backend knows of the document: its text, sentences, the gazetteer, its author
    (an entity id) and the date that anchors dates without a year."""

    text: str
    sentences: tuple[Span, ...]
    gazetteer: Gazetteer
    author: str
    anchor: date | None
    #: the spans under a "key takeaways" heading: the author's summary
    takeaways: tuple[Span, ...] = ()
    #: the document's slug, for the ids of what only this document declares
    document: str = ""


@dataclass
class Proposal:
    """A backend's answer: the claims, the new entities they need, and what it dropped and why."""

    claims: list[DraftClaim]
    entities: list[DraftEntity]
    dropped: list[str]


class Backend(Protocol):
    """A way to propose claims; ``method`` names it in the draft (``rules``, ``spacy:…``, ``openai:…``)."""

    @property
    def method(self) -> str:
        """The method recorded in the draft and in the published graph."""

    def propose(self, context: Context) -> Proposal:
        """The claims this backend proposes for the document."""
