"""Effect sizes: how large a difference is, beside whether it is significant.

Standardised mean differences (Cohen's d, paired d, Hedges' g, Glass's Δ), variance
explained by a one-way design (η², ω²), dominance measures (Cliff's δ, rank-biserial
correlations) and the 2x2 sample odds ratio. Each function returns a plain ``float``;
``interpret_*`` maps a value to Cohen-style bands, and :func:`measure_effect` bundles both
in an :class:`EffectSize` for reports.

Input policy, the same everywhere: samples are one-dimensional array-likes of real
numbers; NaN or ±inf raises :class:`~crucible.errors.InvalidArgumentError` (drop missing
values first, deliberately). So does degenerate data where a reference library would
return NaN or ±inf from a division by zero: fewer than two observations where a variance is
needed, a zero standard deviation, all values equal, all paired differences zero, or a
2x2 table with an empty row or column. A zero *cell* is not degenerate: the odds ratio is
then 0 or inf, as in SciPy, unless the Haldane-Anscombe correction is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError, InvalidTypeError
from crucible.stats.bootstrap import ConfidenceInterval, bootstrap

__all__ = [
    "EffectSize",
    "EffectSizeKind",
    "Magnitude",
    "cliffs_delta",
    "cohens_d",
    "cohens_d_paired",
    "eta_squared",
    "glass_delta",
    "hedges_correction",
    "hedges_g",
    "interpret_cliffs_delta",
    "interpret_d",
    "interpret_eta_squared",
    "measure_effect",
    "odds_ratio",
    "omega_squared",
    "rank_biserial",
    "rank_biserial_paired",
]

Magnitude = Literal["negligible", "small", "medium", "large"]
EffectSizeKind = Literal[
    "cohens_d",
    "cohens_d_paired",
    "hedges_g",
    "glass_delta",
    "cliffs_delta",
    "rank_biserial",
    "rank_biserial_paired",
]

_Floats = npt.NDArray[np.float64]


class EffectSize(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A named effect size with its conventional magnitude band and, when asked for, a
    bootstrap confidence interval."""

    name: EffectSizeKind
    value: float
    interpretation: Magnitude
    confidence_interval: ConfidenceInterval | None = None
    confidence_level: float | None = None


# --- input checks ---------------------------------------------------------------------


def _sample(values: npt.ArrayLike, name: str, min_size: int = 1) -> _Floats:
    arr: npt.NDArray[Any] = np.asarray(values)
    if arr.dtype.kind not in "biuf":
        raise InvalidTypeError(f"`{name}` must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise InvalidArgumentError(f"`{name}` must be one-dimensional, got shape {arr.shape}")
    out = arr.astype(np.float64)
    if not np.isfinite(out).all():
        raise InvalidArgumentError(f"`{name}` contains NaN or infinity; drop them first")
    if out.shape[0] < min_size:
        raise InvalidArgumentError(
            f"`{name}` needs at least {min_size} observation{'s' if min_size > 1 else ''}, "
            f"got {out.shape[0]}"
        )
    return out


def _pair(x: npt.ArrayLike, y: npt.ArrayLike, min_size: int) -> _Floats:
    """Paired differences ``x - y``, with both samples checked and of equal length."""
    a, b = _sample(x, "x", min_size), _sample(y, "y", min_size)
    if a.shape != b.shape:
        raise InvalidArgumentError(
            f"paired samples must have the same length, got {a.shape[0]} and {b.shape[0]}"
        )
    d = a - b
    if not np.isfinite(d).all():
        raise InvalidArgumentError("paired differences overflow to infinity")
    return d


def _variance(a: _Floats) -> float:
    """Sample variance (ddof=1); exactly 0 for constant data, where rounding could leave
    a tiny positive value and turn an undefined ratio into a huge one."""
    if np.all(a == a[0]):
        return 0.0
    return float(np.var(a, ddof=1))


def _mean(a: _Floats) -> float:
    return float(np.mean(a))


# --- standardised mean differences ------------------------------------------------------


def cohens_d(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Cohen's d for independent samples: ``(mean(x) - mean(y)) / s_pooled``.

    ``s_pooled² = ((n₁-1)s₁² + (n₂-1)s₂²) / (n₁+n₂-2)``; each sample needs two
    observations, and a zero pooled standard deviation raises.
    """
    return _pooled_d(_sample(x, "x", 2), _sample(y, "y", 2))


def _pooled_d(a: _Floats, b: _Floats) -> float:
    n1, n2 = a.shape[0], b.shape[0]
    pooled = ((n1 - 1) * _variance(a) + (n2 - 1) * _variance(b)) / (n1 + n2 - 2)
    if pooled == 0.0:
        raise InvalidArgumentError("both samples are constant: the pooled SD is 0, d undefined")
    return (_mean(a) - _mean(b)) / math.sqrt(pooled)


def cohens_d_paired(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Paired Cohen's d (d_z): mean of ``x - y`` over the SD of the differences."""
    d = _pair(x, y, 2)
    var = _variance(d)
    if var == 0.0:
        raise InvalidArgumentError("the paired differences are constant: their SD is 0")
    return _mean(d) / math.sqrt(var)


# J(df) = exp(sum of these / x^k) * sqrt(1 - 1/df), x = (df - 1)/2: the asymptotic series of
# log Γ(x + 1/2) - log Γ(x) - log(x)/2, coefficients (B_{k+1}(1/2) - B_{k+1}(0)) / (k(k+1)).
_LOG_GAMMA_RATIO_SERIES = ((1, -1 / 8), (3, 1 / 192), (5, -1 / 640), (7, 17 / 14336))


def hedges_correction(df: float) -> float:
    """Hedges' exact small-sample factor ``J(df) = Γ(df/2) / (√(df/2) Γ((df-1)/2))``.

    ``math.lgamma`` below df = 50 (relative error under 3e-15); above, where the difference
    of two large log-gammas would cancel (1e-9 at df = 1e7), an asymptotic series accurate
    to rounding. The familiar ``1 - 3/(4df - 1)`` is only its first-order approximation.
    """
    if isinstance(df, bool) or not isinstance(df, (int, float, np.integer, np.floating)):
        raise InvalidTypeError(f"`df` must be a real number, got {type(df).__name__}")
    v = float(df)
    if not v > 1.0 or math.isinf(v):
        raise InvalidArgumentError(f"`df` must be finite and greater than 1, got {v!r}")
    if v < 50.0:
        return math.exp(math.lgamma(v / 2) - math.lgamma((v - 1) / 2)) / math.sqrt(v / 2)
    x = (v - 1) / 2
    log_j = 0.5 * math.log1p(-1 / v) + sum(c / x**k for k, c in _LOG_GAMMA_RATIO_SERIES)
    return math.exp(log_j)


def hedges_g(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Hedges' g: Cohen's d times the exact bias correction ``J(n₁ + n₂ - 2)``."""
    a, b = _sample(x, "x", 2), _sample(y, "y", 2)
    return hedges_correction(a.shape[0] + b.shape[0] - 2) * _pooled_d(a, b)


def glass_delta(x: npt.ArrayLike, control: npt.ArrayLike) -> float:
    """Glass's Δ: ``(mean(x) - mean(control)) / sd(control)``, for unequal variances
    where only the control group's spread is a trustworthy yardstick."""
    a, c = _sample(x, "x", 1), _sample(control, "control", 2)
    var = _variance(c)
    if var == 0.0:
        raise InvalidArgumentError("the control group is constant: its SD is 0, Δ undefined")
    return (_mean(a) - _mean(c)) / math.sqrt(var)


# --- variance explained (one-way ANOVA) -------------------------------------------------


def _sums_of_squares(groups: tuple[npt.ArrayLike, ...]) -> tuple[float, float, int, int]:
    """Between- and within-group sums of squares, the number of groups and observations."""
    if len(groups) < 2:
        raise InvalidArgumentError(f"at least two groups are required, got {len(groups)}")
    arrays = [_sample(g, f"groups[{i}]", 1) for i, g in enumerate(groups)]
    pooled = np.concatenate(arrays)
    if np.all(pooled == pooled[0]):
        raise InvalidArgumentError("all observations are equal: no variance to explain")
    grand = _mean(pooled)
    ssb = 0.0
    ssw = 0.0
    for g in arrays:
        m = _mean(g)
        ssb += g.shape[0] * (m - grand) ** 2
        if not np.all(g == g[0]):
            ssw += float(np.sum((g - m) ** 2))
    return ssb, ssw, len(arrays), pooled.shape[0]


def eta_squared(*groups: npt.ArrayLike) -> float:
    """η² = SS_between / SS_total: the share of variance the grouping explains in this
    sample (biased upwards; prefer ω² for small samples)."""
    ssb, ssw, _, _ = _sums_of_squares(groups)
    return ssb / (ssb + ssw)


def omega_squared(*groups: npt.ArrayLike) -> float:
    """ω² = (SS_b - (k-1) MS_w) / (SS_t + MS_w): η² corrected towards the population value.

    It can be negative when the groups differ less than chance would suggest; the value
    is returned unclipped. Needs more observations than groups.
    """
    ssb, ssw, k, n = _sums_of_squares(groups)
    if n <= k:
        raise InvalidArgumentError("ω² needs more observations than groups (MS_within)")
    msw = ssw / (n - k)
    return (ssb - (k - 1) * msw) / (ssb + ssw + msw)


# --- dominance measures -----------------------------------------------------------------


def _dominance(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[int, int, int]:
    """Pairs with x > y, pairs with x < y, and all pairs: O((n+m) log m) by binary search."""
    a, b = _sample(x, "x"), np.sort(_sample(y, "y"))
    below = np.searchsorted(b, a, side="left")  # per x_i: how many y are smaller
    at_or_below = np.searchsorted(b, a, side="right")
    greater = int(below.sum(dtype=np.int64))
    less = int((b.shape[0] - at_or_below).sum(dtype=np.int64))
    return greater, less, a.shape[0] * b.shape[0]


def cliffs_delta(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Cliff's δ = P(X > Y) - P(X < Y) over all pairs: positive when x tends to be larger."""
    greater, less, pairs = _dominance(x, y)
    return (greater - less) / pairs


def rank_biserial(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Rank-biserial correlation for the Mann-Whitney test, ``r = 1 - 2U₁/(n₁n₂)``.

    ``U₁`` is ``scipy.stats.mannwhitneyu(x, y).statistic`` (pairs with x > y, ties half),
    the convention of pingouin's ``mwu``: r is *positive when y tends to be larger* and
    equals ``-cliffs_delta(x, y)`` exactly. Computed from exact pair counts.
    """
    greater, less, pairs = _dominance(x, y)
    return (less - greater) / pairs


def _average_ranks(values: _Floats) -> _Floats:
    """Ranks 1..n with ties given their mean rank (``scipy.stats.rankdata``'s default)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    n = ordered.shape[0]
    cuts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [n]))
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def rank_biserial_paired(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Matched-pairs rank-biserial correlation (Kerby's simple difference formula).

    ``r = (R₊ - R₋) / (R₊ + R₋)`` from the Wilcoxon signed ranks of ``x - y``, zero
    differences dropped (``zero_method="wilcox"``): positive when x tends to be larger,
    as in pingouin's ``wilcoxon``. All differences zero raises.
    """
    d = _pair(x, y, 1)
    d = d[d != 0.0]
    if d.shape[0] == 0:
        raise InvalidArgumentError("all paired differences are zero: r is undefined")
    ranks = _average_ranks(np.abs(d))
    plus = float(ranks[d > 0].sum())
    minus = float(ranks[d < 0].sum())
    return (plus - minus) / (plus + minus)


# --- 2x2 tables ------------------------------------------------------------------------


def odds_ratio(table: npt.ArrayLike, *, haldane: bool = False) -> float:
    """Sample odds ratio ``(a·d) / (b·c)`` of the table ``[[a, b], [c, d]]``.

    Equals ``scipy.stats.contingency.odds_ratio(table, kind="sample")`` (the unconditional
    estimate, not SciPy's default conditional MLE): a zero cell gives 0 or inf. With
    ``haldane=True`` and any zero cell, 0.5 is added to every cell (Haldane-Anscombe) so
    the ratio stays finite. Counts may be non-integer (weights); an empty row or column
    raises, since the odds in that row or column are undefined.
    """
    t: npt.NDArray[Any] = np.asarray(table)
    if t.dtype.kind not in "iuf":
        raise InvalidTypeError(f"`table` must hold counts, got dtype {t.dtype}")
    if t.shape != (2, 2):
        raise InvalidArgumentError(f"`table` must be 2x2, got shape {t.shape}")
    if t.dtype.kind == "f" and not np.isfinite(t).all():
        raise InvalidArgumentError("`table` contains NaN or infinity")
    if np.any(t < 0):
        raise InvalidArgumentError("`table` counts must be non-negative")
    if np.any(t.sum(axis=0) == 0) or np.any(t.sum(axis=1) == 0):
        raise InvalidArgumentError("`table` has an empty row or column: odds ratio undefined")
    cells: list[Any] = t.tolist()  # Python ints stay exact in the products below
    (a, b), (c, d) = cells
    if haldane and 0 in (a, b, c, d):
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    denominator = b * c
    if denominator == 0:
        return math.inf
    return float(a * d / denominator)


# --- interpretation ---------------------------------------------------------------------


def _band(value: float, cuts: tuple[float, float, float], name: str, signed: bool) -> Magnitude:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidTypeError(f"`{name}` must be a real number, got {type(value).__name__}")
    v = abs(float(value)) if signed else float(value)
    if math.isnan(v):
        raise InvalidArgumentError(f"cannot interpret a NaN {name}")
    small, medium, large = cuts
    if v < small:
        return "negligible"
    if v < medium:
        return "small"
    return "medium" if v < large else "large"


def interpret_d(value: float) -> Magnitude:
    """Cohen's (1988) bands for |d|, |g|, |Δ|: below 0.2 negligible, 0.5 small,
    0.8 medium, otherwise large."""
    return _band(value, (0.2, 0.5, 0.8), "standardised difference", signed=True)


def interpret_cliffs_delta(value: float) -> Magnitude:
    """Romano et al. (2006) bands for |δ| and the rank-biserial correlations: below 0.147
    negligible, 0.33 small, 0.474 medium, otherwise large."""
    return _band(value, (0.147, 0.33, 0.474), "dominance measure", signed=True)


def interpret_eta_squared(value: float) -> Magnitude:
    """Cohen's (1988) bands for η² and ω² (variance explained): below 0.01 negligible,
    0.06 small, 0.14 medium, otherwise large. A negative ω² is negligible."""
    return _band(value, (0.01, 0.06, 0.14), "variance explained", signed=False)


_Measure = Callable[[npt.ArrayLike, npt.ArrayLike], float]
_KINDS: dict[str, tuple[_Measure, Callable[[float], Magnitude]]] = {
    "cohens_d": (cohens_d, interpret_d),
    "cohens_d_paired": (cohens_d_paired, interpret_d),
    "hedges_g": (hedges_g, interpret_d),
    "glass_delta": (glass_delta, interpret_d),
    "cliffs_delta": (cliffs_delta, interpret_cliffs_delta),
    "rank_biserial": (rank_biserial, interpret_cliffs_delta),
    "rank_biserial_paired": (rank_biserial_paired, interpret_cliffs_delta),
}


_PAIRED = frozenset({"cohens_d_paired", "rank_biserial_paired"})


def _tolerant(compute: Callable[[Any, Any], float]) -> Callable[[Any, Any], float]:
    """A resample can be degenerate (all values equal); it contributes NaN, not an error."""

    def statistic(x: Any, y: Any) -> float:
        try:
            return compute(x, y)
        except InvalidArgumentError:
            return math.nan

    return statistic


def measure_effect(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    kind: EffectSizeKind = "cohens_d",
    *,
    confidence_level: float | None = None,
    n_resamples: int = 9999,
    method: Literal["bca", "percentile", "basic"] = "bca",
    rng: Any = None,
) -> EffectSize:
    """Compute a two-sample effect size and its magnitude band in one call.

    ``y`` is the control group for ``glass_delta`` and the second of each pair for the
    paired kinds. η², ω² and the odds ratio take other inputs: call them directly.
    With ``confidence_level`` the value also gets a bootstrap interval
    (:func:`crucible.stats.bootstrap`, resampling pairs for the paired kinds; ``rng`` makes
    it reproducible). Degenerate resamples count as NaN, so heavily tied small samples may
    give a NaN interval with a :class:`~crucible.errors.DegenerateDataWarning`.
    """
    entry = _KINDS.get(kind)
    if entry is None:
        raise InvalidArgumentError(
            f"unknown effect size {kind!r}; expected one of {', '.join(_KINDS)}"
        )
    compute, interpret = entry
    value = compute(x, y)
    if confidence_level is None:
        return EffectSize(name=kind, value=value, interpretation=interpret(value))
    result = bootstrap(
        (_sample(x, "x"), _sample(y, "y")),
        _tolerant(compute),
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        method=method,
        paired=kind in _PAIRED,
        rng=rng,
    )
    return EffectSize(
        name=kind,
        value=value,
        interpretation=interpret(value),
        confidence_interval=result.confidence_interval,
        confidence_level=confidence_level,
    )
