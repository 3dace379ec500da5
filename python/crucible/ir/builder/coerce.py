"""What every builder step shares: enum strings turned into members (unknown ones kept for
``build()`` to report with a JSON pointer), structs made from keyword fields, and checked
updates of parts that must already be set."""

from __future__ import annotations

import enum
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi
from msgspec.structs import replace

from crucible.errors import InvalidArgumentError, NotFoundError
from crucible.ir.structure import type_info

__all__ = ["PARTS", "changed", "coerce", "enum_member", "make"]

E = TypeVar("E", bound=enum.Enum)
P = TypeVar("P", bound=msgspec.Struct)

PARTS = (
    "ensemble",
    "hedging",
    "guardrails",
    "stats",
    "fairness",
    "monitoring",
    "drift",
    "circuit_breaker",
    "feedback",
    "rate_limiting",
    "caching",
)


def enum_member(cls: type[E], value: E | str) -> E | str:
    """The member for ``value`` if there is one; otherwise ``value`` itself, for ``build()``
    to report."""
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        return value


def coerce(value: Any, t: mi.Type) -> Any:
    while isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.EnumType) and isinstance(value, str):
        return enum_member(t.cls, value)
    if isinstance(t, mi.UnionType):
        for member in t.types:
            coerced = coerce(value, member)
            if coerced is not value:
                return coerced
        return value
    if isinstance(t, mi.ListType) and isinstance(value, (list, tuple)):
        return [coerce(item, t.item_type) for item in value]
    return value


def make(cls: type[P], **fields: Any) -> P:
    """``cls(**fields)`` with enum values given as strings turned into members."""
    info = type_info(cls)
    assert isinstance(info, mi.StructType)
    types = {f.name: f.type for f in info.fields}
    coerced = {k: coerce(v, types[k]) if k in types else v for k, v in fields.items()}
    return cls(**coerced)


def changed(part: P | None, what: str, changes: dict[str, Any]) -> P:
    if part is None:
        raise NotFoundError(f"there is no {what} to update; set it first")
    try:
        return replace(part, **changes)
    except TypeError as exc:
        raise InvalidArgumentError(f"cannot update {what}: {exc}") from None
