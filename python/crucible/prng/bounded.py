"""Argument handling for ``Generator.integers``: NumPy's checks, then one Rust fill.

NumPy draws every integer dtype with an unsigned kernel on ``[off, off + rng]``: ``off`` is
``low`` reinterpreted as unsigned, ``rng`` is ``high - low`` (closed interval) modulo the
width. We compute the same two numbers here and hand the unsigned view of the output array
to Rust. Scalar bounds take one fill; array bounds take the broadcast fill, which shares
NumPy's sub-32-bit buffer across elements the same way.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from crucible import _core
from crucible.errors import InvalidArgumentError, InvalidTypeError
from crucible.prng.shape import as_shape

__all__ = ["integers"]


class _Kind(NamedTuple):
    low: int
    high: int
    unsigned: np.dtype[Any]
    bits: int


def _kind(dtype: type[Any], unsigned: type[Any], bits: int) -> tuple[np.dtype[Any], _Kind]:
    info = np.iinfo(dtype) if dtype is not np.bool_ else None
    low, high = (int(info.min), int(info.max)) if info is not None else (0, 1)
    return np.dtype(dtype), _Kind(low, high, np.dtype(unsigned), bits)


_KINDS: dict[np.dtype[Any], _Kind] = dict(
    [
        _kind(np.int64, np.uint64, 64),
        _kind(np.int32, np.uint32, 32),
        _kind(np.int16, np.uint16, 16),
        _kind(np.int8, np.uint8, 8),
        _kind(np.uint64, np.uint64, 64),
        _kind(np.uint32, np.uint32, 32),
        _kind(np.uint16, np.uint16, 16),
        _kind(np.uint8, np.uint8, 8),
        _kind(np.bool_, np.bool_, 1),
    ]
)


def _bounds_error(closed: bool, low: Any) -> InvalidArgumentError:
    if not np.any(low):
        return InvalidArgumentError(f"high {'<' if closed else '<='} 0")
    return InvalidArgumentError(f"low {'>' if closed else '>='} high")


def _resolve(dtype: npt.DTypeLike) -> tuple[np.dtype[Any], _Kind]:
    dt = np.dtype(dtype)
    kind = _KINDS.get(dt)
    if kind is not None:
        return dt, kind
    if not dt.isnative:
        raise InvalidArgumentError(
            "Providing a dtype with a non-native byteorder is not supported. If you require "
            "platform-independent byteorder, call byteswap when required."
        )
    raise InvalidTypeError(f"Unsupported dtype {dt!r} for integers")


def _scalar(
    core: _core.Pcg64Core,
    low: int,
    high: int,
    size: Any,
    dt: np.dtype[Any],
    kind: _Kind,
    closed: bool,
) -> Any:
    if not closed:
        high -= 1
    if low < kind.low:
        raise InvalidArgumentError(f"low is out of bounds for {dt.name}")
    if high > kind.high:
        raise InvalidArgumentError(f"high is out of bounds for {dt.name}")
    if low > high:
        raise _bounds_error(closed, low)
    mask = (1 << kind.bits) - 1
    out = np.empty(1 if size is None else size, dtype=dt)
    core.fill_bounded(low & mask, (high - low) & mask, out.view(kind.unsigned))
    return out[0] if size is None else out


def _as_uint64(values: npt.NDArray[Any]) -> npt.NDArray[np.uint64]:
    """Bounds reduced modulo 2**64, the way NumPy's C code reinterprets them."""
    if values.dtype.kind in "iub":
        return values.astype(np.uint64)
    if values.dtype.kind == "f":
        if not np.all(np.isfinite(values)):
            raise InvalidArgumentError("bounds must be finite")
        return values.astype(np.int64).astype(np.uint64)
    # Object arrays hold Python ints, possibly beyond int64 (a high of 2**64, say).
    wrapped = [int(v) % (1 << 64) for v in values.reshape(-1).tolist()]
    return np.array(wrapped, dtype=np.uint64).reshape(values.shape)


def _broadcast(
    core: _core.Pcg64Core,
    low: npt.NDArray[Any],
    high: npt.NDArray[Any],
    size: Any,
    dt: np.dtype[Any],
    kind: _Kind,
    closed: bool,
) -> npt.NDArray[Any]:
    is_open = 0 if closed else 1
    if np.any(np.less(low, kind.low)):
        raise InvalidArgumentError(f"low is out of bounds for {dt.name}")
    if np.any(np.greater(high, kind.high + is_open)):
        raise InvalidArgumentError(f"high is out of bounds for {dt.name}")
    too_low = np.greater(low, high) if closed else np.greater_equal(low, high)
    if np.any(too_low):
        raise _bounds_error(closed, low)
    shape_t = as_shape(size) if size is not None else np.broadcast(low, high).shape
    low_u = _as_uint64(np.broadcast_to(low, shape_t))
    high_u = _as_uint64(np.broadcast_to(high, shape_t))
    with np.errstate(over="ignore"):
        span = high_u - np.uint64(is_open) - low_u
    out = np.empty(shape_t, dtype=dt)
    unsigned = kind.unsigned
    core.fill_bounded_varying(
        np.ascontiguousarray(low_u.astype(unsigned)),
        np.ascontiguousarray(span.astype(unsigned)),
        out.view(unsigned),
    )
    return out


def integers(
    core: _core.Pcg64Core, low: Any, high: Any, size: Any, dtype: npt.DTypeLike, endpoint: bool
) -> Any:
    """NumPy's ``_rand_<dtype>``; the caller holds the bit generator's lock."""
    dt, kind = _resolve(dtype)
    if size is not None and np.prod(size) == 0:
        return np.empty(size, dtype=dt)
    low_a = np.asarray(low)
    high_a = np.asarray(high)
    if low_a.ndim == 0 and high_a.ndim == 0:
        return _scalar(core, int(low_a), int(high_a), size, dt, kind, bool(endpoint))
    return _broadcast(core, low_a, high_a, size, dt, kind, bool(endpoint))
