"""One-way ANOVA and the F distribution against SciPy."""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.errors import InvalidArgumentError
from crucible.stats.anova import f_oneway
from crucible.stats.distributions import f_sf

df_st = st.floats(min_value=0.5, max_value=1e7)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(dfn=df_st, dfd=df_st, f=st.floats(min_value=0.0, max_value=1e4))
def test_f_sf_matches_scipy(dfn: float, dfd: float, f: float) -> None:
    ours, scipy_value = f_sf(dfn, dfd, f), sp.fdtrc(dfn, dfd, f)
    if np.isclose(ours, scipy_value, rtol=1e-11, atol=1e-300):
        return
    # SciPy's fdtrc loses digits for huge dfd (dfn=4, dfd=1048566, f=2: 1.5e-11 relative);
    # where the two disagree, ours must match the exact value.
    mpmath.mp.dps = 50
    x = mpmath.mpf(dfd) / (mpmath.mpf(dfd) + mpmath.mpf(dfn) * mpmath.mpf(f))
    exact = float(mpmath.betainc(mpmath.mpf(dfd) / 2, mpmath.mpf(dfn) / 2, 0, x, regularized=True))
    np.testing.assert_allclose(ours, exact, rtol=1e-13, atol=1e-300)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(2, 400), min_size=2, max_size=6),
    equal_var=st.booleans(),
    scale=st.sampled_from([1e-6, 1.0, 1e6]),
)
def test_f_oneway_matches_scipy(seed: int, sizes: list[int], equal_var: bool, scale: float) -> None:
    r = np.random.default_rng(seed)
    groups = [(r.standard_normal(n) + r.uniform(-0.5, 0.5)) * scale + 3 * scale for n in sizes]
    ours = f_oneway(*groups, equal_var=equal_var)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ss.f_oneway(*groups, equal_var=equal_var)
    np.testing.assert_allclose(ours.statistic, ref.statistic, rtol=1e-10)
    np.testing.assert_allclose(ours.pvalue, ref.pvalue, rtol=1e-9, atol=1e-300)


def test_effect_sizes_from_sums_of_squares() -> None:
    groups = [np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]), np.array([7.0, 8.0, 9.0])]
    res = f_oneway(*groups)
    # SSB = 54, SSW = 6, SST = 60, MSW = 1.
    assert res.eta_squared == pytest.approx(54 / 60)
    assert res.omega_squared == pytest.approx((54 - 2 * 1) / (60 + 1))
    assert res.statistic == pytest.approx(27.0)


def test_constant_groups_follow_scipy() -> None:
    assert f_oneway([1.0, 1.0], [2.0, 2.0]).statistic == np.inf
    assert np.isnan(f_oneway([1.0, 1.0], [1.0, 1.0]).statistic)


def test_bad_input() -> None:
    with pytest.raises(InvalidArgumentError, match="at least two groups"):
        f_oneway([1.0, 2.0])
    with pytest.raises(InvalidArgumentError, match="more observations than groups"):
        f_oneway([1.0], [2.0])
