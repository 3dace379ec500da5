"""One-way ANOVA (classic and Welch's), equal to ``scipy.stats.f_oneway``, with η² and ω².

The sums of squares follow SciPy's centred formulation (data shifted by the grand mean
first, which keeps them accurate for large offsets); the p-value comes from our F
distribution. η² = SSB/SST and ω² = (SSB - df_b·MSW)/(SST + MSW) are reported for the
classic test (for Welch's they are computed from the same sums of squares).
Constant groups follow SciPy: all groups constant but different gives F = inf, p = 0;
all values identical gives NaN.
"""

from __future__ import annotations

import math

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.stats.distributions import f_sf

__all__ = ["AnovaResult", "f_oneway"]


class AnovaResult(msgspec.Struct, frozen=True, kw_only=True):
    statistic: float
    pvalue: float
    df_between: float
    df_within: float
    method: str
    eta_squared: float
    omega_squared: float


def _groups(samples: tuple[npt.ArrayLike, ...]) -> list[npt.NDArray[np.float64]]:
    if len(samples) < 2:
        raise InvalidArgumentError(f"at least two groups are required; got {len(samples)}.")
    groups = [np.asarray(s, dtype=np.float64) for s in samples]
    for g in groups:
        if g.ndim != 1:
            raise InvalidArgumentError("each group must be one-dimensional")
        if g.shape[0] == 0:
            raise InvalidArgumentError("each group needs at least one observation")
    if sum(g.shape[0] for g in groups) <= len(groups):
        raise InvalidArgumentError("need more observations than groups")
    return groups


def f_oneway(*samples: npt.ArrayLike, equal_var: bool = True) -> AnovaResult:
    """Test that the groups share one mean (Welch's version when ``equal_var=False``)."""
    groups = _groups(samples)
    k = len(groups)
    alldata = np.concatenate(groups)
    bign = float(alldata.shape[0])
    offset = np.mean(alldata)
    centred = alldata - offset
    normalized_ss = np.sum(centred) ** 2.0 / bign
    sstot = float(np.dot(centred, centred) - normalized_ss)
    ssbn = sum(float(np.sum(g - offset) ** 2.0) / g.shape[0] for g in groups) - normalized_ss
    sswn = sstot - ssbn
    dfbn, dfwn = float(k - 1), bign - k
    msw = sswn / dfwn
    if equal_var:
        with np.errstate(divide="ignore", invalid="ignore"):
            f = float(np.divide(ssbn / dfbn, msw))
        dfn, dfd = dfbn, dfwn
        method = "one-way ANOVA"
    else:
        n_t = np.array([g.shape[0] for g in groups], dtype=np.float64)
        if np.any(n_t < 2):
            raise InvalidArgumentError("Welch's ANOVA needs two observations per group")
        y_t = np.array([np.mean(g) for g in groups])
        s_t2 = np.array([np.var(g, ddof=1) for g in groups])
        with np.errstate(divide="ignore", invalid="ignore"):
            w_t = n_t / s_t2
            s_w_t = np.sum(w_t)
            y_hat = np.dot(w_t, y_t) / s_w_t
            spread = np.dot(1 / (n_t - 1), (1 - w_t / s_w_t) ** 2)
            numerator = np.dot(w_t, (y_t - y_hat) ** 2) / (k - 1)
            f = float(numerator / (1 + 2 * (k - 2) / (k**2 - 1) * spread))
            dfn, dfd = float(k - 1), float((k**2 - 1) / (3 * spread))
        method = "Welch's ANOVA"
    if all(np.all(g == g[0]) for g in groups):
        f = math.nan if np.all(alldata == alldata[0]) else math.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = float(np.divide(ssbn, sstot))
        omega = float(np.divide(ssbn - dfbn * msw, sstot + msw))
    return AnovaResult(
        statistic=f,
        pvalue=float(f_sf(dfn, dfd, f)) if not math.isnan(f) else math.nan,
        df_between=dfn,
        df_within=dfd,
        method=method,
        eta_squared=eta,
        omega_squared=omega,
    )
