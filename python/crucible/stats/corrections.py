"""Multiple-testing corrections, equal to ``statsmodels.stats.multitest.multipletests``.

Each method repeats statsmodels' arithmetic step by step (a stable sort; ``-expm1`` and
``log1p`` for the Šidák terms; a running maximum for step-down methods and a running
minimum from the largest p-value for step-up ones; adjusted values above 1 set to 1), and
decides rejections by the same comparisons (``p <= alpha / k``, not ``adjusted <= alpha``),
so adjusted p-values and reject flags match it bit for bit rather than only to rounding.

Input policy: p-values are a one-dimensional array-like of reals in [0, 1]. NaN raises
:class:`~crucible.errors.InvalidArgumentError` (statsmodels sorts NaN last, where Holm can
flag it as rejected and Benjamini-Hochberg turns every adjusted value into NaN). Empty
input gives an empty result whose corrected alphas are ``None`` (statsmodels returns NaN,
which JSON cannot round-trip into a float field).
"""

from __future__ import annotations

import math
import operator
from typing import Any, Literal, get_args

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError, InvalidTypeError

__all__ = [
    "Correction",
    "CorrectionMethod",
    "adjust_pvalues",
    "bonferroni_alpha",
    "sidak_alpha",
]

CorrectionMethod = Literal[
    "bonferroni", "sidak", "holm", "holm-sidak", "hochberg", "fdr_bh", "fdr_by"
]
_METHODS: tuple[str, ...] = get_args(CorrectionMethod)

_Floats = npt.NDArray[np.float64]
_Bools = npt.NDArray[np.bool_]


class Correction(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Adjusted p-values and decisions, in the order the p-values were given.

    Tuples rather than arrays so the result encodes to JSON/msgpack as is; use
    ``np.asarray(result.reject)`` for vector work. ``alpha_sidak`` and ``alpha_bonferroni``
    are the one-step per-test levels for ``alpha`` (``None`` when there are no tests).
    """

    method: CorrectionMethod
    alpha: float
    reject: tuple[bool, ...]
    pvalues_adjusted: tuple[float, ...]
    alpha_sidak: float | None
    alpha_bonferroni: float | None


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise InvalidTypeError(f"`alpha` must be a real number, got {type(alpha).__name__}")
    a = float(alpha)
    if not 0.0 < a < 1.0:
        raise InvalidArgumentError(f"`alpha` must be in (0, 1), got {a!r}")
    return a


def _check_m(m: int) -> int:
    if isinstance(m, bool):
        raise InvalidTypeError("`m` must be an integer, got bool")
    try:
        count = operator.index(m)
    except TypeError:
        raise InvalidTypeError(f"`m` must be an integer, got {type(m).__name__}") from None
    if count < 1:
        raise InvalidArgumentError(f"`m` (the number of tests) must be at least 1, got {count}")
    return count


def bonferroni_alpha(alpha: float, m: int) -> float:
    """Per-test level keeping the family-wise error rate at ``alpha`` over ``m`` tests."""
    return _check_alpha(alpha) / float(_check_m(m))


def _sidak_level(alpha: float, m: int) -> float:
    """statsmodels' expression, kept for parity; it cancels for tiny alpha (see below)."""
    return float(1.0 - np.power(1.0 - alpha, 1.0 / m))


def sidak_alpha(alpha: float, m: int) -> float:
    """Šidák's per-test level ``1 - (1 - alpha)**(1/m)``: exact for independent tests.

    Computed as ``-expm1(log1p(-alpha) / m)``, accurate to rounding for any alpha, where
    the literal formula (and so ``Correction.alpha_sidak``, kept equal to statsmodels')
    loses about ``1e-16 / alpha`` in relative terms to cancellation.
    """
    return -math.expm1(math.log1p(-_check_alpha(alpha)) / _check_m(m))


def _pvalues(pvalues: npt.ArrayLike) -> _Floats:
    arr: npt.NDArray[Any] = np.asarray(pvalues)
    if arr.dtype.kind not in "biuf":
        raise InvalidTypeError(f"p-values must be real numbers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise InvalidArgumentError(f"p-values must be one-dimensional, got shape {arr.shape}")
    p = arr.astype(np.float64)
    if np.isnan(p).any():
        raise InvalidArgumentError("p-values contain NaN; drop or impute them first")
    if np.any((p < 0.0) | (p > 1.0)):
        raise InvalidArgumentError("p-values must lie in [0, 1]")
    return p


def _step_down(notreject: _Bools) -> _Bools:
    """Stop at the first hypothesis kept: every later (larger) p-value is kept too."""
    kept = np.flatnonzero(notreject)
    if kept.size:
        notreject[kept[0] :] = True
    return ~notreject


def _step_up(reject: _Bools) -> _Bools:
    """Reject every p-value up to the largest one that passes its threshold."""
    passed = np.flatnonzero(reject)
    if passed.size:
        reject[: passed[-1]] = True
    return reject


def _running_min_from_top(raw: _Floats) -> _Floats:
    return np.minimum.accumulate(raw[::-1])[::-1]


def _fdr(p: _Floats, alpha: float, dependent: bool) -> tuple[_Bools, _Floats]:
    n = p.shape[0]
    ecdf = np.arange(1, n + 1) / float(n)
    if dependent:  # Benjamini-Yekutieli: divide by the harmonic number c(m)
        ecdf = ecdf / np.sum(1.0 / np.arange(1, n + 1))
    reject = _step_up(p <= ecdf * alpha)
    return reject, _running_min_from_top(p / ecdf)


def _sorted_correction(p: _Floats, alpha: float, method: str) -> tuple[_Bools, _Floats]:
    """Decisions and adjusted values for ascending ``p``, statsmodels' formulas verbatim."""
    n = p.shape[0]
    down = np.arange(n, 0, -1)  # m, m-1, ..., 1: the Holm / Hochberg multipliers
    if method == "bonferroni":
        return p <= alpha / float(n), p * float(n)
    if method == "sidak":
        return p <= _sidak_level(alpha, n), -np.expm1(n * np.log1p(-p))
    if method == "holm-sidak":
        levels = 1.0 - np.power(1.0 - alpha, 1.0 / down)
        reject = _step_down(p > levels)
        return reject, np.maximum.accumulate(-np.expm1(down * np.log1p(-p)))
    if method == "holm":
        reject = _step_down(p > alpha / down)
        return reject, np.maximum.accumulate(p * down)
    if method == "hochberg":
        reject = _step_up(p <= alpha / down)
        return reject, _running_min_from_top(down * p)
    return _fdr(p, alpha, dependent=method == "fdr_by")


def adjust_pvalues(
    pvalues: npt.ArrayLike, method: CorrectionMethod = "holm", alpha: float = 0.05
) -> Correction:
    """Correct ``pvalues`` for multiplicity; ``reject`` controls FWER or FDR at ``alpha``.

    Methods: ``bonferroni`` and ``sidak`` (one-step), ``holm`` (the default, as in the
    original CrucibleBench) and ``holm-sidak`` (step-down), ``hochberg`` (step-up, Simes),
    ``fdr_bh`` (Benjamini-Hochberg) and ``fdr_by`` (Benjamini-Yekutieli, any dependence).
    The adjusted p-values do not depend on ``alpha``.
    """
    if method not in _METHODS:
        raise InvalidArgumentError(
            f"unknown correction method {method!r}; expected one of {', '.join(_METHODS)}"
        )
    a = _check_alpha(alpha)
    p = _pvalues(pvalues)
    n = p.shape[0]
    if n == 0:
        return Correction(
            method=method,
            alpha=a,
            reject=(),
            pvalues_adjusted=(),
            alpha_sidak=None,
            alpha_bonferroni=None,
        )
    order = np.argsort(p, kind="stable")
    with np.errstate(divide="ignore"):  # log1p(-1) = -inf is intended: it adjusts to 1
        reject_sorted, adjusted_sorted = _sorted_correction(p[order], a, method)
    adjusted_sorted = np.minimum(adjusted_sorted, 1.0)
    reject = np.empty(n, dtype=np.bool_)
    reject[order] = reject_sorted
    adjusted = np.empty(n, dtype=np.float64)
    adjusted[order] = adjusted_sorted
    return Correction(
        method=method,
        alpha=a,
        reject=tuple(reject.tolist()),
        pvalues_adjusted=tuple(adjusted.tolist()),
        alpha_sidak=_sidak_level(a, n),
        alpha_bonferroni=a / float(n),
    )
