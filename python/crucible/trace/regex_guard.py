"""Regular expressions with bounded work, for searching text that may be hostile.

Python's ``re`` backtracks: ``(a+)+$`` takes exponential time on ``"aaaa...b"``, and even
``.*.*x`` is cubic (minutes on 8,000 characters). Trace text comes from model output, which
an attacker can shape, so a search must not hang on it. :func:`compile_guarded`:

* rejects what backtracks exponentially: back-references, a repeat inside an unbounded (or
  large) repeat, and alternatives inside one unless each starts with its own literal
  character (``(get|put)+`` is fine; ``(a|ab)+``, ``(\\w|\\s)+`` are not: write
  ``[\\w\\s]+`` or use an atomic group / possessive quantifier, which never backtrack);
* counts the remaining unbounded repeats ``k``: the worst case is then about
  ``n ** (k + 1)`` steps on ``n`` characters, so :attr:`GuardedPattern.max_chars` is cut to
  the ``n`` that keeps it under :data:`WORK_BUDGET`, and only that many leading characters
  of a text are searched.

This is a bound on work, not a proof of speed; the errors say how to rewrite a pattern.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from crucible.errors import InvalidArgumentError

__all__ = ["MAX_PATTERN", "WORK_BUDGET", "GuardedPattern", "compile_guarded"]

MAX_PATTERN = 2_000
"""Longest pattern accepted (characters)."""
WORK_BUDGET = 10**7
"""Worst-case matching steps allowed per searched text (about 10 ms of `re`)."""
_LARGE = 16  # a repeat allowing more than this many iterations counts as unbounded

try:  # Python >= 3.11
    _parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - Python 3.10
    _parser = importlib.import_module("sre_parse")
_MAXREPEAT: int = int(importlib.import_module("_sre").MAXREPEAT)


class GuardedPattern:
    """A compiled pattern and the text length it may safely be run on."""

    __slots__ = ("max_chars", "pattern", "unbounded")

    def __init__(self, pattern: re.Pattern[str], unbounded: int, max_chars: int) -> None:
        self.pattern = pattern
        self.unbounded = unbounded
        self.max_chars = max_chars

    def search(self, text: str) -> re.Match[str] | None:
        """``re.search`` on the first :attr:`max_chars` characters of ``text``."""
        return self.pattern.search(text[: self.max_chars])


def compile_guarded(pattern: str, flags: int = 0, *, max_chars: int = 65_536) -> GuardedPattern:
    """Compile ``pattern`` if its matching work is bounded (see the module docstring);
    :class:`~crucible.errors.InvalidArgumentError` naming the problem otherwise."""
    if not isinstance(pattern, str):
        raise InvalidArgumentError("a regex query needs a str pattern")
    if len(pattern) > MAX_PATTERN:
        raise InvalidArgumentError(f"regex longer than {MAX_PATTERN} characters")
    try:
        compiled = re.compile(pattern, flags)
        parsed = _parser.parse(pattern, flags)
    except (re.error, RecursionError, OverflowError) as exc:
        raise InvalidArgumentError(f"invalid regex {pattern!r}: {exc}") from exc
    unbounded = _walk(parsed, inside_large=False)
    cap = int(WORK_BUDGET ** (1.0 / (unbounded + 1)))
    return GuardedPattern(compiled, unbounded, max(1, min(max_chars, cap)))


def _walk(items: Any, *, inside_large: bool) -> int:
    """Check a parsed (sub)pattern; return its count of unbounded backtracking repeats."""
    count = 0
    for op, av in items:
        name = str(op)
        if name in ("GROUPREF", "GROUPREF_EXISTS", "GROUPREF_IGNORE", "GROUPREF_LOC_IGNORE"):
            raise InvalidArgumentError(
                "back-references can take exponential time; search without them"
            )
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            _lo, hi, body = av
            large = hi == _MAXREPEAT or hi > _LARGE
            if inside_large and hi > 1:
                raise InvalidArgumentError(
                    "nested repetition (like (a+)+) can take exponential time; use one "
                    "repeat, a character class, or an atomic group (?>...)"
                )
            if name == "POSSESSIVE_REPEAT":
                continue  # never backtracks into its body
            count += int(large) + _walk(body, inside_large=inside_large or large)
        elif name == "ATOMIC_GROUP":
            _walk(av, inside_large=False)  # checked on its own; never backtracked into
        elif name == "SUBPATTERN":
            count += _walk(av[-1], inside_large=inside_large)
        elif name in ("ASSERT", "ASSERT_NOT"):
            count += _walk(av[1], inside_large=inside_large)
        elif name == "BRANCH":
            alternatives = av[1]
            if inside_large and not _disjoint(alternatives):
                raise InvalidArgumentError(
                    "repeated alternatives that can match the same text (like (a|ab)+) can "
                    "take exponential time; start each with a different literal character "
                    "or use a character class"
                )
            count += sum(_walk(alt, inside_large=inside_large) for alt in alternatives)
    return count


def _disjoint(alternatives: Any) -> bool:
    """Whether every alternative starts with a literal character no other one starts with."""
    firsts: set[str] = set()
    for alt in alternatives:
        if not len(alt) or str(alt[0][0]) != "LITERAL":
            return False
        first = chr(int(alt[0][1])).lower()  # case-blind, in case of re.IGNORECASE
        if first in firsts:
            return False
        firsts.add(first)
    return True
