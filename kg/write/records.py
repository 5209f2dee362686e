"""Records of the files each graph was read from: a replace by what a graph holds already,
recognised without comparing it triple by triple.

Every commit forgets the record of each graph it writes, and a load or a replace from files
records them (:attr:`~kg.store.base.GraphWrite.record`, kept by the store in the same
transaction: :data:`kg.store.base.SOURCES_GRAPH`). A record has two parts:

* **the files**: each file's sha256 and format and, for a format that has relative IRIs, the
  base IRI they were read against (the same bytes against another base may be other
  triples). N-Triples and N-Quads have none — pyoxigraph's parser refuses a relative IRI —
  so the same bytes at another path are recognised too;
* **the triples**, when a byte scan proves the files have no blank node (N-Triples, Turtle,
  N3: :func:`may_hold_blank_nodes`) and they are not too large to sort in memory: the sha256 of their triples in one canonical form, the distinct lines of their
  N-Triples serialisation (pyoxigraph's, one line per triple, which tells any two triples
  apart) in sorted order. Two graphs with blank nodes are equal only up to renaming them,
  which this form cannot see: they get no second part.

A replace by files whose first part matches the graph's record is +0 −0 after hashing their
bytes. Otherwise, when the record has a second part, the files' triples are hashed the same
way: equal, the files hold the very triples (parsed alike, so stored alike) the graph was
read from, and the replace is +0 −0 again (at 1M, a fifth of the CPU of comparing them
triple by triple: ``bench/README.md``). Anything else is compared
(:func:`kg.write.filediff.diff_files`), which is exact: no digest decides but the sha256 of
that canonical text, and it decides only that two graphs are equal.

The second part costs reading and sorting the files' triples once more; a load or a compare
computes it in a forked process beside its own work (:class:`TriplesBeside`), so that the
next replace by the same triples written otherwise finds it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox

from kg.errors import InputError, Location
from kg.rdfguard import file_holds_any, screen_rdf
from kg.shacl.scale.parallel import ForkedTasks, can_fork
from kg.store.base import Differ, GraphWrite, WriteMode
from kg.write.change import FilesChange

__all__ = ["Recognised", "TriplesBeside", "file_sha256", "files_record", "files_sha256", "may_hold_blank_nodes",
           "recognise", "triples_sha256"]

#: the N-Triples text of the files' triples above which they get no second part (sorting its
#: lines holds them all in memory: about 1.5× this)
MAX_TRIPLES_BYTES = 1 << 28
#: files smaller than this are hashed in the writer's process (a fork costs more than they do)
_FORK_BYTES = 1 << 20
#: how long a write waits, once its own work is done, for the forked process hashing the
#: triples beside it (s)
_PATIENCE = 60.0


def files_record(change: FilesChange, digests: Sequence[str], triples: str | None = None) -> str:
    """The record of a graph that holds exactly the triples of ``change``'s files, whose
    sha256 are ``digests`` (in order); ``triples``: the digest of those triples
    (:func:`triples_sha256`), when known."""
    parts = [{"sha256": d, "format": f.format.name, "base": change.base_for(f) if f.format.relative_iris else None}
             for f, d in zip(change.files, digests, strict=True)]
    files = hashlib.sha256(json.dumps(["kg-files-2", parts], sort_keys=True).encode()).hexdigest()
    return files if triples is None else f"{files} {triples}"


def _parts(record: str) -> tuple[str, str | None]:
    files, _, triples = record.partition(" ")
    return files, triples or None


@dataclass
class Recognised:
    """What :func:`recognise` found out about the files of a replace."""

    #: each file's sha256 (hashlib objects, in order); empty when the graph has no record
    digests: list[hashlib._Hash] = field(default_factory=list)
    #: the digest of the files' triples, when it was computed
    triples: str | None = None
    #: the write, when the graph holds the files' triples already (+0 −0)
    unchanged: GraphWrite | None = None


def recognise(differ: Differ, change: FilesChange) -> Recognised:
    """For a replace: whether the graph holds the files' triples already, by its record (see
    the module). Reads the files' bytes once (sha256), and their triples once more when only
    the record's second part can tell."""
    recorded = differ.source_record(change.graph)
    if recorded is None:
        return Recognised()
    files_part, triples_part = _parts(recorded)
    found = Recognised([file_sha256(source.path, source.label) for source in change.files])
    hexes = [d.hexdigest() for d in found.digests]
    if files_record(change, hexes) != files_part:
        if triples_part is None:
            return found
        found.triples = triples_sha256(change)
        if found.triples != triples_part:
            return found
    found.unchanged = GraphWrite(change.graph, WriteMode.REPLACE, (), diff=True,
                                 record=files_record(change, hexes, triples_part))
    return found


def triples_sha256(change: FilesChange, *, screen: bool = True) -> str | None:
    """The sha256 of the files' triples in the canonical form of the module; None when they
    get none (a blank node, a dataset format, too large, a file that does not parse — the
    write then says what is wrong the usual way). Each file is screened before it is parsed
    (:func:`kg.rdfguard.screen_rdf`) unless ``screen`` is False: in a forked process, which a
    file the writer's own screen refuses can only make fail."""
    if _may_digest(change) is None or may_hold_blank_nodes(change):
        return None
    lines = _Lines()
    for source in change.files:
        if screen and screen_rdf(source.path, source.format, source.label, max_nesting=change.max_nesting):
            return None  # may hold triple terms: the usual way refuses them
        try:
            # cast: pyoxigraph writes to any object with write() and flush(); its stub says IO[bytes]
            ox.serialize(ox.parse(path=str(source.path), format=source.format.oxigraph,
                                  base_iri=change.base_for(source)), cast(IO[bytes], lines), ox.RdfFormat.N_TRIPLES)
        except (_TooLarge, SyntaxError, ValueError, UnicodeDecodeError, OSError):
            return None
    return lines.digest()


def _may_digest(change: FilesChange) -> int | None:
    """The cheap part of :func:`triples_sha256`'s conditions (graph formats, not too large):
    the files' size when they are met, else None."""
    try:
        size = sum(source.path.stat().st_size for source in change.files)
    except OSError:
        return None
    if size > MAX_TRIPLES_BYTES or any(source.format.datasets for source in change.files):
        return None
    return size


class _TooLarge(Exception):
    """More N-Triples text than :data:`MAX_TRIPLES_BYTES`."""


class _Lines:
    """Where pyoxigraph writes N-Triples: kept as lines, then sorted and hashed."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.tail = b""
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > MAX_TRIPLES_BYTES:
            raise _TooLarge
        parts = (self.tail + data).split(b"\n")
        self.tail = parts.pop()
        self.lines.extend(parts)
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered."""

    def digest(self) -> str:
        """The sha256 of the distinct lines, sorted, each ended by a newline."""
        self.lines.sort()
        total, last = hashlib.sha256(), None
        for line in self.lines:
            if line != last:
                total.update(line + b"\n")
                last = line
        return total.hexdigest()


class TriplesBeside:
    """:func:`triples_sha256` of a change's files, in a forked process started now, while the
    caller loads or compares them (both cores); small files are hashed by :meth:`result`
    itself. Nothing for an addition, or when the change cannot have one; None from
    :meth:`result` when anything goes wrong. Used as a context, it stops the process on the
    way out (when the caller's work failed before :meth:`result`). ``wanted``: False to do
    nothing (the digest is known)."""

    def __init__(self, change: FilesChange, *, wanted: bool = True) -> None:
        self._tasks: ForkedTasks[str | None] | None = None
        self._inline: FilesChange | None = None
        size = _may_digest(change) if change.replace_graph and wanted else None
        if size is not None and size < _FORK_BYTES:
            self._inline = change
        elif size is not None and can_fork():
            self._tasks = ForkedTasks([lambda: triples_sha256(change, screen=False)], processes=1)

    def result(self) -> str | None:
        """The digest (waiting for it at most a minute), or None."""
        if self._inline is not None:
            return triples_sha256(self._inline)
        if self._tasks is None:
            return None
        answers = self._tasks.answers(timeout=_PATIENCE)
        return answers[0] if answers else None

    def __enter__(self) -> TriplesBeside:
        return self

    def __exit__(self, *_: object) -> None:
        if self._tasks is not None:
            self._tasks.stop()


def file_sha256(path: Path, label: str) -> hashlib._Hash:
    """The sha256 of a file's bytes; :class:`InputError` naming ``label`` when it cannot be read."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(label)) from None


def files_sha256(digests: Sequence[hashlib._Hash]) -> str:
    """The digest a receipt records for files read: a file's sha256, or for several the sha256
    of their digests in order."""
    if len(digests) == 1:
        return digests[0].hexdigest()
    total = hashlib.sha256()
    for d in digests:
        total.update(d.digest())
    return total.hexdigest()


#: byte sequences without which a file of these formats has no blank node
_BLANK_MARKS = {"ntriples": (b"_:",), "turtle": (b"_:", b"[", b"("), "n3": (b"_:", b"[", b"(")}


def may_hold_blank_nodes(change: FilesChange) -> bool:
    """False when a byte scan proves the files have no blank node (cheaper than asking the store)."""
    for source in change.files:
        marks = _BLANK_MARKS.get(source.format.name)
        if marks is None or file_holds_any(source.path, marks):
            return True
    return False
