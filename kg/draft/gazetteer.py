"""The names of the entities we know, and where a text mentions them.

A gazetteer is identity only — labels, ``skos:altLabel`` aliases, kinds and types — read from
the store (every graph) or from a gazetteer file such as ``data/annotations/entities.yaml``.
It never holds what a document says, so drafting a document with it reads nothing of that
document's curated claims.

Names match as whole words, longest first; a name that starts with a lower-case letter in
the gazetteer ("temporary ceasefire") also matches capitalised at the start of a sentence.
So does the first letter of a name of several words ("head of Ukrainian military intelligence").
A state's demonym forms ("the Russian side", "the Russians") and the short forms of a
proposal's label (without its parenthesis, its leading names, or its trailing "for Ukraine";
the words it puts in quotation marks) are added as aliases of that entity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import URIRef

from kg.build.add_document import known_entities
from kg.build.annotations import load_gazetteer
from kg.build.model import Entity
from kg.iris import Kind
from kg.store import Store

__all__ = ["Known", "Gazetteer", "Mention"]

#: demonyms of states, for "the Russian side", "the Russians" (general knowledge, not corpus data)
_DEMONYMS = {
    "Russia": "Russian", "Ukraine": "Ukrainian", "United States": "American", "United Kingdom": "British",
    "France": "French", "Germany": "German", "China": "Chinese", "Türkiye": "Turkish", "Turkey": "Turkish",
    "Israel": "Israeli", "Iran": "Iranian", "Poland": "Polish", "Italy": "Italian", "Japan": "Japanese",
}


@dataclass(frozen=True)
class Known:
    """An entity of the gazetteer: id, kind, type and label."""

    id: str
    kind: Kind
    type: str
    label: str


@dataclass(frozen=True)
class Mention:
    """Where the text names a known entity: ``[start, end)`` and which one."""

    start: int
    end: int
    entity: Known


def _variants(entity: Entity) -> set[str]:
    names = {entity.label, *entity.alt}
    names |= {n[4:] for n in names if n.startswith("the ") and n.count(" ") >= 2}  # "the current American president"
    names |= {n.replace("'", "’") for n in names}  # the text's apostrophes
    if entity.type == "State":
        demonym = next((d for n, d in _DEMONYMS.items() if n in names), None)
        if demonym:
            names |= {f"the {demonym} side", f"{demonym} side", f"the {demonym}s", f"{demonym}s"}
    if entity.kind is Kind.PROPOSAL:
        for name in list(names):
            short = re.sub(r"\s*\([^)]*\)", "", name).strip()
            names.add(short)
            names.add(re.sub(r"^[A-Z]\S*[–-][A-Z]\S*\s+(?=\S)", "", short))  # "Zelenskyy–Putin leader-to-leader meeting"
            names.add(re.sub(r"\s+(for|of|on|in|from)\s+[A-Z]\S*$", "", short))  # "… for Ukraine"
            names.update(re.findall(r"[\"“]([^\"”]{4,})[\"”]", name))  # the words a label quotes
    return {n for n in names if len(n) >= 2 and (" " in n or len(n) >= 3 or n.isupper())}


class Gazetteer:
    """Known entities and the names that mention them."""

    def __init__(self, entities: Iterable[Entity]) -> None:
        self.entities: dict[str, Known] = {}
        names: dict[str, str] = {}
        for entity in entities:
            self.entities[entity.id] = Known(entity.id, entity.kind, entity.type, entity.label)
            for name in _variants(entity):
                names.setdefault(name, entity.id)
        self._names = names
        parts = []
        for name in sorted(names, key=len, reverse=True):
            body = re.escape(name)
            if name[0].islower() or (" " in name and name[0].isalpha()):
                body = f"[{re.escape(name[0].upper())}{re.escape(name[0].lower())}]{re.escape(name[1:])}"
            parts.append(body)
        self._pattern = re.compile(r"(?<![\w-])(" + "|".join(parts) + r")(?![\w-])") if parts else None
        self._lookup = {**{n[0].upper() + n[1:]: i for n, i in names.items()},
                        **{n[0].lower() + n[1:]: i for n, i in names.items() if " " in n}, **names}

    @classmethod
    def from_file(cls, path: Path) -> "Gazetteer":
        """The entities of a gazetteer file (``entities.yaml``)."""
        return cls(load_gazetteer(path))

    @classmethod
    def from_store(cls, store: Store, *, outside: str) -> "Gazetteer":
        """Every actor, place, meeting and proposal the store names, with labels and aliases,
        in any graph but ``outside`` (the graph of the document being drafted, when it was added
        before: what it declared is declared again)."""
        return cls(list(known_entities(store, outside=URIRef(outside), aliases=True).values()))

    def mentions(self, text: str, start: int = 0, end: int | None = None) -> list[Mention]:
        """The known entities named in ``text[start:end]``, in order, longest name first."""
        if self._pattern is None:
            return []
        stop = len(text) if end is None else end
        return [Mention(m.start(), m.end(), self.entities[self._lookup[m.group()]])
                for m in self._pattern.finditer(text, start, stop)]

    def find(self, name: str) -> Known | None:
        """The entity a name (label or alias) stands for."""
        ident = self._lookup.get(name)
        return self.entities[ident] if ident else None
