"""Shapiro-Wilk against ``scipy.stats.shapiro``.

Both run AS R94 in double precision with the same operation order; on this platform the
results are bit-identical (3,000 random data sets, n from 3 to 5,000). The assertions
allow a few ulp so that a different libm or compiler contraction elsewhere does not
break them.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.errors import DegenerateDataWarning, InvalidArgumentError
from crucible.stats import shapiro

KINDS = ["normal", "t2", "cauchy", "exponential", "uniform", "ties", "offset", "tiny", "huge"]


def _data(kind: str, n: int, seed: int) -> np.ndarray:
    r = np.random.default_rng(seed)
    if kind == "normal":
        return r.standard_normal(n)
    if kind == "t2":
        return r.standard_t(2, n)
    if kind == "cauchy":
        return r.standard_cauchy(n)
    if kind == "exponential":
        return r.standard_exponential(n)
    if kind == "uniform":
        return r.uniform(-1, 1, n)
    if kind == "ties":
        return r.integers(0, 4, n).astype(np.float64)
    if kind == "offset":
        return 1e9 + r.standard_normal(n)
    if kind == "tiny":
        return 1e-12 * r.standard_normal(n)
    return 1e250 * r.standard_normal(n)


def _reference(x: np.ndarray) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ss.shapiro(x)
    return float(ref.statistic), float(ref.pvalue)


def _check(x: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = shapiro(x)
    w, p = _reference(x)
    np.testing.assert_allclose(ours.statistic, w, rtol=1e-14)
    np.testing.assert_allclose(ours.pvalue, p, rtol=1e-12, atol=1e-300)
    assert ours.n == np.asarray(x).size


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    n=st.one_of(st.integers(3, 12), st.integers(13, 300), st.integers(300, 5000)),
    kind=st.sampled_from(KINDS),
    seed=st.integers(0, 2**32 - 1),
)
def test_matches_scipy(n: int, kind: str, seed: int) -> None:
    _check(_data(kind, n, seed))


@pytest.mark.parametrize("n", [3, 4, 5, 6, 11, 12, 5000])
def test_sizes_at_the_branch_points(n: int) -> None:
    for seed in range(20):
        _check(_data("exponential", n, seed))


def test_n_three_is_exact_and_clamped() -> None:
    # n = 3: p = 1 - (6/π) acos(√W); equally spaced points give W = 1, p = 1.
    res = shapiro([1.0, 2.0, 3.0])
    assert res.statistic == pytest.approx(1.0, abs=1e-15)
    assert res.pvalue == pytest.approx(1.0)
    _check(np.array([1.0, 1.0, 2.0]))  # W at its lower limit 3/4
    _check(np.array([0.0, 1e-3, 1.0]))


def test_extreme_outliers_at_small_n() -> None:
    # W near its minimum for n ≤ 11, where the normalising transform is steepest.
    _check(np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1e6]))
    _check(np.array([0.0, 0.0, 0.0, 1.0]))
    _check(np.array([-1e300, 0.0, 0.0, 0.0, 0.0, 1e300]))


def test_constant_and_degenerate_data() -> None:
    with pytest.warns(DegenerateDataWarning, match="range zero"):
        res = shapiro([5.0, 5.0, 5.0, 5.0])
    assert (res.statistic, res.pvalue) == (1.0, 1.0) == _reference(np.array([5.0] * 4))
    with pytest.warns(DegenerateDataWarning):
        shapiro(1e-25 * np.arange(10.0))  # range below 1e-19, as SciPy


def test_nan_policies_and_errors() -> None:
    x = np.array([1.0, 2.5, np.nan, 0.3, 4.0, 2.2])
    res = shapiro(x)
    assert math.isnan(res.statistic)
    assert math.isnan(res.pvalue)
    omitted = shapiro(x, nan_policy="omit")
    assert omitted.n == 5
    assert omitted.statistic == shapiro(x[~np.isnan(x)]).statistic
    with pytest.raises(InvalidArgumentError, match="NaN"):
        shapiro(x, nan_policy="raise")
    with pytest.raises(InvalidArgumentError, match="at least length 3"):
        shapiro([1.0, 2.0])
    with pytest.raises(InvalidArgumentError, match="nan_policy"):
        shapiro([1.0, 2.0, 3.0], nan_policy="ignore")  # type: ignore[arg-type]


def test_large_n_warns_and_flattens() -> None:
    x = _data("normal", 5001, 7)
    with pytest.warns(UserWarning, match="5000"):
        res = shapiro(x)
    w, p = _reference(x)
    assert res.statistic == pytest.approx(w, rel=1e-14)
    assert res.pvalue == pytest.approx(p, rel=1e-12)
    grid = _data("uniform", 24, 3)
    assert shapiro(grid.reshape(4, 6)).statistic == shapiro(grid).statistic
