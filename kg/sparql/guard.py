"""Refuse ``SERVICE`` and ``LOAD`` to hosts the configuration does not allow.

pyoxigraph follows ``SERVICE <http://…>`` in a query and ``LOAD <http://…>`` in an update
with real HTTP requests, so a public endpoint that evaluated any text could be made to call
arbitrary addresses and hand back what they answer. Queries and updates alike are read as
the SPARQL grammar reads them (:mod:`kg.sparql.lexer`: strings, IRIs and comments are one
token each, ``\\u`` escapes decoded), and every ``SERVICE``/``LOAD`` target is resolved as the
parser would resolve it: prefixed names through their ``PREFIX``, relative IRIs against the
``BASE`` in force (or the endpoint's own IRI). ``SERVICE`` and ``LOAD`` are reserved words, so
a keyword token is a call and nothing else is; a target that is a variable can reach any
host and is never allowed. The allow-list holds IRI prefixes and is empty by default.
"""

from __future__ import annotations

from urllib.parse import urljoin

from kg.errors import NotAllowedError
from kg.sparql.lexer import Kind, code_tokens, iri_value

__all__ = ["check_remote_calls", "refused_target", "remote_targets"]


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
                prefix, _, local = target.text.partition(":")
                targets.append(declared[prefix] + local.replace("\\", "") if prefix in declared else target.text)
            else:
                targets.append(target.text)
    return targets


def refused_target(text: str, allowed: tuple[str, ...], *, base_iri: str | None = None) -> str | None:
    """The first SERVICE/LOAD target not under an allowed IRI prefix, or None if all are allowed."""
    for target in remote_targets(text, base_iri=base_iri):
        if target.startswith(("?", "$")) or not any(target.startswith(prefix) for prefix in allowed):
            return target
    return None


def check_remote_calls(text: str, allowed: tuple[str, ...], *, base_iri: str | None = None) -> None:
    """Raise :class:`~kg.errors.NotAllowedError` naming the first target of a ``SERVICE`` or
    ``LOAD`` that the allow-list does not cover."""
    refused = refused_target(text, allowed, base_iri=base_iri)
    if refused is not None:
        raise NotAllowedError(f"SERVICE/LOAD to {refused} is not allowed on this endpoint "
                              "(an operator can allow IRI prefixes with the service_allow setting)")
