"""The one SPARQL lexer: what in a query or update text is a string, an IRI, a comment or code.

Several places look inside SPARQL text without evaluating it: the guard that refuses
``SERVICE``/``LOAD`` to unknown hosts, the rewriting of an update's dataset (``USING``), and
the SHACL engine's pre-binding and joinability checks. Each used to carry its own regular
expression, and they disagreed (one IRI pattern refused ``\\``, so ``<http://a/\\u0041#>``
ended early and the ``#`` inside it started a "comment" that hid the rest of the line from
the guard). They now all read the tokens this module produces, which follow the terminals of
the SPARQL 1.1 grammar (section 19.8):

* IRIs may hold ``\\uXXXX``/``\\UXXXXXXXX`` escapes (:func:`iri_value` decodes them), nothing
  else that the grammar's ``IRIREF`` excludes;
* the four string forms, long ones across lines, with ``\\`` escapes;
* comments from ``#`` to the end of the line, outside strings and IRIs;
* variables, prefixed names (a local name never ends with ``.``), blank-node labels,
  numbers, language tags, keywords and punctuation.

A character no terminal starts (an unterminated string's quote, say) is a one-character
``PUNCT`` token, so the lexer never fails: refusing malformed text is the parser's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum

__all__ = ["Kind", "Token", "code_tokens", "declares_dataset", "expand", "group_end", "iri_value", "mask", "prefixes", "rewrite", "tokens"]


class Kind(str, Enum):
    """What a token is."""

    COMMENT = "comment"
    STRING = "string"
    IRI = "iri"
    VAR = "var"
    BNODE = "bnode"
    PNAME = "pname"
    LANGTAG = "langtag"
    NUMBER = "number"
    WORD = "word"  # keywords, function names and ``a``
    PUNCT = "punct"


_HEX_ESCAPE = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_PATTERN = re.compile(
    rf"""
    (?P<comment>\#[^\r\n]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\[\s\S]|"(?!""))*\"\"\"
             |'''(?:[^'\\]|\\[\s\S]|'(?!''))*'''
             |"(?:[^"\\\r\n]|\\.)*"
             |'(?:[^'\\\r\n]|\\.)*')
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_HEX_ESCAPE})*>)
  | (?P<var>[?$][^\W][\w\u00B7\u0300-\u036F\u203F-\u2040]*)
  | (?P<bnode>_:[\w](?:[\w.-]*[\w-])?)
  | (?P<pname>(?:[^\W\d_](?:[\w.-]*[\w-])?)?:(?:(?:[\w:%-]|\\[_~.!$&'()*+,;=/?\#@%-])(?:[\w.:%-]|\\[_~.!$&'()*+,;=/?\#@%-])*(?<!\.))?)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|\S)
    """,
    re.VERBOSE,
)
_SPACE = re.compile(r"\s*")
#: characters that are a one-character token wherever they stand outside a string, an IRI or a
#: comment (a query of a million braces is lexed in a second, not seven)
_ALWAYS_PUNCT = frozenset("{}()[];,")


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its text as written, and where it is (``text[start:end]``)."""

    kind: Kind
    text: str
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        """True when this is a keyword (or function name) among ``words``, in any case."""
        return self.kind is Kind.WORD and self.text.upper() in words

    def is_punct(self, *marks: str) -> bool:
        """True when this is one of the punctuation ``marks``."""
        return self.kind is Kind.PUNCT and self.text in marks


def tokens(text: str, *, comments: bool = False) -> Iterator[Token]:
    """The tokens of ``text`` in order (whitespace between them left out; comments only with
    ``comments``)."""
    position = _SPACE.match(text).end()  # type: ignore[union-attr]  # \s* always matches
    length = len(text)
    while position < length:
        if text[position] in _ALWAYS_PUNCT:  # no other terminal starts so: skip the long pattern
            yield Token(Kind.PUNCT, text[position], position, position + 1)
            position = _SPACE.match(text, position + 1).end()  # type: ignore[union-attr]
            continue
        match = _PATTERN.match(text, position)
        assert match is not None  # the last alternative takes any non-space character
        kind = Kind(match.lastgroup)
        if comments or kind is not Kind.COMMENT:
            yield Token(kind, match.group(), match.start(), match.end())
        position = _SPACE.match(text, match.end()).end()  # type: ignore[union-attr]


def code_tokens(text: str) -> list[Token]:
    """The tokens of ``text`` without its comments, as a list (for looking ahead and back)."""
    return list(tokens(text))


def group_end(code: Sequence[Token], start: int) -> int | None:
    """The index of the ``}`` that closes the group opening at ``code[start]``; None when it is
    never closed."""
    level = 0
    for index in range(start, len(code)):
        level += 1 if code[index].is_punct("{") else -1 if code[index].is_punct("}") else 0
        if level == 0:
            return index
    return None


def mask(text: str, kinds: Iterable[Kind] = (Kind.STRING, Kind.IRI, Kind.COMMENT)) -> str:
    """``text`` with every token of ``kinds`` blanked out by spaces (line breaks kept), so a
    keyword or a brace can be looked for by position without meeting one inside a string,
    an IRI or a comment."""
    blank = frozenset(kinds)
    out: list[str] = []
    last = 0
    for token in tokens(text, comments=True):
        if token.kind in blank:
            out.append(text[last:token.start])
            out.append(re.sub(r"[^\r\n]", " ", token.text))
            last = token.end
    out.append(text[last:])
    return "".join(out)


def rewrite(text: str, replace: Callable[[Token], str | None]) -> str:
    """``text`` with each code token for which ``replace`` returns a string replaced by it;
    everything else (other tokens, comments, whitespace) kept exactly as written."""
    out: list[str] = []
    last = 0
    for token in tokens(text):
        new = replace(token)
        if new is not None:
            out.append(text[last:token.start])
            out.append(new)
            last = token.end
    out.append(text[last:])
    return "".join(out)


_ESCAPE = re.compile(_HEX_ESCAPE)


def iri_value(token: Token) -> str:
    """The IRI an ``IRI`` token names, its ``\\u`` escapes decoded."""
    return _ESCAPE.sub(lambda m: chr(int(m.group()[2:], 16)), token.text[1:-1])


def prefixes(code: Iterable[Token]) -> dict[str, str]:
    """The ``PREFIX`` declarations among ``code``: prefix (without its colon) → namespace IRI."""
    declared: dict[str, str] = {}
    window: list[Token] = []
    for token in code:
        window = [*window[-2:], token]
        if len(window) == 3 and window[0].is_word("PREFIX") and window[1].kind is Kind.PNAME \
                and window[2].kind is Kind.IRI:
            declared[window[1].text.rstrip(":")] = iri_value(window[2])
    return declared


_LOCAL_ESCAPE = re.compile(r"\\(.)")


def expand(token: Token, declared: dict[str, str]) -> str | None:
    """The IRI a token names: an ``IRI`` as written, a prefixed name through ``declared``
    (None when its prefix is not declared); None for any other token."""
    if token.kind is Kind.IRI:
        return iri_value(token)
    if token.kind is Kind.PNAME:
        prefix, _, local = token.text.partition(":")
        if prefix not in declared:
            return None
        return declared[prefix] + _LOCAL_ESCAPE.sub(r"\1", local)
    return None


def declares_dataset(text: str) -> bool:
    """True when a query names its own dataset (``FROM`` or ``FROM NAMED``): a store that
    otherwise chooses which named graphs a query sees must then leave them to the query."""
    if "from" not in text.lower():  # the keyword is those letters as written: no lexing (every query pays it)
        return False
    return any(token.is_word("FROM") for token in tokens(text))
