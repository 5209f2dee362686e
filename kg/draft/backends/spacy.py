"""A spaCy pipeline the user has installed: its sentences, then the rules.

spaCy is never a dependency of the project: this backend imports it only when asked for, and
loads a pipeline already installed (``en_core_web_sm`` or any other by name); nothing is
downloaded. Its sentence boundaries replace pySBD's; attribution, stances, hedges and
estimates are the rules' (:mod:`kg.draft.backends.rules`), and the draft's gate checks the
result as for any backend.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kg.draft.backends import Context, Proposal
from kg.draft.backends.rules import claims_of
from kg.draft.model import DraftEntity
from kg.draft.text import Span
from kg.errors import InputError

__all__ = ["SpacyBackend"]


class SpacyBackend:
    """Sentences from an installed spaCy pipeline, claims from the rules."""

    def __init__(self, pipeline: str = "en_core_web_sm") -> None:
        self.pipeline = pipeline
        self._nlp: Any = None

    @property
    def method(self) -> str:
        """``spacy:<pipeline>``."""
        return f"spacy:{self.pipeline}"

    def _load(self) -> Any:
        if self._nlp is None:
            try:
                import spacy  # type: ignore[import-not-found]
            except ImportError:
                raise InputError("the spacy backend needs spaCy installed (pip install spacy) and a pipeline") from None
            try:
                self._nlp = spacy.load(self.pipeline)
            except OSError:
                raise InputError(f"no spaCy pipeline {self.pipeline!r} is installed (nothing is downloaded)") from None
        return self._nlp

    def propose(self, context: Context) -> Proposal:
        """The rules' claims over spaCy's sentences."""
        doc = self._load()(context.text)
        spans = []
        for sent in doc.sents:
            words = sent.text.strip()
            if words:
                start = sent.start_char + sent.text.index(words)
                spans.append(Span(start, start + len(words)))
        entities: list[DraftEntity] = []
        return Proposal(claims_of(replace(context, sentences=tuple(spans)), spans, entities), entities, [])
