"""Where validated data came from: input files and folders, and the file and line of each triple.

Reports point a reader at the line to fix. pyoxigraph does not give positions per triple,
so :func:`kg.rdfio.parse_file_lines` feeds its parser one line at a time: a streaming parser
emits a triple once its last term is read, so the line being read is the triple's line. The
data graph and the index are built from the same parse, so blank nodes match too.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Node

from kg.errors import InputError, Location
from kg.formats import rdf_extensions, rdf_format_for_path
from kg.rdfio import iter_file_lines, parse_file_lines, to_rdflib_term
from kg.shacl.scale.linefiles import LongLine, byte_ranges, line_pieces, plain_iri
from kg.shacl.scale.parallel import ForkedTasks, can_fork
from kg.validation.model import ValidationReport, ValidationResult, term_text

__all__ = ["SourceIndex", "SourceLine", "expand_inputs", "locate", "locate_in_files", "read_located"]

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

    Keys are terms as :func:`kg.validation.model.term_text` writes them, the form results use. Only the
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
            raise InputError(f"the folder holds no RDF files ({rdf_extensions()})", location=Location(str(path)))
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
    """A term as results write it (:func:`kg.validation.model.term_text`), as a pyoxigraph term."""
    if text.startswith("_:"):
        return ox.BlankNode(text[2:])
    if not text.startswith('"'):
        return ox.NamedNode(text)
    quad: ox.Quad
    try:
        [quad] = ox.parse(f"<urn:x-kg:s> <urn:x-kg:p> {text} .", format=ox.RdfFormat.TURTLE)
    except (SyntaxError, ValueError):
        return None
    return quad.object if isinstance(quad.object, ox.Literal) else None  # one quoted term: always a literal


def locate_in_files(report: ValidationReport, paths: Iterable[Path]) -> ValidationReport:
    """:func:`locate` for data that was not read through :func:`read_located` (for example
    bulk-loaded into a store): the files are read again, line by line, only when there are
    results, and only the triples that touch a result's focus node or value are indexed
    (N-Triples: only the lines that may touch one are parsed, :func:`_ntriples_touching`;
    other formats are parsed a quad at a time, never held whole).

    Blank nodes get new identifiers when a file is read again unless the file labels them
    (``_:b1``), so a result on an unlabelled blank node may stay without a place.
    """
    if not report.results:
        return report
    wanted = {t for r in report.results for t in (_ox_term(r.focus_node), _ox_term(r.value) if r.value else None) if t}
    index = SourceIndex()
    keys = _Keys()
    for path in expand_inputs(paths):
        fmt = rdf_format_for_path(path)
        quads = _ntriples_touching(path, wanted) if fmt is not None and fmt.name == "ntriples" else iter_file_lines(path)
        for quad, line in quads:
            if quad.subject in wanted or quad.object in wanted:
                s, p, o = (to_rdflib_term(t) for t in (quad.subject, quad.predicate, quad.object))
                index.add(keys(s), keys(p), keys(o), file=str(path), line=line)
    return locate(report, index)


def _scan_lines(path: Path, start: int, end: int, tokens: frozenset[bytes]) -> tuple[list[int], list[bytes], int]:
    """The lines starting in a byte range of an N-Triples file that may touch ``tokens`` (the
    wanted terms as N-Triples writes them), with their numbers counted from the range's
    first line, and how many lines the range holds.

    A line is kept when its subject is wanted, when its last IRI is (only the first line
    for each such object and predicate: reports ask where an object first occurs), or when
    it is written so that these bytes may not say (tabs, escapes, leading space, terms
    written together); comments and blank lines are passed over."""
    numbers: list[int] = []
    kept: list[bytes] = []
    seen: set[tuple[bytes, bytes]] = set()  # (object, predicate) of the lines kept for their object
    count = 0
    try:
        for piece in line_pieces(path, start, end):
            # no mark: a line's first space ends its subject and its last "<" starts its object
            simple = not any(mark in piece for mark in (b"\t", b"\\", b"_:", b"><", b"\n ", b"\r")) and piece[:1] != b" "
            lines = piece.split(b"\n")
            if not lines[-1]:
                lines.pop()
            for number, line in enumerate(lines, count + 1):
                subject = line[: line.find(b" ")]
                if subject not in tokens:
                    last = line[line.rfind(b"<") : line.rfind(b">") + 1]
                    if simple:
                        if last not in tokens:
                            continue
                        predicate = line.split(b" ", 2)[1]
                        if (last, predicate) in seen:
                            continue
                        seen.add((last, predicate))
                    elif not line.strip() or line.lstrip().startswith(b"#"):
                        continue  # blank, or a comment
                    elif last not in tokens and _plain_subject(subject) and b"\t" not in line and b"\\" not in line:
                        continue  # bytes that vouch for touching nothing wanted
                numbers.append(number)
                kept.append(line)
            count += len(lines)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(str(path))) from None
    return numbers, kept, count


def _plain_subject(token: bytes) -> bool:
    """Whether the bytes before a line's first space are its whole subject: one IRI, or a
    blank node label with no IRI written against it."""
    return plain_iri(token) if token[:1] == b"<" else token[:2] == b"_:" and b"<" not in token


#: files from this size on are read by two processes (where they can be forked)
_PARALLEL_BYTES = 64 * 1024 * 1024


def _ntriples_touching(path: Path, wanted: Collection[object]) -> Iterator[tuple[ox.Quad, int | None]]:
    """The triples of an N-Triples file whose subject or object may be ``wanted``, with their
    lines: a superset, picked by reading each line's first and last terms as bytes (in two
    processes for a large file), then parsed (10M triples: seconds, where parsing every line
    in Python takes minutes and holds gigabytes)."""
    tokens = frozenset(str(t).encode() for t in wanted if isinstance(t, (ox.NamedNode, ox.BlankNode)))
    try:
        ranges = byte_ranges(path, 2 if path.stat().st_size >= _PARALLEL_BYTES and can_fork() else 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(str(path))) from None
    scans = [partial(_scan_lines, path, start, end, tokens) for start, end in ranges]
    try:
        found = ForkedTasks(scans, len(scans)).answers() if len(scans) > 1 else [scans[0]()]
    except LongLine:
        found = None
    if found is None:  # lines these bytes cannot be cut into: every quad, parsed
        return iter_file_lines(path)
    numbers: list[int] = []
    kept: list[bytes] = []
    before = 0  # the lines of the ranges before
    for own_numbers, own_lines, count in found:
        numbers.extend(before + n for n in own_numbers)
        kept.extend(own_lines)
        before += count
    if not kept:
        return iter(())
    # the kept lines parsed on their own: an N-Triples line means the same wherever it stands
    return ((quad, numbers[line - 1] if line else None) for quad, line in iter_file_lines(path, data=b"\n".join(kept) + b"\n"))
