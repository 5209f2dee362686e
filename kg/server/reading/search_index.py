"""The full-text index behind ``/search``: SQLite FTS5 over the labels, aliases and quotes of
the store, keyed by the store's version.

Why an index: a search must stay fast on a store of millions of triples, and a SPARQL
``FILTER regex`` reads every literal of the store at each search. The index holds one row per
labelled resource or quoted claim (label, aliases, quote), tokenized by FTS5's ``unicode61``
with diacritics folded (``Turkiye`` finds ``Türkiye``), ranked by BM25 with a label counting
more than an alias and an alias more than a quote.

Kept in step with the store without blocking anyone:

* it is built on the first search, in a thread of its own; that first search waits for it
  (at most :data:`FIRST_WAIT_SECONDS`, then a 503 saying the index is being built);
* every search compares the store's version (the embedded store's committed view, which
  changes with each commit; a remote store's triple count and graphs, asked at most every
  :data:`REMOTE_CHECK_SECONDS`) with the index's, and when they differ starts a rebuild and
  answers from the index it has, saying it is older than the store, until the new one is
  ready; page reads and SPARQL never wait for the index;
* the embedded store's index is a file next to the store, ``<store>/kg-search/index-<version>.sqlite``,
  written under a temporary name and renamed when complete, so a restarted server reuses it;
  where that folder cannot be written (and for a remote store) the index is in memory.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.errors import InputError, StoreError
from kg.namespaces import ONTOLOGY_IRI, RESOURCE_BASE, sparql_prologue
from kg.store.base import Store
from kg.store.embedded import EmbeddedStore

__all__ = ["FIRST_WAIT_SECONDS", "HIT_END", "HIT_START", "Hit", "Results", "SearchIndex", "fts_query"]

_LOG = logging.getLogger(__name__)

FIRST_WAIT_SECONDS = 20.0
REMOTE_CHECK_SECONDS = 30.0
FOLDER = "kg-search"
#: marks around a matched word in a highlighted field (private-use characters, never in the data we show)
HIT_START, HIT_END = "\ue000", "\ue001"
#: BM25 weights of the columns label, aliases, quote
_WEIGHTS = (8.0, 4.0, 1.0)

_SOURCES = (
    ("label", sparql_prologue() + "SELECT ?s ?v WHERE { ?s rdfs:label ?v FILTER (isIRI(?s)) }"),
    ("alias", sparql_prologue() + "SELECT ?s ?v WHERE { ?s skos:altLabel ?v FILTER (isIRI(?s)) }"),
    ("quote", sparql_prologue() + "SELECT ?s ?v WHERE { ?s nkg:quote ?v FILTER (isIRI(?s)) }"),
)
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE entry (id INTEGER PRIMARY KEY, iri TEXT NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL);
CREATE VIRTUAL TABLE fts USING fts5(label, alias, quote, tokenize = 'unicode61 remove_diacritics 2');
"""
_SEARCH = f"""
SELECT e.iri, e.kind, e.label,
       highlight(fts, 0, '{HIT_START}', '{HIT_END}'), highlight(fts, 1, '{HIT_START}', '{HIT_END}'),
       highlight(fts, 2, '{HIT_START}', '{HIT_END}')
FROM fts JOIN entry e ON e.id = fts.rowid WHERE fts MATCH ? ORDER BY bm25(fts, {', '.join(map(str, _WEIGHTS))})
LIMIT ? OFFSET ?"""
_ALIAS_SEPARATOR = "\n"
#: the data's own marker characters, dropped so that a highlight is always ours
_NO_MARKS = {ord(HIT_START): None, ord(HIT_END): None}


@dataclass
class Hit:
    """One resource or claim found: what it is, and its fields with the matched words marked
    (:data:`HIT_START` … :data:`HIT_END`); ``quote`` is empty for a resource without one."""

    iri: str
    kind: str
    label: str
    label_marked: str
    aliases_marked: list[str]
    quote_marked: str


@dataclass
class Results:
    """The hits of one search, the number of matches in all, and the state of the index."""

    hits: list[Hit]
    total: int
    any_word: bool
    version: str
    stale: bool = False
    built: float = 0.0
    entries: int = 0


def kind_of(iri: str) -> str:
    """``actor``, ``claim``… for the resources of this dataset, ``term`` for the ontology's, else ``resource``."""
    if iri.startswith(RESOURCE_BASE):
        return iri[len(RESOURCE_BASE):].split("/", 1)[0] or "resource"
    if iri.startswith(ONTOLOGY_IRI):
        return "term"
    return "resource"


_WORD = re.compile(r"\w+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]*)"')


def fts_query(text: str, *, any_word: bool = False) -> str | None:
    """An FTS5 query for what a person typed: every word must match (``any_word``: one is
    enough), words in double quotes as a phrase, the last word also as the start of a word. Nothing of the
    FTS5 syntax passes through (operators, columns, stars are only words or nothing), so no
    text can make a bad query. None when ``text`` holds no word.

    >>> fts_query('30-day "pause now" cease')
    '"30" "day" "pause now" "cease"*'
    """
    terms: list[str] = []
    for n, piece in enumerate(_PHRASE.split(text)):
        words = _WORD.findall(piece.replace("_", " "))
        if n % 2 and words:
            terms.append('"' + " ".join(words) + '"')
        else:
            terms.extend(f'"{w}"' for w in words)
    if not terms:
        return None
    if " " not in terms[-1]:
        terms[-1] += "*"  # a prefix query, which matches the whole word too
    return (" OR " if any_word else " ").join(terms)


@dataclass
class _Built:
    version: str
    connection: sqlite3.Connection
    path: Path | None
    seconds: float
    entries: int
    lock: threading.Lock = field(default_factory=threading.Lock)


class SearchIndex:
    """The search index of one store (see the module's docstring for when it is built)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._folder = store.path / FOLDER if isinstance(store, EmbeddedStore) else None
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._current: _Built | None = None
        self._building: str | None = None
        self._started = 0.0
        self._remote_version: tuple[float, str] | None = None

    # -- the store's version ----------------------------------------------------------------

    def version(self) -> str:
        """The store's version now (cheap: a directory listing, or a cached count for a remote store)."""
        if isinstance(self.store, EmbeddedStore):
            return self.store.version
        now = time.monotonic()
        if self._remote_version is None or now - self._remote_version[0] > REMOTE_CHECK_SECONDS:
            count = next(self.store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").solutions())["n"].value
            graphs = len(self.store.named_graphs())
            self._remote_version = (now, f"remote-{count}-{graphs}")
        return self._remote_version[1]

    # -- searching ----------------------------------------------------------------------------

    def search(self, text: str, *, limit: int, offset: int = 0) -> Results:
        """The hits for ``text`` (see :func:`fts_query`), best first; when no entry has every
        word, those with any of them."""
        built, stale = self._index()
        for any_word in (False, True):
            query = fts_query(text, any_word=any_word)
            if query is None:
                return Results([], 0, False, built.version, stale, built.seconds, built.entries)
            try:
                with built.lock:
                    total = built.connection.execute("SELECT count(*) FROM fts WHERE fts MATCH ?",
                                                     (query,)).fetchone()[0]
                    rows = built.connection.execute(_SEARCH, (query, limit, offset)).fetchall() if total else []
            except sqlite3.OperationalError as exc:  # fts_query makes none: a bug of ours, logged, said plainly
                _LOG.error("the search index refused %r (from %r): %s", query, text, exc)
                raise InputError(f"the search {text!r} could not be read as words") from None
            if total or any_word:
                break
        hits = [Hit(iri, kind, label, marked_label, [a for a in aliases.split(_ALIAS_SEPARATOR) if HIT_START in a],
                    quote) for iri, kind, label, marked_label, aliases, quote in rows]
        return Results(hits, total, any_word, built.version, stale, built.seconds, built.entries)

    def _index(self) -> tuple[_Built, bool]:
        """The index to answer from and whether it is older than the store; starts a build when
        none is under way and the store has moved on."""
        version = self.version()
        with self._lock:
            current = self._ensure(version)
            if current is None:
                deadline = time.monotonic() + FIRST_WAIT_SECONDS
                while self._current is None and self._building is not None and time.monotonic() < deadline:
                    self._ready.wait(timeout=deadline - time.monotonic())
                current = self._current
            if current is None:
                waited = time.monotonic() - self._started
                raise StoreError(f"the search index is being built (for {waited:.0f} s so far); ask again in a "
                                 "few seconds" if self._building else "the search index could not be built; see "
                                 "the server's log")
            return current, current.version != version

    def wait(self, timeout: float) -> bool:
        """Have the index of the store's version now made (or reused), and wait at most
        ``timeout`` seconds for it; True when it is ready (for benchmarks and tests)."""
        version = self.version()
        deadline = time.monotonic() + timeout
        with self._lock:
            self._ensure(version)
            while not self._is(version) and self._building == version and time.monotonic() < deadline:
                self._ready.wait(timeout=max(0.0, deadline - time.monotonic()))
            return self._is(version)

    def _is(self, version: str) -> bool:
        return self._current is not None and self._current.version == version

    def _ensure(self, version: str) -> _Built | None:
        """The index there is (any version); a build of ``version`` started unless it is the
        index's or under way (called with the lock held)."""
        current = self._current
        if current is None or current.version != version:
            reused = self._reuse(version) if current is None else None
            if reused is not None:
                self._current = current = reused
            elif self._building != version:
                self._start(version)
        return current

    def _reuse(self, version: str) -> _Built | None:
        """The complete index file of ``version`` that an earlier run left, if any."""
        if self._folder is None:
            return None
        path = self._folder / f"index-{version}.sqlite"
        if not path.is_file():
            return None
        try:
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            return _Built(version, connection, path, float(meta.get("seconds", 0)), int(meta.get("entries", 0)))
        except (sqlite3.Error, ValueError) as exc:
            _LOG.warning("the search index %s is unreadable (%s); building it again", path, exc)
            return None

    def _start(self, version: str) -> None:
        self._building, self._started = version, time.monotonic()
        threading.Thread(target=self._build, args=(version,), name="search-index", daemon=True).start()

    def _build(self, version: str) -> None:
        built: _Built | None = None
        try:
            built = self._make(version)
        except Exception:  # a failed build must not end the server; the next search tries again
            _LOG.exception("building the search index failed")
        with self._lock:
            if built is not None:
                self._current = built
                if built.path is not None:
                    _tidy(built.path)
            if self._building == version:
                self._building = None
            self._ready.notify_all()

    def _make(self, version: str) -> _Built:
        started = time.monotonic()
        target: Path | None = None
        if self._folder is not None:
            try:
                self._folder.mkdir(exist_ok=True)
                target = self._folder / f".partial-{uuid.uuid4().hex}.sqlite"
            except OSError:
                target = None  # a store we may read but not write: the index lives in memory
        connection = sqlite3.connect(str(target) if target else ":memory:", check_same_thread=False)
        connection.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _SCHEMA)
        entries = self._fill(connection)
        seconds = time.monotonic() - started
        connection.executemany("INSERT INTO meta VALUES (?, ?)", [("version", version), ("seconds", f"{seconds:.3f}"),
                                                                   ("entries", str(entries))])
        connection.execute("INSERT INTO fts(fts) VALUES ('optimize')")
        connection.commit()
        if target is None:
            return _Built(version, connection, None, seconds, entries)
        connection.close()
        final = target.with_name(f"index-{version}.sqlite")
        os.replace(target, final)
        _LOG.info("search index of %s: %d entries in %.1f s", version, entries, seconds)
        return _Built(version, sqlite3.connect(f"file:{final}?mode=ro", uri=True, check_same_thread=False),
                      final, seconds, entries)

    def _rows(self, query: str) -> Iterator[ox.QuerySolution]:
        if isinstance(self.store, EmbeddedStore):
            return self.store.select(query)
        return iter(self.store.select_all(query, "ORDER BY ?s ?v"))

    def _fill(self, connection: sqlite3.Connection) -> int:
        """One entry per IRI with a label, an alias or a quote."""
        fields: dict[str, tuple[list[str], list[str], list[str]]] = {}
        for column, (_, query) in enumerate(_SOURCES):
            for row in self._rows(query):
                value = row["v"].value.translate(_NO_MARKS)
                fields.setdefault(row["s"].value, ([], [], []))[column].append(value)
        rows = ((n, iri, kind_of(iri), labels[0] if labels else (quotes[0][:80] if quotes else iri),
                 " ".join(labels), _ALIAS_SEPARATOR.join(aliases), "\n".join(quotes))
                for n, (iri, (labels, aliases, quotes)) in enumerate(fields.items(), start=1))
        for batch in _batches(rows, 5000):
            connection.executemany("INSERT INTO entry VALUES (?, ?, ?, ?)", [r[:4] for r in batch])
            connection.executemany("INSERT INTO fts(rowid, label, alias, quote) VALUES (?, ?, ?, ?)",
                                   [(r[0], *r[4:]) for r in batch])
        return len(fields)


def _batches(rows: Iterable[tuple[int, str, str, str, str, str, str]],
             size: int) -> Iterator[list[tuple[int, str, str, str, str, str, str]]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _tidy(keep: Path) -> None:
    """Remove the index files other than ``keep`` (a server that has one open keeps reading it:
    the file goes when it closes), and partial ones a killed build left over an hour ago."""
    for path in keep.parent.iterdir():
        stale = path.name.startswith("index-") and path != keep
        abandoned = path.name.startswith(".partial-") and time.time() - _mtime(path) > 3600
        if stale or abandoned:
            try:
                path.unlink()
            except OSError as exc:
                _LOG.warning("could not remove the old search index %s: %s", path, exc)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()

