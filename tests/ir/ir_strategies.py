"""Hypothesis strategies for every IR type, derived from the types' msgspec information.

``instances(T)`` draws structurally valid instances of T (every kind, enum, bound, length,
pattern and time zone respected); semantic rules may or may not hold. ``json_values()``
draws arbitrary JSON values for the opaque ``options``/``metadata`` maps.
"""

from __future__ import annotations

import functools
import math
from datetime import timedelta, timezone
from typing import Any

import msgspec
import msgspec.inspect as mi
from hypothesis import strategies as st

import crucible.ir as ir
from crucible.ir.base import INT64_MAX, INT64_MIN, IRStruct
from crucible.ir.structure import type_info

OFFSETS = [
    timezone.utc,
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-9, minutes=-30)),
    timezone(timedelta(hours=14)),
]

_text = st.text(max_size=12)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=INT64_MIN, max_value=INT64_MAX)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)


def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    return st.recursive(
        json_scalars,
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(_text, children, max_size=3)
        ),
        max_leaves=max_leaves,
    )


def _all_struct_types() -> list[type[IRStruct]]:
    found: dict[str, type[IRStruct]] = {}
    for module in (
        ir.experiment,
        ir.reliability,
        ir.model,
        ir.training,
        ir.deployment,
        ir.feedback,
    ):
        for name in getattr(module, "__all__", []):
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, IRStruct):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return sorted(found.values(), key=lambda t: (t.__module__, t.__qualname__))


ALL_TYPES = _all_struct_types()


def _bounded_int(t: mi.IntType) -> st.SearchStrategy[int]:
    lo = INT64_MIN if t.ge is None and t.gt is None else (t.ge if t.ge is not None else t.gt + 1)
    hi = INT64_MAX if t.le is None and t.lt is None else (t.le if t.le is not None else t.lt - 1)
    # favour small values, but reach the bounds too
    small = st.integers(min_value=max(lo, -1000), max_value=min(hi, 1000))
    return small | st.integers(min_value=lo, max_value=hi)


def _bounded_float(t: mi.FloatType) -> st.SearchStrategy[float]:
    lo = t.ge if t.ge is not None else t.gt
    hi = t.le if t.le is not None else t.lt
    return st.floats(
        min_value=lo,
        max_value=hi,
        exclude_min=t.gt is not None,
        exclude_max=t.lt is not None,
        allow_nan=False,
        allow_infinity=False,
    )


def _strategy(t: mi.Type, depth: int) -> st.SearchStrategy[Any]:
    while isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.AnyType):
        return json_values()
    if isinstance(t, mi.NoneType):
        return st.none()
    if isinstance(t, mi.BoolType):
        return st.booleans()
    if isinstance(t, mi.IntType):
        return _bounded_int(t)
    if isinstance(t, mi.FloatType):
        return _bounded_float(t)
    if isinstance(t, mi.StrType):
        if t.pattern is not None:
            return st.from_regex(t.pattern, alphabet=st.characters(codec="utf-8"))
        return st.text(min_size=t.min_length or 0, max_size=max(t.min_length or 0, 12))
    if isinstance(t, mi.DateTimeType):
        return st.datetimes(timezones=st.sampled_from(OFFSETS))
    if isinstance(t, mi.EnumType):
        return st.sampled_from(list(t.cls))
    if isinstance(t, mi.ListType):
        low = t.min_length or 0
        high = t.max_length if t.max_length is not None else max(low, 3)
        return st.lists(_strategy(t.item_type, depth), min_size=low, max_size=high)
    if isinstance(t, mi.DictType):
        return st.dictionaries(_text, _strategy(t.value_type, depth), max_size=3)
    if isinstance(t, mi.UnionType):
        members = [m for m in t.types if not isinstance(m, mi.NoneType)]
        has_none = len(members) < len(t.types)
        if has_none and depth > 2:
            return st.none()
        options = [_strategy(m, depth) for m in members]
        return st.one_of(st.none(), *options) if has_none else st.one_of(*options)
    if isinstance(t, mi.StructType):
        return _struct(t.cls, depth + 1)
    raise NotImplementedError(f"no strategy for {t!r}")


@functools.cache
def _struct(cls: type[Any], depth: int) -> st.SearchStrategy[Any]:
    info = type_info(cls)
    assert isinstance(info, mi.StructType)
    fields = {f.name: _strategy(f.type, depth) for f in info.fields}
    return st.builds(cls, **fields)


def instances(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Structurally valid instances of an IR type."""
    return _struct(cls, 0)


def finite(value: Any) -> bool:
    """Whether a JSON value holds only finite numbers."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite(v) for v in value.values())
    if isinstance(value, list):
        return all(finite(v) for v in value)
    return True


def to_builtins(obj: Any) -> Any:
    return msgspec.to_builtins(obj)
