"""How stores keep payload values their encoders cannot hold natively.

Payloads (measurements, metadata) are whatever emitters put in them. A store must never
be left with a batch it can never write because of one value in one event: the SQLite
store's msgpack cannot hold integers beyond 64 bits (kept exactly, as an extension holding
their digits) and neither encoder holds arbitrary objects (kept as :func:`portable` says).
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np

from crucible.errors import StorageError

__all__ = ["ext_hook", "pack", "portable"]


def portable(obj: Any) -> Any:
    """What a store keeps of a value its encoder cannot hold (the encoders' ``enc_hook``):
    NumPy scalars and arrays as their Python values, anything else as ``str(obj)``. Lossy
    but readable, where the alternative is a batch that is never written; the memory store
    keeps the objects themselves."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


_encode = msgspec.msgpack.Encoder(enc_hook=portable).encode
_BIG_INT = 1  # msgpack extension code: an integer beyond 64 bits, as its decimal digits
_INT_RANGE = range(-(2**63), 2**64)


def pack(obj: Any) -> bytes:
    """msgpack bytes of ``obj``. msgpack cannot hold an integer beyond 64 bits, which a
    payload may carry (JSON can): such integers are stored as an extension holding their
    decimal digits (:func:`ext_hook` reads them back), so they never block a write; other
    objects it cannot hold are kept as :func:`portable` says."""
    try:
        return _encode(obj)
    except OverflowError:
        return _encode(_widen(obj))


def _widen(obj: Any) -> Any:
    if isinstance(obj, int) and not isinstance(obj, bool) and obj not in _INT_RANGE:
        return msgspec.msgpack.Ext(_BIG_INT, str(obj).encode())
    if isinstance(obj, dict):
        return {k: _widen(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_widen(v) for v in obj]
    return obj


def ext_hook(code: int, data: memoryview) -> Any:
    """The decoder's side of :func:`pack`."""
    if code == _BIG_INT:
        return int(bytes(data))
    raise StorageError(f"a stored segment holds an unknown msgpack extension ({code})")
