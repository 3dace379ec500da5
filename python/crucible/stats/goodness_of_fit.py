"""Pearson's χ² goodness-of-fit test and the Cressie-Read power-divergence family, equal to
``scipy.stats.chisquare`` and ``scipy.stats.power_divergence`` (1-D data).

The terms are SciPy's, summed by NumPy in the same order, so statistics agree to the last
bit or nearly; p-values come from our χ² survival function (Rust, about 1e-15 relative).
``f_exp`` defaults to the uniform expectation. When given, its total must match the
observed total to a relative 1.5e-8 (√ε, as SciPy); a mismatch means the two describe
different samples and raises. Unlike SciPy, negative frequencies raise too.
The effect size is Cohen's w = √(statistic / n), n the observed total.
"""

from __future__ import annotations

from typing import Literal

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.stats.distributions import chi2_sf

__all__ = ["LAMBDA_NAMES", "PowerDivergenceResult", "chisquare", "power_divergence"]

LambdaName = Literal[
    "pearson", "log-likelihood", "freeman-tukey", "mod-log-likelihood", "neyman", "cressie-read"
]

#: The named members of the family and their λ (SciPy's names).
LAMBDA_NAMES: dict[str, float] = {
    "pearson": 1.0,
    "log-likelihood": 0.0,
    "freeman-tukey": -0.5,
    "mod-log-likelihood": -1.0,
    "neyman": -2.0,
    "cressie-read": 2.0 / 3.0,
}


class PowerDivergenceResult(msgspec.Struct, frozen=True, kw_only=True):
    """``df = k - 1 - ddof``; ``effect_size`` is Cohen's w = √(statistic / n)."""

    statistic: float
    pvalue: float
    df: float
    lambda_: float
    method: str
    effect_size: float


def lambda_value(lambda_: LambdaName | float | None) -> float:
    if lambda_ is None:
        return 1.0
    if isinstance(lambda_, str):
        if lambda_ not in LAMBDA_NAMES:
            names = ", ".join(repr(n) for n in LAMBDA_NAMES)
            raise InvalidArgumentError(f"invalid string for lambda_: {lambda_!r}. Valid: {names}")
        return LAMBDA_NAMES[lambda_]
    return float(lambda_)


def _xlogy(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """x·ln(y), 0 where x = 0 (unless y is NaN), as ``scipy.special.xlogy``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * np.log(y)
    return np.where((x == 0) & ~np.isnan(y), 0.0, out)


def divergence_terms(
    f_obs: npt.NDArray[np.float64], f_exp: npt.NDArray[np.float64], lam: float
) -> npt.NDArray[np.float64]:
    """The per-category terms whose sum is the power-divergence statistic (SciPy's forms)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if lam == 1.0:
            return (f_obs - f_exp) ** 2 / f_exp
        if lam == 0.0:
            return 2.0 * _xlogy(f_obs, f_obs / f_exp)
        if lam == -1.0:
            return 2.0 * _xlogy(f_exp, f_exp / f_obs)
        terms = f_obs * ((f_obs / f_exp) ** lam - 1)
        return terms / (0.5 * lam * (lam + 1))


def _frequencies(values: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise InvalidArgumentError(f"`{name}` must be one-dimensional")
    if arr.shape[0] == 0:
        raise InvalidArgumentError(f"`{name}` needs at least one category")
    if np.any(arr < 0):
        raise InvalidArgumentError(f"`{name}` must not contain negative frequencies")
    return arr


def power_divergence(
    f_obs: npt.ArrayLike,
    f_exp: npt.ArrayLike | None = None,
    ddof: int = 0,
    lambda_: LambdaName | float | None = None,
) -> PowerDivergenceResult:
    """Cressie-Read power-divergence test that ``f_obs`` follows ``f_exp``.

    ``lambda_`` picks the member: ``"pearson"`` (λ = 1, the default), ``"log-likelihood"``
    (G-test, λ = 0), ``"freeman-tukey"``, ``"mod-log-likelihood"``, ``"neyman"``,
    ``"cressie-read"`` (λ = 2/3), or any number.
    """
    lam = lambda_value(lambda_)
    obs = _frequencies(f_obs, "f_obs")
    if f_exp is None:
        exp = np.full_like(obs, np.mean(obs))
    else:
        exp_in = np.asarray(f_exp, dtype=np.float64)
        try:
            exp = np.broadcast_to(exp_in, obs.shape)
        except ValueError:
            raise InvalidArgumentError(
                f"`f_exp` of shape {exp_in.shape} does not match `f_obs` of shape {obs.shape}"
            ) from None
        if np.any(exp < 0):
            raise InvalidArgumentError("`f_exp` must not contain negative frequencies")
        rtol = float(np.finfo(np.float64).eps) ** 0.5
        obs_sum, exp_sum = float(np.sum(obs)), float(np.sum(exp))
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = abs(obs_sum - exp_sum) / min(obs_sum, exp_sum)
        if relative > rtol:
            raise InvalidArgumentError(
                "the sum of the observed frequencies must agree with the sum of the expected "
                f"frequencies to a relative tolerance of {rtol}; the difference is {relative}"
            )
    stat = float(np.sum(divergence_terms(obs, exp, lam)))
    df = float(obs.shape[0] - 1 - ddof)
    n = float(np.sum(obs))
    with np.errstate(divide="ignore", invalid="ignore"):
        w = float(np.sqrt(np.divide(stat, n)))
    method = "Pearson's chi-squared test" if lam == 1.0 else f"power divergence (lambda={lam:g})"
    return PowerDivergenceResult(
        statistic=stat,
        pvalue=float(chi2_sf(df, stat)),
        df=df,
        lambda_=lam,
        method=method,
        effect_size=w,
    )


def chisquare(
    f_obs: npt.ArrayLike, f_exp: npt.ArrayLike | None = None, ddof: int = 0
) -> PowerDivergenceResult:
    """Pearson's χ² test that the categorical counts ``f_obs`` follow ``f_exp`` (uniform
    when omitted); ``ddof`` lowers the degrees of freedom ``k - 1``."""
    return power_divergence(f_obs, f_exp, ddof, "pearson")
