"""Refuse ``SERVICE`` and ``LOAD`` to hosts the configuration does not allow.

pyoxigraph follows ``SERVICE <http://…>`` with real HTTP requests, so a public
endpoint that evaluated any query could be made to call arbitrary addresses. This
module reads a query's tokens (skipping strings, IRIs and comments, expanding
prefixed names) and names the first remote IRI that is not allowed.
"""

from __future__ import annotations

import re

__all__ = ["remote_targets", "refused_target", "significant_tokens"]

_TOKENS = re.compile(
    r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w]+)
  | (?P<pname>(?:[^\W\d][\w.-]*)?:[\w.%:-]*)
  | (?P<word>[^\W\d]\w*)
  | (?P<other>\S)
    """,
    re.VERBOSE | re.UNICODE,
)
_KEYWORDS = {"SERVICE", "LOAD"}


def significant_tokens(text: str) -> list[tuple[str, str]]:
    """The tokens of a query or update as (kind, text), comments left out; strings and IRIs are one token each."""
    return [(m.lastgroup or "", m.group()) for m in _TOKENS.finditer(text) if m.lastgroup not in ("comment",)]


def remote_targets(text: str) -> list[str]:
    """Every IRI a ``SERVICE`` or ``LOAD`` in ``text`` would reach (``?var`` when it is a variable)."""
    tokens = significant_tokens(text)
    prefixes: dict[str, str] = {}
    for i, (kind, value) in enumerate(tokens[:-2]):
        if kind == "word" and value.upper() == "PREFIX" and tokens[i + 1][0] == "pname" and tokens[i + 2][0] == "iri":
            prefixes[tokens[i + 1][1].rstrip(":")] = tokens[i + 2][1][1:-1]
    targets = []
    for i, (kind, value) in enumerate(tokens):
        if kind != "word" or value.upper() not in _KEYWORDS:
            continue
        j = i + 1
        if j < len(tokens) and tokens[j][0] == "word" and tokens[j][1].upper() == "SILENT":
            j += 1
        if j >= len(tokens):
            continue
        target_kind, target = tokens[j]
        if target_kind == "iri":
            targets.append(target[1:-1])
        elif target_kind == "pname":
            prefix, _, local = target.partition(":")
            targets.append(prefixes.get(prefix, f"{prefix}:") + local)
        else:
            targets.append(target)
    return targets


def refused_target(text: str, allowed: tuple[str, ...]) -> str | None:
    """The first SERVICE/LOAD target not under an allowed IRI prefix, or None if all are allowed."""
    for target in remote_targets(text):
        if not any(target.startswith(prefix) for prefix in allowed):
            return target
    return None
