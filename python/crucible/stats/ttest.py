"""Student's and Welch's t-tests, equal to SciPy's to 1e-12, with CI and effect size.

The statistic, degrees of freedom and standard error follow ``scipy.stats.ttest_1samp``,
``ttest_rel`` and ``ttest_ind``; p-values and confidence intervals come from our Student t
distribution (:mod:`crucible.stats.distributions`). Each result also carries Cohen's d
(one sample and paired: mean difference over the standard deviation of the sample or of
the differences; two samples: over the pooled standard deviation, for Welch's test too).

Samples are one-dimensional. ``nan_policy`` is ``"propagate"`` (NaN in, NaN out),
``"omit"`` (NaNs dropped; pairs with a NaN dropped in the paired test) or ``"raise"``.
Fewer than two observations raise :class:`~crucible.errors.InvalidArgumentError`.
"""

from __future__ import annotations

import math
from typing import Literal

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.stats.bootstrap import ConfidenceInterval
from crucible.stats.distributions import t_ppf, t_sf

__all__ = ["TTestResult", "ttest_1samp", "ttest_ind", "ttest_rel"]

Alternative = Literal["two-sided", "less", "greater"]
NanPolicy = Literal["propagate", "omit", "raise"]


class TTestResult(msgspec.Struct, frozen=True, kw_only=True):
    statistic: float
    pvalue: float
    df: float
    alternative: str
    method: str
    estimate: float
    standard_error: float
    confidence_interval: ConfidenceInterval
    confidence_level: float
    effect_size: float


def _sample(values: npt.ArrayLike, name: str, nan_policy: NanPolicy) -> npt.NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise InvalidArgumentError(f"`{name}` must be one-dimensional")
    if nan_policy not in ("propagate", "omit", "raise"):
        raise InvalidArgumentError("`nan_policy` must be 'propagate', 'omit' or 'raise'")
    if np.isnan(arr).any():
        if nan_policy == "raise":
            raise InvalidArgumentError(f"`{name}` contains NaN")
        if nan_policy == "omit":
            arr = arr[~np.isnan(arr)]
    if arr.shape[0] < 2:
        raise InvalidArgumentError(f"`{name}` needs at least two observations")
    return arr


def _check(alternative: str, confidence_level: float) -> None:
    if alternative not in ("two-sided", "less", "greater"):
        raise InvalidArgumentError("`alternative` must be 'less', 'greater', or 'two-sided'.")
    if not 0 <= confidence_level <= 1:
        raise InvalidArgumentError("`confidence_level` must be a number between 0 and 1.")


def _finish(
    *,
    estimate: float,
    denom: float,
    df: float,
    alternative: str,
    confidence_level: float,
    method: str,
    effect_size: float,
) -> TTestResult:
    with np.errstate(divide="ignore", invalid="ignore"):
        t = float(np.divide(estimate, denom))
    if alternative == "less":
        p = t_sf(df, -t)
        lo_q, hi_q = -math.inf, float(t_ppf(df, confidence_level))
    elif alternative == "greater":
        p = t_sf(df, t)
        lo_q, hi_q = float(t_ppf(df, 1 - confidence_level)), math.inf
    else:
        p = 2 * t_sf(df, abs(t))
        tail = (1 - confidence_level) / 2
        lo_q, hi_q = float(t_ppf(df, tail)), float(t_ppf(df, 1 - tail))
    return TTestResult(
        statistic=t,
        pvalue=float(p),
        df=float(df),
        alternative=alternative,
        method=method,
        estimate=estimate,
        standard_error=denom,
        confidence_interval=ConfidenceInterval(
            low=lo_q * denom + estimate, high=hi_q * denom + estimate
        ),
        confidence_level=float(confidence_level),
        effect_size=effect_size,
    )


def _mean_test(
    x: npt.NDArray[np.float64], popmean: float, alternative: str, level: float, method: str
) -> TTestResult:
    """Test ``mean(x) == popmean``; like SciPy, the interval is for the mean itself."""
    n = x.shape[0]
    mean, var = float(np.mean(x)), float(np.var(x, ddof=1))
    res = _finish(
        estimate=mean - popmean,
        denom=math.sqrt(var / n),
        df=float(n - 1),
        alternative=alternative,
        confidence_level=level,
        method=method,
        effect_size=_cohen(mean - popmean, var),
    )
    ci = res.confidence_interval
    return msgspec.structs.replace(
        res,
        estimate=mean,
        confidence_interval=ConfidenceInterval(low=ci.low + popmean, high=ci.high + popmean),
    )


def _cohen(difference: float, variance: float) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.divide(difference, np.sqrt(variance)))


def ttest_1samp(
    a: npt.ArrayLike,
    popmean: float = 0.0,
    *,
    alternative: Alternative = "two-sided",
    confidence_level: float = 0.95,
    nan_policy: NanPolicy = "propagate",
) -> TTestResult:
    """One-sample t-test of ``mean(a) == popmean``; CI for the mean of ``a``."""
    _check(alternative, confidence_level)
    x = _sample(a, "a", nan_policy)
    return _mean_test(x, float(popmean), alternative, confidence_level, "one-sample t-test")


def ttest_rel(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    alternative: Alternative = "two-sided",
    confidence_level: float = 0.95,
    nan_policy: NanPolicy = "propagate",
) -> TTestResult:
    """Paired t-test of ``mean(a - b) == 0``; CI for the mean difference."""
    _check(alternative, confidence_level)
    a_arr, b_arr = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a_arr.shape != b_arr.shape:
        raise InvalidArgumentError("`a` and `b` must have the same length")
    diff = _sample(a_arr - b_arr, "a - b", nan_policy)
    return _mean_test(diff, 0.0, alternative, confidence_level, "paired t-test")


def ttest_ind(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    equal_var: bool = True,
    alternative: Alternative = "two-sided",
    confidence_level: float = 0.95,
    nan_policy: NanPolicy = "propagate",
) -> TTestResult:
    """Two-sample t-test of ``mean(a) == mean(b)``: Student's, or Welch's when
    ``equal_var=False``; CI for ``mean(a) - mean(b)``."""
    _check(alternative, confidence_level)
    x, y = _sample(a, "a", nan_policy), _sample(b, "b", nan_policy)
    n1, n2 = float(x.shape[0]), float(y.shape[0])
    v1, v2 = float(np.var(x, ddof=1)), float(np.var(y, ddof=1))
    m1, m2 = float(np.mean(x)), float(np.mean(y))
    pooled = ((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2.0)
    if equal_var:
        df = n1 + n2 - 2.0
        denom = math.sqrt(pooled * (1.0 / n1 + 1.0 / n2))
        method = "Student's t-test"
    else:
        vn1, vn2 = v1 / n1, v2 / n2
        with np.errstate(divide="ignore", invalid="ignore"):
            df = float(np.divide((vn1 + vn2) ** 2, vn1**2 / (n1 - 1) + vn2**2 / (n2 - 1)))
        df = 1.0 if math.isnan(df) else df
        denom = math.sqrt(vn1 + vn2)
        method = "Welch's t-test"
    return _finish(
        estimate=m1 - m2,
        denom=denom,
        df=df,
        alternative=alternative,
        confidence_level=confidence_level,
        method=method,
        effect_size=_cohen(m1 - m2, pooled),
    )
