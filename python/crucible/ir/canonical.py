"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) and content fingerprints.

Two documents with the same content get byte-identical canonical forms, whatever their key
order or number spelling, so a SHA-256 of the canonical form identifies the content:

* object members sorted by their keys' UTF-16 code units (not by locale, not by code point);
* no whitespace;
* strings with only ``"``, ``\\`` and control characters escaped (``\\b \\t \\n \\f \\r``
  short, the others as ``\\u00xx``); everything else, non-ASCII included, written as UTF-8;
* numbers as ECMAScript's ``Number.prototype.toString`` writes doubles: shortest round-trip
  digits, integers without a fraction up to 1e21, exponents as ``e+22``/``e-7``, ``-0`` as
  ``0``. NaN and the infinities have no JSON form and are rejected.

One deliberate extension: Python ``int`` values are written exactly (``str(n)``). For
``|n| <= 2**53`` that is exactly what RFC 8785 writes; beyond, RFC 8785 would first round to
a double and lose digits (a 64-bit seed, say), which content addressing must not do. Floats
that happen to be integral (``56.0``) are numbers like any other and print as ``56``.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

import msgspec

from crucible.errors import InvalidTypeError, SerializationError

__all__ = ["canonical_json", "canonicalize", "fingerprint", "format_number"]

_MAX_DEPTH = 512
_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT.get(char) or f"\\u{ord(char):04x}"


def _string(text: str) -> str:
    return '"' + _ESCAPE.sub(_escape, text) + '"'


def format_number(value: float) -> str:
    """Write a double as ECMAScript's ``Number.prototype.toString`` does (RFC 8785 §3.2.2.3)."""
    if not math.isfinite(value):
        raise SerializationError(f"{value!r} has no JSON representation")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip, the same digits ECMAScript chooses.
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    stripped = raw.lstrip("0")
    digits = stripped.rstrip("0") or "0"
    # value = 0.DIGITS x 10**n, as in ECMA-262 Number::toString (k digits, exponent n)
    n = len(whole) - (len(raw) - len(stripped)) + (int(exponent) if exponent else 0)
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        tail = f"e{'+' if e >= 0 else '-'}{abs(e)}"
        text = (digits if k == 1 else digits[0] + "." + digits[1:]) + tail
    return sign + text


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be")


def _write(value: Any, parts: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise SerializationError(f"document nested deeper than {_MAX_DEPTH} levels")
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(str(int(value)))
    elif isinstance(value, float):
        parts.append(format_number(value))
    elif isinstance(value, str):
        parts.append(_string(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise SerializationError(f"object key {key!r} is not a string")
        try:
            items = sorted(value.items(), key=lambda item: _utf16_key(item[0]))
        except UnicodeEncodeError:
            raise SerializationError("object key holds a lone surrogate") from None
        parts.append("{")
        for index, (key, item) in enumerate(items):
            if index:
                parts.append(",")
            parts.append(_string(key))
            parts.append(":")
            _write(item, parts, depth + 1)
        parts.append("}")
    elif isinstance(value, (list, tuple)):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _write(item, parts, depth + 1)
        parts.append("]")
    else:
        raise InvalidTypeError(f"{type(value).__name__} is not a JSON value")


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical form of a JSON value (``dict``/``list``/``str``/``int``/
    ``float``/``bool``/``None``), as UTF-8 bytes."""
    parts: list[str] = []
    try:
        _write(value, parts, 0)
    except RecursionError:
        raise SerializationError("document nested too deeply") from None
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise SerializationError("string holds a lone surrogate") from None


def canonical_json(obj: Any) -> bytes:
    """The canonical form of an IR object, a JSON value, or JSON text (bytes)."""
    if isinstance(obj, (bytes, bytearray, memoryview)):
        try:
            value = msgspec.json.decode(obj)
        except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError) as exc:
            raise SerializationError(f"malformed JSON: {exc}") from None
    elif isinstance(obj, msgspec.Struct):
        try:
            value = msgspec.to_builtins(obj)
        except (TypeError, ValueError, OverflowError) as exc:
            raise SerializationError(f"cannot encode {type(obj).__name__}: {exc}") from None
    else:
        value = obj
    return canonicalize(value)


def fingerprint(obj: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``obj``: equal content, equal fingerprint."""
    return hashlib.sha256(canonical_json(obj)).hexdigest()
