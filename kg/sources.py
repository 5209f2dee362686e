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

from rdflib import Graph, Node

from .errors import InputError, Location
from .formats import rdf_format_for_path
from .rdfio import parse_file_lines, to_rdflib_term
from .validate import ValidationReport, ValidationResult, term_text

__all__ = ["SourceLine", "SourceIndex", "expand_inputs", "read_located", "locate"]

_SIMPLE_PATH = re.compile(r"^(\^?)<([^<>]*)>$")


@dataclass(frozen=True)
class SourceLine:
    """A file and the 1-based line in it (None when the file's format cannot say)."""

    file: str
    line: int | None


class SourceIndex:
    """The first place each triple, (subject, predicate) pair and term occurs in the input files.

    Keys are terms as :func:`kg.validate.term_text` writes them, the form results use.
    """

    def __init__(self) -> None:
        self._triples: dict[tuple[str, str, str], SourceLine] = {}
        self._pairs: dict[tuple[str, str], SourceLine] = {}
        self._inverse_pairs: dict[tuple[str, str], SourceLine] = {}
        self._subjects: dict[str, SourceLine] = {}
        self._objects: dict[str, SourceLine] = {}

    def add(self, subject: str, predicate: str, obj: str, where: SourceLine) -> None:
        """Record one triple read at ``where`` (later occurrences keep the first place)."""
        self._triples.setdefault((subject, predicate, obj), where)
        self._pairs.setdefault((subject, predicate), where)
        self._inverse_pairs.setdefault((obj, predicate), where)
        self._subjects.setdefault(subject, where)
        self._objects.setdefault(obj, where)

    def __len__(self) -> int:
        return len(self._triples)

    def triple(self, subject: str, predicate: str, obj: str) -> SourceLine | None:
        """Where the triple was read, or None."""
        return self._triples.get((subject, predicate, obj))

    def of_result(self, result: ValidationResult) -> SourceLine | None:
        """Where the offending triple of ``result`` is: focus node + path + value when the
        path is a predicate (or its inverse) and the result has a value; else the first triple
        of the focus node on that predicate; else the focus node's first triple."""
        focus, value = result.focus_node, result.value
        match = _SIMPLE_PATH.match(result.path or "")
        if match:
            inverse, predicate = bool(match.group(1)), match.group(2)
            if value is not None:
                hit = self.triple(value, predicate, focus) if inverse else self.triple(focus, predicate, value)
                if hit is not None:
                    return hit
            hit = (self._inverse_pairs if inverse else self._pairs).get((focus, predicate))
            if hit is not None:
                return hit
        return self._subjects.get(focus) or self._objects.get(focus)


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
    for path in expand_inputs(paths):
        name = str(path)
        lines: dict[int | None, SourceLine] = {}
        for quad, line in parse_file_lines(path):
            s, p, o = (to_rdflib_term(t) for t in (quad.subject, quad.predicate, quad.object))
            graph.add((s, p, o))
            where = lines.get(line)
            if where is None:
                where = lines[line] = SourceLine(name, line)
            index.add(_key(s), _key(p), _key(o), where)
    return graph, index


def _key(node: Node) -> str:
    text = term_text(node)
    assert text is not None
    return text


def locate(report: ValidationReport, index: SourceIndex) -> ValidationReport:
    """The report with each result's ``source_file``/``source_line`` set from ``index``."""
    located = []
    for result in report.results:
        where = index.of_result(result)
        if where is not None:
            result = dataclasses.replace(result, source_file=where.file, source_line=where.line)
        located.append(result)
    return dataclasses.replace(report, results=located)
