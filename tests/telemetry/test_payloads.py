"""Payload values a store's encoder cannot hold natively are kept, never left to block a
batch: integers of any size exactly, NumPy values as Python values, other objects as text."""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.errors import StorageError
from crucible.telemetry.store.payloads import ext_hook, pack, portable

_decode = msgspec.msgpack.Decoder(ext_hook=ext_hook).decode

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


def _as_stored(value: Any) -> Any:
    """msgpack arrays come back as lists."""
    if isinstance(value, (list, tuple)):
        return [_as_stored(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_stored(v) for k, v in value.items()}
    return value


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_values)
def test_any_json_like_value_round_trips_exactly(value: Any) -> None:
    got = _decode(pack(value))
    assert got == _as_stored(value)
    assert type(got) is type(_as_stored(value))


def test_integers_beyond_64_bits_in_any_position() -> None:
    value = {"a": [2**64, -(2**63) - 1, 2**64 - 1, -(2**63)], "b": {"c": 10**40}, "t": True}
    got = _decode(pack(value))
    assert got == value
    assert got["t"] is True


def test_objects_without_an_encoding_are_kept_as_python_values_or_text() -> None:
    class Odd:
        def __str__(self) -> str:
            return "odd!"

    value = {"n": np.int32(4), "x": np.float64(0.5), "v": np.arange(3), "o": Odd()}
    assert _decode(pack(value)) == {"n": 4, "x": 0.5, "v": [0, 1, 2], "o": "odd!"}
    assert portable(np.bool_(True)) is True


def test_an_unknown_extension_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="unknown msgpack extension"):
        _decode(msgspec.msgpack.encode(msgspec.msgpack.Ext(9, b"x")))
