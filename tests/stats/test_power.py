"""crucible.stats power analysis against statsmodels.stats.power.

Powers agree to 1e-10 relative wherever statsmodels is accurate: it forms the upper tail
of the noncentral t as ``1 - nctdtr`` and SciPy's series cancels in the tail opposite the
noncentrality, so a small power (an effect against a one-sided alternative) is right in
statsmodels only to ~1e-13 absolute; there ours is checked against mpmath in
test_noncentral_t.py. Solved sample sizes, alphas, effect sizes and ratios agree to 1e-8
(in practice ~1e-14: the root finder takes statsmodels' very steps).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import Any

import numpy as np
import pytest
import scipy.optimize as so
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from statsmodels.stats.power import NormalIndPower, TTestIndPower, TTestPower
from statsmodels.stats.proportion import proportion_effectsize as sm_effectsize
from statsmodels.tools.rootfinding import brentq_expanding

from crucible.errors import InvalidArgumentError
from crucible.stats import (
    normal_ind_power,
    proportion_effectsize,
    solve_power,
    ttest_ind_power,
    ttest_power,
)
from crucible.stats.root import ConvergenceWarning, RootNotBracketedError, brent

ALTERNATIVES = ["two-sided", "larger", "smaller"]
SM = {"ttest": TTestPower, "ttest_ind": TTestIndPower, "normal_ind": NormalIndPower}


def _close(ours: float, theirs: float, rtol: float = 1e-10, atol: float = 1e-15) -> bool:
    return abs(ours - theirs) <= rtol * abs(theirs) + atol


effects = st.floats(0.05, 2.0).flatmap(lambda d: st.sampled_from([d, -d]))
alphas = st.floats(0.001, 0.2)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    d=effects,
    nobs=st.integers(2, 10_000),
    alpha=alphas,
    alternative=st.sampled_from(ALTERNATIVES),
    ratio=st.floats(0.2, 5.0),
)
def test_power_equals_statsmodels(
    d: float, nobs: int, alpha: float, alternative: str, ratio: float
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_1 = TTestPower().power(d, nobs, alpha, alternative=alternative)
        ref_2 = TTestIndPower().power(d, nobs, alpha, ratio=ratio, alternative=alternative)
        ref_z = NormalIndPower().power(d, nobs, alpha, ratio=ratio, alternative=alternative)
    # Against the alternative, the power is a tail opposite the noncentrality, where SciPy
    # keeps only absolute accuracy; and its nctdtr can fail (statsmodels then gives NaN).
    wrong_sign = (alternative == "larger" and d < 0) or (alternative == "smaller" and d > 0)
    atol = 1e-13 if wrong_sign else 1e-15
    for got, ref in (
        (ttest_power(d, nobs, alpha, alternative=alternative), ref_1),
        (ttest_ind_power(d, nobs, alpha, ratio=ratio, alternative=alternative), ref_2),
    ):
        assert 0.0 <= got <= 1.0
        assert math.isnan(ref) or _close(got, ref, atol=atol)
    got = normal_ind_power(d, nobs, alpha, ratio=ratio, alternative=alternative)
    assert _close(got, ref_z, rtol=1e-12)


def test_power_vectorises_and_defaults() -> None:
    nobs = np.array([5.0, 20.0, 80.0])
    got = ttest_power(0.4, nobs, 0.05)
    want = TTestPower().power(0.4, nobs, 0.05)
    assert got.shape == (3,)
    assert np.allclose(got, want, rtol=1e-10, atol=0)
    assert _close(ttest_power(0.5, 30, df=10), TTestPower().power(0.5, 30, 0.05, df=10))
    assert _close(ttest_ind_power(0.5, 30, df=40), TTestIndPower().power(0.5, 30, 0.05, df=40))
    assert _close(
        normal_ind_power(0.3, 50, ratio=0), NormalIndPower().power(0.3, 50, 0.05, ratio=0)
    )
    assert math.isnan(ttest_power(0.5, 1.0, 0.05))  # df = 0


def test_proportion_effectsize() -> None:
    p1 = np.array([0.05, 0.3, 0.5, 0.99])
    assert np.array_equal(proportion_effectsize(p1, 0.4), sm_effectsize(p1, 0.4))
    assert proportion_effectsize(0.5, 0.4) == sm_effectsize(0.5, 0.4)


def _statsmodels_solve(test: str, **kw: Any) -> tuple[float, bool]:
    """statsmodels' answer and whether it came from its bracketing (not fsolve) path."""
    solver = SM[test]()
    if test != "ttest" and "nobs" in kw:
        kw["nobs1"] = kw.pop("nobs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = solver.solve_power(**kw)
        except (TypeError, ValueError):  # its fallbacks can fail outright
            return math.nan, False
    res = solver.cache_fit_res
    bracketed = res is not None and res[1] is not None and bool(res[1].converged)
    return float(np.squeeze(value)), bracketed


def _statsmodels_nan_on_path(test: str, kw: dict[str, Any]) -> bool:
    """Whether statsmodels' sample-size search meets a NaN power (SciPy's nctdtr failing)."""
    args = {k: v for k, v in kw.items() if k not in ("effect_size", "power")}
    solver = SM[test]()
    hit = []

    def gap(n: float) -> float:
        value = float(solver.power(kw["effect_size"], n, **args)) - kw["power"]
        if math.isnan(value):
            hit.append(n)
            return math.inf
        return value

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.suppress(ValueError):
            brentq_expanding(gap, low=2.0, start_upp=50.0)
    return bool(hit)


def _ours(test: str, **kw: Any) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return solve_power(test, **kw)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(
    test=st.sampled_from(["ttest", "ttest_ind", "normal_ind"]),
    d=effects,
    alpha=alphas,
    power=st.floats(0.2, 0.99),
    alternative=st.sampled_from(ALTERNATIVES),
    ratio=st.floats(0.25, 4.0),
)
def test_sample_size_equals_statsmodels(
    test: str, d: float, alpha: float, power: float, alternative: str, ratio: float
) -> None:
    wrong_sign = (alternative == "larger" and d < 0) or (alternative == "smaller" and d > 0)
    assume(not wrong_sign or power < alpha)
    kw: dict[str, Any] = {"effect_size": d, "alpha": alpha, "power": power}
    kw["alternative"] = alternative
    if test != "ttest":
        kw["ratio"] = ratio
    ref, bracketed = _statsmodels_solve(test, nobs=None, **kw)
    got = _ours(test, nobs=None, **kw)
    fn = {"ttest": ttest_power, "ttest_ind": ttest_ind_power, "normal_ind": normal_ind_power}
    extra = {} if test == "ttest" else {"ratio": ratio}
    if bracketed and _statsmodels_nan_on_path(test, kw):
        # Where SciPy's nctdtr fails, statsmodels' Brent sees +inf, takes other steps and
        # may stop at the edge of the failing region instead of a root: check ours solves.
        reached = fn[test](d, got, alpha, alternative=alternative, **extra)
        assert reached == pytest.approx(power, abs=1e-5)
    elif bracketed:
        assert got == pytest.approx(ref, rel=1e-8)
    elif not math.isnan(got):
        # statsmodels fell back on fsolve (the root is below its bracket): ours must
        # solve the equation, and agree with fsolve where that succeeded.
        assert fn[test](d, got, alpha, alternative=alternative, **extra) == pytest.approx(
            power, abs=1e-9
        )
        if not math.isnan(ref):
            assert got == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("test", ["ttest", "ttest_ind", "normal_ind"])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(("d", "nobs", "power"), [(0.3, 40, 0.5), (0.8, 25, 0.9), (-0.5, 60, 0.7)])
def test_other_unknowns_equal_statsmodels(
    test: str, alternative: str, d: float, nobs: float, power: float
) -> None:
    base: dict[str, Any] = {"alternative": alternative}
    if test != "ttest":
        base["ratio"] = 1.5
    for key in ("alpha", "effect_size", "power", "ratio"):
        if key == "ratio" and test == "ttest":
            continue
        kw = {**base, "effect_size": d, "nobs": nobs, "alpha": 0.05, "power": power, key: None}
        wrong_sign = (alternative == "larger" and d < 0) or (alternative == "smaller" and d > 0)
        if key == "ratio" and wrong_sign:
            continue
        ref, _ = _statsmodels_solve(test, **kw)
        got = _ours(test, **kw)
        if math.isnan(ref):
            continue
        assert got == pytest.approx(ref, rel=1e-8, abs=1e-12), key


def test_known_sample_sizes() -> None:
    # G*Power / textbook values: d = 0.5, alpha = 0.05, power = 0.8.
    assert solve_power("ttest_ind", effect_size=0.5, alpha=0.05, power=0.8) == pytest.approx(
        63.76561, abs=1e-4
    )
    assert solve_power("ttest", effect_size=0.5, alpha=0.05, power=0.8) == pytest.approx(
        33.36713, abs=1e-4
    )
    h = proportion_effectsize(0.6, 0.5)
    assert solve_power("normal_ind", effect_size=h, alpha=0.05, power=0.8) == pytest.approx(
        387.1677, abs=1e-4
    )
    tight = solve_power("ttest", effect_size=0.5, alpha=0.05, power=0.8, xtol=1e-12)
    assert ttest_power(0.5, tight, 0.05) == pytest.approx(0.8, abs=1e-13)


def test_solve_errors_and_degenerate_cases() -> None:
    with pytest.raises(InvalidArgumentError, match="exactly one"):
        solve_power("ttest", effect_size=0.5, alpha=0.05)
    with pytest.raises(InvalidArgumentError, match="test"):
        solve_power("anova", effect_size=0.5, alpha=0.05, power=0.8)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="effect-size of 0"):
        solve_power("ttest", effect_size=0.0, alpha=0.05, power=0.8)
    assert solve_power("ttest", effect_size=0.0, nobs=20, power=0.3) == 0.3
    with pytest.raises(InvalidArgumentError, match="opposite sign"):
        solve_power("ttest", effect_size=-0.5, alpha=0.05, power=0.8, alternative="larger")
    with pytest.raises(InvalidArgumentError, match="alternative"):
        ttest_power(0.5, 10, 0.05, alternative="less")  # type: ignore[arg-type]
    with pytest.warns(ConvergenceWarning):
        # Power is not monotone below n = 2 here and no root is bracketed.
        assert math.isnan(
            solve_power("ttest", effect_size=2.0, alpha=0.2, power=0.8, alternative="larger")
        )


@pytest.mark.parametrize(
    ("f", "a", "b"),
    [
        (lambda x: x**3 - 2 * x - 5, 2.0, 3.0),
        (lambda x: math.cos(x) - x, 0.0, 1.0),
        (lambda x: math.exp(x) - 1e3, 10.0, 0.0),
        (lambda x: math.atan(x - 0.3), -50.0, 7.0),
    ],
)
@pytest.mark.parametrize("xtol", [1e-5, 2e-12])
def test_brent_takes_scipys_steps(f: Any, a: float, b: float, xtol: float) -> None:
    root, converged = brent(f, a, b, xtol=xtol)
    assert converged
    assert root == so.brentq(f, a, b, xtol=xtol)


def test_brent_requires_a_bracket() -> None:
    with pytest.raises(RootNotBracketedError):
        brent(lambda x: x * x + 1, -1.0, 1.0)
    assert brent(lambda x: x - 1, 1.0, 3.0) == (1.0, True)
