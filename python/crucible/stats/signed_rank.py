"""The Wilcoxon signed-rank test, equal to SciPy 1.17's ``scipy.stats.wilcoxon``.

The test ranks ``|d|`` (``d = x - y``, or ``x`` alone) and sums the ranks of the positive
differences, T⁺. Zeros follow ``zero_method``: ``"wilcox"`` drops them, ``"pratt"`` ranks
them but counts them in neither sum (and adjusts the normal approximation), ``"zsplit"``
splits their ranks evenly between T⁺ and T⁻.

``method="auto"`` decides as SciPy does: more than 50 differences, the normal
approximation; otherwise the exact null distribution when there are no ties and no zeros,
an exact sign-flip permutation test (2ⁿ patterns, what SciPy's ``PermutationMethod`` runs
for n ≤ 13) when there are, and the normal approximation beyond 13. ``"exact"`` with ties
rounds T⁺ conservatively (up for the lower tail, down for the upper), as SciPy does.
The statistic is T⁺ for one-sided alternatives and min(T⁺, T⁻) for ``"two-sided"``.

Empty input gives NaN results with a :class:`~crucible.errors.DegenerateDataWarning`;
all differences zero gives what SciPy gives (p = 1 from the exact or permutation
distribution, NaN from the normal approximation). NaN follows ``nan_policy``; with
``"omit"`` a pair is dropped when either of its values is NaN. Unlike SciPy, a NaN
difference from ``inf - inf`` propagates instead of being silently dropped.
"""

from __future__ import annotations

import math
from typing import Literal

import msgspec
import numpy as np
import numpy.typing as npt

from crucible import _core
from crucible.errors import InvalidArgumentError
from crucible.stats.rank import (
    Alternative,
    NanPolicy,
    as_sample,
    check_alternative,
    check_flag,
    check_nan_policy,
    drop_nan,
    warn_too_small,
)
from crucible.stats.special import ndtr

__all__ = ["WilcoxonResult", "wilcoxon"]

ZeroMethod = Literal["wilcox", "pratt", "zsplit"]
WilcoxonMethod = Literal["auto", "exact", "approx", "asymptotic"]

_Floats = npt.NDArray[np.float64]


class WilcoxonResult(msgspec.Struct, frozen=True, kw_only=True):
    """``method`` is the one used: ``"exact"``, ``"asymptotic"`` or ``"permutation"``;
    ``zstatistic`` is SciPy's z for the normal approximation (``-|z|`` when two-sided; NaN
    for the other methods); ``effect_size`` is the matched-pairs rank-biserial correlation
    ``(T⁺ - T⁻)/(T⁺ + T⁻)``, equal to :func:`crucible.stats.rank_biserial_paired` for
    ``zero_method="wilcox"`` (positive when x tends to be larger)."""

    statistic: float
    pvalue: float
    alternative: str
    method: str
    zstatistic: float
    effect_size: float


def _differences(x: npt.ArrayLike, y: npt.ArrayLike | None, policy: NanPolicy) -> _Floats:
    if y is None:
        return drop_nan(as_sample(x, "x"), "x", policy)
    xs, ys = as_sample(x, "x"), as_sample(y, "y")
    if xs.shape != ys.shape:
        raise InvalidArgumentError(
            f"`x` and `y` must have the same length, got {xs.shape[0]} and {ys.shape[0]}"
        )
    if policy != "propagate":
        keep = ~(np.isnan(xs) | np.isnan(ys))
        if not keep.all():
            if policy == "raise":
                raise InvalidArgumentError("`x` or `y` contains NaN")
            xs, ys = xs[keep], ys[keep]
    return np.ascontiguousarray(xs - ys)


def _result(
    statistic: float, p: float, alternative: str, method: str, z: float, effect: float
) -> WilcoxonResult:
    return WilcoxonResult(
        statistic=float(statistic),
        pvalue=float(p),
        alternative=alternative,
        method=method,
        zstatistic=float(z),
        effect_size=float(effect),
    )


def wilcoxon(
    x: npt.ArrayLike,
    y: npt.ArrayLike | None = None,
    *,
    zero_method: ZeroMethod = "wilcox",
    correction: bool = False,
    alternative: Alternative = "two-sided",
    method: WilcoxonMethod = "auto",
    nan_policy: NanPolicy = "propagate",
) -> WilcoxonResult:
    """Wilcoxon signed-rank test that the differences ``x - y`` (or ``x``) are
    symmetric about zero; ``"greater"``: shifted above zero. ``correction`` applies a
    ½ continuity correction to the normal approximation only."""
    if zero_method not in ("wilcox", "pratt", "zsplit"):
        raise InvalidArgumentError(
            f"`zero_method` must be one of 'wilcox', 'pratt', 'zsplit'; got {zero_method!r}"
        )
    corrected = check_flag(correction, "correction")
    alternative = check_alternative(alternative)
    if method not in ("auto", "exact", "approx", "asymptotic"):
        raise InvalidArgumentError(
            f"`method` must be one of 'auto', 'exact', 'approx'; got {method!r}"
        )
    chosen = "asymptotic" if method == "approx" else str(method)
    d = _differences(x, y, check_nan_policy(nan_policy))
    n = d.shape[0]
    nan = math.nan
    if n == 0:
        warn_too_small()
        return _result(nan, nan, alternative, chosen, nan, nan)
    n_zero = int(np.count_nonzero(d == 0))
    if chosen == "auto" and n > 50:
        chosen = "asymptotic"
    ranked = np.ascontiguousarray(d[d != 0]) if zero_method == "wilcox" else d
    plus, minus, zero_sum, tie_term = _core.signed_rank_sums(ranked)
    if math.isnan(plus):
        return _result(nan, nan, alternative, chosen, nan, nan)
    if zero_method == "zsplit":
        plus, minus = plus + zero_sum / 2, minus + zero_sum / 2
    if chosen == "auto":
        if not (tie_term > 0 or n_zero > 0):
            chosen = "exact"
        else:
            chosen = "permutation" if n <= 13 else "asymptotic"
    z = nan
    if chosen == "asymptotic":
        z, p = _normal(plus, ranked.shape[0], n_zero, tie_term, zero_method, corrected, alternative)
    elif chosen == "exact":
        p = _exact(plus, ranked.shape[0], alternative)
    elif n < 2:
        raise InvalidArgumentError(
            "the permutation test that method='auto' picks for one difference with a tie "
            "or zero needs two observations (as in SciPy); pass method='exact' or 'approx'"
        )
    else:
        p = _permutation(ranked, zero_method, plus, alternative)
    statistic = min(plus, minus) if alternative == "two-sided" else plus
    total = plus + minus
    return _result(statistic, p, alternative, chosen, z, (plus - minus) / total if total else nan)


def _normal(
    plus: float,
    count: int,
    n_zero: int,
    tie_term: float,
    zero_method: str,
    corrected: bool,
    alternative: str,
) -> tuple[float, float]:
    """z and its p-value, in SciPy's order of floating-point operations."""
    mn = count * (count + 1.0) * 0.25
    se = count * (count + 1.0) * (2.0 * count + 1.0)
    if zero_method == "pratt":
        # Cureton's adjustment; the zeros' tie group leaves the tie correction.
        mn -= n_zero * (n_zero + 1.0) * 0.25
        se -= n_zero * (n_zero + 1.0) * (2.0 * n_zero + 1.0)
        tie_term -= float(n_zero**3 - n_zero)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sqrt(np.float64((se - tie_term / 2) / 24))
        z = np.float64(plus - mn) / s
        if corrected:
            sign = {"greater": 1.0, "less": -1.0}.get(alternative, np.sign(z))
            z = z - sign * 0.5 / s
    z = float(z)
    if alternative == "less":
        p = ndtr(z)
    elif alternative == "greater":
        p = ndtr(-z)
    else:
        p = 2 * ndtr(-abs(z))
    return (-abs(z) if alternative == "two-sided" else z), p


def _exact(plus: float, count: int, alternative: str) -> float:
    """P-value from the exact null distribution of T⁺ for ``count`` ranks."""
    cdf, sf = _core.signed_rank_exact_tails(count, math.ceil(plus), math.floor(plus))
    if alternative == "less":
        return cdf
    if alternative == "greater":
        return sf
    return min(max(2 * min(sf, cdf), 0.0), 1.0)


def _permutation(ranked: _Floats, zero_method: str, plus: float, alternative: str) -> float:
    """Exact sign-flip permutation p-value: T⁺ over all 2ⁿ sign patterns of ``ranked``.

    Zeros cannot change sign, so only the nonzero ranks vary; twice every rank is an
    integer, so the null distribution is a table of subset-sum counts over integers.
    """
    ranks, _ = _core.rank_values(np.ascontiguousarray(np.abs(ranked)), "average")
    nonzero = ranked != 0
    offset = float(ranks[~nonzero].sum()) / 2 if zero_method == "zsplit" else 0.0
    weights = [int(w) for w in np.rint(2 * ranks[nonzero])]
    counts = np.zeros(sum(weights) + 1, dtype=np.int64)
    counts[0] = 1
    for w in weights:
        counts[w:] = counts[w:] + counts[: counts.shape[0] - w]
    observed = round(2 * (plus - offset))
    patterns = float(2 ** len(weights))
    p_less = float(counts[: observed + 1].sum()) / patterns
    p_greater = float(counts[max(observed, 0) :].sum()) / patterns
    if alternative == "less":
        return p_less
    if alternative == "greater":
        return p_greater
    return min(2 * min(p_less, p_greater), 1.0)
