"""What a public endpoint refuses before any SPARQL text reaches pyoxigraph.

**Remote calls.** pyoxigraph follows ``SERVICE <http://…>`` in a query and ``LOAD <http://…>``
in an update with real HTTP requests, so a public endpoint that evaluated any text could be
made to call arbitrary addresses and hand back what they answer. Queries and updates alike
are read as the SPARQL grammar reads them (:mod:`kg.sparql.lexer`: strings, IRIs and comments
are one token each, ``\\u`` escapes decoded), and every ``SERVICE``/``LOAD`` target is resolved
as the parser would resolve it: prefixed names through their ``PREFIX``, relative IRIs against
the ``BASE`` in force (or the endpoint's own IRI). ``SERVICE`` and ``LOAD`` are reserved words,
so a keyword token is a call and nothing else is; a target that is a variable can reach any
host and is never allowed. The allow-list holds IRI prefixes and is empty by default.

**Nesting.** pyoxigraph's SPARQL parser descends recursively: a few thousand nested ``{``
or ``(`` (20 KB of text) overflow its stack and kill the process (SIGSEGV) — a query worker,
or for an update the server itself. :func:`check_nesting` counts groups, brackets and
parentheses (and RDF 1.2's ``<<`` … ``>>``) on the tokens, outside strings, IRIs and comments,
and refuses text deeper than the limit before it is parsed.
"""

from __future__ import annotations

from urllib.parse import urljoin

from kg.errors import NotAllowedError, QueryError
from kg.sparql.lexer import Kind, Token, code_tokens, expand, iri_value, tokens

__all__ = ["check_nesting", "check_remote_calls", "nesting_depth", "refused_target", "remote_targets"]


def remote_targets(text: str, *, base_iri: str | None = None) -> list[str]:
    """Every IRI a ``SERVICE`` or ``LOAD`` in ``text`` would reach, resolved (``?var`` for a
    variable, the prefixed name as written when its prefix is not declared)."""
    code = code_tokens(text)
    base = base_iri or ""
    declared: dict[str, str] = {}
    targets: list[str] = []

    def resolve(iri: str) -> str:
        return urljoin(base, iri) if base else iri

    for i, token in enumerate(code):
        after = code[i + 1] if i + 1 < len(code) else None
        if token.is_word("BASE") and after is not None and after.kind is Kind.IRI:
            base = resolve(iri_value(after))
        elif token.is_word("PREFIX") and after is not None and after.kind is Kind.PNAME \
                and i + 2 < len(code) and code[i + 2].kind is Kind.IRI:
            declared[after.text.rstrip(":")] = resolve(iri_value(code[i + 2]))
        elif token.is_word("SERVICE", "LOAD"):
            j = i + 2 if after is not None and after.is_word("SILENT") else i + 1
            if j >= len(code):
                continue
            target = code[j]
            if target.kind is Kind.IRI:
                targets.append(resolve(iri_value(target)))
            elif target.kind is Kind.PNAME:
                targets.append(expand(target, declared) or target.text)
            else:
                targets.append(target.text)
    return targets


def _under(target: str, prefix: str) -> bool:
    """True when ``target`` starts with the allowed ``prefix`` and, where the prefix ends in
    the middle of an authority (``http://ok.example``), the host does not go on after it
    (``http://ok.example.evil.net/``, ``http://ok.example@evil.net/``)."""
    if not target.startswith(prefix):
        return False
    scheme, sep, rest = prefix.partition("://")
    if not sep or "/" in rest:
        return True
    return target[len(prefix):][:1] in ("", "/", "?", "#")


def refused_target(text: str, allowed: tuple[str, ...], *, base_iri: str | None = None) -> str | None:
    """The first SERVICE/LOAD target not under an allowed IRI prefix, or None if all are allowed."""
    for target in remote_targets(text, base_iri=base_iri):
        if target.startswith(("?", "$")) or not any(_under(target, prefix) for prefix in allowed):
            return target
    return None


def check_remote_calls(text: str, allowed: tuple[str, ...], *, base_iri: str | None = None) -> None:
    """Raise :class:`~kg.errors.NotAllowedError` naming the first target of a ``SERVICE`` or
    ``LOAD`` that the allow-list does not cover."""
    refused = refused_target(text, allowed, base_iri=base_iri)
    if refused is not None:
        raise NotAllowedError(f"SERVICE/LOAD to {refused} is not allowed on this endpoint "
                              "(an operator can allow IRI prefixes with the service_allow setting)")


_OPENERS = frozenset("{([")
_CLOSERS = frozenset("})]")


def nesting_depth(text: str, *, stop_above: int | None = None) -> tuple[int, Token | None]:
    """How deep groups, brackets, parentheses and ``<<``…``>>`` nest in ``text`` (read as
    tokens: a brace in a string, an IRI or a comment does not count), and the token where
    that depth is first reached. With ``stop_above``, reading stops at the first token past
    that depth, so a flood of openers costs no more than the limit."""
    depth = deepest = 0
    where: Token | None = None
    previous: Token | None = None
    for token in tokens(text):
        if token.kind is Kind.PUNCT:
            mark = token.text
            # ``<<`` and ``>>`` are two one-character tokens side by side
            pair = previous is not None and previous.kind is Kind.PUNCT and previous.end == token.start \
                and previous.text == mark and mark in "<>"
            if mark in _OPENERS or (pair and mark == "<"):
                depth += 1
                if depth > deepest:
                    deepest, where = depth, token
                    if stop_above is not None and depth > stop_above:
                        break
            elif (mark in _CLOSERS or (pair and mark == ">")) and depth > 0:
                depth -= 1
            if pair:
                token = Token(Kind.WORD, "", token.end, token.end)  # a third < starts no new pair
        previous = token
    return deepest, where


def check_nesting(text: str, *, limit: int, what: str = "query") -> None:
    """Raise :class:`~kg.errors.QueryError` when groups (``{}``), brackets, parentheses or
    ``<<``…``>>`` nest more than ``limit`` deep in ``text``, naming the line and column where
    the limit is passed (the setting ``max_nesting``)."""
    deepest, where = nesting_depth(text, stop_above=limit)
    if deepest > limit and where is not None:
        line = text.count("\n", 0, where.start) + 1
        column = where.start - (text.rfind("\n", 0, where.start) + 1) + 1
        raise QueryError(f"the {what} nests groups, brackets or parentheses more than {limit} deep "
                         f"(at line {line}, column {column}); the limit (setting max_nesting) keeps the "
                         "SPARQL parser from running out of stack")
