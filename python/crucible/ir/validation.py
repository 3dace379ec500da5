"""Validation of IR objects and raw IR documents.

Two passes, every error of each collected (never only the first):

1. **Structural** (:mod:`crucible.ir.structure`): derived from the types — JSON kinds,
   required and unknown fields, enum sets, bounds, lengths, patterns, time zones.
2. **Semantic** (:mod:`crucible.ir.rules`): relations the types cannot express. They run
   unless the structural pass found a *shape* error (a wrong kind, a missing field...), since a
   document of the wrong shape cannot be read as its type; out-of-range values do not stop
   them.

Each error is an :class:`crucible.errors.ErrorItem` ``(pointer, code, message)`` with a JSON
pointer into the document (``/reliability/ensemble/models``). Objects are checked as they
would be encoded, so ``errors(obj)`` and ``document_errors(to_json(obj), type(obj))`` agree
(the tests hold them to it, and a Rust engine must agree with both).
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi

from crucible.errors import ErrorItem, InvalidTypeError, SerializationError, ValidationError
from crucible.ir.base import IRStruct
from crucible.ir.rules import Rule, rules_for
from crucible.ir.structure import (
    SHAPE_CODES,
    build_lenient,
    join_pointer,
    structural_errors,
    type_info,
)

__all__ = [
    "document_errors",
    "errors",
    "is_valid",
    "semantic_errors",
    "validate",
]

T = TypeVar("T", bound=IRStruct)


def _to_document(obj: IRStruct) -> Any:
    try:
        return msgspec.to_builtins(obj)
    except (TypeError, ValueError, OverflowError) as exc:
        raise SerializationError(f"{type(obj).__name__} cannot be encoded: {exc}") from None


def semantic_errors(obj: IRStruct, pointer: str = "") -> list[ErrorItem]:
    """The findings of every semantic rule on ``obj`` and every struct inside it."""
    out: list[ErrorItem] = []
    try:
        _visit(obj, pointer, out)
    except RecursionError:
        raise SerializationError("document nested too deeply to validate") from None
    return out


@functools.cache
def _plan(tp: type[IRStruct]) -> tuple[tuple[Rule, ...], tuple[tuple[str, str], ...]]:
    """The rules of ``tp``, and as (attribute, JSON key) pairs the fields that can hold
    structs (cached per type)."""
    info = type_info(tp)
    assert isinstance(info, mi.StructType)
    nested = tuple(
        (field.name, field.encode_name) for field in info.fields if _may_hold_structs(field.type)
    )
    return tuple(rules_for(tp)), nested


def _may_hold_structs(t: mi.Type) -> bool:
    """Whether a field of type ``t`` can hold a struct, or a list of structs, to visit."""
    while isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, (mi.StructType, mi.AnyType)):
        return True
    if isinstance(t, mi.UnionType):
        return any(_may_hold_structs(member) for member in t.types)
    if isinstance(t, mi.ListType):
        return _may_hold_structs(t.item_type)
    return False


def _visit(node: IRStruct, pointer: str, out: list[ErrorItem]) -> None:
    checks, fields = _plan(type(node))
    for rule in checks:
        for relative, message in rule.check(node):
            out.append(ErrorItem(pointer + relative, rule.code, message))
    for name, key in fields:
        value = getattr(node, name)
        if isinstance(value, IRStruct):
            _visit(value, join_pointer(pointer, key), out)
        elif isinstance(value, list) and value:
            where = None
            for index, item in enumerate(value):
                if isinstance(item, IRStruct):
                    where = where or join_pointer(pointer, key)
                    _visit(item, join_pointer(where, index), out)


def errors(obj: IRStruct) -> list[ErrorItem]:
    """Every structural and semantic error of ``obj`` (an empty list when it is valid)."""
    if not isinstance(obj, IRStruct):
        raise InvalidTypeError(f"expected an IR struct, got {type(obj).__name__}")
    try:
        found = structural_errors(_to_document(obj), type(obj))
    except RecursionError:
        raise SerializationError("document nested too deeply to validate") from None
    if any(item.code in SHAPE_CODES for item in found):
        return found
    return found + semantic_errors(obj)


def is_valid(obj: IRStruct) -> bool:
    """Whether ``obj`` has no structural or semantic error."""
    return not errors(obj)


def validate(obj: T) -> T:
    """Return ``obj`` unchanged if it is valid; raise :class:`ValidationError` listing every
    error otherwise."""
    found = errors(obj)
    if found:
        raise ValidationError(found, f"invalid {type(obj).__name__}: {len(found)} error(s)")
    return obj


def document_errors(
    data: bytes | bytearray | memoryview | str | Any, tp: type[T]
) -> list[ErrorItem]:
    """Every error of a raw document read as ``tp``, without building it first.

    ``data`` is JSON text (bytes or str) or an already-parsed JSON value (a dict). Malformed
    JSON raises :class:`SerializationError`; everything else is reported as items. This is the
    reference behaviour of the bulk validators.
    """
    if isinstance(data, (bytes, bytearray, memoryview, str)):
        try:
            doc = msgspec.json.decode(data)
        except msgspec.ValidationError as exc:  # numbers beyond float range
            return [ErrorItem("", "range", str(exc))]
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise SerializationError(f"malformed JSON: {exc}") from None
        except RecursionError:
            raise SerializationError("document nested too deeply") from None
    else:
        doc = data
    try:
        found = structural_errors(doc, tp)
        if any(item.code in SHAPE_CODES for item in found):
            return found
        return found + semantic_errors(build_lenient(doc, tp))
    except RecursionError:
        raise SerializationError("document nested too deeply to validate") from None
