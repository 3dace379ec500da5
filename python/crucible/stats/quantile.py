"""Percentiles and quantiles equal to NumPy's, computed by selection in Rust, and a
mergeable quantile sketch for streams.

``percentile``/``quantile`` give ``numpy.percentile``/``numpy.quantile`` results (and
``numpy.nanpercentile``/``nanquantile`` with ``nan_policy="omit"``) for all 13 methods, but
read all the requested q from one selection pass instead of NumPy's partition per call, and
release the GIL while they work. :class:`QuantileSketch` (KLL) answers approximate quantiles
of data too large or too spread out to hold, in a few kilobytes that merge across processes.
"""

from __future__ import annotations

import math
from typing import Any, Literal, get_args, overload

import numpy as np
import numpy.typing as npt

from crucible import _core
from crucible.errors import InvalidArgumentError, InvalidTypeError

__all__ = ["Method", "NanPolicy", "QuantileSketch", "percentile", "quantile"]

Method = Literal[
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "linear",
    "median_unbiased",
    "normal_unbiased",
    "lower",
    "higher",
    "midpoint",
    "nearest",
]
NanPolicy = Literal["propagate", "omit", "raise"]

_METHODS: tuple[str, ...] = get_args(Method)
_NAN_POLICIES: tuple[str, ...] = get_args(NanPolicy)


def _as_float_array(a: npt.ArrayLike, name: str = "a") -> npt.NDArray[np.float64]:
    """``a`` as float64 (integers and booleans included), refusing complex and non-numbers."""
    arr = np.asarray(a)
    if arr.dtype.kind == "c":
        raise InvalidTypeError(f"{name} must be an array of real numbers")
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise InvalidTypeError(
                f"{name} must be an array of real numbers, not {arr.dtype}"
            ) from None
    return np.asarray(arr, dtype=np.float64)


def _check_nan_policy(nan_policy: str) -> str:
    if nan_policy not in _NAN_POLICIES:
        raise InvalidArgumentError("nan_policy must be one of {'propagate', 'omit', 'raise'}")
    return nan_policy


def _lanes(
    arr: npt.NDArray[np.float64], axis: int | None
) -> tuple[npt.NDArray[np.float64], tuple[int, ...]]:
    """The slices to reduce as rows of a C-contiguous 2-D array, and the shape they leave."""
    if axis is None:
        return np.ascontiguousarray(arr.reshape(1, -1)), ()
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise InvalidTypeError(f"axis must be an integer or None, not {type(axis).__name__}")
    if not -arr.ndim <= axis < arr.ndim:
        raise InvalidArgumentError(
            f"axis {axis} is out of bounds for array of dimension {arr.ndim}"
        )
    moved = np.moveaxis(arr, int(axis), -1)
    rest = moved.shape[:-1]
    return np.ascontiguousarray(moved).reshape(math.prod(rest), moved.shape[-1]), rest


def _quantiles(
    a: npt.ArrayLike,
    q: npt.ArrayLike,
    method: str,
    axis: int | None,
    nan_policy: str,
    percent: bool,
) -> Any:
    q_in = np.asarray(q)
    if q_in.dtype.kind not in "biuf":
        raise InvalidTypeError("q must be a number or an array of numbers")
    if method not in _METHODS:
        raise InvalidArgumentError(
            f"{method!r} is not a valid method. Use one of: {', '.join(map(repr, _METHODS))}"
        )
    _check_nan_policy(nan_policy)
    arr = _as_float_array(a)
    qf = np.asarray(q_in, dtype=np.float64)
    if percent:
        qf = np.true_divide(qf, 100)
    # NaN fails both comparisons, as in NumPy's check.
    if not bool(np.all((qf >= 0) & (qf <= 1))):
        what = "Percentiles must be in the range [0, 100]" if percent else None
        raise InvalidArgumentError(what or "Quantiles must be in the range [0, 1]")
    if not percent and q_in.dtype.kind in "biu" and method == "linear":
        # NumPy takes integer q (0 or 1) with 'linear' as an index, without its lerp.
        method = "lower"
    lanes, rest = _lanes(arr, axis)
    flat = _core.quantile_lanes(lanes, np.ascontiguousarray(qf.reshape(-1)), method, nan_policy)
    out = flat.reshape(qf.shape + rest)
    return float(out) if out.ndim == 0 else out


@overload
def percentile(
    a: npt.ArrayLike,
    q: float,
    method: Method = ...,
    axis: None = ...,
    nan_policy: NanPolicy = ...,
) -> float: ...
@overload
def percentile(
    a: npt.ArrayLike,
    q: npt.ArrayLike,
    method: Method = ...,
    axis: int | None = ...,
    nan_policy: NanPolicy = ...,
) -> Any: ...


def percentile(
    a: npt.ArrayLike,
    q: npt.ArrayLike,
    method: Method = "linear",
    axis: int | None = None,
    nan_policy: NanPolicy = "propagate",
) -> Any:
    """The q-th percentiles (q in [0, 100]) of ``a``, as ``numpy.percentile`` computes them.

    ``a`` is any array-like of real numbers (taken as float64); ``axis`` is None (all values)
    or one axis. The result has NumPy's shape: ``q``'s shape, then the axes not reduced; a
    scalar q over all values gives a float. ``nan_policy``: "propagate" (a slice holding a
    NaN gives NaN, as NumPy), "omit" (NaNs ignored, as ``numpy.nanpercentile``; an all-NaN
    slice gives NaN), "raise" (:class:`~crucible.errors.InvalidArgumentError`).

    All 13 methods are bit-exact with NumPy 2.x (NumPy's own virtual index, gamma and
    two-sided lerp are reproduced operation for operation), including its NaN results at
    infinities (``inf - inf`` in the lerp); only the sign of a zero result may differ.
    Unlike NumPy, integer input gives float64 results, and empty input raises
    :class:`~crucible.errors.InvalidArgumentError` (NumPy raises ``IndexError``) except under
    "omit" (NaN, as ``nanpercentile``).
    """
    return _quantiles(a, q, method, axis, nan_policy, percent=True)


@overload
def quantile(
    a: npt.ArrayLike,
    q: float,
    method: Method = ...,
    axis: None = ...,
    nan_policy: NanPolicy = ...,
) -> float: ...
@overload
def quantile(
    a: npt.ArrayLike,
    q: npt.ArrayLike,
    method: Method = ...,
    axis: int | None = ...,
    nan_policy: NanPolicy = ...,
) -> Any: ...


def quantile(
    a: npt.ArrayLike,
    q: npt.ArrayLike,
    method: Method = "linear",
    axis: int | None = None,
    nan_policy: NanPolicy = "propagate",
) -> Any:
    """The q-th quantiles (q in [0, 1]) of ``a``, as ``numpy.quantile``; see :func:`percentile`
    for the arguments, shapes and exactness (all 13 methods bit-exact)."""
    return _quantiles(a, q, method, axis, nan_policy, percent=False)


class QuantileSketch:
    """Approximate quantiles of a stream in bounded memory: a KLL sketch (Karnin, Lang and
    Liberty), mergeable, so per-process or per-shard sketches combine into one.

    Error bound: each answer's normalized rank error, ``|rank(answer)/n - q|``, is below
    about ``2.3 / k**0.97`` for a single query and ``2.45 / k**0.94`` for all queries at once,
    each with 99% confidence (Apache DataSketches' figures for KLL): for the default
    ``k=200``, 1.33% and 1.65%. Merged sketches keep the same bound. Memory is about
    ``3k`` values (under 5 KB at k=200) whatever the stream length; an ``update`` costs
    amortised O(log k) per value, in Rust without the GIL.

    ``quantile(q)`` returns a retained value (no interpolation): until more than ``k`` values
    have been seen it is exactly ``numpy.quantile(values, q, method="inverted_cdf")``;
    q = 0 and 1 always give the exact minimum and maximum. NaNs are
    ignored. ``seed`` fixes the sketch's coin flips: the same values in the same order give
    the same sketch, whatever the batch sizes. One writer at a time: a shared sketch needs a
    lock (a concurrent ``update`` raises ``RuntimeError`` rather than corrupting it).
    """

    __slots__ = ("_core",)

    def __init__(self, k: int = 200, *, seed: int = 0) -> None:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise InvalidTypeError(f"k must be an integer, not {type(k).__name__}")
        if not 0 <= seed < 2**64:
            raise InvalidArgumentError("seed must be in [0, 2**64)")
        self._core = _core.KllSketchCore(int(k), int(seed))

    def update(self, values: npt.ArrayLike) -> None:
        """Adds every value of ``values`` (any shape; NaNs are skipped)."""
        arr = _as_float_array(values, "values")
        self._core.update(np.ascontiguousarray(arr.reshape(-1)))

    def merge(self, other: QuantileSketch) -> None:
        """Folds ``other`` (same ``k``) into this sketch; ``other`` is unchanged."""
        if not isinstance(other, QuantileSketch):
            raise InvalidTypeError(f"can only merge a QuantileSketch, not {type(other).__name__}")
        self._core.merge(other._core.copy() if other is self else other._core)

    @overload
    def quantile(self, q: float) -> float: ...
    @overload
    def quantile(self, q: npt.ArrayLike) -> Any: ...

    def quantile(self, q: npt.ArrayLike) -> Any:
        """Estimated quantile(s), q in [0, 1]; NaN for an empty sketch."""
        qf = np.asarray(q, dtype=np.float64)
        if not bool(np.all((qf >= 0) & (qf <= 1))):
            raise InvalidArgumentError("Quantiles must be in the range [0, 1]")
        out = self._core.quantiles(np.ascontiguousarray(qf.reshape(-1))).reshape(qf.shape)
        return float(out) if out.ndim == 0 else out

    def __len__(self) -> int:
        """How many (non-NaN) values the sketch has seen."""
        return len(self._core)

    @property
    def k(self) -> int:
        return self._core.k

    @property
    def min(self) -> float:
        """The exact minimum seen (NaN when empty)."""
        return self._core.min

    @property
    def max(self) -> float:
        """The exact maximum seen (NaN when empty)."""
        return self._core.max

    @property
    def retained(self) -> int:
        """How many values the sketch holds (its memory footprint, in values)."""
        return self._core.retained

    def __repr__(self) -> str:
        return f"QuantileSketch(k={self.k}, n={len(self)}, retained={self.retained})"
