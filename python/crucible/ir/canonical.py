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
(Integer literals in JSON *text* are exact up to 64 bits; the Rust parser reads longer ones
as doubles.)

All of it is written in Rust (``crucible._core``): JSON text is parsed and rewritten there,
Python values are walked there object by object, so the trace hash chain, the pipeline's
config fingerprints and these functions share one implementation.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from crucible import _core
from crucible.errors import SerializationError

__all__ = ["canonical_json", "canonicalize", "fingerprint", "format_number"]


def format_number(value: float) -> str:
    """Write a double as ECMAScript's ``Number.prototype.toString`` does (RFC 8785 §3.2.2.3)."""
    return _core.canonical_value(float(value)).decode("ascii")


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical form of a JSON value (``dict``/``list``/``tuple``/``str``/
    ``int``/``float``/``bool``/``None``), as UTF-8 bytes."""
    return _core.canonical_value(value)


def canonical_json(obj: Any) -> bytes:
    """The canonical form of an IR object, a JSON value, or JSON text (bytes)."""
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return _core.canonical_json(bytes(obj))
    if isinstance(obj, msgspec.Struct):
        try:
            obj = msgspec.to_builtins(obj)
        except (TypeError, ValueError, OverflowError) as exc:
            raise SerializationError(f"cannot encode {type(obj).__name__}: {exc}") from None
    return _core.canonical_value(obj)


def fingerprint(obj: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``obj``: equal content, equal fingerprint."""
    return hashlib.sha256(canonical_json(obj)).hexdigest()
