"""Query results as ``kg query`` writes them: the formats each kind of query takes, the
columns in the order the query names them, a table for a person, always a final newline.

* **Formats** (:data:`QUERY_FORMATS`): what each kind of result can be written as, and so
  what ``kg query --help`` offers and what a refusal suggests (:func:`refusal`: "CSV is for
  SELECT results; use turtle, ntriples, jsonld or rdfxml for CONSTRUCT").
* **Columns**: pyoxigraph answers ``SELECT *`` with its variables sorted by name (``o,p,s``);
  :func:`column_order` puts them in the order they first appear in the query, as a reader
  expects, and :func:`write_result` writes them so in every format.
* **Table**: one line per solution, IRIs shortened with the project's prefixes and the query's
  own, long values cut to fit the terminal (:func:`render_table`).
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterable, Sequence
from typing import IO, Protocol, cast

import pyoxigraph as ox

from kg.formats import QueryKind, rdf_format_by_name, result_format_by_name
from kg.namespaces import PREFIXES
from kg.sparql.lexer import Kind, code_tokens, prefixes

__all__ = [
    "ALL_QUERY_FORMATS",
    "QUERY_FORMATS",
    "column_order",
    "query_form",
    "refusal",
    "render_table",
    "write_result",
]

#: what ``kg query`` can write, per kind of result (the first is the default on a terminal)
QUERY_FORMATS: dict[QueryKind, tuple[str, ...]] = {
    QueryKind.SOLUTIONS: ("table", "json", "xml", "csv", "tsv"),
    QueryKind.BOOLEAN: ("table", "json", "xml"),
    QueryKind.GRAPH: ("turtle", "ntriples", "jsonld", "rdfxml"),
}
#: every format ``kg query`` takes, in the order ``--help`` lists them
ALL_QUERY_FORMATS: tuple[str, ...] = tuple(dict.fromkeys(f for fs in QUERY_FORMATS.values() for f in fs))

_DISPLAY = {"table": "A table", "json": "JSON", "xml": "XML", "csv": "CSV", "tsv": "TSV", "turtle": "Turtle",
            "ntriples": "N-Triples", "jsonld": "JSON-LD", "rdfxml": "RDF/XML"}
_FOR = {"table": "SELECT and ASK results", "json": "SELECT and ASK results", "xml": "SELECT and ASK results",
        "csv": "SELECT results", "tsv": "SELECT results"}
_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")


class Writer(Protocol):
    """Where results go (a binary file or stdout's buffer)."""

    def write(self, data: bytes, /) -> int:
        """Write ``data``."""

    def flush(self) -> None:
        """Pass on what is buffered."""


def query_form(text: str) -> str:
    """SELECT, CONSTRUCT, DESCRIBE or ASK: the form of the query ``text`` (SELECT if unclear)."""
    return next((t.text.upper() for t in code_tokens(text) if t.is_word(*_FORMS)), "SELECT")


def refusal(kind: QueryKind, format_name: str, *, form: str) -> str | None:
    """Why ``format_name`` cannot hold a result of ``kind`` and what can, in our words; None
    when it can. ``form`` is the query's form, for the message."""
    allowed = QUERY_FORMATS[kind]
    if format_name in allowed:
        return None
    use = ", ".join(allowed[:-1]) + " or " + allowed[-1]
    purpose = _FOR.get(format_name, "CONSTRUCT and DESCRIBE results")
    return f"{_DISPLAY.get(format_name, format_name)} is for {purpose}; use {use} for {form}"


def column_order(text: str, variables: Sequence[str]) -> list[str]:
    """``variables`` (a result's) in the order the query ``text`` names them: as given for an
    explicit projection; for ``SELECT *``, by where each first appears in the query."""
    code = code_tokens(text)
    select = next((i for i, t in enumerate(code) if t.is_word("SELECT")), None)
    if select is None:
        return list(variables)
    after = [t for t in code[select + 1:select + 3] if not t.is_word("DISTINCT", "REDUCED")]
    if not after or not after[0].is_punct("*"):
        return list(variables)
    first: dict[str, int] = {}
    for position, token in enumerate(code):
        if token.kind is Kind.VAR:
            first.setdefault(token.text[1:], position)
    return sorted(variables, key=lambda v: (first.get(v, len(code)), v))


def _shorten(iri: str, table: dict[str, str]) -> str:
    best = max((ns for ns in table.values() if iri.startswith(ns)), key=len, default=None)
    if best is not None:
        local = iri[len(best):]
        # for reading, not for parsing back: a local name may hold "#" or "/" here
        if local and not any(c.isspace() or c in '<>"{}|^`\\' for c in local):
            prefix = next(p for p, ns in table.items() if ns == best)
            return f"{prefix}:{local}"
    return f"<{iri}>"


def _cell(term: object, table: dict[str, str]) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return _shorten(term.value, table)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        return " ".join(term.value.split())
    return str(term)


def _fit(widths: list[int], room: int) -> list[int]:
    """Column widths cut down (the widest first) until the line fits ``room`` characters."""
    widths = list(widths)
    gaps = 2 * (len(widths) - 1)
    while sum(widths) + gaps > room:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= 8:
            break
        widths[widest] -= 1
    return widths


def render_table(columns: Sequence[str], rows: Iterable[Sequence[str]], *, width: int | None = None) -> str:
    """``rows`` under ``columns``, aligned, cut to ``width`` (the terminal's by default), with
    the number of rows at the end."""
    body = [list(r) for r in rows]
    room = width or shutil.get_terminal_size((120, 24)).columns
    natural = [max([len(c), *(len(r[i]) for r in body)]) for i, c in enumerate(columns)]
    widths = _fit(natural, room)

    def line(cells: Sequence[str]) -> str:
        out = []
        for cell, size in zip(cells, widths, strict=True):
            out.append(cell if len(cell) <= size else cell[: size - 1] + "…")
        return "  ".join(c.ljust(s) for c, s in zip(out, widths, strict=True)).rstrip()

    lines = [line(list(columns)), "  ".join("─" * s for s in widths)]
    lines += [line(r) for r in body]
    lines.append(f"({len(body)} row{'s' if len(body) != 1 else ''})")
    return "\n".join(lines) + "\n"


class _Tail:
    """Passes bytes on and remembers the last one, so a final newline can be added if missing."""

    def __init__(self, output: Writer) -> None:
        self.output, self.last = output, b""

    def write(self, data: bytes) -> int:
        if data:
            self.last = data[-1:]
        return self.output.write(data)

    def flush(self) -> None:
        self.output.flush()


def _tsv_term(term: object) -> str:
    return "" if term is None else str(term)


def _reordered(solutions: ox.QuerySolutions, columns: Sequence[str]) -> ox.QuerySolutions:
    """The same solutions with their variables in ``columns`` order (through SPARQL TSV, whose
    terms are N-Triples: nothing is lost)."""
    text = io.StringIO()
    text.write("\t".join(f"?{c}" for c in columns) + "\n")
    for solution in solutions:
        text.write("\t".join(_tsv_term(solution[c]) for c in columns) + "\n")
    parsed = ox.parse_query_results(text.getvalue(), format=ox.QueryResultsFormat.TSV)
    assert isinstance(parsed, ox.QuerySolutions)  # a TSV body with a header is always solutions
    return parsed


def write_result(kind: QueryKind, result: object, output: Writer, *, format_name: str, query: str) -> None:
    """Write ``result`` (of ``kind``, from the query ``query``, whose columns and prefixes it
    follows) in ``format_name``, ending with a newline. The caller checked the format with
    :func:`refusal`. A graph result may be any iterable of triples (a remote store's is a list)."""
    tail = _Tail(output)
    sink = cast(IO[bytes], tail)  # pyoxigraph writes to any object with write(); its stub asks for IO[bytes]
    if kind is QueryKind.GRAPH:
        fmt = rdf_format_by_name(format_name)
        triples = cast(Iterable[ox.Triple], result)
        if fmt.prefixes:
            ox.serialize(triples, sink, fmt.oxigraph, prefixes={**PREFIXES, **prefixes(code_tokens(query))})
        else:
            ox.serialize(triples, sink, fmt.oxigraph)
    elif kind is QueryKind.BOOLEAN:
        answer = cast(ox.QueryBoolean, result)
        if format_name == "table":
            tail.write(b"true\n" if bool(answer) else b"false\n")
        else:
            answer.serialize(sink, result_format_by_name(format_name).oxigraph)
    else:
        solutions = cast(ox.QuerySolutions, result)
        names = [v.value for v in solutions.variables]
        columns = column_order(query, names)
        if format_name == "table":
            table = {**PREFIXES, **prefixes(code_tokens(query))}
            rows = ([_cell(s[c], table) for c in columns] for s in solutions)
            tail.write(render_table(columns, rows).encode("utf-8"))
        else:
            ordered = _reordered(solutions, columns) if columns != names else solutions
            ordered.serialize(sink, result_format_by_name(format_name).oxigraph)
    if tail.last != b"\n":
        tail.write(b"\n")
    tail.flush()
