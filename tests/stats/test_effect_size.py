"""Effect sizes against SciPy-derived and plain NumPy references, plus worked examples."""

from __future__ import annotations

import math
import typing
import warnings
from typing import Any

import mpmath
import msgspec
import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats.contingency import odds_ratio as scipy_odds_ratio

from crucible.errors import DegenerateDataWarning, InvalidArgumentError, InvalidTypeError
from crucible.stats import effect_size as es
from crucible.stats.effect_size import (
    EffectSize,
    EffectSizeKind,
    cliffs_delta,
    cohens_d,
    cohens_d_paired,
    eta_squared,
    glass_delta,
    hedges_correction,
    hedges_g,
    interpret_cliffs_delta,
    interpret_d,
    interpret_eta_squared,
    measure_effect,
    odds_ratio,
    omega_squared,
    rank_biserial,
    rank_biserial_paired,
)

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)
KINDS = ["normal", "shifted", "ties", "scaled", "tiny"]


def _data(seed: int, n: int, kind: str) -> np.ndarray:
    r = np.random.default_rng(seed)
    return {
        "normal": lambda: r.standard_normal(n),
        "shifted": lambda: r.standard_normal(n) * 2.0 + 1e3,
        "ties": lambda: r.integers(0, 4, n).astype(float),
        "scaled": lambda: r.standard_normal(n) * 1e8,
        "tiny": lambda: r.standard_normal(n) * 1e-8,
    }[kind]()


def _not_constant(*samples: np.ndarray) -> bool:
    return all(np.ptp(s) > 0 for s in samples)


two_samples = st.tuples(
    st.integers(0, 2**32 - 1), st.integers(2, 300), st.integers(2, 300), st.sampled_from(KINDS)
)


# --- standardised mean differences ------------------------------------------------------


@SETTINGS
@given(case=two_samples)
def test_cohens_d_and_hedges_g_match_references(case: tuple[int, int, int, str]) -> None:
    seed, n1, n2, kind = case
    x, y = _data(seed, n1, kind), _data(seed + 1, n2, kind) + 0.3 * np.std(_data(seed, 4, kind))
    if not _not_constant(x) and not _not_constant(y):
        return
    pooled = ((n1 - 1) * np.var(x, ddof=1) + (n2 - 1) * np.var(y, ddof=1)) / (n1 + n2 - 2)
    reference = (np.mean(x) - np.mean(y)) / np.sqrt(pooled)
    d = cohens_d(x, y)
    np.testing.assert_allclose(d, reference, rtol=1e-12, atol=1e-13)
    # Independent route: Student's t = d / sqrt(1/n1 + 1/n2).
    t = ss.ttest_ind(x, y).statistic
    np.testing.assert_allclose(d, t * math.sqrt(1 / n1 + 1 / n2), rtol=1e-9, atol=1e-12)
    df = n1 + n2 - 2
    j = sp.poch((df - 1) / 2, 0.5) / math.sqrt(df / 2)  # Γ(df/2) / Γ((df-1)/2) / sqrt(df/2)
    np.testing.assert_allclose(hedges_g(x, y), j * d, rtol=1e-12)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 300), kind=st.sampled_from(KINDS))
def test_paired_d_matches_ttest_rel(seed: int, n: int, kind: str) -> None:
    x = _data(seed, n, kind)
    y = x * 0.5 + _data(seed + 1, n, kind)
    diff = x - y
    if not _not_constant(diff):
        return
    d = cohens_d_paired(x, y)
    np.testing.assert_allclose(d, np.mean(diff) / np.std(diff, ddof=1), rtol=1e-12, atol=1e-13)
    t = ss.ttest_rel(x, y).statistic  # t = d_z * sqrt(n)
    np.testing.assert_allclose(d, t / math.sqrt(n), rtol=1e-9, atol=1e-12)


@SETTINGS
@given(case=two_samples)
def test_glass_delta_matches_reference(case: tuple[int, int, int, str]) -> None:
    seed, n1, n2, kind = case
    x, control = _data(seed, n1, kind) * 3.0, _data(seed + 1, n2, kind)
    if not _not_constant(control):
        return
    reference = (np.mean(x) - np.mean(control)) / np.std(control, ddof=1)
    np.testing.assert_allclose(glass_delta(x, control), reference, rtol=1e-12, atol=1e-13)


def test_standardised_differences_worked_example() -> None:
    # x: mean 5, var 2.5; y: mean 3, var 2.5 -> pooled SD sqrt(2.5), d = 2 / 1.5811.
    x, y = [3.0, 4.0, 5.0, 6.0, 7.0], [1.0, 2.0, 3.0, 4.0, 5.0]
    assert cohens_d(x, y) == pytest.approx(2 / math.sqrt(2.5), rel=1e-15)
    assert cohens_d(y, x) == pytest.approx(-2 / math.sqrt(2.5), rel=1e-15)
    # df = 8: J = Γ(4) / (2 Γ(3.5)) = 6 / (2 * 3.32335097) = 0.902703...
    assert hedges_g(x, y) == pytest.approx(0.9027033336764101 * 2 / math.sqrt(2.5), rel=1e-14)
    assert glass_delta(x, [1.0, 3.0, 5.0]) == pytest.approx((5 - 3) / 2)
    assert cohens_d_paired([2.0, 4.0, 6.0], [1.0, 2.0, 3.0]) == pytest.approx(2.0)  # d = 1,2,3


@pytest.mark.parametrize("df", [1.5, 2, 3, 7, 10, 49, 50, 51, 120, 1e3, 12345.5, 1e6, 1e9, 1e15])
def test_hedges_correction_against_mpmath(df: float) -> None:
    with mpmath.workdps(40):
        half = mpmath.mpf(df) / 2
        exact = mpmath.gamma(half) / (mpmath.sqrt(half) * mpmath.gamma(half - mpmath.mpf(1) / 2))
        assert hedges_correction(df) == pytest.approx(float(exact), rel=4e-15, abs=0)
    # The classical approximation 1 - 3 / (4 df - 1) agrees to O(df^-2).
    assert abs(hedges_correction(df) - (1 - 3 / (4 * df - 1))) < 0.05 / df**2 + 1e-15


# --- variance explained -----------------------------------------------------------------


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(2, 80), min_size=2, max_size=6),
    kind=st.sampled_from(KINDS),
    spread=st.sampled_from([0.0, 0.2, 1.0, 5.0]),
)
def test_eta_and_omega_from_scipy_f(seed: int, sizes: list[int], kind: str, spread: float) -> None:
    groups = [
        _data(seed + i, n, kind) + spread * i * np.std(_data(seed, 4, kind))
        for i, n in enumerate(sizes)
    ]
    pooled = np.concatenate(groups)
    if np.ptp(pooled) == 0 or not all(np.ptp(g) > 0 for g in groups):
        return
    k, n = len(groups), pooled.size
    f = ss.f_oneway(*groups).statistic
    dfb, dfw = k - 1, n - k
    np.testing.assert_allclose(
        eta_squared(*groups), f * dfb / (f * dfb + dfw), rtol=1e-9, atol=1e-14
    )
    omega = dfb * (f - 1) / (dfb * (f - 1) + n)
    np.testing.assert_allclose(omega_squared(*groups), omega, rtol=1e-9, atol=1e-12)


def test_eta_and_omega_worked_example() -> None:
    # SSB = 54, SSW = 6, SST = 60, MSW = 1 (k = 3, N = 9).
    groups = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert eta_squared(*groups) == pytest.approx(0.9, rel=1e-15)
    assert omega_squared(*groups) == pytest.approx((54 - 2) / 61, rel=1e-15)
    # Groups closer than chance: ω² is negative and reported unclipped.
    assert omega_squared([1.0, 3.0], [1.1, 2.9]) < 0
    # All groups constant but different: everything is explained.
    assert eta_squared([2.0, 2.0], [5.0, 5.0, 5.0]) == 1.0
    assert omega_squared([2.0, 2.0], [5.0, 5.0, 5.0]) == 1.0
    # One observation per group: η² is still defined, ω² needs MS_within.
    assert eta_squared([1.0], [3.0]) == 1.0
    with pytest.raises(InvalidArgumentError, match="more observations than groups"):
        omega_squared([1.0], [3.0])


# --- dominance measures -----------------------------------------------------------------

small_ints = st.lists(st.integers(-4, 4), min_size=1, max_size=60)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(x=small_ints, y=small_ints)
def test_cliffs_delta_and_rank_biserial_against_brute_force_and_scipy(
    x: list[int], y: list[int]
) -> None:
    a, b = np.array(x, dtype=float), np.array(y, dtype=float)
    brute = np.sign(a[:, None] - b[None, :]).mean()
    delta = cliffs_delta(a, b)
    assert delta == pytest.approx(brute, rel=1e-14, abs=1e-15)
    u1 = ss.mannwhitneyu(a, b).statistic  # pairs with x > y, ties counted half
    r = rank_biserial(a, b)
    assert r == pytest.approx(1 - 2 * u1 / (a.size * b.size), rel=1e-13, abs=1e-14)
    assert r == -delta
    assert cliffs_delta(b, a) == -delta


def test_cliffs_delta_is_n_log_n() -> None:
    # 2e5 x 2e5 = 4e10 pairs: hopeless pair by pair, instant by binary search.
    r = np.random.default_rng(7)
    x, y = r.integers(0, 1000, 200_000).astype(float), r.integers(3, 1003, 200_000).astype(float)
    u1 = ss.mannwhitneyu(x, y).statistic
    assert cliffs_delta(x, y) == pytest.approx(2 * u1 / (x.size * y.size) - 1, rel=1e-12)


def test_dominance_worked_example() -> None:
    # x > y in 5 pairs, x < y in 3, one tie: δ = 2 / 9; U1 = 5.5, so r = 1 - 11/9.
    assert cliffs_delta([3, 4, 5], [1, 3, 6]) == pytest.approx(2 / 9)
    assert rank_biserial([3, 4, 5], [1, 3, 6]) == pytest.approx(-2 / 9)
    assert cliffs_delta([5, 6], [1, 2]) == 1.0
    assert cliffs_delta([1.0], [1.0]) == 0.0


@settings(max_examples=100, deadline=None, derandomize=True)
@given(pairs=st.lists(st.tuples(st.integers(-5, 5), st.integers(-5, 5)), min_size=1, max_size=80))
def test_paired_rank_biserial_matches_wilcoxon(pairs: list[tuple[int, int]]) -> None:
    x = np.array([p[0] for p in pairs], dtype=float)
    y = np.array([p[1] for p in pairs], dtype=float)
    d = x - y
    nonzero = int(np.count_nonzero(d))
    if nonzero == 0:
        with pytest.raises(InvalidArgumentError, match="all paired differences are zero"):
            rank_biserial_paired(x, y)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r_plus = ss.wilcoxon(x, y, zero_method="wilcox", alternative="greater", method="approx")
    total = nonzero * (nonzero + 1) / 2
    expected = (2 * r_plus.statistic - total) / total  # (R+ - R-) / (R+ + R-)
    assert rank_biserial_paired(x, y) == pytest.approx(expected, rel=1e-13, abs=1e-15)


def test_paired_rank_biserial_worked_example() -> None:
    # pingouin's wilcoxon documentation example: RBC = -0.378788.
    x = [20, 22, 19, 20, 22, 18, 24, 20, 19, 24, 26, 13]
    y = [38, 37, 33, 29, 14, 12, 20, 22, 17, 25, 26, 16]
    assert rank_biserial_paired(x, y) == pytest.approx(-25 / 66, rel=1e-15)
    assert rank_biserial_paired(y, x) == pytest.approx(25 / 66, rel=1e-15)


# --- odds ratio -------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, derandomize=True)
@given(cells=st.lists(st.one_of(st.integers(0, 3), st.integers(0, 10**6)), min_size=4, max_size=4))
def test_odds_ratio_matches_scipy_sample(cells: list[int]) -> None:
    table = np.array(cells, dtype=np.int64).reshape(2, 2)
    reference = scipy_odds_ratio(table, kind="sample").statistic
    if np.isnan(reference):  # scipy: an empty row or column
        with pytest.raises(InvalidArgumentError, match="empty row or column"):
            odds_ratio(table)
        return
    assert odds_ratio(table) == reference  # both exact: products below 2**53
    a, b, c, d = (float(v) + (0.5 if 0 in cells else 0.0) for v in cells)
    assert odds_ratio(table, haldane=True) == pytest.approx(a * d / (b * c), rel=1e-15)
    assert math.isfinite(odds_ratio(table, haldane=True))


def test_odds_ratio_worked_example() -> None:
    assert odds_ratio([[20, 80], [10, 90]]) == pytest.approx(20 * 90 / (80 * 10))
    assert odds_ratio([[3, 0], [2, 5]]) == math.inf
    assert odds_ratio([[0, 3], [2, 5]]) == 0.0
    assert odds_ratio([[3, 0], [2, 5]], haldane=True) == pytest.approx(3.5 * 5.5 / (0.5 * 2.5))
    assert odds_ratio([[3, 1], [2, 5]], haldane=True) == odds_ratio([[3, 1], [2, 5]])
    assert odds_ratio([[2.5, 1.5], [0.5, 4.0]]) == pytest.approx(2.5 * 4 / 0.75)  # weights


@pytest.mark.parametrize(
    ("table", "error", "match"),
    [
        ([[0, 0], [1, 2]], InvalidArgumentError, "empty row or column"),
        ([1, 2, 3, 4], InvalidArgumentError, "2x2"),
        ([[1, -1], [2, 3]], InvalidArgumentError, "non-negative"),
        ([[1.0, np.nan], [2.0, 3.0]], InvalidArgumentError, "NaN"),
        ([["a", "b"], ["c", "d"]], InvalidTypeError, "counts"),
    ],
)
def test_odds_ratio_rejects_bad_tables(table: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        odds_ratio(table)


# --- interpretation and the bundled result ----------------------------------------------


@pytest.mark.parametrize(
    ("interpret", "cuts"),
    [
        (interpret_d, (0.2, 0.5, 0.8)),
        (interpret_cliffs_delta, (0.147, 0.33, 0.474)),
        (interpret_eta_squared, (0.01, 0.06, 0.14)),
    ],
)
def test_interpretation_bands(interpret: Any, cuts: tuple[float, float, float]) -> None:
    small, medium, large = cuts
    below = lambda v: float(np.nextafter(v, 0.0))  # noqa: E731
    assert interpret(0.0) == "negligible"
    assert interpret(below(small)) == "negligible"
    assert interpret(small) == "small"
    assert interpret(below(medium)) == "small"
    assert interpret(medium) == "medium"
    assert interpret(below(large)) == "medium"
    assert interpret(large) == "large"
    assert interpret(math.inf) == "large"
    with pytest.raises(InvalidArgumentError, match="NaN"):
        interpret(math.nan)
    with pytest.raises(InvalidTypeError):
        interpret("0.5")


def test_signed_measures_use_magnitude_variance_explained_does_not() -> None:
    assert interpret_d(-0.85) == "large"
    assert interpret_cliffs_delta(-0.2) == "small"
    assert interpret_eta_squared(-0.05) == "negligible"  # a negative ω²


def test_measure_effect_covers_every_kind_and_round_trips() -> None:
    r = np.random.default_rng(3)
    x, y = r.standard_normal(40) + 0.6, r.standard_normal(40)
    kinds = typing.get_args(EffectSizeKind)
    assert set(kinds) == set(es._KINDS)
    for kind in kinds:
        result = measure_effect(x, y, kind)
        function = getattr(es, kind)
        assert result.name == kind
        assert result.value == function(x, y)
        standardised = kind in {"cohens_d", "cohens_d_paired", "hedges_g", "glass_delta"}
        band = interpret_d if standardised else interpret_cliffs_delta
        assert result.interpretation == band(result.value)
        assert msgspec.json.decode(msgspec.json.encode(result), type=EffectSize) == result
    assert measure_effect(x, y) == measure_effect(x, y, "cohens_d")
    with pytest.raises(InvalidArgumentError, match="unknown effect size"):
        measure_effect(x, y, "cohen")  # type: ignore[arg-type]


# --- input policy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: cohens_d([1.0, np.nan, 2.0], [1.0, 2.0]), "NaN or infinity"),
        (lambda: hedges_g([1.0, 2.0], [1.0, np.inf]), "NaN or infinity"),
        (lambda: cliffs_delta([np.nan], [1.0]), "NaN or infinity"),
        (lambda: cohens_d([1.0], [1.0, 2.0]), "at least 2 observations"),
        (lambda: glass_delta([1.0], [2.0]), "at least 2 observations"),
        (lambda: cliffs_delta([], [1.0]), "at least 1 observation,"),
        (lambda: cohens_d([1.0, 1.0], [2.0, 2.0]), "pooled SD is 0"),
        (lambda: cohens_d_paired([1.0, 2.0], [0.0, 1.0]), "differences are constant"),
        (lambda: cohens_d_paired([1.0, 2.0], [1.0, 2.0, 3.0]), "same length"),
        (lambda: glass_delta([1.0, 9.0], [0.1, 0.1, 0.1]), "control group is constant"),
        (lambda: eta_squared([1.0, 2.0]), "at least two groups"),
        (lambda: eta_squared([0.1, 0.1], [0.1]), "all observations are equal"),
        (lambda: cohens_d([[1.0, 2.0]], [1.0, 2.0]), "one-dimensional"),
        (lambda: hedges_correction(1.0), "greater than 1"),
        (lambda: hedges_correction(math.nan), "greater than 1"),
    ],
)
def test_degenerate_input_raises(call: Any, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        call()


def test_type_errors_and_array_likes() -> None:
    with pytest.raises(InvalidTypeError):
        cohens_d(["a", "b"], [1.0, 2.0])
    with pytest.raises(InvalidTypeError):
        hedges_correction("10")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NaN"):  # InvalidArgumentError is-a ValueError
        cliffs_delta([1.0], [float("nan")])
    # Lists, tuples, integer and boolean arrays are all accepted.
    assert cohens_d((1, 2, 3), np.array([2, 3, 4], dtype=np.int32)) == pytest.approx(-1.0)
    assert cliffs_delta(np.array([True, True]), [False]) == 1.0


@pytest.mark.parametrize("kind", ["cohens_d", "hedges_g", "cohens_d_paired", "cliffs_delta"])
def test_bootstrap_interval_matches_scipy(kind: str) -> None:
    r = np.random.default_rng(8)
    x, y = r.standard_normal(40) + 0.5, r.standard_normal(40)
    ours = measure_effect(x, y, kind, confidence_level=0.9, n_resamples=499, rng=3)  # type: ignore[arg-type]
    compute = {
        "cohens_d": cohens_d,
        "hedges_g": hedges_g,
        "cohens_d_paired": cohens_d_paired,
        "cliffs_delta": cliffs_delta,
    }[kind]
    ref = ss.bootstrap(
        (x, y),
        compute,
        vectorized=False,
        paired=kind == "cohens_d_paired",
        confidence_level=0.9,
        n_resamples=499,
        rng=np.random.default_rng(3),
    )
    assert ours.confidence_interval is not None
    assert ours.confidence_level == 0.9
    assert ours.confidence_interval.low == pytest.approx(ref.confidence_interval.low, rel=1e-12)
    assert ours.confidence_interval.high == pytest.approx(ref.confidence_interval.high, rel=1e-12)
    assert ours.confidence_interval.low < ours.value < ours.confidence_interval.high


def test_degenerate_resamples_give_nan_interval_with_warning() -> None:
    x, y = np.array([1.0, 1.0, 1.0, 2.0]), np.array([0.0, 0.0, 0.0, 5.0])
    with pytest.warns(DegenerateDataWarning):
        out = measure_effect(x, y, confidence_level=0.95, n_resamples=199, rng=1)
    assert out.confidence_interval is not None
    assert np.isnan(out.confidence_interval.low)
