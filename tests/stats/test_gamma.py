"""The incomplete gamma functions and the χ² distribution against SciPy and mpmath.

SciPy is itself accurate to about 1e-13 for a ≤ 50 and, for larger a, inside the window
of its uniform asymptotic expansion (|x - a|/a < 4.5/√a): there we compare at 1e-13.
Outside it SciPy loses digits (3e-13 at a ≈ 250, x ≈ 1.4a; 3.5% at a ≈ 1e7, x a few
standard deviations below a), so those points are decided with mpmath at 40+ digits,
against which we hold 5e-15.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.stats.distributions import chi2_cdf, chi2_sf, gammainc, gammaincc

small_a = st.floats(min_value=1e-3, max_value=50.0)
any_x = st.one_of(
    st.floats(min_value=0.0, max_value=2.5),
    st.floats(min_value=0.0, max_value=400.0),
    st.floats(min_value=1e-12, max_value=1e8),
)


def _close(got: float, want: float, rtol: float) -> None:
    # Below 1e-100 both libraries' results carry |ln(value)|·ε; compare those loosely.
    tol = rtol if want > 1e-100 else 1e-11
    np.testing.assert_allclose(got, want, rtol=tol, atol=1e-300)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(a=small_a, x=any_x)
def test_small_a_matches_scipy(a: float, x: float) -> None:
    _close(gammainc(a, x), sp.gammainc(a, x), 1e-13)
    _close(gammaincc(a, x), sp.gammaincc(a, x), 1e-13)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    a=st.floats(min_value=200.0, max_value=1e7),
    z=st.floats(min_value=-4.4, max_value=4.4),
)
def test_large_a_matches_scipy_in_its_asymptotic_window(a: float, z: float) -> None:
    x = a + z * math.sqrt(a)
    _close(gammainc(a, x), sp.gammainc(a, x), 1e-13)
    _close(gammaincc(a, x), sp.gammaincc(a, x), 1e-13)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    a=st.floats(min_value=1e-3, max_value=1e7),
    x=st.floats(min_value=0.0, max_value=1e8),
)
def test_complementary_everywhere(a: float, x: float) -> None:
    p, q = gammainc(a, x), gammaincc(a, x)
    assert 0.0 <= p <= 1.0
    assert 0.0 <= q <= 1.0
    assert abs(p + q - 1.0) <= 1e-15  # each side is computed to a few ulp on its own


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    df=st.floats(min_value=0.05, max_value=100.0),
    x=st.floats(min_value=0.0, max_value=800.0),
)
def test_chi2_matches_scipy(df: float, x: float) -> None:
    _close(chi2_sf(df, x), sp.chdtrc(df, x), 1e-13)
    _close(chi2_cdf(df, x), sp.chdtr(df, x), 1e-13)


def _mp_lower(a: float, x: float, dps: int = 50) -> mpmath.mpf:
    """P(a, x) by its power series at `dps` digits (mpmath's own gammainc stalls at
    a ~ 1e7)."""
    with mpmath.workdps(dps):
        am, xm = mpmath.mpf(a), mpmath.mpf(x)
        term = total = mpmath.mpf(1)
        denom = am
        while term > total * mpmath.mpf(10) ** (5 - dps):
            denom += 1
            term *= xm / denom
            total += term
        return mpmath.exp(am * mpmath.log(xm) - xm - mpmath.loggamma(am + 1)) * total


def test_where_scipy_is_inaccurate_mpmath_decides() -> None:
    mpmath.mp.dps = 40
    # Moderate a outside SciPy's asymptotic window, and a ≈ 1/2 with x just above 1.
    for a, x in [
        (156.63186837667752, 92.8042039067287),  # SciPy 2e-13 off
        (252.0678068188841, 360.07001543204854),  # SciPy 4e-13 off
        (0.5000808471231009, 1.065945288261532),  # SciPy 8e-14 off
        (49.91375880750732, 125.43503429288768),  # SciPy 5e-14 off
    ]:
        p = float(mpmath.gammainc(a, 0, x, regularized=True))
        q = float(mpmath.gammainc(a, x, mpmath.inf, regularized=True))
        np.testing.assert_allclose(gammainc(a, x), p, rtol=5e-15)
        np.testing.assert_allclose(gammaincc(a, x), q, rtol=5e-15)
    # Huge a a few standard deviations below the mean: SciPy's series is 3.5% off.
    a, x = 9817325.324288698, 9802523.354429819
    truth = float(_mp_lower(a, x))
    assert abs(sp.gammainc(a, x) / truth - 1) > 1e-2
    np.testing.assert_allclose(gammainc(a, x), truth, rtol=5e-15)


def test_closed_forms() -> None:
    xs = np.array([1e-8, 0.3, 1.0, 1.09, 1.2, 4.0, 30.0, 650.0])
    np.testing.assert_allclose(gammaincc(1.0, xs), np.exp(-xs), rtol=8e-16)
    np.testing.assert_allclose(gammaincc(0.5, xs), sp.erfc(np.sqrt(xs)), rtol=8e-16)
    np.testing.assert_allclose(gammainc(0.5, xs), sp.erf(np.sqrt(xs)), rtol=8e-16)
    # χ² with 2 degrees of freedom is exponential with mean 2.
    np.testing.assert_allclose(chi2_sf(2.0, xs), np.exp(-xs / 2), rtol=8e-16)


def test_edges_follow_scipy() -> None:
    cases = [
        (0.0, 1.0),
        (0.0, 0.0),
        (1.0, 0.0),
        (-1.0, 1.0),
        (1.0, -1.0),
        (np.inf, 1.0),
        (1.0, np.inf),
        (np.inf, np.inf),
        (np.nan, 1.0),
        (2.0, np.nan),
    ]
    for a, x in cases:
        np.testing.assert_equal(gammainc(a, x), sp.gammainc(a, x), err_msg=f"P({a}, {x})")
        np.testing.assert_equal(gammaincc(a, x), sp.gammaincc(a, x), err_msg=f"Q({a}, {x})")
        np.testing.assert_equal(chi2_sf(a, x), sp.chdtrc(a, x), err_msg=f"sf({a}, {x})")
        np.testing.assert_equal(chi2_cdf(a, x), sp.chdtr(a, x), err_msg=f"cdf({a}, {x})")


def test_broadcasting_and_shapes() -> None:
    out = chi2_sf(np.array([[1.0], [4.0]]), np.array([0.5, 3.0, 9.0]))
    assert out.shape == (2, 3)
    np.testing.assert_allclose(
        out, sp.chdtrc([[1.0], [4.0]], np.array([0.5, 3.0, 9.0])), rtol=1e-15
    )
    assert isinstance(gammainc(2.0, 1.0), float)
    assert gammaincc(np.zeros(0), 1.0).shape == (0,)
    big = np.linspace(0.0, 50.0, 40_000)  # the parallel path gives the same numbers
    chunks = [chi2_sf(7.0, part) for part in np.array_split(big, 10)]
    np.testing.assert_array_equal(chi2_sf(7.0, big), np.concatenate(chunks))
