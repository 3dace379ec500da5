"""``Generator``: NumPy's ``Generator`` API for the hot distributions, filled in Rust.

Each method draws the same words in the same order and rounds the same way as the NumPy
method of the same name, so for the same seed, sizes and arguments the values *and* the
state left behind are identical. Arrays are allocated here and filled by the Rust core in
one call with the GIL released; there is no per-item Python work.

Argument checks mirror NumPy's, with our typed errors (which subclass the built-in NumPy
raises: ``ValueError``, ``TypeError``).
"""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import Any, Literal, TypeAlias, cast

import numpy as np
import numpy.typing as npt
from numpy.lib.array_utils import normalize_axis_index

from crucible.errors import InvalidArgumentError, InvalidTypeError, UnsupportedOperationError
from crucible.prng.bounded import integers as _integers
from crucible.prng.pcg64 import PCG64, SeedLike
from crucible.prng.shape import as_shape

__all__ = ["Generator", "default_rng"]

Size: TypeAlias = int | tuple[int, ...] | None
_UNIFORM, _NORMAL, _EXP_ZIG, _EXP_INV = 0, 1, 2, 3
_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


def _check_out(out: npt.NDArray[Any], dtype: np.dtype[Any], size: Size) -> None:
    if not (out.flags.c_contiguous or out.flags.f_contiguous) or not out.flags.writeable:
        raise InvalidArgumentError(
            "Supplied output array must be contiguous, writable, aligned, and in machine "
            "byte-order."
        )
    if out.dtype != dtype:
        raise InvalidTypeError(
            f"Supplied output array has the wrong type. Expected {dtype}, got {out.dtype}"
        )
    if size is not None and as_shape(size) != out.shape:
        raise InvalidArgumentError("size must match out.shape when used together")


def _signbit_error(values: npt.NDArray[np.float64], name: str) -> None:
    if np.any(~np.isnan(values) & np.signbit(values)):
        raise InvalidArgumentError(f"{name} < 0")


class Generator:
    """Draws from a :class:`PCG64`; bit-exact with ``numpy.random.Generator``."""

    def __init__(self, bit_generator: PCG64) -> None:
        if not isinstance(bit_generator, PCG64):
            raise InvalidTypeError(
                "crucible.prng.Generator draws from a crucible.prng.PCG64; wrap other bit "
                "generators in numpy.random.Generator"
            )
        self._bit_generator = bit_generator
        self._core = bit_generator._core
        self._lock = bit_generator.lock

    @property
    def bit_generator(self) -> PCG64:
        return self._bit_generator

    def spawn(self, n_children: int) -> list[Generator]:
        return [type(self)(child) for child in self._bit_generator.spawn(n_children)]

    def __repr__(self) -> str:
        return f"Generator(PCG64) at 0x{id(self):X}"

    # -- continuous draws ---------------------------------------------------------------

    def _fill(
        self, kind: int, size: Size, dtype: npt.DTypeLike, out: npt.NDArray[Any] | None, name: str
    ) -> Any:
        dt = np.dtype(dtype)
        if dt not in _FLOATS:
            raise InvalidTypeError(f"Unsupported dtype {dt!r} for {name}")
        single = dt == np.float32
        if out is None and size is None:
            with self._lock:
                return self._core.one_f32(kind) if single else self._core.one_f64(kind)
        if out is not None:
            _check_out(out, dt, size)
            target = out
        else:
            target = np.empty(size, dtype=dt)  # type: ignore[arg-type]
        with self._lock:
            if single:
                self._core.fill_f32(kind, target)
            else:
                self._core.fill_f64(kind, target)
        return target

    def random(
        self,
        size: Size = None,
        dtype: npt.DTypeLike = np.float64,
        out: npt.NDArray[Any] | None = None,
    ) -> Any:
        """Uniform floats in [0, 1)."""
        return self._fill(_UNIFORM, size, dtype, out, "random")

    def standard_normal(
        self,
        size: Size = None,
        dtype: npt.DTypeLike = np.float64,
        out: npt.NDArray[Any] | None = None,
    ) -> Any:
        """Standard normal draws (ziggurat)."""
        return self._fill(_NORMAL, size, dtype, out, "standard_normal")

    def standard_exponential(
        self,
        size: Size = None,
        dtype: npt.DTypeLike = np.float64,
        method: Literal["zig", "inv"] = "zig",
        out: npt.NDArray[Any] | None = None,
    ) -> Any:
        """Standard exponential draws, by ziggurat or by inverting the CDF."""
        kind = _EXP_ZIG if method == "zig" else _EXP_INV
        return self._fill(kind, size, dtype, out, "standard_exponential")

    def _scaled(self, kind: int, shift: Any, scale: Any, size: Size) -> Any:
        """``shift + scale * standard draw``, NumPy's `cont` with its scalar/broadcast rules."""
        shift_a = np.asarray(shift, dtype=np.float64)
        scale_a = np.asarray(scale, dtype=np.float64)
        _signbit_error(scale_a, "scale")
        if shift_a.ndim == 0 and scale_a.ndim == 0:
            shift_f, scale_f = float(shift_a), float(scale_a)
            if size is None:
                with self._lock:
                    return shift_f + scale_f * self._core.one_f64(kind)
            draws = self._fill(kind, size, np.float64, None, "draws")
            return shift_f + scale_f * draws
        shape_t = as_shape(size) if size is not None else np.broadcast(shift_a, scale_a).shape
        shift_b = np.broadcast_to(shift_a, shape_t)
        scale_b = np.broadcast_to(scale_a, shape_t)
        draws = self._fill(kind, shape_t, np.float64, None, "draws")
        return shift_b + scale_b * draws

    def normal(self, loc: Any = 0.0, scale: Any = 1.0, size: Size = None) -> Any:
        """Normal draws ``loc + scale * z``; ``loc`` and ``scale`` broadcast."""
        return self._scaled(_NORMAL, loc, scale, size)

    def exponential(self, scale: Any = 1.0, size: Size = None) -> Any:
        """Exponential draws ``scale * e``; ``scale`` broadcasts."""
        return self._scaled(_EXP_ZIG, 0.0, scale, size)

    # -- integers -----------------------------------------------------------------------

    def integers(
        self,
        low: Any,
        high: Any = None,
        size: Size = None,
        dtype: npt.DTypeLike = np.int64,
        endpoint: bool = False,
    ) -> Any:
        """Uniform integers in ``[low, high)`` (``[low, high]`` with ``endpoint``)."""
        if high is None:
            low, high = 0, low
        with self._lock:
            result = _integers(self._core, low, high, size, dtype, endpoint)
        if size is None and dtype in (bool, int) and np.ndim(result) == 0:
            return cast(Any, dtype)(result)  # NumPy returns a Python int/bool here
        return result

    def bytes(self, length: int) -> bytes:
        """``length`` random bytes, cut from 32-bit draws as NumPy does."""
        # NumPy's C division truncates, so even zero bytes draw one 32-bit word.
        n_words = (length + 3) // 4 if length > 0 else 1
        words = self.integers(0, 1 << 32, size=n_words, dtype=np.uint32)
        return bytes(words.astype("<u4").tobytes()[:length])

    # -- permutations and sampling ------------------------------------------------------

    def shuffle(self, x: npt.NDArray[Any] | MutableSequence[Any], axis: int = 0) -> None:
        """Shuffle ``x`` in place along ``axis`` (arrays) or its items (sequences)."""
        if isinstance(x, np.ndarray):
            if not x.flags.writeable:
                raise InvalidArgumentError("array is read-only")
            axis = normalize_axis_index(axis, x.ndim)
            if x.size == 0:
                return
            moved = np.swapaxes(x, 0, axis)
            with self._lock:
                perm = self._core.permutation(len(moved))
            moved[...] = moved[perm]
            return
        if axis != 0:
            raise UnsupportedOperationError("Axis argument is only supported on ndarray objects")
        with self._lock:
            perm = self._core.permutation(len(x))
        items = [x[int(k)] for k in perm]
        for i, item in enumerate(items):
            x[i] = item

    def permutation(self, x: Any, axis: int = 0) -> npt.NDArray[Any]:
        """A shuffled copy of ``x``, or of ``arange(x)`` for an integer."""
        if isinstance(x, (int, np.integer)):
            with self._lock:
                return self._core.permutation(max(int(x), 0))
        arr = np.asarray(x)
        axis = normalize_axis_index(axis, arr.ndim)
        if arr.ndim == 1:
            if np.may_share_memory(arr, x):
                arr = np.array(arr)
            self.shuffle(arr)
            return arr
        with self._lock:
            idx = self._core.permutation(arr.shape[axis])
        return np.take(arr, idx, axis=axis)

    def choice(
        self,
        a: Any,
        size: Size = None,
        replace: bool = True,
        p: Any = None,
        axis: int = 0,
        shuffle: bool = True,
    ) -> Any:
        """Sample from ``a`` (or ``arange(a)``), with or without replacement."""
        from crucible.prng.choice import choose

        return choose(self, a, size, replace, p, axis, shuffle)


def default_rng(seed: SeedLike | PCG64 | Generator = None) -> Generator:
    """A :class:`Generator` on a fresh :class:`PCG64` (or on the one given)."""
    if isinstance(seed, Generator):
        return seed
    if isinstance(seed, PCG64):
        return Generator(seed)
    return Generator(PCG64(seed))
