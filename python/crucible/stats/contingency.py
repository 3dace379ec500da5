"""Tests of independence on contingency tables, equal to SciPy's:
``chi2_contingency`` (χ² or any power divergence, Yates' correction when dof = 1) and
``fisher_exact`` for 2x2 tables.

Expected frequencies are formed from the margins exactly as
``scipy.stats.contingency.expected_freq`` does. Fisher's p-values are sums of
hypergeometric probabilities computed in Rust (Loader's saddle-point form: a few ulp at
any count, no log-gamma cancellation), with SciPy's rule for the two-sided test: tables
whose probability is at most the observed one times 1 + 1e-14.

Differences from SciPy, all raising :class:`~crucible.errors.InvalidArgumentError` where
SciPy would compute something: non-finite counts, an all-zero table (SciPy gives NaN
expected frequencies); for ``fisher_exact``, non-integer
counts (SciPy truncates them) and tables other than 2x2 (SciPy switches to a Monte Carlo
or permutation method).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt

from crucible import _core
from crucible.errors import InvalidArgumentError
from crucible.stats.goodness_of_fit import (
    LambdaName,
    divergence_terms,
    lambda_value,
    power_divergence,
)

__all__ = [
    "Chi2ContingencyResult",
    "FisherExactResult",
    "chi2_contingency",
    "expected_freq",
    "fisher_exact",
]

Alternative = Literal["two-sided", "less", "greater"]


class Chi2ContingencyResult(msgspec.Struct, frozen=True, kw_only=True):
    """``correction`` says whether Yates' correction was applied (asked for and dof = 1).
    ``effect_size`` is Cramér's V, √(χ²/(n·min(r-1, c-1))) from the uncorrected
    statistic (for a 2x2 table, |φ|), as ``scipy.stats.contingency.association``; NaN for
    tables that are not two-dimensional or have a single row or column."""

    statistic: float
    pvalue: float
    dof: int
    expected_freq: npt.NDArray[np.float64]
    method: str
    correction: bool
    effect_size: float


class FisherExactResult(msgspec.Struct, frozen=True, kw_only=True):
    """``statistic`` is the sample odds ratio (a·d)/(b·c), also reported as
    ``effect_size``; NaN with p = 1 when a row or column is empty."""

    statistic: float
    pvalue: float
    alternative: str
    method: str
    effect_size: float


def _table(observed: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    arr = np.asarray(observed)
    if arr.dtype.kind not in "biuf":
        raise InvalidArgumentError(f"`{name}` must hold counts, got dtype {arr.dtype}")
    table = arr.astype(np.float64)
    if table.size == 0:
        raise InvalidArgumentError(f"No data; `{name}` has size 0.")
    if not np.isfinite(table).all():
        raise InvalidArgumentError(f"`{name}` contains NaN or infinity")
    if np.any(table < 0):
        raise InvalidArgumentError(f"All values in `{name}` must be nonnegative.")
    return table


def _margins(table: npt.NDArray[np.float64]) -> list[npt.NDArray[np.float64]]:
    """Sums over every axis but one, one axis at a time (SciPy's order)."""
    out = []
    for keep in range(table.ndim):
        marg = table
        for axis in range(table.ndim):
            if axis != keep:
                marg = marg.sum(axis=axis, keepdims=True)
        out.append(marg)
    return out


def expected_freq(observed: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Expected frequencies under independence: the product of the margins over n^(d-1)."""
    table = np.asarray(observed, dtype=np.float64)
    margins = _margins(table)
    product = margins[0]
    for marg in margins[1:]:
        product = product * marg
    out: npt.NDArray[np.float64] = product / table.sum() ** (table.ndim - 1)
    return out


def _cramers_v(table: npt.NDArray[np.float64], expected: Any, lam: float) -> float:
    if table.ndim != 2 or min(table.shape) < 2:
        return math.nan
    stat = float(np.sum(divergence_terms(table.ravel(), expected.ravel(), lam)))
    phi2 = stat / float(table.sum())
    return math.sqrt(phi2 / (min(table.shape) - 1))


def chi2_contingency(
    observed: npt.ArrayLike,
    correction: bool = True,
    lambda_: LambdaName | float | None = None,
) -> Chi2ContingencyResult:
    """Test that the variables of the contingency table ``observed`` are independent.

    ``dof = size - sum(shape) + ndim - 1``. With ``correction`` and dof = 1, each cell
    moves half a unit toward its expected value (Yates), never past it. ``lambda_``
    chooses the statistic as in :func:`power_divergence` (Pearson's χ² by default).
    A zero margin (an expected frequency of zero) raises.
    """
    table = _table(observed, "observed")
    if not table.any():
        raise InvalidArgumentError("`observed` has no observations (all counts are zero)")
    expected = expected_freq(table)
    if np.any(expected == 0):
        zero = tuple(int(i) for i in np.argwhere(expected == 0)[0])
        raise InvalidArgumentError(
            f"The internally computed table of expected frequencies has a zero element at {zero}."
        )
    dof = int(expected.size - sum(expected.shape) + expected.ndim - 1)
    lam = lambda_value(lambda_)
    applied = False
    if dof == 0:
        # Only one non-trivial dimension: observed equals expected.
        stat, p = 0.0, 1.0
    else:
        adjusted = table
        if dof == 1 and correction:
            diff = expected - table
            adjusted = table + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
            applied = True
        res = power_divergence(
            adjusted.ravel(), expected.ravel(), ddof=adjusted.size - 1 - dof, lambda_=lam
        )
        stat, p = res.statistic, res.pvalue
    return Chi2ContingencyResult(
        statistic=stat,
        pvalue=p,
        dof=dof,
        expected_freq=expected,
        method="chi-squared test of independence"
        + (" with Yates' continuity correction" if applied else ""),
        correction=applied,
        effect_size=_cramers_v(table, expected, lam),
    )


def _count(value: float) -> int:
    if value != math.floor(value):
        raise InvalidArgumentError("`table` counts must be whole numbers")
    return int(value)


def fisher_exact(table: npt.ArrayLike, alternative: Alternative = "two-sided") -> FisherExactResult:
    """Fisher's exact test of independence for the 2x2 table ``[[a, b], [c, d]]``.

    ``"less"``: the odds ratio is below 1 (P(X ≤ a) under the hypergeometric null);
    ``"greater"``: above 1; ``"two-sided"``: the probability of tables no more likely
    than the observed one.
    """
    if alternative not in ("two-sided", "less", "greater"):
        raise InvalidArgumentError("`alternative` should be one of 'two-sided', 'less', 'greater'")
    t = _table(table, "table")
    if t.ndim != 2:
        raise InvalidArgumentError("The input `table` must have two dimensions.")
    if t.shape != (2, 2):
        raise InvalidArgumentError(f"`table` must be 2x2, got shape {t.shape}")
    (a, b), (c, d) = ((_count(v) for v in row) for row in t.tolist())
    method = "Fisher's exact test"
    if 0 in (a + b, c + d, a + c, b + d):
        return FisherExactResult(
            statistic=math.nan,
            pvalue=1.0,
            alternative=alternative,
            method=method,
            effect_size=math.nan,
        )
    odds = float(a * d) / float(c * b) if c > 0 and b > 0 else math.inf
    p = _core.fisher_exact_pvalue(a, b, c, d, alternative)
    return FisherExactResult(
        statistic=odds, pvalue=p, alternative=alternative, method=method, effect_size=odds
    )
