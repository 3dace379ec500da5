"""The rule registry: what a rule is, how one is declared, and the helpers rules share."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["RULES", "Finding", "Rule", "duplicates", "is_number", "pointer", "rule"]

Finding = tuple[str, str]
"""``(pointer relative to the checked struct, message)``."""

S = TypeVar("S")


@dataclass(frozen=True)
class Rule:
    """One semantic rule: its stable code, the types it checks and the check itself."""

    code: str
    types: tuple[type, ...]
    check: Callable[[Any], Iterable[Finding]]
    description: str


RULES: list[Rule] = []
"""Every rule, in registration order (the order of :mod:`crucible.ir.rules` imports)."""


def rule(code: str, *types: type) -> Callable[[Callable[[S], Iterator[Finding]]], Rule]:
    """Register the decorated generator as the rule ``code`` checking ``types``; its docstring
    is the rule's description."""

    def register(fn: Callable[[S], Iterator[Finding]]) -> Rule:
        registered = Rule(code, types, fn, inspect.getdoc(fn) or "")
        RULES.append(registered)
        return registered

    return register


def pointer(*tokens: str | int) -> str:
    """A relative JSON pointer from reference tokens (``pointer("models", 2)`` is
    ``/models/2``)."""
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)


def duplicates(values: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    """(index, value) of every value that already occurred earlier."""
    seen: set[Any] = set()
    for index, value in enumerate(values):
        key = value.value if hasattr(value, "value") else value
        if key in seen:
            yield index, value
        seen.add(key)


def is_number(value: Any) -> bool:
    """An int or float, but not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
