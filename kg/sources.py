"""Where validated data came from: input files and folders, and the file and line of each triple.

Reports point a reader at the line to fix. pyoxigraph does not give positions per triple,
so :func:`kg.rdfio.parse_file_lines` feeds its parser one line at a time: a streaming parser
emits a triple once its last term is read, so the line being read is the triple's line. The
data graph and the index are built from the same parse, so blank nodes match too.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Node

from .errors import InputError, Location
from .formats import rdf_format_for_path
from .rdfio import parse_file_lines, to_rdflib_term
from .validate import ValidationReport, ValidationResult, term_text

__all__ = ["SourceLine", "SourceIndex", "expand_inputs", "read_located", "locate", "locate_in_files"]

_SIMPLE_PATH = re.compile(r"^(\^?)<([^<>]*)>$")


@dataclass(frozen=True)
class SourceLine:
    """A file and the 1-based line in it (None when the file's format cannot say)."""

    file: str
    line: int | None


@dataclass
class _Derived:
    pairs: dict[tuple[str, str], int]
    inverse_pairs: dict[tuple[str, str], int]
    subjects: dict[str, int]
    objects: dict[str, int]


class SourceIndex:
    """The first place each triple occurs in the input files, and from it where each
    (subject, predicate) pair and each term first occurs.

    Keys are terms as :func:`kg.validate.term_text` writes them, the form results use. Only the
    triples are kept while reading, each with one small integer for its file and line; the
    other maps are derived the first time a result needs them, so a clean run pays for one map.
    """

    def __init__(self) -> None:
        self._files: list[str] = []
        self._numbers: dict[str, int] = {}
        self._triples: dict[tuple[str, str, str], int] = {}
        self._derived: _Derived | None = None

    def add(self, subject: str, predicate: str, obj: str, *, file: str, line: int | None) -> None:
        """Record one triple read in ``file`` at ``line`` (later occurrences keep the first place)."""
        number = self._numbers.get(file)
        if number is None:
            number = self._numbers[file] = len(self._files)
            self._files.append(file)
        self._triples.setdefault((subject, predicate, obj), (number << 32) | (line or 0))
        self._derived = None

    def __len__(self) -> int:
        return len(self._triples)

    def _place(self, packed: int | None) -> SourceLine | None:
        if packed is None:
            return None
        return SourceLine(self._files[packed >> 32], (packed & 0xFFFFFFFF) or None)

    def triple(self, subject: str, predicate: str, obj: str) -> SourceLine | None:
        """Where the triple was read, or None."""
        return self._place(self._triples.get((subject, predicate, obj)))

    def _maps(self) -> _Derived:
        if self._derived is None:
            derived = _Derived({}, {}, {}, {})
            for (s, p, o), packed in self._triples.items():  # in reading order: first places win
                derived.pairs.setdefault((s, p), packed)
                derived.inverse_pairs.setdefault((o, p), packed)
                derived.subjects.setdefault(s, packed)
                derived.objects.setdefault(o, packed)
            self._derived = derived
        return self._derived

    def of_result(self, result: ValidationResult) -> SourceLine | None:
        """Where the offending triple of ``result`` is: focus node + path + value when the
        path is a predicate (or its inverse) and the result has a value; else the first triple
        of the focus node on that predicate; else the focus node's first triple."""
        focus, value = result.focus_node, result.value
        match = _SIMPLE_PATH.match(result.path or "")
        if match and value is not None:
            inverse, predicate = bool(match.group(1)), match.group(2)
            hit = self.triple(value, predicate, focus) if inverse else self.triple(focus, predicate, value)
            if hit is not None:
                return hit
        maps = self._maps()
        if match:
            inverse, predicate = bool(match.group(1)), match.group(2)
            packed = (maps.inverse_pairs if inverse else maps.pairs).get((focus, predicate))
            if packed is not None:
                return self._place(packed)
        packed = maps.subjects.get(focus)
        return self._place(packed if packed is not None else maps.objects.get(focus))


def expand_inputs(paths: Iterable[Path]) -> list[Path]:
    """The files to read: each file as given, each folder's RDF files (by extension, recursively,
    sorted, hidden folders skipped). A folder with none is an :class:`InputError`."""
    out: list[Path] = []
    for path in paths:
        if not path.is_dir():
            out.append(path)
            continue
        found = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and rdf_format_for_path(p) is not None
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not found:
            raise InputError("the folder holds no RDF files (.ttl, .nt, .nq, .trig, .jsonld, .rdf)", location=Location(str(path)))
        out.extend(found)
    return out


def read_located(paths: Iterable[Path]) -> tuple[Graph, SourceIndex]:
    """The union of the files as one rdflib graph, and where each of its triples was read."""
    graph = Graph()
    index = SourceIndex()
    keys = _Keys()
    for path in expand_inputs(paths):
        name = str(path)
        for quad, line in parse_file_lines(path):
            s, p, o = (to_rdflib_term(t) for t in (quad.subject, quad.predicate, quad.object))
            graph.add((s, p, o))
            index.add(keys(s), keys(p), keys(o), file=name, line=line)
    return graph, index


class _Keys(dict[Node, str]):
    """One key string per distinct term, shared by every triple that uses the term (an index
    of a million triples then holds a few hundred thousand strings, not three million)."""

    def __call__(self, node: Node) -> str:
        key = self.get(node)
        if key is None:
            key = self[node] = term_text(node) or ""
        return key


def locate(report: ValidationReport, index: SourceIndex) -> ValidationReport:
    """The report with each result's ``source_file``/``source_line`` set from ``index``."""
    located = []
    for result in report.results:
        where = index.of_result(result)
        if where is not None:
            result = dataclasses.replace(result, source_file=where.file, source_line=where.line)
        located.append(result)
    return dataclasses.replace(report, results=located)


def _ox_term(text: str) -> ox.NamedNode | ox.BlankNode | ox.Literal | None:
    """A term as results write it (:func:`kg.validate.term_text`), as a pyoxigraph term."""
    if text.startswith("_:"):
        return ox.BlankNode(text[2:])
    if not text.startswith('"'):
        return ox.NamedNode(text)
    try:
        [quad] = ox.parse(f"<urn:x-kg:s> <urn:x-kg:p> {text} .", format=ox.RdfFormat.TURTLE)
    except (SyntaxError, ValueError):
        return None
    return quad.object  # type: ignore[return-value]


def locate_in_files(report: ValidationReport, paths: Iterable[Path]) -> ValidationReport:
    """:func:`locate` for data that was not read through :func:`read_located` (for example
    bulk-loaded into a store): the files are read again, line by line, only when there are
    results, and only the triples that touch a result's focus node or value are indexed.

    Blank nodes get new identifiers when a file is read again unless the file labels them
    (``_:b1``), so a result on an unlabelled blank node may stay without a place.
    """
    if not report.results:
        return report
    wanted = {t for r in report.results for t in (_ox_term(r.focus_node), _ox_term(r.value) if r.value else None) if t}
    index = SourceIndex()
    keys = _Keys()
    for path in expand_inputs(paths):
        for quad, line in parse_file_lines(path):
            if quad.subject in wanted or quad.object in wanted:
                s, p, o = (to_rdflib_term(t) for t in (quad.subject, quad.predicate, quad.object))
                index.add(keys(s), keys(p), keys(o), file=str(path), line=line)
    return locate(report, index)
