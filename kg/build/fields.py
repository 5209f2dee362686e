"""Read one field of a YAML mapping, or say what is wrong with it and where.

The annotation reader (:mod:`kg.build.annotations`) and the scorer that reads drafts with it
(:mod:`kg.draft.reading`) check a file's keys and values the same way, so that a file one
accepts the other accepts too, and both name ``file:line`` in the same words.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, overload

from kg.build.yamlfile import LineDict, line_of
from kg.errors import BuildError, Location

__all__ = ["DATETIME_PATTERN", "datetime_field", "location_of", "require_mapping", "str_field", "str_list_field"]

#: an ``xsd:dateTime`` with its zone, as ``prov:startedAtTime`` takes it: ``2025-06-02T10:00:00Z``
DATETIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def location_of(file: Path, node: Any, parent: Any = None) -> Location:
    """``file`` at the line of ``node`` (or of ``parent``, for a value that keeps no line)."""
    return Location(str(file), line_of(node, None) or line_of(parent, None))


def require_mapping(node: Any, file: Path, what: str, allowed: set[str], parent: Any = None) -> LineDict:
    """``node`` as a mapping whose keys are all in ``allowed``, else a :class:`BuildError`."""
    if not isinstance(node, LineDict):
        raise BuildError(f"{what} must be a mapping, found {_yaml_kind(node)}", location=location_of(file, node, parent))
    unknown = set(node) - allowed
    if unknown:
        raise BuildError(
            f"{what} has unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}", location=location_of(file, node)
        )
    return node


def _yaml_kind(node: Any) -> str:
    """What a YAML node is, in YAML's words (not Python's type names)."""
    if node is None:
        return "nothing (an empty file or entry)"
    if isinstance(node, bool):
        return "true/false"
    if isinstance(node, (int, float)):
        return "a number"
    if isinstance(node, str):
        return "text"
    if isinstance(node, list):
        return "a list"
    return type(node).__name__


@overload
def str_field(node: LineDict, key: str, file: Path, what: str, *, required: Literal[True] = True) -> str: ...


@overload
def str_field(node: LineDict, key: str, file: Path, what: str, *, required: bool) -> str | None: ...


def str_field(node: LineDict, key: str, file: Path, what: str, *, required: bool = True) -> str | None:
    """The non-empty string (a bare number is read as its text) under ``key``; ``None`` when
    absent and not ``required``."""
    value = node.get(key)
    if value is None:
        if required:
            raise BuildError(f"{what} needs '{key}'", location=location_of(file, node))
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool) or str(value).strip() == "":
        raise BuildError(f"{what}: '{key}' must be a non-empty string, found {value!r}", location=location_of(file, node))
    return str(value)


def str_list_field(node: LineDict, key: str, file: Path, what: str) -> tuple[str, ...]:
    """The strings under ``key``: a list, or one string for a list of one; none when absent."""
    value = node.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise BuildError(f"{what}: '{key}' must be a list of strings", location=location_of(file, node))
    return tuple(str(v) for v in value)


def datetime_field(node: LineDict, key: str, file: Path, what: str) -> str | None:
    """The date and time with its zone under ``key`` (``None`` when absent): well formed and a
    real instant (no 13th month, no 25th hour), since the graph records it as ``xsd:dateTime``."""
    value = str_field(node, key, file, what, required=False)
    if value is None:
        return None
    try:
        real = DATETIME_PATTERN.match(value) is not None and datetime.fromisoformat(value)
    except ValueError:
        real = False
    if not real:
        raise BuildError(f"{what}: '{key}' must be a date and time with its zone such as 2025-06-02T10:00:00Z, "
                         f"found {value!r}", location=location_of(file, node))
    return value
