"""Mann-Whitney U and Kruskal-Wallis H rank tests, equal to SciPy 1.17's.

:func:`mannwhitneyu` follows ``scipy.stats.mannwhitneyu``: the statistic is U of ``x``
whatever the alternative; ``method="auto"`` takes the exact null distribution when a
sample has at most 8 observations and there are no ties, the normal approximation
(tie-corrected, with an optional ½ continuity correction) otherwise. The exact
distribution is computed in exact integer arithmetic (``rust/stats/mann_whitney.rs``),
so it agrees with SciPy's float recurrence to SciPy's own rounding. :func:`kruskal`
follows ``scipy.stats.kruskal`` operation for operation, so H matches to the last bit.

Degenerate input mirrors SciPy: an empty sample gives NaN results with a
:class:`~crucible.errors.DegenerateDataWarning` (SciPy's ``SmallSampleWarning``); all
values tied gives p = 1 for Mann-Whitney and H = NaN for Kruskal-Wallis. NaN follows
``nan_policy``: ``"propagate"`` (NaN results), ``"omit"`` or ``"raise"``.
"""

from __future__ import annotations

import math
from typing import Literal

import msgspec
import numpy as np
import numpy.typing as npt

from crucible import _core
from crucible.errors import InvalidArgumentError
from crucible.stats.distributions import chi2_sf
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

__all__ = ["KruskalResult", "MannWhitneyResult", "kruskal", "mannwhitneyu"]

MannWhitneyMethod = Literal["auto", "asymptotic", "exact"]


class MannWhitneyResult(msgspec.Struct, frozen=True, kw_only=True):
    """``statistic`` is U of ``x`` (pairs with x > y, ties half); ``method`` is the one
    used (``"exact"`` or ``"asymptotic"``); ``zstatistic`` is the standardised U behind an
    asymptotic p-value (of U for ``"greater"``, of n₁n₂ - U for ``"less"``, of the larger
    of the two for ``"two-sided"``; NaN for exact); ``effect_size`` is the rank-biserial correlation
    ``1 - 2U/(n₁n₂)``, equal to :func:`crucible.stats.rank_biserial` (positive when y
    tends to be larger)."""

    statistic: float
    pvalue: float
    alternative: str
    method: str
    zstatistic: float
    effect_size: float


class KruskalResult(msgspec.Struct, frozen=True, kw_only=True):
    """H (tie-corrected), its χ² p-value with ``df = k - 1``, and two effect sizes:
    ``epsilon_squared = H / (n - 1)`` and ``eta_squared = (H - k + 1) / (n - k)``
    (η²_H; NaN when every group has one observation)."""

    statistic: float
    pvalue: float
    df: float
    epsilon_squared: float
    eta_squared: float


def _nan_mwu(alternative: str, method: str) -> MannWhitneyResult:
    nan = math.nan
    return MannWhitneyResult(
        statistic=nan,
        pvalue=nan,
        alternative=alternative,
        method=method,
        zstatistic=nan,
        effect_size=nan,
    )


def mannwhitneyu(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    alternative: Alternative = "two-sided",
    use_continuity: bool = True,
    method: MannWhitneyMethod = "auto",
    nan_policy: NanPolicy = "propagate",
) -> MannWhitneyResult:
    """Mann-Whitney U test that ``x`` and ``y`` come from one distribution.

    ``"less"``/``"greater"``: x is stochastically smaller/larger than y. ``method`` picks
    the p-value as SciPy's does; ``use_continuity`` affects the asymptotic one only.
    """
    alternative = check_alternative(alternative)
    continuity = check_flag(use_continuity, "use_continuity")
    if method not in ("auto", "asymptotic", "exact"):
        raise InvalidArgumentError(
            f"`method` must be one of 'auto', 'asymptotic', 'exact'; got {method!r}"
        )
    policy = check_nan_policy(nan_policy)
    xs = drop_nan(as_sample(x, "x"), "x", policy)
    ys = drop_nan(as_sample(y, "y"), "y", policy)
    n1, n2 = xs.shape[0], ys.shape[0]
    if n1 == 0 or n2 == 0:
        warn_too_small()
        return _nan_mwu(alternative, method)
    rank_sum, tie_term = _core.mann_whitney_rank_sum(xs, ys)
    if math.isnan(rank_sum):
        return _nan_mwu(alternative, method)
    u1 = rank_sum - n1 * (n1 + 1) / 2
    u2 = n1 * n2 - u1
    # The p-value is an upper tail: of U1 for "greater", of U2 for "less".
    u, factor = {"greater": (u1, 1), "less": (u2, 1)}.get(alternative, (max(u1, u2), 2))
    if method == "auto":
        method = "asymptotic" if (n1 > 8 and n2 > 8) or tie_term > 0 else "exact"
    if method == "exact":
        z = math.nan
        p = _core.mann_whitney_exact_sf(n1, n2, int(u))
    else:
        z = _mwu_z(u, n1, n2, tie_term, continuity)
        p = ndtr(-z)
    return MannWhitneyResult(
        statistic=float(u1),
        pvalue=float(np.clip(p * factor, 0.0, 1.0)),
        alternative=alternative,
        method=method,
        zstatistic=z,
        effect_size=1.0 - 2.0 * u1 / (n1 * n2),
    )


def _mwu_z(u: float, n1: int, n2: int, tie_term: float, continuity: bool) -> float:
    """Standardised U, tie-corrected; in SciPy's order of operations."""
    n = n1 + n2
    s = np.sqrt(np.float64(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))))
    numerator = np.float64(u - n1 * n2 / 2)
    if continuity:
        numerator -= 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(numerator / s)


def kruskal(*samples: npt.ArrayLike, nan_policy: NanPolicy = "propagate") -> KruskalResult:
    """Kruskal-Wallis H test that all samples come from one distribution.

    H is tie-corrected and referred to χ² with k - 1 degrees of freedom, as in SciPy.
    """
    if len(samples) < 2:
        raise InvalidArgumentError(f"at least two groups are required; got {len(samples)}")
    policy = check_nan_policy(nan_policy)
    groups = [
        drop_nan(as_sample(s, f"samples[{i}]"), "samples", policy) for i, s in enumerate(samples)
    ]
    k = len(groups)
    nan = math.nan
    if any(g.shape[0] == 0 for g in groups):
        warn_too_small()
        return KruskalResult(
            statistic=nan, pvalue=nan, df=float(k - 1), epsilon_squared=nan, eta_squared=nan
        )
    rank_sums, tie_term = _core.group_rank_sums(groups)
    sizes = [g.shape[0] for g in groups]
    total = sum(sizes)
    with np.errstate(divide="ignore", invalid="ignore"):
        ties = 1 - np.float64(tie_term) / (total**3 - total)
        ssbn = sum(np.float64(r) ** 2 / n for r, n in zip(rank_sums.tolist(), sizes, strict=True))
        h = 12.0 / (total * (total + 1)) * ssbn - 3 * (total + 1)
        h = float(h / ties)
    eta = (h - k + 1) / (total - k) if total > k else nan
    return KruskalResult(
        statistic=h,
        pvalue=float(chi2_sf(k - 1, h)),
        df=float(k - 1),
        epsilon_squared=h / (total - 1),
        eta_squared=eta,
    )
