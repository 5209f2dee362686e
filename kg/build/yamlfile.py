"""Read YAML while remembering the line of every mapping and list item.

Build errors must say ``file:line``; PyYAML knows the line of each node while it
parses, and this loader keeps it on the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kg.errors import InputError, Location

__all__ = ["LineDict", "LineList", "load_yaml", "line_of"]


class LineDict(dict[str, Any]):
    """A mapping that knows the 1-based line it starts on."""

    line: int = 0


class LineList(list[Any]):
    """A list that knows the 1-based line it starts on."""

    line: int = 0


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps dates as strings and records lines."""


# Dates stay strings: the build decides their datatype (xsd:date, gYearMonth, gYear).
_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    out = LineDict()
    keys: set[Any] = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in keys:
            raise yaml.MarkedYAMLError(
                "while constructing a mapping", node.start_mark, f"duplicate key {key!r}", key_node.start_mark
            )
        keys.add(key)
        out[key] = loader.construct_object(value_node, deep=True)
    out.line = node.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def line_of(value: Any, default: int | None = None) -> int | None:
    """The line a value loaded by :func:`load_yaml` starts on."""
    return getattr(value, "line", default) or default


def load_yaml(path: Path) -> Any:
    """Parse ``path``; a syntax error becomes an :class:`InputError` with line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 ({exc.reason} at byte {exc.start})", location=Location(str(path))) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", location=Location(str(path))) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(str(path), mark.line + 1, mark.column + 1) if mark else Location(str(path))
        raise InputError(f"YAML syntax: {exc.problem or exc.context}", location=loc) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML: {exc}", location=Location(str(path))) from None
