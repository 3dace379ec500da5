"""crucible.stats.nct_cdf / nct_sf against scipy.stats.nct where SciPy is accurate, and
against mpmath quadrature in the far tails where SciPy's series cancels (SciPy keeps only
absolute accuracy in the tail opposite the noncentrality, and returns 0 or garbage there).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crucible.stats import nct_cdf, nct_sf, ndtr, t_cdf


def _mp_nct(df: float, nc: float, t: float, upper: bool) -> mp.mpf:
    """E[Φ(±(tS - δ))] at 30 digits, S = sqrt(χ²_df / df), integrated in segments over the
    region where the integrand is within e^-80 of its peak, scaled to peak 1 (mpmath's
    quadrature tolerance is absolute)."""
    with mp.workdps(30):
        dfm, ncm, tm = mp.mpf(df), mp.mpf(nc), mp.mpf(t)
        h = dfm / 2
        lognorm = mp.log(2) + h * mp.log(h) - mp.loggamma(h)
        sign = -1 if upper else 1

        def logf(s: mp.mpf) -> mp.mpf:
            phi = mp.ncdf(sign * (tm * s - ncm))
            return lognorm + (dfm - 1) * mp.log(s) - h * s * s + mp.log(phi)

        grid = [mp.mpf(10) ** (k / 100) for k in range(-800, 301)]
        values = [logf(s) for s in grid]
        top = max(values)
        keep = [s for s, v in zip(grid, values, strict=True) if v > top - 80]
        lo, hi = keep[0] / mp.mpf(10) ** 0.01, keep[-1] * mp.mpf(10) ** 0.01
        points = [mp.mpf(0), *mp.linspace(lo, hi, 60), mp.inf]
        scaled = mp.quad(lambda s: mp.exp(logf(s) - top) if s > 0 else mp.mpf(0), points)
        return mp.exp(top) * scaled


# (df, nc, t, upper tail?, value): _mp_nct at 30 digits. SciPy gets the first two wrong.
REFERENCE = [
    (5.0, -30.0, 1.0, True, 6.5110400150240578e-203),
    (20.0, -8.0, 3.0, True, 2.1898544934037567e-24),
    (40.0, 6.0, -2.0, False, 2.9084345570673194e-15),
    (2000.0, 9.0, -1.0, False, 7.7262717450772507e-24),
    (10.0, 1.0, 2.0, False, 0.80761156253037526),
    (3.0, -2.0, 1.5, True, 0.0013451750458576955),
    (1.0, 0.5, 400.0, True, 0.0013918987687077837),
    (7.0, 12.0, 30.0, True, 0.0081180576477367133),
    (0.5, 1.0, 2.0, False, 0.52049635181525534),
    (0.8, 3.0, -0.5, False, 0.00055631396723837353),
    (1e7, 2.0, 1.5, True, 0.69146246457462608),
]


@pytest.mark.parametrize(("df", "nc", "t", "upper", "want"), REFERENCE)
def test_reference_values(df: float, nc: float, t: float, upper: bool, want: float) -> None:
    got = nct_sf(df, nc, t) if upper else nct_cdf(df, nc, t)
    # 1e-13: ndtr's own relative error far out in the normal tail (|x| ~ 30) is ~1e-13.
    assert got == pytest.approx(want, rel=1e-13)


@pytest.mark.parametrize(("df", "nc", "t"), [(15.0, -9.0, 2.0), (60.0, 7.0, -1.5)])
def test_far_tail_decided_by_mpmath(df: float, nc: float, t: float) -> None:
    """Where SciPy's tail has lost its digits, mpmath agrees with us."""
    upper = nc < 0
    ours = nct_sf(df, nc, t) if upper else nct_cdf(df, nc, t)
    scipy_value = ss.nct.sf(t, df, nc) if upper else ss.nct.cdf(t, df, nc)
    exact = float(_mp_nct(df, nc, t, upper))
    assert ours == pytest.approx(exact, rel=1e-12)
    assert abs(scipy_value - exact) > 1e-9 * exact  # SciPy has lost its digits


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    log_df=st.floats(math.log(0.5), math.log(1e6)),
    nc=st.floats(-20, 20),
    t=st.floats(-40, 40),
)
def test_equals_scipy_where_scipy_is_accurate(log_df: float, nc: float, t: float) -> None:
    df = math.exp(log_df)
    # SciPy's nct is off by up to 1e-9 at and near nc = 0 (df=1, nc=5e-141, t=1e-9: it
    # says 0.5 where the Cauchy CDF is 0.5 + 3.18e-10); ours is the central t there.
    assume(abs(nc) >= 1e-3)
    for ours, theirs in (
        (nct_cdf(df, nc, t), ss.nct.cdf(t, df, nc)),
        (nct_sf(df, nc, t), ss.nct.sf(t, df, nc)),
    ):
        if math.isnan(theirs):  # Boost's series "did not converge"
            continue
        # SciPy's absolute error is ~1e-16 (a few times that where its series cancels),
        # so its relative error is small only where the value is not: compare to 1e-12
        # relative plus an absolute floor.
        assert abs(ours - theirs) <= 1e-12 * abs(theirs) + 1e-14, (df, nc, t, ours, theirs)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    log_df=st.floats(math.log(0.2), math.log(1e9)),
    nc=st.floats(-40, 40),
    t=st.floats(-100, 100),
)
def test_tails_complement_and_reflect(log_df: float, nc: float, t: float) -> None:
    df = math.exp(log_df)
    lower, upper = nct_cdf(df, nc, t), nct_sf(df, nc, t)
    assert 0.0 <= lower <= 1.0
    assert 0.0 <= upper <= 1.0
    assert lower + upper == pytest.approx(1.0, abs=4e-16)
    # T(δ) and -T(-δ) have the same law: the two integrals are the same, bit for bit.
    assert nct_sf(df, -nc, -t) == lower
    assert nct_cdf(df, -nc, -t) == upper


def test_monotone_in_t_and_nc() -> None:
    ts = np.linspace(-15, 15, 61)
    for df in (0.7, 3.0, 50.0):
        for nc in (-5.0, 0.5, 8.0):
            cdf = nct_cdf(df, nc, ts)
            assert np.all(np.diff(cdf) >= -4e-16)  # each value is accurate to a few ulps
    ncs = np.linspace(-10, 10, 41)
    assert np.all(np.diff(nct_sf(12.0, ncs, 1.5)) >= -4e-16)


def test_special_cases_and_broadcasting() -> None:
    assert nct_cdf(7.0, 0.0, 1.3) == t_cdf(7.0, 1.3)
    assert nct_cdf(5.0, 1.5, 0.0) == ndtr(-1.5)
    assert nct_sf(5.0, 1.5, 0.0) == ndtr(1.5)
    assert nct_cdf(np.inf, 1.0, 2.5) == ndtr(1.5)
    assert nct_cdf(5.0, 1.0, np.inf) == 1.0
    assert nct_sf(5.0, 1.0, np.inf) == 0.0
    assert nct_cdf(5.0, 1.0, -np.inf) == 0.0
    assert nct_sf(5.0, 1.0, -np.inf) == 1.0
    for bad in [
        (0.0, 1.0, 1.0),
        (-1.0, 1.0, 1.0),
        (np.nan, 1.0, 1.0),
        (3.0, np.nan, 1.0),
        (3.0, np.inf, 1.0),
        (3.0, 1.0, np.nan),
    ]:
        assert math.isnan(nct_cdf(*bad))
        assert math.isnan(nct_sf(*bad))
    assert isinstance(nct_sf(4.0, 1.0, 2.0), float)
    out = nct_sf([[2.0], [9.0]], [0.5, 1.0, 2.0], 1.0)
    assert out.shape == (2, 3)
    assert out[1, 2] == nct_sf(9.0, 2.0, 1.0)
