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

A proper name the text spells another way than the gazetteer also matches, by its *match key*
(:func:`name_key`): accents, apostrophes, case and spacing aside, the endings that Ukrainian and
Russian names take in different romanisations ("Zelensky", "Zelenskyy", "Zelenskiy", "Zelenskii";
"Andriy", "Andrii") made one, and the Russian-derived spellings of Ukrainian places made the
Ukrainian ones ("Kiev" → "Kyiv", "Kharkov" → "Kharkiv"). A key that two entities' names share
matches neither (the key cannot tell them apart), and exact names always go first.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import URIRef

from kg.build.add_document import known_entities
from kg.build.annotations import load_gazetteer
from kg.build.model import Entity
from kg.iris import Kind
from kg.store import Store

__all__ = ["Known", "Gazetteer", "Mention", "name_key"]

#: demonyms of states, for "the Russian side", "the Russians" (general knowledge, not corpus data)
_DEMONYMS = {
    "Russia": "Russian", "Ukraine": "Ukrainian", "United States": "American", "United Kingdom": "British",
    "France": "French", "Germany": "German", "China": "Chinese", "Türkiye": "Turkish", "Turkey": "Turkish",
    "Israel": "Israeli", "Iran": "Iranian", "Poland": "Polish", "Italy": "Italian", "Japan": "Japanese",
}


#: Russian-derived spellings of Ukrainian places → their Ukrainian romanisation, lower case
#: (general knowledge, not corpus data); a spelling, never a renamed place
_EXONYMS = {
    "kiev": "kyiv", "kharkov": "kharkiv", "lvov": "lviv", "odessa": "odesa", "nikolaev": "mykolaiv",
    "nikolayev": "mykolaiv", "zaporozhye": "zaporizhzhia", "zaporozhzhye": "zaporizhzhia", "lugansk": "luhansk",
    "dnepr": "dnipro", "chernigov": "chernihiv", "rovno": "rivne", "vinnitsa": "vinnytsia", "zhitomir": "zhytomyr",
}
_KEY_WORD = re.compile(r"[^\W\d_]+|\d+")
#: a word of a name in the text (an inner apostrophe kept: "Luhans'k"), without a possessive "’s"
_TOKEN = re.compile(r"[^\W\d_](?:[^\W\d_]|[’'](?=[^\W\d_])(?![’']?s\b))*")


@lru_cache(maxsize=8192)
def name_key(name: str) -> str:
    """The match key of a proper name: lower case, accents and apostrophes dropped, words joined
    by one space; a word's Slavic ending in any romanisation ("-yy", "-iy", "-ii", "-yi", "-ij",
    and "-sky") made "-i"; a Russian-derived place spelling made the Ukrainian one."""
    folded = unicodedata.normalize("NFKD", re.sub(r"[’'ʼ`]", "", name)).casefold()
    words = []
    for word in _KEY_WORD.findall("".join(ch for ch in folded if not unicodedata.combining(ch))):
        word = _EXONYMS.get(word, word)
        word = re.sub(r"(?<=[bcdfghjklmnpqrstvwxz])(?:yy|iy|ii|yi|ij)$", "i", word)
        words.append(re.sub(r"(?<=[sz]k)y$", "i", word))
    return " ".join(words)


def _shape(name: str) -> tuple[str, ...]:
    """How a name's words are capitalised: an acronym ("US"), a capital ("Kyiv"), lower case."""
    return tuple("A" if w.isupper() and len(w) > 1 else "C" if w[0].isupper() else "l"
                 for w in _KEY_WORD.findall(re.sub(r"[’'ʼ`]", "", name)))


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
        self._by_id: dict[str, list[str]] = {}
        for name, ident in names.items():
            self._by_id.setdefault(ident, []).append(name)
        parts = []
        for name in sorted(names, key=len, reverse=True):
            body = re.escape(name)
            if name[0].islower() or (" " in name and name[0].isalpha()):
                body = f"[{re.escape(name[0].upper())}{re.escape(name[0].lower())}]{re.escape(name[1:])}"
            parts.append(body)
        self._pattern = re.compile(r"(?<![\w-])(" + "|".join(parts) + r")(?![\w-])") if parts else None
        self._lookup = {**{n[0].upper() + n[1:]: i for n, i in names.items()},
                        **{n[0].lower() + n[1:]: i for n, i in names.items() if " " in n}, **names}
        keyed: dict[str, set[str]] = {}
        shapes: dict[str, set[tuple[str, ...]]] = {}
        for name, ident in names.items():
            if name[0].isupper():  # proper names only: "the Russian side" has no other spelling
                keyed.setdefault(name_key(name), set()).add(ident)
                shapes.setdefault(name_key(name), set()).add(_shape(name))
        #: match key → the one entity whose names have it (a key two entities share is left out)
        self._keys = {key: ids.pop() for key, ids in keyed.items() if len(ids) == 1 and key}
        #: how the names of a key are capitalised, word by word
        self._shapes = shapes
        self._key_words = max((k.count(" ") + 1 for k in self._keys), default=0)
        #: the keys' first words: a run of words that starts otherwise names nothing
        self._firsts = {k.split(" ")[0] for k in self._keys}

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
        """The known entities named in ``text[start:end]``, in order, longest name first; a proper
        name spelled otherwise than the gazetteer has it is found by its match key."""
        if self._pattern is None:
            return []
        stop = len(text) if end is None else end
        found = [Mention(m.start(), m.end(), self.entities[self._lookup[m.group()]])
                 for m in self._pattern.finditer(text, start, stop)]
        return sorted(found + self._keyed(text, start, stop, found), key=lambda m: m.start)

    def _keyed(self, text: str, start: int, stop: int, exact: list[Mention]) -> list[Mention]:
        """Mentions by match key, of the capitalised runs of words no exact name covers."""
        starts = [m.start for m in exact]  # exact mentions are in order and do not overlap

        def covered(pos: int) -> bool:
            at = bisect_right(starts, pos) - 1
            return at >= 0 and pos < exact[at].end

        tokens = [t for t in _TOKEN.finditer(text, start, stop) if not covered(t.start())]
        out: list[Mention] = []
        i = 0
        while i < len(tokens):
            first = tokens[i]
            hit = None
            if first.group()[0].isupper() and name_key(first.group()) in self._firsts \
                    and (first.start() == 0 or not re.match(r"[\w-]", text[first.start() - 1])):
                last = i
                while last + 1 < len(tokens) and last + 1 - i < self._key_words \
                        and re.fullmatch(r"[ \-–]", text[tokens[last].end() : tokens[last + 1].start()]):
                    last += 1
                for j in range(last, i - 1, -1):  # the longest run first
                    after = text[tokens[j].end() : tokens[j].end() + 1]
                    run = text[first.start() : tokens[j].end()]
                    ident = self._keys.get(name_key(run))
                    if ident is not None and not re.match(r"[\w-]", after) and self._cased(run):
                        hit = (j, ident)
                        break
            if hit is None:
                i += 1
                continue
            j, ident = hit
            out.append(Mention(first.start(), tokens[j].end(), self.entities[ident]))
            i = j + 1
        return out

    def _cased(self, run: str) -> bool:
        """Whether ``run`` is capitalised as a name with its key is (or is all capitals, as in a
        headline): "Us" at a sentence's start is not "US"."""
        return run.isupper() or _shape(run) in self._shapes.get(name_key(run), set())

    def names(self, ident: str) -> list[str]:
        """The names that mention the entity ``ident`` (its label, aliases and their forms)."""
        return self._by_id.get(ident, [])

    def find(self, name: str) -> Known | None:
        """The entity a name (label or alias, or a proper name with the same match key) stands for."""
        ident = self._lookup.get(name) or (self._keys.get(name_key(name)) if name[:1].isupper() and self._cased(name)
                                           else None)
        return self.entities[ident] if ident else None
