"""Descriptive statistics at NumPy/SciPy parity, and a mergeable running summary.

Means, variances and the higher moments come from one Rust kernel that adds Σx and the
central power sums in NumPy's own pairwise order (so the rounding error grows as O(log n),
not O(n)) without building the temporary arrays SciPy builds; the few divisions and powers
that finish them are written here exactly as NumPy and SciPy write them. Results therefore
match ``numpy.mean``/``var``/``std``/``median`` and ``scipy.stats.sem``/``skew``/
``kurtosis``/``describe`` to within 1e-12 relative, and usually bit for bit.

Every function reduces over all values of ``a`` (SciPy's ``axis=None``), except
:func:`median`, which also takes an ``axis``. ``nan_policy`` is SciPy's: "propagate" (a NaN
gives NaN), "omit" (NaNs are dropped first) or "raise".

:class:`RunningStats` keeps count, mean, M2 (Welford's update, Chan's merge), min and max of
a stream in O(1) memory, for telemetry that is summarised where it is produced and merged
later.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from crucible import _core
from crucible.errors import InvalidArgumentError, InvalidTypeError
from crucible.stats.quantile import NanPolicy, _as_float_array, _check_nan_policy, _lanes

__all__ = [
    "Describe",
    "RunningStats",
    "describe",
    "kurtosis",
    "max",
    "mean",
    "median",
    "min",
    "sem",
    "skew",
    "std",
    "var",
]


class _Sums(msgspec.Struct, frozen=True):
    """Σx, extremes and central power sums of the (NaN-policed) values."""

    n: int
    total: float
    low: float
    high: float
    s2: float
    s3: float
    s4: float


def _values(a: npt.ArrayLike, nan_policy: str) -> npt.NDArray[np.float64]:
    _check_nan_policy(nan_policy)
    x = np.ascontiguousarray(_as_float_array(a).reshape(-1))
    if nan_policy != "propagate":
        nans = np.isnan(x)
        if nans.any():
            if nan_policy == "raise":
                raise InvalidArgumentError("The input contains nan values")
            x = np.ascontiguousarray(x[~nans])
    return x


def _sums(a: npt.ArrayLike, nan_policy: str, order: int) -> _Sums:
    return _Sums(*_core.moment_sums(_values(a, nan_policy), order))


def _ratio(num: np.float64, den: np.float64) -> np.float64:
    """IEEE division (inf or NaN on zero), as NumPy divides."""
    with np.errstate(all="ignore"):
        return num / den


def mean(a: npt.ArrayLike, *, nan_policy: NanPolicy = "propagate") -> float:
    """Arithmetic mean (``numpy.mean``, bit-exact); NaN for no values."""
    s = _sums(a, nan_policy, 1)
    return float(_ratio(np.float64(s.total), np.float64(s.n)))


def var(a: npt.ArrayLike, *, ddof: float = 0.0, nan_policy: NanPolicy = "propagate") -> float:
    """Variance with ``n - ddof`` in the denominator (``numpy.var``, bit-exact)."""
    s = _sums(a, nan_policy, 2)
    return float(_ratio(np.float64(s.s2), np.float64(builtins.max(s.n - ddof, 0))))


def std(a: npt.ArrayLike, *, ddof: float = 0.0, nan_policy: NanPolicy = "propagate") -> float:
    """Standard deviation, ``sqrt(var(a, ddof=ddof))`` (``numpy.std``, bit-exact)."""
    return math.sqrt(var(a, ddof=ddof, nan_policy=nan_policy))


def sem(a: npt.ArrayLike, *, ddof: float = 1.0, nan_policy: NanPolicy = "propagate") -> float:
    """Standard error of the mean, ``std(a, ddof) / sqrt(n)`` (``scipy.stats.sem``); NaN for
    fewer than two values, as SciPy."""
    s = _sums(a, nan_policy, 2)
    if s.n < 2:
        return math.nan
    with np.errstate(all="ignore"):
        sd = np.sqrt(_ratio(np.float64(s.s2), np.float64(builtins.max(s.n - ddof, 0))))
        return float(sd / np.float64(s.n) ** 0.5)


def median(
    a: npt.ArrayLike, axis: int | None = None, *, nan_policy: NanPolicy = "propagate"
) -> Any:
    """Median (``numpy.median``, or ``numpy.nanmedian`` with "omit"), by selection.

    Over all values (a float) or along ``axis`` (an array of the other axes' shape); the
    mean of the two middle values for an even count, computed as NumPy computes it. Empty
    slices give NaN, as in NumPy.
    """
    _check_nan_policy(nan_policy)
    lanes, rest = _lanes(_as_float_array(a), axis)
    out = _core.median_lanes(lanes, nan_policy).reshape(rest)
    return float(out) if out.ndim == 0 else out


def _extreme(a: npt.ArrayLike, nan_policy: str, which: str) -> float:
    s = _sums(a, nan_policy, 1)
    if s.n == 0:
        raise InvalidArgumentError(
            f"zero-size array to reduction operation {which} which has no identity"
        )
    return s.low if which == "minimum" else s.high


def min(a: npt.ArrayLike, *, nan_policy: NanPolicy = "propagate") -> float:
    """Smallest value (``numpy.min``: NaN if any value is NaN under "propagate")."""
    return _extreme(a, nan_policy, "minimum")


def max(a: npt.ArrayLike, *, nan_policy: NanPolicy = "propagate") -> float:
    """Largest value (``numpy.max``: NaN if any value is NaN under "propagate")."""
    return _extreme(a, nan_policy, "maximum")


def _central(s: _Sums) -> tuple[np.float64, np.float64, np.float64, np.float64, np.bool_]:
    """SciPy's mean, m2, m3, m4 and its "m2 is numerically zero" test."""
    with np.errstate(all="ignore"):
        n = np.float64(s.n)
        m = np.float64(s.total) / n
        m2, m3, m4 = np.float64(s.s2) / n, np.float64(s.s3) / n, np.float64(s.s4) / n
        zero = m2 <= (np.finfo(np.float64).eps * m) ** 2
    return m, m2, m3, m4, zero


def _skew(s: _Sums, bias: bool) -> float:
    _, m2, m3, _, zero = _central(s)
    n = s.n
    with np.errstate(all="ignore"):
        vals = np.float64(np.nan) if zero else m3 / m2**1.5
        if not bias and not zero and n > 2:
            vals = ((n - 1.0) * n) ** 0.5 / (n - 2.0) * m3 / m2**1.5
    return float(vals)


def _kurtosis(s: _Sums, fisher: bool, bias: bool) -> float:
    _, m2, _, m4, zero = _central(s)
    n = s.n
    with np.errstate(all="ignore"):
        vals = np.float64(np.nan) if zero else m4 / m2**2.0
        if not bias and not zero and n > 3:
            nval = 1.0 / (n - 2) / (n - 3) * ((n**2 - 1.0) * m4 / m2**2.0 - 3 * (n - 1) ** 2.0)
            vals = nval + 3.0
        return float(vals - 3 if fisher else vals)


def skew(a: npt.ArrayLike, *, bias: bool = True, nan_policy: NanPolicy = "propagate") -> float:
    """Sample skewness m3 / m2**1.5 (``scipy.stats.skew``); ``bias=False`` applies the
    adjusted Fisher-Pearson correction (n > 2). NaN for constant data, as SciPy."""
    return _skew(_sums(a, nan_policy, 3), bias)


def kurtosis(
    a: npt.ArrayLike,
    *,
    fisher: bool = True,
    bias: bool = True,
    nan_policy: NanPolicy = "propagate",
) -> float:
    """Sample kurtosis m4 / m2**2 (``scipy.stats.kurtosis``): minus 3 if ``fisher`` (excess
    kurtosis, 0 for a normal); ``bias=False`` corrects for sample size (n > 3)."""
    return _kurtosis(_sums(a, nan_policy, 4), fisher, bias)


class Describe(msgspec.Struct, frozen=True, kw_only=True):
    """Summary of a sample, the values of ``scipy.stats.describe`` (ddof=1, bias=True)."""

    nobs: int
    min: float
    max: float
    mean: float
    variance: float
    skewness: float
    kurtosis: float


def describe(a: npt.ArrayLike, *, nan_policy: NanPolicy = "propagate") -> Describe:
    """Count, extremes, mean, variance (ddof=1), skewness and excess kurtosis (both biased)
    of all values of ``a``, in one pass over the data plus one over the deviations."""
    s = _sums(a, nan_policy, 4)
    if s.n == 0:
        raise InvalidArgumentError("The input must not be empty.")
    m, m2, _, _, _ = _central(s)
    with np.errstate(all="ignore"):
        n = np.float64(s.n)
        variance = m2 * (n / (n - 1))
    return Describe(
        nobs=s.n,
        min=s.low,
        max=s.high,
        mean=float(m),
        variance=float(variance),
        skewness=_skew(s, True),
        kurtosis=_kurtosis(s, True, True),
    )


class RunningStats:
    """Count, mean, variance, min and max of a stream, one pass, mergeable.

    Each ``update`` summarises its batch in Rust (two-pass mean and M2 over the batch, so a
    batch is as accurate as ``numpy.var``), then folds it in with Chan et al.'s pairwise
    update, which is also how ``merge`` combines two summaries. ``var``/``std`` use the
    ``ddof`` given at construction (0, NumPy's default). With ``nan_policy="propagate"`` one
    NaN makes mean and variance NaN for good; "omit" skips NaNs; "raise" rejects them.
    Instances pickle (to ship a summary to where it is merged); guard a shared one with a
    lock, as updates are not atomic.
    """

    __slots__ = ("_count", "_high", "_low", "_m2", "_mean", "ddof", "nan_policy")

    def __init__(self, *, ddof: float = 0.0, nan_policy: NanPolicy = "propagate") -> None:
        self.ddof = float(ddof)
        self.nan_policy: NanPolicy = nan_policy
        _check_nan_policy(nan_policy)
        self._count = 0
        self._mean = 0.0
        self._m2 = 0.0
        self._low = math.inf
        self._high = -math.inf

    def _fold(self, count: int, mean: float, m2: float, low: float, high: float) -> None:
        if count == 0:
            return
        total = self._count + count
        delta = mean - self._mean
        self._mean += delta * (count / total)
        self._m2 += m2 + delta * delta * (self._count * count / total)
        self._count = total
        # NaN-propagating, as numpy.min/max (and this module shadows the builtins).
        self._low = low if low < self._low or math.isnan(low) else self._low
        self._high = high if high > self._high or math.isnan(high) else self._high

    def update(self, values: npt.ArrayLike) -> None:
        """Adds every value of ``values`` (any shape)."""
        s = _sums(values, self.nan_policy, 2)
        if s.n:
            self._fold(s.n, s.total / s.n, s.s2, s.low, s.high)

    def merge(self, other: RunningStats) -> None:
        """Folds ``other``'s summary into this one; ``other`` is unchanged."""
        if not isinstance(other, RunningStats):
            raise InvalidTypeError(f"can only merge RunningStats, not {type(other).__name__}")
        self._fold(other._count, other._mean, other._m2, other._low, other._high)

    @property
    def count(self) -> int:
        return self._count

    @property
    def mean(self) -> float:
        return self._mean if self._count else math.nan

    @property
    def var(self) -> float:
        """Variance with ``count - ddof`` in the denominator (NaN when that is not > 0)."""
        den = self._count - self.ddof
        return self._m2 / den if den > 0 else math.nan

    @property
    def std(self) -> float:
        return math.sqrt(self.var)

    @property
    def min(self) -> float:
        return self._low if self._count else math.nan

    @property
    def max(self) -> float:
        return self._high if self._count else math.nan

    def __repr__(self) -> str:
        return f"RunningStats(count={self.count}, mean={self.mean!r}, var={self.var!r})"
