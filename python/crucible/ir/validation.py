"""Validation of IR objects and raw IR documents.

Two passes, every error of each collected (never only the first), both in Rust
(:class:`crucible._core.SchemaValidator`, compiled once per type from the type's JSON Schema):

1. **Structural**: derived from the types — JSON kinds, required and unknown fields, enum
   sets, bounds, lengths, patterns, time zones.
2. **Semantic** (the rules listed in :mod:`crucible.ir.rules`): relations the types cannot
   express. They run unless the structural pass found a *shape* error (a wrong kind, a
   missing field...), since a document of the wrong shape cannot be read as its type;
   out-of-range values do not stop them.

Each error is an :class:`crucible.errors.ErrorItem` ``(pointer, code, message)`` with a JSON
pointer into the document (``/reliability/ensemble/models``). Objects are checked as they
encode (``msgspec.json.encode`` then Rust), so ``errors(obj)`` and
``document_errors(to_json(obj), type(obj))`` agree.

The Python statement of the structural checks (:mod:`crucible.ir.structure`) stays the
reference for what JSON cannot carry or the Rust parser reads differently: non-finite floats
in objects (JSON writes them as ``null``), integers beyond 64 bits and nesting beyond 512
levels. Such documents get Python's structural verdict plus the Rust rules' findings; rules
are not applied to a document nested deeper than the Rust parser reads (512 levels).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from crucible import _core
from crucible.errors import ErrorItem, InvalidTypeError, SerializationError, ValidationError
from crucible.ir.base import IRStruct
from crucible.ir.rules import annotated_schema
from crucible.ir.structure import SHAPE_CODES, structural_errors

__all__ = [
    "decode_checked",
    "document_errors",
    "errors",
    "is_valid",
    "needs_python_reading",
    "schema_validator",
    "semantic_errors",
    "validate",
]

T = TypeVar("T", bound=IRStruct)

Found = list[tuple[str, str, str]]

# A float64 NaN or infinity in msgpack (0xcb, then an exponent of all ones).
_NON_FINITE = re.compile(rb"\xcb[\x7f\xff][\xf0-\xff]")


@functools.cache
def schema_validator(tp: Any) -> _core.SchemaValidator:
    """The compiled structural schema and semantic rules of ``tp`` (one per type)."""
    return _core.SchemaValidator(annotated_schema(tp))


def needs_python_reading(found: Found) -> bool:
    """Whether a Rust verdict may differ from msgspec's reading: a parse failure (nesting
    beyond 512 levels, numbers beyond the doubles) or an integer field given an integer
    beyond 64 bits, which the Rust parser reads as a double."""
    return any(
        code == "json" or (code == "type" and message == "expected integer, got number")
        for _, code, message in found
    )


def _rules_of(raw: bytes, tp: Any) -> list[ErrorItem]:
    """The Rust rules' findings on a document whose structure was checked in Python."""
    try:
        return [ErrorItem(*item) for item in schema_validator(tp).semantic(raw)]
    except SerializationError:  # nested beyond the Rust parser: the rules cannot run
        return []


def _python_structure(doc: Any, raw: bytes, tp: type[Any]) -> list[ErrorItem]:
    """Python's structural verdict on ``doc`` plus, without a shape error, the rules."""
    try:
        found = structural_errors(doc, tp)
    except RecursionError:
        raise SerializationError("document nested too deeply to validate") from None
    if any(item.code in SHAPE_CODES for item in found):
        return found
    return found + _rules_of(raw, tp)


def _decode_or_range(raw: bytes) -> tuple[Any, list[ErrorItem]]:
    try:
        return msgspec.json.decode(raw), []
    except msgspec.ValidationError as exc:  # numbers beyond the doubles
        return None, [ErrorItem("", "range", str(exc))]


def document_errors(
    data: bytes | bytearray | memoryview | str | Any, tp: type[T]
) -> list[ErrorItem]:
    """Every error of a raw document read as ``tp``, without building it first.

    ``data`` is JSON text (bytes or str) or an already-parsed JSON value (a dict). Malformed
    JSON raises :class:`SerializationError`; everything else is reported as items. This is the
    reference behaviour of the bulk validators.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        found = schema_validator(tp).validate(raw)
        if not needs_python_reading(found):
            return [ErrorItem(*item) for item in found]
        try:
            doc, out_of_range = _decode_or_range(raw)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise SerializationError(f"malformed JSON: {exc}") from None
        except RecursionError:
            raise SerializationError("document nested too deeply") from None
        return out_of_range or _python_structure(doc, raw, tp)
    try:
        raw = msgspec.json.encode(data)
    except (TypeError, ValueError, OverflowError) as exc:
        raise SerializationError(f"document cannot be encoded: {exc}") from None
    except RecursionError:
        raise SerializationError("document nested too deeply to validate") from None
    if _NON_FINITE.search(_packed(data)):
        return _python_structure(data, raw, tp)
    return document_errors(raw, tp)


def _packed(value: Any) -> bytes:
    try:
        return msgspec.msgpack.encode(value)
    except (TypeError, ValueError, OverflowError, RecursionError):
        return b""


def _encoded(obj: IRStruct) -> bytes:
    try:
        return msgspec.json.encode(obj)
    except (TypeError, ValueError, OverflowError) as exc:
        raise SerializationError(f"{type(obj).__name__} cannot be encoded: {exc}") from None
    except RecursionError:
        raise SerializationError("document nested too deeply to validate") from None


def semantic_errors(obj: IRStruct, pointer: str = "") -> list[ErrorItem]:
    """The findings of every semantic rule on ``obj`` and every struct inside it (pointers
    prefixed with ``pointer``); ``obj`` is assumed to be of the right shape."""
    found = _rules_of(_encoded(obj), type(obj))
    if not pointer:
        return found
    return [ErrorItem(pointer + item.path, item.code, item.message) for item in found]


def errors(obj: IRStruct) -> list[ErrorItem]:
    """Every structural and semantic error of ``obj`` (an empty list when it is valid)."""
    if not isinstance(obj, IRStruct):
        raise InvalidTypeError(f"expected an IR struct, got {type(obj).__name__}")
    raw = _encoded(obj)
    if _NON_FINITE.search(_packed(obj)):  # JSON would carry them as null
        return _python_structure(msgspec.to_builtins(obj), raw, type(obj))
    return document_errors(raw, type(obj))


# Below this size starting a worker thread costs more than running the rules after decoding.
_PARALLEL_FROM = 4096


def decode_checked(raw: bytes, tp: type[T], decode: Callable[[bytes], T]) -> T:
    """``decode(raw)`` (msgspec: the structural rules, raising on a misfit) plus every
    semantic rule, raising :class:`ValidationError` with their findings.

    The rules read ``raw`` itself, not a re-encoding of the decoded object (an absent field
    reads as its default, so the verdict is the one :func:`validate` gives the object). For
    a large document they run in Rust on a second core while msgspec builds the objects,
    so checking costs little more than decoding.
    """
    validator = schema_validator(tp)
    pending = validator.semantic_later(raw) if len(raw) >= _PARALLEL_FROM else None
    obj = decode(raw)  # a structural misfit raises here; a pending worker just finishes
    try:
        found = pending.wait() if pending is not None else validator.semantic(raw)
    except SerializationError:  # nested beyond the Rust parser: the rules cannot run
        found = []
    if found:
        items = [ErrorItem(*item) for item in found]
        raise ValidationError(items, f"invalid {tp.__name__}: {len(items)} error(s)")
    return obj


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
