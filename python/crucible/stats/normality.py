"""The Shapiro-Wilk test of normality, equal to ``scipy.stats.shapiro``.

SciPy runs Royston's algorithm AS R94 (1995) in double precision; so do we, step for
step: the same approximate normal scores (AS 111) for the coefficients, Royston's
polynomial corrections of the two extreme coefficients, the same sequential sums
(``np.cumsum`` accumulates left to right, as the reference loop does), the
normalising transformation of W (separate polynomials for n ≤ 11 and n ≥ 12) and the
normal tail area of AS 66. Scalar transcendental steps use :mod:`math` (the C library),
as the reference does. W and the p-value agree with SciPy's to the last bit or within
a few ulp.

As in SciPy, the data are sorted and shifted by ``x[n // 2]`` (an element of the
*unsorted* input) first; data whose range is below 1e-19 give W = 1, p = 1 with a
:class:`~crucible.errors.DegenerateDataWarning`; p-values for n > 5000 are less accurate
(a ``UserWarning`` says so). Fewer than three observations raise (SciPy returns NaN with
a warning).
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import DegenerateDataWarning, InvalidArgumentError

__all__ = ["ShapiroResult", "shapiro"]

NanPolicy = Literal["propagate", "omit", "raise"]

# Royston (1995): polynomials in 1/√n for the two largest coefficients, in n (n ≤ 11) or
# ln n (n ≥ 12) for the mean and log-sd of the normalised W; lowest order first.
_C1 = (0.0, 0.221157, -0.147981, -2.07119, 4.434685, -2.706056)
_C2 = (0.0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633)
_C3 = (0.544, -0.39978, 0.025054, -6.714e-4)
_C4 = (1.3822, -0.77857, 0.062767, -0.0020322)
_C5 = (-1.5861, -0.31082, -0.083751, 0.0038915)
_C6 = (-0.4803, -0.082676, 0.0030302)
_G = (-2.273, 0.459)
_SMALL = 1e-19


class ShapiroResult(msgspec.Struct, frozen=True, kw_only=True):
    statistic: float
    pvalue: float
    n: int
    method: str


def _poly(coeffs: tuple[float, ...], x: float) -> float:
    """Horner's rule, highest order first (the reference's operation order)."""
    acc = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        acc = acc * x + c
    return acc


def _normal_scores(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Normal quantiles by AS 111 (about 7 digits), as the reference uses."""
    q = p - 0.5
    out = np.empty_like(p)
    central = np.abs(q) <= 0.42
    r = q[central] * q[central]
    num = q[central] * (
        ((-25.44106049637 * r + 41.39119773534) * r - 18.61500062529) * r + 2.50662823884
    )
    den = (
        ((3.13082909833 * r - 21.06224101826) * r + 23.08336743743) * r - 8.47351093090
    ) * r + 1.0
    out[central] = num / den
    for i in np.flatnonzero(~central):
        tail = float(p[i]) if q[i] <= 0 else 1.0 - float(p[i])
        s = math.sqrt(-math.log(tail))
        value = (((2.32121276858 * s + 4.85014127135) * s - 2.29796479134) * s - 2.78718931138) / (
            (1.63706781897 * s + 3.54388924762) * s + 1.0
        )
        out[i] = -value if q[i] < 0 else value
    return out


def _coefficients(n: int) -> npt.NDArray[np.float64]:
    """The n // 2 Shapiro-Wilk coefficients of the lower half, positive."""
    half = n // 2
    if n == 3:
        return np.array([math.sqrt(2.0) / 2.0], dtype=np.float64)
    ranks = np.arange(1, half + 1, dtype=np.float64)
    m = _normal_scores((ranks - 0.375) / (n + 0.25))
    summ2 = 2.0 * float(np.cumsum(m * m)[-1])
    ssumm2 = math.sqrt(summ2)
    rsn = 1.0 / math.sqrt(n)
    a1 = _poly(_C1, rsn) - float(m[0]) / ssumm2
    a: npt.NDArray[np.float64] = np.array(m, dtype=np.float64)
    if n > 5:
        a2 = -float(m[1]) / ssumm2 + _poly(_C2, rsn)
        fac = math.sqrt(
            (summ2 - 2.0 * float(m[0]) ** 2 - 2.0 * float(m[1]) ** 2)
            / (1.0 - 2.0 * a1**2 - 2.0 * a2**2)
        )
        a[1] = a2
        first = 2
    else:
        fac = math.sqrt((summ2 - 2.0 * float(m[0]) ** 2) / (1.0 - 2.0 * a1**2))
        first = 1
    a[0] = a1
    a[first:] *= -1.0 / fac
    return a


def _statistic(y: npt.NDArray[np.float64], a: npt.NDArray[np.float64]) -> tuple[float, float]:
    """W and 1 - W for sorted data, by the reference's centred, scaled sums."""
    n = y.shape[0]
    half = a.shape[0]
    c = np.zeros(n)
    c[:half] = -a
    c[n - half :] = a[::-1]
    scaled = y / (y[-1] - y[0])
    sa = float(np.cumsum(c)[-1]) / n
    sx = float(np.cumsum(scaled)[-1]) / n
    dev_a = c - sa
    dev_x = scaled - sx
    ssa = float(np.cumsum(dev_a * dev_a)[-1])
    ssx = float(np.cumsum(dev_x * dev_x)[-1])
    sax = float(np.cumsum(dev_a * dev_x)[-1])
    root = math.sqrt(ssa * ssx)
    w1 = (root - sax) * (root + sax) / (ssa * ssx)
    return 1.0 - w1, w1


def _upper_normal_tail(x: float) -> float:
    """P(Z > x) by AS 66 (Hill, 1973), as the reference uses."""
    upper = True
    z = x
    if not z > 0:
        upper = False
        z = -z
    if not (z <= 7.0 or (upper and z <= 38.0)):
        return 0.0 if upper else 1.0
    y = 0.5 * z * z
    if z <= 1.28:
        tail = 0.5 - z * (
            0.398942280444
            - 0.399903438504
            * y
            / (
                y
                + 5.75885480458
                - 29.8213557808 / (y + 2.62433121679 + 48.6959930692 / (y + 5.92885724438))
            )
        )
    else:
        tail = (
            0.398942280385
            * math.exp(-y)
            / (
                z
                - 3.8052e-8
                + 1.00000615302
                / (
                    z
                    + 3.98064794e-4
                    + 1.98615381364
                    / (
                        z
                        - 0.151679116635
                        + 5.29330324926
                        / (
                            z
                            + 4.8385912808
                            - 15.1508972451
                            / (z + 0.742380924027 + 30.789933034 / (z + 3.99019417011))
                        )
                    )
                )
            )
        )
    return tail if upper else 1.0 - tail


def _pvalue(n: int, w: float, w1: float) -> tuple[float, float]:
    if n == 3:
        # Exact for n = 3; W ≥ 3/4 in theory, clamped as SciPy does.
        if w < 0.75:
            return 0.75, 0.0
        return w, 1.0 - 6.0 / math.pi * math.acos(math.sqrt(w))
    y = math.log(w1)
    ln_n = math.log(n)
    if n <= 11:
        gamma = _poly(_G, float(n))
        if y >= gamma:
            return w, _SMALL
        y = -math.log(gamma - y)
        m = _poly(_C3, float(n))
        s = math.exp(_poly(_C4, float(n)))
    else:
        m = _poly(_C5, ln_n)
        s = math.exp(_poly(_C6, ln_n))
    return w, _upper_normal_tail((y - m) / s)


def shapiro(x: npt.ArrayLike, *, nan_policy: NanPolicy = "propagate") -> ShapiroResult:
    """Shapiro-Wilk test that ``x`` (flattened) comes from a normal distribution.

    Small W (and p) speak against normality. ``nan_policy``: ``"propagate"`` gives NaN,
    ``"omit"`` drops NaNs, ``"raise"`` raises.
    """
    arr = np.ravel(np.asarray(x, dtype=np.float64))
    if nan_policy not in ("propagate", "omit", "raise"):
        raise InvalidArgumentError("`nan_policy` must be 'propagate', 'omit' or 'raise'")
    method = "Shapiro-Wilk test"
    if np.isnan(arr).any():
        if nan_policy == "raise":
            raise InvalidArgumentError("`x` contains NaN")
        if nan_policy == "propagate":
            return ShapiroResult(statistic=math.nan, pvalue=math.nan, n=arr.shape[0], method=method)
        arr = arr[~np.isnan(arr)]
    n = arr.shape[0]
    if n < 3:
        raise InvalidArgumentError("Data must be at least length 3.")
    if n > 5000:
        warnings.warn(
            f"Shapiro-Wilk: for n > 5000 the p-value may not be accurate (n = {n})",
            UserWarning,
            stacklevel=2,
        )
    y = np.sort(arr) - arr[n // 2]
    if y[-1] - y[0] < _SMALL:
        warnings.warn(
            "Shapiro-Wilk: the data have range zero; W = 1 and p = 1 are not meaningful",
            DegenerateDataWarning,
            stacklevel=2,
        )
        return ShapiroResult(statistic=1.0, pvalue=1.0, n=n, method=method)
    w, w1 = _statistic(y, _coefficients(n))
    w, p = _pvalue(n, w, w1)
    return ShapiroResult(statistic=w, pvalue=p, n=n, method=method)
