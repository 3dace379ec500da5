"""χ² goodness of fit, power divergence, χ² independence and Fisher's exact test against
SciPy, and Fisher's p-values against exact rational arithmetic.

Fisher's p-value is a sum of hypergeometric probabilities, each an exponential of an
exponent of size |ln p|, so its attainable relative accuracy is about |ln p|·ε. Against
exact fractions we hold 1e-15·max(10, |ln p|) (observed: 2e-15 for p > 1e-3, 4.5e-14 at
p = 1e-64); against SciPy, whose probabilities carry the same kind of error, five times
that.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.errors import InvalidArgumentError
from crucible.stats import (
    chi2_contingency,
    chisquare,
    expected_freq,
    fisher_exact,
    power_divergence,
)

LAMBDAS = ["pearson", "log-likelihood", "freeman-tukey", "mod-log-likelihood", "neyman"]
LAMBDAS_ANY = [*LAMBDAS, "cressie-read", 0.3, -0.7, 1.5]
counts = st.sampled_from([3, 10, 100, 10_000, 1_000_000])


def _quiet(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _stat_close(ours: float, ref: float, scale: float) -> None:
    # Terms of both signs (G-test) can cancel: compare relative to the terms' size.
    np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=1e-13 * scale)


# -- goodness of fit ---------------------------------------------------------------------


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 12),
    top=counts,
    with_exp=st.booleans(),
    ddof=st.integers(0, 2),
    lam=st.sampled_from(LAMBDAS_ANY),
)
def test_power_divergence_matches_scipy(
    seed: int, k: int, top: int, with_exp: bool, ddof: int, lam: str | float
) -> None:
    r = np.random.default_rng(seed)
    f_obs = r.integers(0, top, k).astype(np.float64)
    if f_obs.sum() == 0:
        f_obs[0] = 1.0
    f_exp = None
    if with_exp:
        weights = r.uniform(0.05, 1.0, k)
        f_exp = weights / weights.sum() * f_obs.sum()
    ours = power_divergence(f_obs, f_exp, ddof=ddof, lambda_=lam)  # type: ignore[arg-type]
    ref = _quiet(ss.power_divergence, f_obs, f_exp, ddof=ddof, lambda_=lam)
    _stat_close(ours.statistic, ref.statistic, float(f_obs.sum()))
    np.testing.assert_allclose(ours.pvalue, ref.pvalue, rtol=1e-11, atol=1e-300)
    assert ours.df == k - 1 - ddof
    if lam == "pearson" or (f_exp is None and lam in LAMBDAS):
        plain = _quiet(ss.chisquare, f_obs, f_exp, ddof=ddof) if lam == "pearson" else ref
        np.testing.assert_allclose(ours.statistic, plain.statistic, rtol=1e-13, atol=1e-300)


def test_chisquare_matches_scipy_and_reports_cohens_w() -> None:
    obs = [16, 18, 16, 14, 12, 12]
    ours, ref = chisquare(obs), ss.chisquare(obs)
    assert ours.statistic == ref.statistic == 2.0
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-14)
    assert ours.effect_size == pytest.approx(math.sqrt(2.0 / 88))
    exp = [16, 16, 16, 16, 16, 8]
    assert chisquare(obs, exp).statistic == ss.chisquare(obs, exp).statistic
    assert chisquare(obs, ddof=1).pvalue == pytest.approx(ss.chisquare(obs, ddof=1).pvalue)


def test_goodness_of_fit_errors() -> None:
    with pytest.raises(InvalidArgumentError, match="relative tolerance"):
        chisquare([10, 20, 30], [10, 20, 31])
    chisquare([10, 20, 30], [10, 20, 30 + 1e-7])  # within √ε, as SciPy
    with pytest.raises(InvalidArgumentError, match="negative"):
        chisquare([10, -1, 3])
    with pytest.raises(InvalidArgumentError, match="negative"):
        chisquare([1, 2, 3], [4, -1, 3])
    with pytest.raises(InvalidArgumentError, match="does not match"):
        chisquare([1, 2, 3], [1, 2])
    with pytest.raises(InvalidArgumentError, match="one-dimensional"):
        chisquare([[1, 2], [3, 4]])
    with pytest.raises(InvalidArgumentError, match="at least one"):
        chisquare([])
    with pytest.raises(InvalidArgumentError, match="lambda_"):
        power_divergence([1, 2, 3], lambda_="pearsons")  # type: ignore[arg-type]


# -- independence ------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 5),
    cols=st.integers(2, 6),
    top=counts,
    zeros=st.floats(0.0, 0.5),
    correction=st.booleans(),
    lam=st.sampled_from([None, *LAMBDAS_ANY]),
)
def test_chi2_contingency_matches_scipy(
    seed: int,
    rows: int,
    cols: int,
    top: int,
    zeros: float,
    correction: bool,
    lam: str | float | None,
) -> None:
    r = np.random.default_rng(seed)
    table = r.integers(0, top, (rows, cols))
    table[r.uniform(size=table.shape) < zeros] = 0
    if table.sum() == 0:
        with pytest.raises(InvalidArgumentError, match="no observations"):
            chi2_contingency(table)
        return
    if np.any(table.sum(axis=0) == 0) or np.any(table.sum(axis=1) == 0):
        with pytest.raises(ValueError, match="zero element"):
            ss.chi2_contingency(table)
        with pytest.raises(InvalidArgumentError, match="zero element"):
            chi2_contingency(table)
        return
    ours = chi2_contingency(table, correction=correction, lambda_=lam)  # type: ignore[arg-type]
    ref = _quiet(ss.chi2_contingency, table, correction=correction, lambda_=lam)
    assert ours.dof == ref.dof
    np.testing.assert_array_equal(ours.expected_freq, ref.expected_freq)
    _stat_close(ours.statistic, ref.statistic, float(table.sum()))
    np.testing.assert_allclose(ours.pvalue, ref.pvalue, rtol=1e-11, atol=1e-300)
    assert ours.correction == (correction and ref.dof == 1)
    if rows >= 2:
        v = _quiet(ss.contingency.association, table, method="cramer", lambda_=lam)
        np.testing.assert_allclose(ours.effect_size, v, rtol=1e-12, atol=1e-13)
    else:
        assert math.isnan(ours.effect_size)
        assert ours.statistic == 0.0
        assert ours.pvalue == 1.0


def test_chi2_contingency_three_way_and_yates() -> None:
    table = np.array([[[10, 4], [3, 7]], [[5, 9], [8, 2]]])
    ours, ref = chi2_contingency(table), ss.chi2_contingency(table)
    assert (ours.dof, ours.statistic) == (ref.dof, pytest.approx(ref.statistic, rel=1e-14))
    assert math.isnan(ours.effect_size)
    np.testing.assert_array_equal(expected_freq(table), ss.contingency.expected_freq(table))
    # Yates never moves a cell past its expected value (gh-13875 in SciPy).
    near = [[10, 10], [10, 10.2]]
    assert chi2_contingency(near).statistic == ss.chi2_contingency(near).statistic
    assert chi2_contingency([[12, 5], [3, 9]], correction=False).pvalue == pytest.approx(
        ss.chi2_contingency([[12, 5], [3, 9]], correction=False).pvalue, rel=1e-14
    )


def test_chi2_contingency_errors() -> None:
    with pytest.raises(InvalidArgumentError, match="nonnegative"):
        chi2_contingency([[1, -2], [3, 4]])
    with pytest.raises(InvalidArgumentError, match="size 0"):
        chi2_contingency(np.zeros((0, 2)))
    with pytest.raises(InvalidArgumentError, match=r"zero element at \(0, 1\)"):
        chi2_contingency([[1, 0], [3, 0]])
    with pytest.raises(InvalidArgumentError, match="NaN"):
        chi2_contingency([[1, np.nan], [3, 4]])
    with pytest.raises(InvalidArgumentError, match="counts"):
        chi2_contingency([["a", "b"], ["c", "d"]])


# -- Fisher's exact test -----------------------------------------------------------------


def _exact_pvalue(table: list[list[int]], alternative: str) -> float:
    (a, b), (c, d) = table
    n1, n2, n = a + b, c + d, a + c
    lo, hi = max(0, n - n2), min(n1, n)
    weight = {k: math.comb(n1, k) * math.comb(n2, n - k) for k in range(lo, hi + 1)}
    if alternative == "less":
        num = sum(v for k, v in weight.items() if k <= a)
    elif alternative == "greater":
        num = sum(v for k, v in weight.items() if k >= a)
    else:
        num = sum(v for v in weight.values() if v <= weight[a])
    return float(Fraction(num, math.comb(n1 + n2, n)))


def _fisher_tolerance(p: float) -> float:
    return 1e-15 * max(10.0, -math.log(max(p, 1e-300)))


cells = st.one_of(st.integers(0, 12), st.integers(0, 300), st.integers(0, 20_000))


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    table=st.lists(cells, min_size=4, max_size=4),
    alternative=st.sampled_from(["two-sided", "less", "greater"]),
)
def test_fisher_exact_matches_scipy_and_exact_fractions(table: list[int], alternative: str) -> None:
    t = [table[:2], table[2:]]
    ours = fisher_exact(t, alternative=alternative)  # type: ignore[arg-type]
    ref = ss.fisher_exact(t, alternative=alternative)
    np.testing.assert_equal(ours.statistic, ref.statistic)
    assert ours.effect_size is ours.statistic or math.isnan(ours.effect_size)
    tol = _fisher_tolerance(ref.pvalue)
    np.testing.assert_allclose(ours.pvalue, ref.pvalue, rtol=5 * tol, atol=1e-300)
    if sum(table) <= 2_000 and not math.isnan(ours.statistic):
        exact = _exact_pvalue(t, alternative)
        np.testing.assert_allclose(ours.pvalue, exact, rtol=_fisher_tolerance(exact))


def test_fisher_exact_ties_and_documented_values() -> None:
    # SciPy's documentation example and its three alternatives.
    t = [[6, 2], [1, 4]]
    assert fisher_exact(t).pvalue == pytest.approx(0.10256410256410257, rel=1e-15)
    assert fisher_exact(t, "greater").pvalue == pytest.approx(0.08624708624708627, rel=1e-15)
    assert fisher_exact(t, "less").pvalue == pytest.approx(1708 / 1716, rel=1e-15)
    assert fisher_exact([[8, 2], [1, 5]]).statistic == 20.0
    # Mirror-image tables have equal probabilities: both tails count, p stays ≤ 1.
    for k in range(0, 11):
        table = [[k, 10 - k], [10 - k, k]]
        np.testing.assert_allclose(
            fisher_exact(table).pvalue, ss.fisher_exact(table).pvalue, rtol=1e-14
        )
    # The observed table at the mode: p = 1 exactly.
    assert fisher_exact([[5, 5], [5, 5]]).pvalue == 1.0
    # Zero cells: infinite or zero odds ratio.
    assert fisher_exact([[3, 0], [1, 4]]).statistic == math.inf
    assert fisher_exact([[0, 3], [4, 1]]).statistic == 0.0
    empty = fisher_exact([[0, 0], [3, 4]])
    assert math.isnan(empty.statistic)
    assert empty.pvalue == 1.0


def _mp_fisher(table: list[list[int]], alternative: str) -> float:
    """Fisher's p-value at 40 digits: the mode's probability from log-gamma, the rest by
    the ratio recurrence, walking out until the terms vanish (1e-40 of the mode)."""
    (a, b), (c, d) = table
    n1, n2, n = a + b, c + d, a + c
    lo, hi = max(0, n - n2), min(n1, n)
    with mpmath.workdps(40):
        lg = mpmath.loggamma

        def ln_choose(m: int, k: int) -> mpmath.mpf:
            return lg(m + 1) - lg(k + 1) - lg(m - k + 1)

        mode = (n + 1) * (n1 + 1) // (n1 + n2 + 2)
        top = mpmath.exp(ln_choose(n1, mode) + ln_choose(n2, n - mode) - ln_choose(n1 + n2, n))
        pmf = {mode: top}
        for step in (1, -1):
            k, value = mode, top
            while lo <= k + step <= hi and value > top * mpmath.mpf(10) ** -40:
                if step == 1:
                    value *= mpmath.mpf((n1 - k) * (n - k)) / ((k + 1) * (n2 - n + k + 1))
                else:
                    value *= mpmath.mpf(k * (n2 - n + k)) / ((n1 - k + 1) * (n - k + 1))
                k += step
                pmf[k] = value
        observed = pmf.get(a, mpmath.mpf(0))
        if alternative == "less":
            total = sum(v for k, v in pmf.items() if k <= a)
        elif alternative == "greater":
            total = sum(v for k, v in pmf.items() if k >= a)
        else:
            total = sum(v for v in pmf.values() if v <= observed * (1 + mpmath.mpf(1e-14)))
        return float(total)


def test_fisher_exact_large_counts_against_mpmath() -> None:
    # At N = 2e6 SciPy's p-values are 2e-10 off; ours agree with 40-digit sums.
    for table in ([[12_000, 11_500], [11_800, 12_100]], [[500_000, 499_000], [498_000, 501_500]]):
        for alternative in ("two-sided", "less", "greater"):
            ours = fisher_exact(table, alternative).pvalue  # type: ignore[arg-type]
            truth = _mp_fisher(table, alternative)
            np.testing.assert_allclose(ours, truth, rtol=_fisher_tolerance(truth))
    small = [[40, 13], [9, 37]]
    for alternative in ("two-sided", "less", "greater"):
        np.testing.assert_allclose(
            _mp_fisher(small, alternative), _exact_pvalue(small, alternative), rtol=1e-15
        )


def test_fisher_exact_errors() -> None:
    with pytest.raises(InvalidArgumentError, match="nonnegative"):
        fisher_exact([[1, -2], [3, 4]])
    with pytest.raises(InvalidArgumentError, match="2x2"):
        fisher_exact([[1, 2, 3], [3, 4, 5]])
    with pytest.raises(InvalidArgumentError, match="two dimensions"):
        fisher_exact([1, 2, 3, 4])
    with pytest.raises(InvalidArgumentError, match="whole numbers"):
        fisher_exact([[1.5, 2], [3, 4]])
    with pytest.raises(InvalidArgumentError, match="alternative"):
        fisher_exact([[1, 2], [3, 4]], alternative="two_sided")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="NaN"):
        fisher_exact([[1, np.inf], [3, 4]])
