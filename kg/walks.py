"""What a start reaches by following one relation again and again.

A class and every class below (or above) it, a chain of ``owl:imports``: the same walk,
which cycles in the data end instead of looping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

__all__ = ["reachable"]

T = TypeVar("T")


def reachable(starts: Iterable[T], step: Callable[[T], Iterable[T]]) -> set[T]:
    """``starts`` and everything ``step`` leads to from them, again and again, each once.

    >>> sorted(reachable([1], lambda n: [n * 2] if n < 8 else []))
    [1, 2, 4, 8]
    """
    found = set(starts)
    todo = list(found)
    while todo:
        for reached in step(todo.pop()):
            if reached not in found:
                found.add(reached)
                todo.append(reached)
    return found
