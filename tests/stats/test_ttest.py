"""t-tests against scipy.stats on generated data: statistic, p-value, df and interval."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.errors import InvalidArgumentError
from crucible.stats.ttest import TTestResult, ttest_1samp, ttest_ind, ttest_rel

ALTERNATIVES = ["two-sided", "less", "greater"]


def _data(seed: int, n: int, kind: str, shift: float = 0.0) -> np.ndarray:
    r = np.random.default_rng(seed)
    base = {
        "normal": lambda: r.standard_normal(n),
        "heavy": lambda: r.standard_t(2, n),
        "ties": lambda: r.integers(0, 3, n).astype(float),
        "scaled": lambda: r.standard_normal(n) * 1e8,
        "tiny": lambda: r.standard_normal(n) * 1e-8,
    }[kind]()
    return base + shift


def _assert_same(ours: TTestResult, ref: Any, level: float) -> None:
    np.testing.assert_allclose(ours.statistic, ref.statistic, rtol=1e-12)
    np.testing.assert_allclose(ours.pvalue, ref.pvalue, rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(ours.df, ref.df, rtol=1e-12)
    ci = ref.confidence_interval(confidence_level=level)
    np.testing.assert_allclose(ours.confidence_interval.low, ci.low, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.confidence_interval.high, ci.high, rtol=1e-10, atol=1e-12)


cases = st.tuples(
    st.integers(0, 2**32 - 1),
    st.integers(2, 5_000),
    st.sampled_from(["normal", "heavy", "ties", "scaled", "tiny"]),
    st.sampled_from(ALTERNATIVES),
    st.sampled_from([0.5, 0.9, 0.95, 0.99]),
)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(case=cases, popmean=st.floats(-1, 1))
def test_one_sample_matches_scipy(case: tuple[int, int, str, str, float], popmean: float) -> None:
    seed, n, kind, alt, level = case
    x = _data(seed, n, kind, 0.2)
    if np.ptp(x) == 0:
        return
    ours = ttest_1samp(x, popmean, alternative=alt, confidence_level=level)  # type: ignore[arg-type]
    _assert_same(ours, ss.ttest_1samp(x, popmean, alternative=alt), level)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(case=cases)
def test_paired_matches_scipy(case: tuple[int, int, str, str, float]) -> None:
    seed, n, kind, alt, level = case
    a, b = _data(seed, n, kind), _data(seed + 1, n, kind, 0.1)
    if np.ptp(a - b) == 0:
        return
    ours = ttest_rel(a, b, alternative=alt, confidence_level=level)  # type: ignore[arg-type]
    _assert_same(ours, ss.ttest_rel(a, b, alternative=alt), level)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(case=cases, m=st.integers(2, 3_000), equal_var=st.booleans())
def test_independent_matches_scipy(
    case: tuple[int, int, str, str, float], m: int, equal_var: bool
) -> None:
    seed, n, kind, alt, level = case
    a, b = _data(seed, n, kind), _data(seed + 7, m, kind, 0.3)
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return
    ours = ttest_ind(a, b, equal_var=equal_var, alternative=alt, confidence_level=level)  # type: ignore[arg-type]
    ref = ss.ttest_ind(a, b, equal_var=equal_var, alternative=alt)
    _assert_same(ours, ref, level)
    assert ours.method == ("Student's t-test" if equal_var else "Welch's t-test")


def test_effect_size_is_cohens_d() -> None:
    a = np.array([5.0, 6.0, 7.0, 8.0])
    b = np.array([1.0, 2.0, 3.0, 4.0])
    pooled_sd = np.sqrt((3 * np.var(a, ddof=1) + 3 * np.var(b, ddof=1)) / 6)
    assert ttest_ind(a, b).effect_size == pytest.approx(4.0 / pooled_sd)
    assert ttest_1samp(a, 5.0).effect_size == pytest.approx(1.5 / np.std(a, ddof=1))


def test_nan_policies() -> None:
    x = np.array([1.0, 2.0, np.nan, 4.0, 3.5])
    assert np.isnan(ttest_1samp(x).statistic)
    omitted = ttest_1samp(x, nan_policy="omit")
    ref = ss.ttest_1samp(x, 0.0, nan_policy="omit")
    np.testing.assert_allclose(omitted.statistic, ref.statistic, rtol=1e-12)
    with pytest.raises(InvalidArgumentError, match="NaN"):
        ttest_1samp(x, nan_policy="raise")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ttest_1samp([1.0]), "two observations"),
        (lambda: ttest_rel([1.0, 2.0], [1.0, 2.0, 3.0]), "same length"),
        (lambda: ttest_ind([1.0, 2.0], [1.0, 2.0], alternative="bigger"), "alternative"),
        (lambda: ttest_ind([1.0, 2.0], [1.0, 2.0], confidence_level=2.0), "confidence_level"),
        (lambda: ttest_1samp([[1.0, 2.0]]), "one-dimensional"),
    ],
)
def test_bad_arguments(call: Any, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        call()
