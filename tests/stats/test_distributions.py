"""Student's t against SciPy and against high-precision values (mpmath)."""

from __future__ import annotations

import mpmath
import numpy as np
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.stats.distributions import t_cdf, t_ppf, t_sf

dfs = st.floats(min_value=0.3, max_value=1e9, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(df=dfs, t=st.floats(min_value=-60, max_value=60, allow_nan=False))
def test_sf_and_cdf_match_scipy(df: float, t: float) -> None:
    np.testing.assert_allclose(t_sf(df, t), sp.stdtr(df, -t), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(t_cdf(df, t), sp.stdtr(df, t), rtol=1e-12, atol=1e-300)


def test_sf_is_accurate_at_large_degrees_of_freedom() -> None:
    mpmath.mp.dps = 40
    for df, t in [(1e6, 1.96), (4e6, 2.8), (9e6, -0.97), (5e5, 8.0), (1e4, 3.0)]:
        x = mpmath.mpf(df) / (df + mpmath.mpf(t) ** 2)
        half = mpmath.betainc(df / 2, 0.5, 0, x, regularized=True) / 2
        truth = float(half if t > 0 else 1 - half)
        np.testing.assert_allclose(t_sf(df, t), truth, rtol=1e-13)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(df=dfs, p=st.floats(min_value=1e-12, max_value=1 - 1e-12))
def test_ppf_matches_scipy(df: float, p: float) -> None:
    np.testing.assert_allclose(t_ppf(df, p), sp.stdtrit(df, p), rtol=1e-11)


def test_edges_and_broadcasting() -> None:
    assert t_sf(5.0, 0.0) == 0.5
    assert t_ppf(3.0, 0.5) == 0.0
    assert t_ppf(3.0, 0.0) == -np.inf
    assert t_ppf(3.0, 1.0) == np.inf
    assert np.isnan(t_sf(-1.0, 1.0))
    assert np.isnan(t_ppf(3.0, 1.5))
    out = t_sf(np.array([[1.0], [10.0]]), np.array([0.5, 1.0, 2.0]))
    assert out.shape == (2, 3)
    np.testing.assert_allclose(
        out, sp.stdtr([[1.0], [10.0]], -np.array([0.5, 1.0, 2.0])), rtol=1e-13
    )
    # Cauchy: P(T > 1) = 1/4.
    assert abs(t_sf(1.0, 1.0) - 0.25) < 1e-15
