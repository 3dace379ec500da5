"""The semantic rules of the IR: the executable specification.

Structural constraints (kinds, required fields, enum sets, ranges such as ``alpha`` in (0, 1)
or non-negative delays) live on the types and are checked by :mod:`crucible.ir.structure`.
The rules here are the ones a schema cannot say: relations between fields and between
structs. Each rule has a stable ``code`` (``"<domain>.<what>"``), applies to one or more
types, and yields ``(pointer, message)`` findings, the pointer relative to the struct it is
given. :func:`crucible.ir.validation.errors` runs every rule on every struct of a document
and collects all findings; a Rust engine may replace that loop, but must keep these codes
and verdicts (``tests/ir/test_rules.py`` pins both).
The rules live by domain in the submodules; :mod:`crucible.ir.rules.registry` declares them.

Rules assume a document of the right shape (see :mod:`crucible.ir.structure`); values may
still be out of range, so a rule never assumes a bound the types declare.
"""

from __future__ import annotations

# Importing the domain modules registers their rules.
from crucible.ir.rules import (  # noqa: F401
    deployment,
    document,
    experiment,
    feedback,
    model,
    reliability,
    training,
)
from crucible.ir.rules.registry import RULES, Finding, Rule

__all__ = ["RULES", "Finding", "Rule", "rule_codes", "rules_for"]


def _index() -> dict[type, list[Rule]]:
    by_type: dict[type, list[Rule]] = {}
    for registered in RULES:
        for tp in registered.types:
            by_type.setdefault(tp, []).append(registered)
    return by_type


_BY_TYPE = _index()


def rules_for(tp: type) -> list[Rule]:
    """The rules that check instances of ``tp``, in registration order."""
    return _BY_TYPE.get(tp, [])


def rule_codes() -> list[str]:
    """Every rule code, in registration order."""
    return [r.code for r in RULES]
