"""Refuse ``SERVICE`` and ``LOAD`` to hosts the configuration does not allow.

pyoxigraph follows ``SERVICE <http://…>`` with real HTTP requests, so a public
endpoint that evaluated any query could be made to call arbitrary addresses. This
module reads a query's tokens (:mod:`kg.sparql.lexer`: strings, IRIs and comments are
single tokens, prefixed names expanded) and names the first remote IRI that is not allowed.
"""

from __future__ import annotations

from kg.sparql.lexer import Kind, code_tokens, expand, prefixes

__all__ = ["refused_target", "remote_targets"]


def remote_targets(text: str) -> list[str]:
    """Every IRI a ``SERVICE`` or ``LOAD`` in ``text`` would reach (``?var`` when it is a
    variable, the prefixed name as written when its prefix is not declared)."""
    code = code_tokens(text)
    declared = prefixes(code)
    targets = []
    for i, token in enumerate(code):
        if not token.is_word("SERVICE", "LOAD"):
            continue
        j = i + 1
        if j < len(code) and code[j].is_word("SILENT"):
            j += 1
        if j >= len(code):
            continue
        target = code[j]
        if target.kind is Kind.PNAME:
            prefix, _, local = target.text.partition(":")
            targets.append(expand(target, declared) or f"{prefix}:{local}")
        else:
            targets.append(expand(target, declared) or target.text)
    return targets


def refused_target(text: str, allowed: tuple[str, ...]) -> str | None:
    """The first SERVICE/LOAD target not under an allowed IRI prefix, or None if all are allowed."""
    for target in remote_targets(text):
        if not any(target.startswith(prefix) for prefix in allowed):
            return target
    return None
