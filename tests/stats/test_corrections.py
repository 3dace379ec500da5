"""Multiple-testing corrections against statsmodels' ``multipletests``, bit for bit."""

from __future__ import annotations

import warnings
from typing import Any
from unittest import mock

import mpmath
import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from crucible.errors import InvalidArgumentError, InvalidTypeError
from crucible.stats.corrections import (
    Correction,
    CorrectionMethod,
    adjust_pvalues,
    bonferroni_alpha,
    sidak_alpha,
)

# Our method name -> statsmodels' name for it.
METHODS: dict[CorrectionMethod, str] = {
    "bonferroni": "bonferroni",
    "sidak": "sidak",
    "holm": "holm",
    "holm-sidak": "holm-sidak",
    "hochberg": "simes-hochberg",
    "fdr_bh": "fdr_bh",
    "fdr_by": "fdr_by",
}
ALPHAS = [0.05, 0.01, 0.1, 0.2, 0.5]


def _reference(p: np.ndarray, alpha: float, method: str) -> Any:
    """statsmodels' answer. Its Holm branch calls ``gc.collect()`` (~40 ms each time), which
    only frees memory: stubbed out here to keep the suite fast."""
    with warnings.catch_warnings(), mock.patch("gc.collect", return_value=0):
        warnings.simplefilter("ignore", RuntimeWarning)  # log1p(-1) in their Sidak
        return multipletests(p, alpha, method)


def _assert_matches_statsmodels(p: np.ndarray, alpha: float) -> None:
    for ours_name, theirs_name in METHODS.items():
        reject, adjusted, a_sidak, a_bonf = _reference(p, alpha, theirs_name)
        ours = adjust_pvalues(p, ours_name, alpha)
        assert ours.method == ours_name
        np.testing.assert_array_equal(np.asarray(ours.reject), reject, err_msg=ours_name)
        np.testing.assert_array_equal(np.asarray(ours.pvalues_adjusted), adjusted, ours_name)
        assert ours.alpha_sidak == a_sidak
        assert ours.alpha_bonferroni == a_bonf


def _near_thresholds(alpha: float, n: int) -> list[float]:
    """p-values on and one ulp either side of every step-wise threshold alpha * k / n."""
    out: list[float] = []
    for k in (1, 2, n // 2 + 1, n):
        for base in (alpha / k, alpha * k / n):
            out += [base, float(np.nextafter(base, 0.0)), float(np.nextafter(base, 1.0))]
    return [min(max(v, 0.0), 1.0) for v in out]


pvalue = st.one_of(
    st.floats(min_value=0.0, max_value=1.0),
    st.sampled_from([0.0, 1.0, 0.05, 0.025, 0.01, 0.5, 1e-300, 5e-324, 1.0 - 2**-53]),
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(p=st.lists(pvalue, min_size=1, max_size=40), alpha=st.sampled_from(ALPHAS))
def test_matches_statsmodels_on_edge_values(p: list[float], alpha: float) -> None:
    _assert_matches_statsmodels(np.array(p, dtype=np.float64), alpha)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 500),
    kind=st.sampled_from(["uniform", "small", "ties", "zeros_ones", "thresholds"]),
    alpha=st.one_of(st.sampled_from(ALPHAS), st.floats(min_value=1e-6, max_value=0.999)),
)
def test_matches_statsmodels_on_vectors(seed: int, n: int, kind: str, alpha: float) -> None:
    r = np.random.default_rng(seed)
    if kind == "uniform":
        p = r.uniform(0.0, 1.0, n)
    elif kind == "small":  # many rejections: exercises the step-up / step-down cut-offs
        p = r.uniform(0.0, min(2.0 * alpha, 1.0), n)
    elif kind == "ties":
        p = np.round(r.uniform(0.0, 0.2, n), 2)
    elif kind == "zeros_ones":
        p = r.choice([0.0, 1.0, alpha, r.uniform()], size=n)
    else:
        p = r.choice(_near_thresholds(alpha, n), size=n)
    _assert_matches_statsmodels(p, alpha)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(p=st.lists(pvalue, min_size=1, max_size=60), data=st.data())
def test_result_follows_the_input_order(p: list[float], data: st.DataObject) -> None:
    perm = data.draw(st.permutations(range(len(p))))
    for method in METHODS:
        base = adjust_pvalues(p, method)
        shuffled = adjust_pvalues([p[i] for i in perm], method)
        assert shuffled.pvalues_adjusted == tuple(base.pvalues_adjusted[i] for i in perm)
        assert shuffled.reject == tuple(base.reject[i] for i in perm)
        adjusted = np.asarray(base.pvalues_adjusted)
        assert np.all(adjusted >= np.asarray(p) * (1 - 2**-52))  # Šidák rounds to 1 ulp
        assert np.all(adjusted <= 1.0)


# Textbook example: p = (0.01, 0.04, 0.03, 0.005); values as R's p.adjust gives them.
TEXTBOOK = [0.01, 0.04, 0.03, 0.005]


@pytest.mark.parametrize(
    ("method", "expected", "reject"),
    [
        ("bonferroni", [0.04, 0.16, 0.12, 0.02], [True, False, False, True]),
        ("holm", [0.03, 0.06, 0.06, 0.02], [True, False, False, True]),
        ("hochberg", [0.03, 0.04, 0.04, 0.02], [True, True, True, True]),
        ("fdr_bh", [0.02, 0.04, 0.04, 0.02], [True, True, True, True]),
        ("fdr_by", [0.0416667, 0.0833333, 0.0833333, 0.0416667], [True, False, False, True]),
    ],
)
def test_textbook_values(
    method: CorrectionMethod, expected: list[float], reject: list[bool]
) -> None:
    result = adjust_pvalues(TEXTBOOK, method, alpha=0.05)
    assert result.pvalues_adjusted == pytest.approx(expected, rel=1e-5)
    assert list(result.reject) == reject


def test_sidak_is_exact_for_tiny_pvalues() -> None:
    # 1 - (1 - p)**m loses p = 1e-20 entirely; -expm1(m * log1p(-p)) keeps it.
    result = adjust_pvalues([1e-20, 0.5], "sidak")
    assert result.pvalues_adjusted[0] == pytest.approx(2e-20, rel=1e-15)
    assert result.pvalues_adjusted[1] == pytest.approx(0.75, rel=1e-15)


def test_default_is_holm_at_005() -> None:
    result = adjust_pvalues(TEXTBOOK)
    assert result.method == "holm"
    assert result.alpha == 0.05
    assert result == adjust_pvalues(TEXTBOOK, "holm", 0.05)


def test_empty_input_gives_an_empty_result_that_round_trips() -> None:
    for method in METHODS:
        result = adjust_pvalues([], method)
        assert result.reject == ()
        assert result.pvalues_adjusted == ()
        assert result.alpha_sidak is None
        assert result.alpha_bonferroni is None
        assert msgspec.json.decode(msgspec.json.encode(result), type=Correction) == result


def test_result_round_trips_through_json_and_is_frozen() -> None:
    result = adjust_pvalues([0.001, 0.2, 0.03], "fdr_bh", alpha=0.1)
    decoded = msgspec.json.decode(msgspec.json.encode(result), type=Correction)
    assert decoded == result
    assert decoded.reject == (True, False, True)
    with pytest.raises(AttributeError):
        result.alpha = 0.5  # type: ignore[misc]


def test_accepts_integer_and_tuple_input() -> None:
    assert adjust_pvalues((0, 1), "bonferroni").pvalues_adjusted == (0.0, 1.0)
    assert adjust_pvalues(np.array([0, 1], dtype=np.int8), "holm").reject == (True, False)


@pytest.mark.parametrize(
    ("pvalues", "message"),
    [
        ([0.1, float("nan")], "NaN"),
        ([0.1, 1.5], r"\[0, 1\]"),
        ([-0.01], r"\[0, 1\]"),
        ([[0.1, 0.2]], "one-dimensional"),
        (0.1, "one-dimensional"),
    ],
)
def test_rejects_bad_pvalues(pvalues: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        adjust_pvalues(pvalues)


def test_rejects_bad_types_methods_and_alphas() -> None:
    with pytest.raises(InvalidTypeError):
        adjust_pvalues(["0.1"])
    with pytest.raises(InvalidTypeError):
        adjust_pvalues([0.1], alpha="0.05")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="unknown correction method"):
        adjust_pvalues([0.1], "hommel")  # type: ignore[arg-type]
    for alpha in (0.0, 1.0, -0.1, float("nan")):
        with pytest.raises(InvalidArgumentError, match="alpha"):
            adjust_pvalues([0.1], alpha=alpha)
    with pytest.raises(ValueError, match="alpha"):  # InvalidArgumentError is-a ValueError
        adjust_pvalues([0.1], alpha=2.0)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(alpha=st.floats(min_value=1e-12, max_value=0.999), m=st.integers(1, 10_000))
def test_alpha_helpers(alpha: float, m: int) -> None:
    result = adjust_pvalues(np.full(m, 0.5), "bonferroni", alpha)
    assert bonferroni_alpha(alpha, m) == result.alpha_bonferroni == alpha / m
    # Šidák's level solves (1 - a_s)**m == 1 - alpha; checked against 50-digit arithmetic.
    with mpmath.workdps(50):
        exact = 1 - mpmath.power(1 - mpmath.mpf(alpha), mpmath.mpf(1) / m)
        assert sidak_alpha(alpha, m) == pytest.approx(float(exact), rel=4e-16)
    assert sidak_alpha(alpha, m) >= bonferroni_alpha(alpha, m) * (1 - 4e-16)
    # The Correction field keeps statsmodels' literal formula (parity over accuracy).
    assert result.alpha_sidak == pytest.approx(sidak_alpha(alpha, m), rel=1e-15 / alpha)


def test_alpha_helper_errors() -> None:
    assert bonferroni_alpha(0.05, 5) == pytest.approx(0.01)
    with pytest.raises(InvalidArgumentError, match="at least 1"):
        bonferroni_alpha(0.05, 0)
    with pytest.raises(InvalidTypeError):
        sidak_alpha(0.05, 2.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError):
        sidak_alpha(0.05, True)
    with pytest.raises(InvalidArgumentError):
        sidak_alpha(1.5, 3)
