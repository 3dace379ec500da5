"""Power analysis for t-tests and two proportions, equal to statsmodels' ``stats.power``.

``ttest_power`` (one sample, or paired samples with ``nobs`` pairs), ``ttest_ind_power``
(two samples, ``nobs2 = ratio * nobs1``, pooled variance) and ``normal_ind_power`` (the
z-test of two proportions, with ``proportion_effectsize``'s Cohen's h) follow
statsmodels' ``TTestPower``, ``TTestIndPower`` and ``NormalIndPower`` formula for
formula: the critical value of the central t (or normal) at ``alpha`` (halved for
``"two-sided"``, whose power adds both tails), then the noncentral t (or shifted normal)
tail beyond it. The noncentral t is ours (:func:`~crucible.stats.distributions.nct_sf`),
accurate relatively in both tails where statsmodels' ``1 - nctdtr`` keeps only absolute
accuracy, so tiny powers (an effect against a one-sided alternative) can differ there.

``solve_power`` finds whichever of ``effect_size``, ``nobs``, ``alpha``, ``power`` or
``ratio`` is ``None`` with statsmodels' procedure (:mod:`crucible.stats.root`): the same
starting brackets, expanded tenfold, then Brent's method to ``xtol`` (statsmodels'
1e-5 by default, which is what makes the answers agree to about 1e-10; pass a smaller
``xtol`` for a tighter root). Where statsmodels' bracket holds no sign change (a sample
size below 2 already reaches the power) it falls back on MINPACK's ``fsolve``; we search
the bracket below instead, so those answers agree only to fsolve's accuracy (~1e-8).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.stats.distributions import nct_cdf, nct_sf, t_ppf
from crucible.stats.root import ConvergenceWarning, RootNotBracketedError, brent, expanding_root
from crucible.stats.special import ndtr, ndtri

__all__ = [
    "normal_ind_power",
    "proportion_effectsize",
    "solve_power",
    "ttest_ind_power",
    "ttest_power",
]

Alternative = Literal["two-sided", "larger", "smaller"]
PowerTest = Literal["ttest", "ttest_ind", "normal_ind"]


def _out(value: Any) -> Any:
    arr = np.asarray(value, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


def _check_alternative(alternative: str) -> None:
    if alternative not in ("two-sided", "larger", "smaller"):
        raise InvalidArgumentError("`alternative` must be 'two-sided', 'larger' or 'smaller'")


def ttest_power(
    effect_size: npt.ArrayLike,
    nobs: npt.ArrayLike,
    alpha: npt.ArrayLike = 0.05,
    *,
    alternative: Alternative = "two-sided",
    df: npt.ArrayLike | None = None,
) -> Any:
    """Power of a one-sample (or paired) t-test; ``effect_size`` is mean / sd (Cohen's d)
    and ``df`` defaults to ``nobs - 1``."""
    _check_alternative(alternative)
    d = np.asarray(effect_size, dtype=np.float64)
    n = np.asarray(nobs, dtype=np.float64)
    dof = n - 1 if df is None else np.asarray(df, dtype=np.float64)
    a = np.asarray(alpha, dtype=np.float64)
    tail = a / 2.0 if alternative == "two-sided" else a
    nc = d * np.sqrt(n)
    crit = np.asarray(t_ppf(dof, tail))  # lower critical value; the upper is its negative
    power = np.zeros(np.broadcast_shapes(nc.shape, crit.shape))
    if alternative in ("two-sided", "larger"):
        power = power + nct_sf(dof, nc, -crit)
    if alternative in ("two-sided", "smaller"):
        power = power + nct_cdf(dof, nc, crit)
    return _out(power)


def ttest_ind_power(
    effect_size: npt.ArrayLike,
    nobs1: npt.ArrayLike,
    alpha: npt.ArrayLike = 0.05,
    *,
    ratio: npt.ArrayLike = 1.0,
    alternative: Alternative = "two-sided",
    df: npt.ArrayLike | None = None,
) -> Any:
    """Power of the pooled two-sample t-test with ``nobs2 = ratio * nobs1``;
    ``effect_size`` is the mean difference over the common sd."""
    n1 = np.asarray(nobs1, dtype=np.float64)
    n2 = n1 * np.asarray(ratio, dtype=np.float64)
    dof = n1 - 1 + n2 - 1 if df is None else df
    with np.errstate(divide="ignore", invalid="ignore"):
        nobs = 1.0 / (1.0 / n1 + 1.0 / n2)
    return ttest_power(effect_size, nobs, alpha, alternative=alternative, df=dof)


def normal_ind_power(
    effect_size: npt.ArrayLike,
    nobs1: npt.ArrayLike,
    alpha: npt.ArrayLike = 0.05,
    *,
    ratio: float = 1.0,
    alternative: Alternative = "two-sided",
) -> Any:
    """Power of the two-sample z-test (``ratio=0``: one sample), e.g. of two proportions
    with ``effect_size = proportion_effectsize(p1, p2)``."""
    _check_alternative(alternative)
    n1 = np.asarray(nobs1, dtype=np.float64)
    if ratio > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            nobs = 1.0 / (1.0 / n1 + 1.0 / (n1 * ratio))
    else:
        nobs = n1
    a = np.asarray(alpha, dtype=np.float64)
    tail = a / 2.0 if alternative == "two-sided" else a
    shift = np.asarray(effect_size, dtype=np.float64) * np.sqrt(nobs)
    crit = np.asarray(ndtri(tail))
    power = np.zeros(np.broadcast_shapes(shift.shape, crit.shape))
    if alternative in ("two-sided", "larger"):
        power = power + ndtr(-(-crit - shift))
    if alternative in ("two-sided", "smaller"):
        power = power + ndtr(crit - shift)
    return _out(power)


def proportion_effectsize(prop1: npt.ArrayLike, prop2: npt.ArrayLike) -> Any:
    """Cohen's h: ``2 * (arcsin(sqrt(prop1)) - arcsin(sqrt(prop2)))``."""
    p1 = np.asarray(prop1, dtype=np.float64)
    p2 = np.asarray(prop2, dtype=np.float64)
    return _out(2 * (np.arcsin(np.sqrt(p1)) - np.arcsin(np.sqrt(p2))))


# Bracket settings of statsmodels' solve_power, per unknown.
_BRACKETS: dict[str, dict[str, float]] = {
    "nobs": {"low": 2.0, "start_upp": 50.0},
    "ratio": {"low": 1e-8, "start_upp": 2.0},
    "alpha": {"low": 1e-12, "upp": 1 - 1e-12},
    "effect_size": {},
}


def _smallest_nobs(test: str, ratio: float) -> float:
    """Where the degrees of freedom (or the effective size) reach zero."""
    if test == "ttest":
        return 1.0
    if test == "ttest_ind":
        return 2.0 / (1.0 + ratio)
    return 0.0


def _power_of(test: str, alternative: Alternative) -> Callable[..., float]:
    def power(effect_size: float, nobs: float, alpha: float, ratio: float) -> float:
        if test == "ttest":
            value = ttest_power(effect_size, nobs, alpha, alternative=alternative)
        elif test == "ttest_ind":
            value = ttest_ind_power(effect_size, nobs, alpha, ratio=ratio, alternative=alternative)
        else:
            value = normal_ind_power(effect_size, nobs, alpha, ratio=ratio, alternative=alternative)
        return float(value)

    return power


def solve_power(
    test: PowerTest,
    *,
    effect_size: float | None = None,
    nobs: float | None = None,
    alpha: float | None = None,
    power: float | None = None,
    ratio: float | None = 1.0,
    alternative: Alternative = "two-sided",
    xtol: float = 1e-5,
) -> float:
    """Solve ``test``'s power equation for the one argument left ``None``.

    ``test`` is ``"ttest"`` (one sample or paired), ``"ttest_ind"`` or ``"normal_ind"``
    (two proportions); ``nobs`` is the first sample's size for the two-sample tests.
    Returns NaN with a :class:`~crucible.stats.root.ConvergenceWarning` when no root is found.
    """
    if test not in ("ttest", "ttest_ind", "normal_ind"):
        raise InvalidArgumentError("`test` must be 'ttest', 'ttest_ind' or 'normal_ind'")
    _check_alternative(alternative)
    known: dict[str, float | None] = {
        "effect_size": effect_size,
        "nobs": nobs,
        "alpha": alpha,
        "power": power,
    }
    if test != "ttest":
        known["ratio"] = ratio
    unknown = [k for k, v in known.items() if v is None]
    if len(unknown) != 1:
        raise InvalidArgumentError("exactly one of the arguments must be None")
    key = unknown[0]
    fn = _power_of(test, alternative)
    args = {k: float(v) for k, v in known.items() if v is not None}
    args.setdefault("ratio", 1.0)
    if key == "power":
        return fn(args["effect_size"], args["nobs"], args["alpha"], args["ratio"])
    if args.get("effect_size") == 0:
        if key == "alpha":
            return args["power"]
        raise InvalidArgumentError("Cannot detect an effect-size of 0.")
    if key in ("nobs", "ratio") and alternative != "two-sided":
        wrong_sign = args["effect_size"] < 0 if alternative == "larger" else args["effect_size"] > 0
        if wrong_sign and args["power"] >= args["alpha"]:
            raise InvalidArgumentError(
                f"No solution for {key}: a one-sided test of {alternative!r} cannot reach "
                "the power with an effect size of the opposite sign."
            )
    target = args.pop("power")

    def gap(x: float) -> float:
        value = fn(**{**args, key: x}) - target
        return math.inf if math.isnan(value) else value

    try:
        root, converged = expanding_root(gap, xtol=xtol, **_BRACKETS[key])
    except RootNotBracketedError:
        root, converged = _fallback(gap, key, test, args.get("ratio", 1.0))
    if not converged:
        warnings.warn(
            ConvergenceWarning(f"solve_power found no root for {key}; returning NaN"),
            stacklevel=2,
        )
        return math.nan
    return float(root)


def _fallback(gap: Callable[[float], float], key: str, test: str, ratio: float) -> Any:
    """Where statsmodels' bracket fails: below n = 2 for sizes, (1e-8, 1 - 1e-8) else."""
    if key == "nobs":
        low = _smallest_nobs(test, ratio)
        low, high = low + 1e-9 * max(low, 1.0), 2.0
    elif key in ("alpha", "effect_size"):
        low, high = 1e-8, 1 - 1e-8
    else:
        return math.nan, False
    try:
        return brent(gap, low, high, xtol=1e-12 * high)
    except RootNotBracketedError:
        return math.nan, False
