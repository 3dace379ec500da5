"""Rank tests against scipy.stats on generated data: rankdata, Mann-Whitney U, Wilcoxon
signed-rank and Kruskal-Wallis, every alternative x method x option, ties, zeros,
constant samples, tiny and huge magnitudes, NaN policies and degenerate input."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import msgspec
import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.errors import DegenerateDataWarning, InvalidArgumentError, InvalidTypeError
from crucible.stats import (
    kruskal,
    mannwhitneyu,
    rank_biserial,
    rank_biserial_paired,
    rankdata,
    wilcoxon,
)

ALTERNATIVES = ["two-sided", "less", "greater"]
KINDS = ["normal", "ties", "wide_ties", "zeros", "constant", "heavy", "tiny", "huge"]


def _data(seed: int, n: int, kind: str, shift: float = 0.0) -> np.ndarray:
    r = np.random.default_rng(seed)
    base = {
        "normal": lambda: r.standard_normal(n),
        "ties": lambda: r.integers(0, 3, n).astype(float),
        "wide_ties": lambda: r.integers(-10, 10, n).astype(float),
        "zeros": lambda: r.integers(-2, 3, n).astype(float),
        "constant": lambda: np.full(n, 1.5),
        "heavy": lambda: r.standard_t(1, n),
        "tiny": lambda: r.standard_normal(n) * 1e-300,
        "huge": lambda: r.standard_normal(n) * 1e300,
    }[kind]()
    scale = {"tiny": 1e-300, "huge": 1e300}.get(kind, 1.0)
    return base + shift * scale


def _same(ours: Any, ref: Any) -> None:
    np.testing.assert_allclose(ours.statistic, ref.statistic, rtol=1e-12, atol=0)
    np.testing.assert_allclose(ours.pvalue, ref.pvalue, rtol=1e-10, atol=1e-300)


def _quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


samples = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 300), st.sampled_from(KINDS))


# --- rankdata ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, derandomize=True)
@given(case=samples, method=st.sampled_from(["average", "min", "max", "dense", "ordinal"]))
def test_rankdata_matches_scipy(case: tuple[int, int, str], method: str) -> None:
    seed, n, kind = case
    x = _data(seed, n, kind)
    x[::7] = -x[::7] * 0.0 if kind == "ties" else x[::7]  # -0.0 ties with 0.0
    ours, ref = rankdata(x, method), ss.rankdata(x, method)  # type: ignore[arg-type]
    assert ours.dtype == ref.dtype
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("policy", ["propagate", "omit"])
@pytest.mark.parametrize("method", ["average", "ordinal"])
def test_rankdata_axis_and_nan(policy: str, method: str) -> None:
    a = np.random.default_rng(5).integers(0, 4, (3, 5, 4)).astype(float)
    a[1, 2, 3] = np.nan
    for axis in (None, 0, 1, -1):
        ours = rankdata(a, method, axis=axis, nan_policy=policy)  # type: ignore[arg-type]
        ref = ss.rankdata(a, method, axis=axis, nan_policy=policy)
        assert ours.dtype == ref.dtype
        assert ours.shape == ref.shape
        np.testing.assert_array_equal(ours, ref)
    with pytest.raises(InvalidArgumentError):
        rankdata(a, nan_policy="raise")
    assert rankdata([]).shape == (0,)
    assert rankdata([], "min").dtype == np.int64


# --- Mann-Whitney U ---------------------------------------------------------------------


def _mwu_all(x: np.ndarray, y: np.ndarray, exact_ok: bool) -> None:
    methods = ["auto", "asymptotic", "exact"] if exact_ok else ["auto", "asymptotic"]
    for alt, method, cc in itertools.product(ALTERNATIVES, methods, [True, False]):
        kw: Any = {"alternative": alt, "method": method, "use_continuity": cc}
        ours, ref = mannwhitneyu(x, y, **kw), ss.mannwhitneyu(x, y, **kw)
        _same(ours, ref)
        assert ours.alternative == alt
        assert ours.method in ("exact", "asymptotic")
        if method != "auto":
            assert ours.method == method


@settings(max_examples=150, deadline=None, derandomize=True)
@given(a=samples, m=st.integers(1, 300), shift=st.sampled_from([0.0, 0.3, 2.0]))
def test_mannwhitneyu_matches_scipy(a: tuple[int, int, str], m: int, shift: float) -> None:
    seed, n, kind = a
    x, y = _data(seed, n, kind), _data(seed + 1, m, kind, shift)
    # SciPy's exact recurrence is quadratic in n·m (a Python loop): keep it small there.
    _mwu_all(x, y, exact_ok=n * m <= 4_000)


@pytest.mark.parametrize(("n1", "n2"), [(8, 300), (40, 40), (60, 61), (1, 500), (120, 7)])
def test_mannwhitneyu_exact_at_larger_sizes(n1: int, n2: int) -> None:
    x, y = _data(n1, n1, "normal"), _data(n2, n2, "normal", 0.4)
    for alt in ALTERNATIVES:
        _same(
            mannwhitneyu(x, y, method="exact", alternative=alt),
            ss.mannwhitneyu(x, y, method="exact", alternative=alt),
        )


@settings(max_examples=6, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1_000, 5_000), kind=st.sampled_from(KINDS))
def test_mannwhitneyu_large_samples(seed: int, n: int, kind: str) -> None:
    _mwu_all(_data(seed, n, kind), _data(seed + 9, n // 2 + 3, kind, 0.05), exact_ok=False)


def test_mannwhitneyu_effect_size_is_rank_biserial() -> None:
    x, y = _data(1, 40, "ties"), _data(2, 31, "ties", 0.5)
    res = mannwhitneyu(x, y)
    assert res.effect_size == pytest.approx(rank_biserial(x, y), abs=1e-15)
    assert res.effect_size == pytest.approx(1 - 2 * res.statistic / (40 * 31), abs=1e-15)


def test_mannwhitneyu_zstatistic() -> None:
    x, y = _data(3, 30, "normal"), _data(4, 20, "normal", 0.5)
    res = mannwhitneyu(x, y, method="asymptotic")
    assert ss.norm.sf(res.zstatistic) * 2 == pytest.approx(res.pvalue, rel=1e-12)
    assert np.isnan(mannwhitneyu(x[:5], y[:5], method="exact").zstatistic)


# --- Wilcoxon signed-rank ---------------------------------------------------------------


def _wilcoxon_all(x: np.ndarray, y: np.ndarray | None) -> None:
    # SciPy's exact distribution costs O(n³) in NumPy calls: beyond 120, see the test below.
    methods = ["auto", "exact", "approx"] if x.shape[0] <= 120 else ["auto", "approx"]
    combos = itertools.product(ALTERNATIVES, methods, [False, True], ["wilcox", "pratt", "zsplit"])
    for alt, method, corr, zm in combos:
        if corr and (method == "exact" or (method == "auto" and x.shape[0] <= 13)):
            continue  # the correction only touches the normal approximation, never used here
        kw: Any = {"alternative": alt, "method": method, "correction": corr, "zero_method": zm}
        try:
            ref = _quiet(ss.wilcoxon, x, y, **kw)
        except ValueError:
            # SciPy's permutation route needs two observations; we refuse the same input.
            with pytest.raises(InvalidArgumentError):
                wilcoxon(x, y, **kw)
            continue
        ours = wilcoxon(x, y, **kw)
        _same(ours, ref)
        if method == "approx":
            np.testing.assert_allclose(ours.zstatistic, ref.zstatistic, rtol=1e-12, atol=0)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(a=samples, shift=st.sampled_from([0.0, 0.2, 1.0]), paired=st.booleans())
def test_wilcoxon_matches_scipy(a: tuple[int, int, str], shift: float, paired: bool) -> None:
    seed, n, kind = a
    n = max(n, 14)  # smaller samples: the tests below (SciPy's permutation route is slow)
    x = _data(seed, n, kind, shift)
    y = _data(seed + 1, n, kind) if paired else None
    _wilcoxon_all(x, y)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(a=st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 9), st.sampled_from(KINDS)))
def test_wilcoxon_small_samples_take_every_route(a: tuple[int, int, str]) -> None:
    """n ≤ 13 with ties or zeros is SciPy's exact permutation route; check it often
    (SciPy takes seconds per call at n = 13, so here n ≤ 9; n = 13 below)."""
    seed, n, kind = a
    _wilcoxon_all(_data(seed, n, kind, 0.5), None)


def _sign_flip_pvalue(d: np.ndarray, zero_method: str, alternative: str) -> float:
    """Brute-force reference: T⁺ of every one of the 2ⁿ sign patterns of ``d``."""
    n = d.shape[0]
    keep = d != 0 if zero_method == "wilcox" else np.ones(n, dtype=bool)
    ranks = np.zeros(n)
    ranks[keep] = ss.rankdata(np.abs(d[keep]))
    offset = ranks[d == 0].sum() / 2 if zero_method == "zsplit" else 0.0
    signs = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    flipped = np.where(signs == 1, -d, d)
    null = ((flipped > 0) * ranks).sum(axis=1) + offset
    observed = ((d > 0) * ranks).sum() + offset
    less, greater = np.mean(null <= observed), np.mean(null >= observed)
    return {"less": less, "greater": greater}.get(alternative, min(2 * min(less, greater), 1))


@pytest.mark.parametrize("seed", range(4))
def test_wilcoxon_permutation_route_at_n13(seed: int) -> None:
    d = _data(seed, 13, "zeros" if seed % 2 else "wide_ties", 0.5)
    for alt, zm in itertools.product(ALTERNATIVES, ["wilcox", "pratt", "zsplit"]):
        res = wilcoxon(d, alternative=alt, zero_method=zm)  # type: ignore[arg-type]
        assert res.method == "permutation"
        assert res.pvalue == pytest.approx(_sign_flip_pvalue(d, zm, alt), rel=1e-14)
    zm, alt = ["wilcox", "pratt", "zsplit", "wilcox"][seed], ALTERNATIVES[seed % 3]
    _same(
        wilcoxon(d, alternative=alt, zero_method=zm),
        ss.wilcoxon(d, alternative=alt, zero_method=zm),
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["normal", "zeros", "wide_ties"])
@pytest.mark.parametrize("n", [200, 300])
def test_wilcoxon_exact_at_larger_sizes(n: int, kind: str) -> None:
    d = _data(n, n, kind, 0.1)
    for alt, zm in itertools.product(ALTERNATIVES, ["wilcox", "pratt", "zsplit"]):
        kw: Any = {"alternative": alt, "method": "exact", "zero_method": zm}
        _same(wilcoxon(d, **kw), ss.wilcoxon(d, **kw))


@pytest.mark.parametrize("n", [20, 45, 50, 60])
def test_wilcoxon_exact_far_tails(n: int) -> None:
    """Extreme T⁺: SciPy's upper tail is ``1 - (sum near 1)``; we reproduce it bit for bit."""
    d = np.arange(1.0, n + 1)
    for flips in ([], [0], [0, 2], [n - 1]):
        e = d.copy()
        e[flips] *= -1
        for alt in ALTERNATIVES:
            kw: Any = {"alternative": alt, "method": "exact"}
            _same(wilcoxon(e, **kw), ss.wilcoxon(e, **kw))
            _same(wilcoxon(-e, **kw), ss.wilcoxon(-e, **kw))


@settings(max_examples=5, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1_000, 5_000), kind=st.sampled_from(KINDS))
def test_wilcoxon_large_samples(seed: int, n: int, kind: str) -> None:
    x, y = _data(seed, n, kind, 0.01), _data(seed + 5, n, kind)
    for alt, corr, zm in itertools.product(ALTERNATIVES, [False, True], ["wilcox", "zsplit"]):
        kw: Any = {"alternative": alt, "correction": corr, "zero_method": zm}
        _same(wilcoxon(x, y, **kw), _quiet(ss.wilcoxon, x, y, **kw))


def test_wilcoxon_effect_size_and_methods() -> None:
    x, y = _data(1, 30, "ties", 0.4), _data(2, 30, "ties")
    res = wilcoxon(x, y)
    assert res.effect_size == pytest.approx(rank_biserial_paired(x, y), abs=1e-15)
    assert res.method == "asymptotic"
    assert wilcoxon(x[:10], y[:10]).method == "permutation"
    assert wilcoxon(np.arange(1.0, 9.0)).method == "exact"
    assert wilcoxon(x, y, method="approx").method == "asymptotic"


# --- Kruskal-Wallis ---------------------------------------------------------------------


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    a=samples,
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=5),
    shift=st.sampled_from([0.0, 0.5]),
)
def test_kruskal_matches_scipy(a: tuple[int, int, str], sizes: list[int], shift: float) -> None:
    seed, n, kind = a
    groups = [_data(seed, n, kind)] + [
        _data(seed + i + 1, m, kind, shift * i) for i, m in enumerate(sizes)
    ]
    ours, ref = kruskal(*groups), _quiet(ss.kruskal, *groups)
    _same(ours, ref)
    total, k = sum(g.shape[0] for g in groups), len(groups)
    assert ours.df == k - 1
    np.testing.assert_allclose(ours.epsilon_squared, ref.statistic / (total - 1), rtol=1e-14)
    if total > k:
        eta = (ref.statistic - k + 1) / (total - k)
        np.testing.assert_allclose(ours.eta_squared, eta, rtol=1e-12, atol=1e-15)


def test_kruskal_large_samples() -> None:
    groups = [_data(s, 5_000 - 700 * s, "wide_ties", 0.02 * s) for s in range(4)]
    _same(kruskal(*groups), ss.kruskal(*groups))


# --- NaN, empty and degenerate input ----------------------------------------------------


def _nan_result(res: Any) -> bool:
    return bool(np.isnan(res.statistic) and np.isnan(res.pvalue))


@pytest.mark.parametrize("policy", ["propagate", "omit", "raise"])
def test_nan_policies(policy: str) -> None:
    x = np.array([1.0, np.nan, 3.0, 4.0, 2.5, 7.0])
    y = np.array([2.0, 5.0, np.nan, 1.0, 9.0, 0.5])
    calls = [
        (mannwhitneyu, ss.mannwhitneyu, (x, y), {}),
        (wilcoxon, ss.wilcoxon, (x, y), {}),
        (wilcoxon, ss.wilcoxon, (x,), {"method": "approx"}),
        (kruskal, ss.kruskal, (x, y, y[:2]), {}),
    ]
    for ours_fn, ref_fn, args, kw in calls:
        if policy == "raise":
            with pytest.raises(InvalidArgumentError):
                ours_fn(*args, nan_policy=policy, **kw)
            continue
        ours = ours_fn(*args, nan_policy=policy, **kw)
        ref = _quiet(ref_fn, *args, nan_policy=policy, **kw)
        _same(ours, ref)
        assert _nan_result(ours) == (policy == "propagate")


def test_empty_samples_give_nan_with_a_warning() -> None:
    cases = [
        lambda: mannwhitneyu([], [1.0, 2.0]),
        lambda: mannwhitneyu([np.nan], [1.0], nan_policy="omit"),
        lambda: wilcoxon([]),
        lambda: wilcoxon([1.0], [np.nan], nan_policy="omit"),
        lambda: kruskal([1.0, 2.0], []),
    ]
    for call in cases:
        with pytest.warns(DegenerateDataWarning):
            assert _nan_result(call())


def test_degenerate_data_as_scipy() -> None:
    pairs = [
        (mannwhitneyu([1, 1, 1], [1, 1]), ss.mannwhitneyu([1, 1, 1], [1, 1])),
        (mannwhitneyu([1.0], [2.0]), ss.mannwhitneyu([1.0], [2.0])),
        (mannwhitneyu([1, np.inf], [2, -np.inf]), ss.mannwhitneyu([1, np.inf], [2, -np.inf])),
        (wilcoxon([0.0, 0, 0]), _quiet(ss.wilcoxon, [0.0, 0, 0])),
        (wilcoxon([0.0] * 3, method="exact"), ss.wilcoxon([0.0] * 3, method="exact")),
        (wilcoxon([0.0] * 60), _quiet(ss.wilcoxon, [0.0] * 60)),
        (wilcoxon([1.0]), ss.wilcoxon([1.0])),
        (kruskal([1, 1, 1], [1, 1]), _quiet(ss.kruskal, [1, 1, 1], [1, 1])),
        (kruskal([1], [2]), ss.kruskal([1], [2])),
    ]
    for ours, ref in pairs:
        _same(ours, ref)


def test_invalid_arguments() -> None:
    bad: list[Any] = [
        lambda: mannwhitneyu([1], [2], alternative="both"),  # type: ignore[arg-type]
        lambda: mannwhitneyu([1], [2], method="perm"),  # type: ignore[arg-type]
        lambda: mannwhitneyu([1], [2], use_continuity="yes"),  # type: ignore[arg-type]
        lambda: mannwhitneyu([[1, 2]], [2]),
        lambda: mannwhitneyu([1], [2], nan_policy="drop"),  # type: ignore[arg-type]
        lambda: wilcoxon([1, 2], [1]),
        lambda: wilcoxon([1, 2], zero_method="none"),  # type: ignore[arg-type]
        lambda: wilcoxon([1, 2], method="perm"),  # type: ignore[arg-type]
        lambda: wilcoxon([1, 2], correction=2),  # type: ignore[arg-type]
        lambda: wilcoxon([0.0]),  # SciPy's permutation route needs two observations
        lambda: kruskal([1, 2]),
        lambda: rankdata([1, 2], "mean"),  # type: ignore[arg-type]
        lambda: rankdata([[1, 2]], axis=2),
    ]
    for call in bad:
        with pytest.raises(InvalidArgumentError):
            call()
    with pytest.raises(InvalidTypeError):
        mannwhitneyu(["a"], [1.0])


def test_results_are_frozen_structs() -> None:
    res = mannwhitneyu([1.0, 2.0, 3.0], [4.0, 5.0], method="asymptotic")
    assert msgspec.json.decode(msgspec.json.encode(res), type=type(res)) == res
    with pytest.raises(AttributeError):
        res.pvalue = 0.5  # type: ignore[misc]
    assert kruskal([1.0, 2.0], [3.0, 4.0]).df == 1.0
