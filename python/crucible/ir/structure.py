"""Structural checks derived from the IR types themselves.

The checks read :func:`msgspec.inspect.type_info` of a type, which is what
:func:`msgspec.json.schema` is generated from: JSON kinds, required and unknown fields, enum
sets, numeric bounds, lengths, patterns and time zones come from the one Struct definition,
never from a second hand-written schema. Unlike a msgspec decode, which stops at the first
problem, :func:`structural_errors` reports every problem of a document.

Checks apply to a JSON-shaped document (``dict``/``list``/``str``/``int``/``float``/``bool``/
``None``, as decoded from JSON or produced by :func:`msgspec.to_builtins`). Codes:

=================  ==========================================================
``type``           wrong JSON kind (a string where an integer belongs)
``required``       a required field is missing or null
``unknown_field``  a field the type does not define
``enum``           a value outside the enumerated set
``format``         a string that is not an RFC 3339 date-time
``timezone``       a date-time without a UTC offset
``range``          a number outside its bounds
``length``         a string, list or map too short or too long
``pattern``        a string not matching the type's pattern
``not_finite``     NaN or an infinity (JSON cannot carry them)
=================  ==========================================================

The first six are *shape* errors: a document with one cannot be read as its type, and the
semantic rules (:mod:`crucible.ir.rules`) do not run on it. The last four are *value*
errors: the document still has its type's shape, and the semantic rules run as well.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from datetime import datetime
from typing import Any

import msgspec
import msgspec.inspect as mi

from crucible.errors import ErrorItem

__all__ = [
    "SHAPE_CODES",
    "STRUCTURAL_CODES",
    "VALUE_CODES",
    "build_lenient",
    "join_pointer",
    "structural_errors",
    "type_info",
]

SHAPE_CODES = frozenset({"type", "required", "unknown_field", "enum", "format", "timezone"})
VALUE_CODES = frozenset({"range", "length", "pattern", "not_finite"})
STRUCTURAL_CODES = SHAPE_CODES | VALUE_CODES

_DOUBLE_MAX = int(sys.float_info.max)

_KIND = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


@functools.cache
def type_info(tp: Any) -> mi.Type:
    """The msgspec type information of ``tp`` (cached)."""
    return mi.type_info(tp)


def join_pointer(base: str, token: str | int) -> str:
    """Append one reference token to a JSON pointer, escaping ``~`` and ``/``."""
    text = str(token).replace("~", "~0").replace("/", "~1")
    return f"{base}/{text}"


def _kind(value: Any) -> str:
    return _KIND.get(type(value), type(value).__name__)


def _unwrap(t: mi.Type) -> mi.Type:
    while isinstance(t, mi.Metadata):
        t = t.type
    return t


def _describe(t: mi.Type) -> str:
    t = _unwrap(t)
    if isinstance(t, mi.StructType):
        return "object"
    if isinstance(t, mi.IntType):
        return "integer"
    if isinstance(t, mi.FloatType):
        return "number"
    if isinstance(t, (mi.StrType, mi.EnumType, mi.DateTimeType)):
        return "string"
    if isinstance(t, mi.BoolType):
        return "boolean"
    if isinstance(t, mi.NoneType):
        return "null"
    if isinstance(t, (mi.ListType, mi.VarTupleType, mi.TupleType)):
        return "array"
    if isinstance(t, mi.DictType):
        return "object"
    if isinstance(t, mi.UnionType):
        return " or ".join(_describe(member) for member in t.types)
    if isinstance(t, mi.LiteralType):
        return "one of " + ", ".join(repr(v) for v in t.values)
    return "any"


def _allows_none(t: mi.Type) -> bool:
    t = _unwrap(t)
    if isinstance(t, (mi.NoneType, mi.AnyType)):
        return True
    if isinstance(t, mi.UnionType):
        return any(_allows_none(member) for member in t.types)
    return False


def _format_bound(value: float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _check_bounds(
    value: float, t: mi.IntType | mi.FloatType, ptr: str, out: list[ErrorItem]
) -> None:
    checks = (
        (t.ge, ">=", t.ge is None or value >= t.ge),
        (t.gt, ">", t.gt is None or value > t.gt),
        (t.le, "<=", t.le is None or value <= t.le),
        (t.lt, "<", t.lt is None or value < t.lt),
    )
    for bound, symbol, ok in checks:
        if bound is not None and not ok:
            out.append(
                ErrorItem(ptr, "range", f"must be {symbol} {_format_bound(bound)}, got {value!r}")
            )
            return
    if t.multiple_of is not None and value % t.multiple_of != 0:
        out.append(ErrorItem(ptr, "range", f"must be a multiple of {t.multiple_of}"))


def _check_length(
    length: int,
    min_length: int | None,
    max_length: int | None,
    unit: str,
    ptr: str,
    out: list[ErrorItem],
) -> None:
    if min_length is not None and length < min_length:
        out.append(ErrorItem(ptr, "length", f"must have at least {min_length} {unit}"))
    elif max_length is not None and length > max_length:
        out.append(ErrorItem(ptr, "length", f"must have at most {max_length} {unit}"))


def _scan_any(value: Any, ptr: str, out: list[ErrorItem]) -> None:
    """Opaque JSON: only non-finite numbers are wrong (they do not survive a round trip)."""
    stack: list[tuple[Any, str]] = [(value, ptr)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                out.append(ErrorItem(where, "not_finite", "must be a finite number"))
        elif isinstance(item, dict):
            stack.extend((v, join_pointer(where, k)) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((v, join_pointer(where, i)) for i, v in reversed(list(enumerate(item))))


def _check(value: Any, t: mi.Type, ptr: str, out: list[ErrorItem], required: bool) -> None:
    t = _unwrap(t)
    if isinstance(t, mi.AnyType):
        _scan_any(value, ptr, out)
        return
    if value is None:
        if not _allows_none(t):
            if required:
                out.append(ErrorItem(ptr, "required", "is required"))
            else:
                out.append(ErrorItem(ptr, "type", f"expected {_describe(t)}, got null"))
        return
    if isinstance(t, mi.UnionType):
        members = [m for m in t.types if not isinstance(_unwrap(m), mi.NoneType)]
        if len(members) == 1:
            _check(value, members[0], ptr, out, required)
            return
        best: list[ErrorItem] | None = None
        for member in members:
            trial: list[ErrorItem] = []
            _check(value, member, ptr, trial, required)
            if not trial:
                return
            if best is None or len(trial) < len(best):
                best = trial
        out.extend(best or [ErrorItem(ptr, "type", f"expected {_describe(t)}")])
        return
    if isinstance(t, mi.StructType):
        _check_struct(value, t, ptr, out)
    elif isinstance(t, mi.BoolType):
        if not isinstance(value, bool):
            out.append(ErrorItem(ptr, "type", f"expected boolean, got {_kind(value)}"))
    elif isinstance(t, mi.IntType):
        if isinstance(value, bool) or not isinstance(value, int):
            out.append(ErrorItem(ptr, "type", f"expected integer, got {_kind(value)}"))
        else:
            _check_bounds(value, t, ptr, out)
    elif isinstance(t, mi.FloatType):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            out.append(ErrorItem(ptr, "type", f"expected number, got {_kind(value)}"))
        elif isinstance(value, float) and not math.isfinite(value):
            out.append(ErrorItem(ptr, "not_finite", "must be a finite number"))
        elif isinstance(value, int) and not -_DOUBLE_MAX <= value <= _DOUBLE_MAX:
            out.append(ErrorItem(ptr, "range", "number out of the range of a double"))
        else:
            _check_bounds(value, t, ptr, out)
    elif isinstance(t, mi.StrType):
        if not isinstance(value, str):
            out.append(ErrorItem(ptr, "type", f"expected string, got {_kind(value)}"))
            return
        _check_length(len(value), t.min_length, t.max_length, "character(s)", ptr, out)
        if t.pattern is not None and not re.search(t.pattern, value):
            out.append(ErrorItem(ptr, "pattern", f"must match {t.pattern!r}, got {value!r}"))
    elif isinstance(t, mi.EnumType):
        allowed = [member.value for member in t.cls]
        if not isinstance(value, str) or value not in allowed:
            shown = value if isinstance(value, (str, int, float, bool)) else _kind(value)
            out.append(
                ErrorItem(ptr, "enum", f"must be one of: {', '.join(allowed)} (got {shown!r})")
            )
    elif isinstance(t, mi.LiteralType):
        if value not in t.values or isinstance(value, bool):
            out.append(ErrorItem(ptr, "enum", f"must be one of: {', '.join(map(str, t.values))}"))
    elif isinstance(t, mi.DateTimeType):
        _check_datetime(value, t, ptr, out)
    elif isinstance(t, mi.ListType):
        if not isinstance(value, list):
            out.append(ErrorItem(ptr, "type", f"expected array, got {_kind(value)}"))
            return
        _check_length(len(value), t.min_length, t.max_length, "item(s)", ptr, out)
        for index, item in enumerate(value):
            _check(item, t.item_type, join_pointer(ptr, index), out, False)
    elif isinstance(t, mi.DictType):
        if not isinstance(value, dict):
            out.append(ErrorItem(ptr, "type", f"expected object, got {_kind(value)}"))
            return
        _check_length(len(value), t.min_length, t.max_length, "entries", ptr, out)
        for key, item in value.items():
            where = join_pointer(ptr, key)
            if not isinstance(key, str):
                out.append(ErrorItem(where, "type", "object keys must be strings"))
                continue
            _check(key, t.key_type, where, out, False)
            _check(item, t.value_type, where, out, False)
    elif isinstance(t, mi.NoneType):
        out.append(ErrorItem(ptr, "type", f"expected null, got {_kind(value)}"))
    else:  # a type the IR does not use: defer to msgspec
        try:
            msgspec.convert(value, t.cls if hasattr(t, "cls") else object)
        except msgspec.ValidationError as exc:
            out.append(ErrorItem(ptr, "type", str(exc)))


def _check_datetime(value: Any, t: mi.DateTimeType, ptr: str, out: list[ErrorItem]) -> None:
    if not isinstance(value, str):
        out.append(ErrorItem(ptr, "type", f"expected string, got {_kind(value)}"))
        return
    try:
        parsed = msgspec.convert(value, datetime)
    except msgspec.ValidationError:
        out.append(ErrorItem(ptr, "format", f"must be an RFC 3339 date-time, got {value!r}"))
        return
    if t.tz is True and parsed.tzinfo is None:
        out.append(ErrorItem(ptr, "timezone", "must carry a UTC offset (Z or +hh:mm)"))
    elif t.tz is False and parsed.tzinfo is not None:
        out.append(ErrorItem(ptr, "timezone", "must not carry a UTC offset"))


def _check_struct(value: Any, t: mi.StructType, ptr: str, out: list[ErrorItem]) -> None:
    if not isinstance(value, dict):
        out.append(ErrorItem(ptr, "type", f"expected object, got {_kind(value)}"))
        return
    known = set()
    for field in t.fields:
        known.add(field.encode_name)
        where = join_pointer(ptr, field.encode_name)
        if field.encode_name in value:
            _check(value[field.encode_name], field.type, where, out, field.required)
        elif field.required:
            out.append(ErrorItem(where, "required", "is required"))
    if t.forbid_unknown_fields:
        for key in value:
            if key not in known:
                out.append(ErrorItem(join_pointer(ptr, key), "unknown_field", "unknown field"))


def structural_errors(doc: Any, tp: Any, pointer: str = "") -> list[ErrorItem]:
    """Every structural problem of the JSON-shaped ``doc`` read as type ``tp``."""
    out: list[ErrorItem] = []
    _check(doc, type_info(tp), pointer, out, True)
    return out


def build_lenient(doc: Any, tp: Any) -> Any:
    """Build an instance of ``tp`` from a document that has the right shape, without the
    value checks a decode would apply (so that semantic rules can still run on a document
    with out-of-range values). Call only when :func:`structural_errors` found no shape error.
    """
    return _build(doc, type_info(tp))


def _build(value: Any, t: mi.Type) -> Any:
    t = _unwrap(t)
    if value is None or isinstance(t, mi.AnyType):
        return value
    if isinstance(t, mi.UnionType):
        members = [m for m in t.types if not isinstance(_unwrap(m), mi.NoneType)]
        for member in members:
            if not any(e.code in SHAPE_CODES for e in _shape_probe(value, member)):
                return _build(value, member)
        return value
    if isinstance(t, mi.StructType):
        kwargs = {
            field.name: _build(value[field.encode_name], field.type)
            for field in t.fields
            if field.encode_name in value
        }
        return t.cls(**kwargs)
    if isinstance(t, mi.EnumType):
        return t.cls(value)
    if isinstance(t, mi.DateTimeType):
        return msgspec.convert(value, datetime)
    if isinstance(t, mi.ListType):
        return [_build(item, t.item_type) for item in value]
    if isinstance(t, mi.DictType):
        return {key: _build(item, t.value_type) for key, item in value.items()}
    if isinstance(t, mi.FloatType) and isinstance(value, int):
        # an integer beyond the doubles (already reported as ``range``) reads as infinite
        if abs(value) > _DOUBLE_MAX:
            return math.inf if value > 0 else -math.inf
        return float(value)
    return value


def _shape_probe(value: Any, t: mi.Type) -> list[ErrorItem]:
    out: list[ErrorItem] = []
    _check(value, t, "", out, False)
    return out
