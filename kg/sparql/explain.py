"""SPARQL syntax errors in our words: what is wrong and where, never the parser's grammar dump.

pyoxigraph's parser reports an error as ``error at LINE:COLUMN: expected one of …`` followed
by every terminal it could have read, character ranges included (six lines of ``\\u{00C0}``
for a missing ``PREFIX``). What a reader needs is the mistake: the prefix that is not
declared, the keyword that is misspelt, the brace that is not closed. :func:`explain` reads
the parser's position, looks at the tokens there (:mod:`kg.sparql.lexer`) and says that.

The parser's position is where it gave up, which is after the offending token (after
``rdf:subject`` when ``rdf:`` is not declared); messages quote that position as the parser
gave it, and name the token.
"""

from __future__ import annotations

import re

from kg.namespaces import PREFIXES
from kg.sparql.lexer import Kind, Token, code_tokens, prefixes

__all__ = ["explain", "parser_position"]

_POSITION = re.compile(r"error at (\d+):(\d+):\s*(.*)", re.S)
#: words a query or an update may start with (after its PREFIX/BASE prologue)
_QUERY_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")
_UPDATE_FORMS = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH")
#: what the parser may list among "expected" that is a message rather than a terminal
_SEMANTIC = ("Prefix not found", "IRI parsing failed", "The SELECT contains a variable that is unbound")


def parser_position(message: str) -> tuple[int, int] | None:
    """The 1-based (line, column) a pyoxigraph syntax error names, if it names one."""
    match = _POSITION.search(message)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _offset(text: str, line: int, column: int) -> int:
    """The character offset of a 1-based line and column in ``text``."""
    lines = text.split("\n")
    before = sum(len(part) + 1 for part in lines[: line - 1])
    return min(len(text), before + max(column - 1, 0))


def _at(text: str, offset: int) -> tuple[Token | None, Token | None]:
    """The token that ends at or before ``offset`` and the one that starts at or after it."""
    before = after = None
    for token in code_tokens(text):
        if token.end <= offset:
            before = token
        elif token.start >= offset or token.start < offset < token.end:
            after = after or token
    return before, after


def _expected(rest: str) -> list[str]:
    """The plain terminals of the parser's "expected one of" list (keywords and punctuation),
    without its character ranges and messages."""
    listed = rest.removeprefix("expected one of").removeprefix("expected").strip()
    listed = re.sub(r"\[(?:'(?:[^'\\]|\\.)*'|[^\]'])*\]", " ", listed)  # character classes
    found = re.findall(r'"((?:[^"\\]|\\.)*)"|\b([A-Z][A-Za-z]+)\b(?![\'\]])', listed)
    out: list[str] = []
    for quoted, word in found:
        item = (quoted.replace('\\"', '"').replace("\\\\", "\\")) if quoted else word
        if item and item not in out and not any(item in s.split() for s in _SEMANTIC):
            out.append(item)
    return out


def _undeclared(code: list[Token], offset: int) -> Token | None:
    """The prefixed name nearest before ``offset`` whose prefix is not declared (the name of a
    ``PREFIX`` declaration itself excepted)."""
    declared = prefixes(code)
    candidates = [t for i, t in enumerate(code) if t.kind is Kind.PNAME and t.text.partition(":")[0] not in declared
                  and t.start < max(offset, 1) and not (i > 0 and code[i - 1].is_word("PREFIX"))
                  and not (i > 0 and code[i - 1].is_punct("<") and code[i - 1].end == t.start)]  # in a broken IRI
    return candidates[-1] if candidates else None


def _line_column(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def explain(text: str, error: BaseException | str, *, update: bool = False) -> str:
    """What is wrong with ``text`` (a query, or an ``update``), from the parser's ``error``.

    Mistakes with a name (an undeclared prefix, a misspelt keyword, an IRI that is not one)
    say so with ``(line L, column C)``; others are ``SPARQL syntax error at L:C: …`` with the
    token found there and the keywords and punctuation the parser would have accepted.

    >>> explain("SELECT * WHERE { ?s rdf:type ?o }", "error at 1:29: expected one of Prefix not found, ['%']")
    'prefix `rdf:` is not declared (line 1, column 29); add PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>'
    """
    message = str(error)
    what = "SPARQL Update" if update else "SPARQL"
    noun = "update" if update else "query"
    if not text.strip():
        return f"the {noun} is empty"
    position = parser_position(message)
    if position is None:
        return f"{what} syntax error: {message.strip().splitlines()[0] if message.strip() else 'the text does not parse'}"
    line, column = position
    where = f"line {line}, column {column}"
    rest = _POSITION.search(message).group(3)  # type: ignore[union-attr]  # matched above
    offset = _offset(text, line, column)
    code = code_tokens(text)
    if "IRI parsing failed" in rest:
        start = text.rfind("<", 0, offset)
        iri = f"`{text[start:offset]}`" if start >= 0 else "an IRI"
        return f"{iri} is not a valid IRI ({where})"
    undeclared = _undeclared(code, offset)
    if undeclared is not None:  # always an error, and the parser does not always say so
        prefix = undeclared.text.partition(":")[0]
        if "Prefix not found" not in rest:  # the parser gave up elsewhere: point at the name itself
            where = "line {}, column {}".format(*_line_column(text, undeclared.start))
        hint = f"; add PREFIX {prefix}: <{PREFIXES[prefix]}>" if prefix in PREFIXES else \
            f"; declare it with PREFIX {prefix}: <…>"
        return f"prefix `{prefix}:` is not declared ({where}){hint}"
    if "The SELECT contains a variable that is unbound" in rest:
        return f"the SELECT names a variable that is neither grouped (GROUP BY) nor computed ({where})"
    forms = _UPDATE_FORMS if update else _QUERY_FORMS
    first = next((t for t in code if not t.is_word("PREFIX", "BASE") and t.kind not in (Kind.PNAME, Kind.IRI)), None)
    if first is not None and first.kind is Kind.WORD and first.text.upper() not in forms and first.end <= offset:
        first_line, first_column = _line_column(text, first.start)
        kinds = ", ".join(forms[:-1]) + " or " + forms[-1]
        return (f"`{first.text}` is not a SPARQL keyword (line {first_line}, column {first_column}): "
                f"{'an update' if update else 'a query'} starts with {kinds}, after its PREFIX and BASE declarations")
    at = f"{what} syntax error at {line}:{column}"
    quote = next((t for t in code if t.is_punct('"', "'")), None)
    if quote is not None and quote.start < offset:
        return f"{what} syntax error at {':'.join(map(str, _line_column(text, quote.start)))}: a string is not closed"
    # a list holding [_] (any character) says little: the parser's own position is then vague too
    expected = _expected(rest) if "[_]" not in rest else []
    wanted = ""
    if expected:
        shown = [f"`{e}`" for e in expected[:8]]
        wanted = "; expected " + (shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1])
        wanted += ", …" if len(expected) > 8 else ""
    opened = sum(1 for t in code if t.is_punct("{")) - sum(1 for t in code if t.is_punct("}"))
    if opened < 0:
        return f"{at}: a `}}` closes nothing"
    before, after = _at(text, offset)
    if after is None and offset >= len(text.rstrip()):
        if opened > 0:
            return f"{at}: the {noun} ends too early ({opened} `{{` not closed){wanted}"
        if before is not None and before.is_punct("}"):
            return f"{at}: something is missing before the last `}}`{wanted}"
        return f"{at}: the {noun} ends too early{wanted}"
    if after is not None and after.start <= offset:
        return f"{at}: unexpected `{after.text[:40]}`{wanted}"
    near = f" after `{before.text[:40]}`" if before is not None else ""
    return f"{at}: cannot read on{near}{wanted}"
