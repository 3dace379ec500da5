"""crucible.stats.permutation_test against scipy.stats.permutation_test, for the same seed.

The permutations must be SciPy's, drawn in SciPy's order (or enumerated in its order for
exact tests), so statistics, null distributions and p-values are compared exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible import prng
from crucible.errors import InvalidArgumentError
from crucible.stats import permutation_test

ALTERNATIVES = ["two-sided", "less", "greater"]


def _mean_diff(x: Any, y: Any, axis: int = -1) -> Any:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def _median_diff(x: Any, y: Any, axis: int = -1) -> Any:
    return np.median(x, axis=axis) - np.median(y, axis=axis)


def _mean(x: Any, axis: int = -1) -> Any:
    return np.mean(x, axis=axis)


def _pearson(x: Any, y: Any, axis: int = -1) -> Any:
    return ss.pearsonr(x, y, axis=axis).statistic


def _t_welch(x: Any, y: Any, axis: int = -1) -> Any:
    return ss.ttest_ind(x, y, axis=axis, equal_var=False).statistic


def _three_means(x: Any, y: Any, z: Any, axis: int = -1) -> Any:
    return np.mean(x, axis=axis) + 2 * np.mean(y, axis=axis) - 3 * np.mean(z, axis=axis)


def _rank_sum(x: Any, y: Any, axis: int = -1) -> Any:
    # An integer-valued statistic: SciPy then compares without a tolerance.
    both = np.concatenate([x, y], axis=axis)
    ranks = np.argsort(np.argsort(both, axis=axis), axis=axis)
    return np.sum(ranks[..., : x.shape[axis]], axis=axis)


def _same(got: Any, ref: Any) -> None:
    assert np.array_equal(np.asarray(got.statistic), np.asarray(ref.statistic))
    assert np.array_equal(got.null_distribution, ref.null_distribution)
    assert np.array_equal(np.asarray(got.pvalue), np.asarray(ref.pvalue))


def _check(data: Any, stat: Any, ours: Any = None, **kw: Any) -> Any:
    seed = kw.pop("seed", 0)
    ref = ss.permutation_test(data, stat, rng=np.random.default_rng(seed), **kw)
    got = permutation_test(data, ours if ours is not None else stat, rng=seed, **kw)
    _same(got, ref)
    return got


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(
    ("name", "stat"), [("mean_difference", _mean_diff), ("median_difference", _median_diff)]
)
@pytest.mark.parametrize("seed", range(6))
def test_builtin_independent_equals_scipy(
    alternative: str, name: str, stat: Any, seed: int
) -> None:
    rng = np.random.default_rng(100 + seed)
    x, y = rng.normal(size=17 + seed), rng.normal(0.4, 1.3, size=23)
    got = _check((x, y), stat, ours=name, alternative=alternative, n_resamples=2999, seed=seed)
    assert not got.exact
    assert got.n_resamples == 2999


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("stat", [_mean_diff, _median_diff, _t_welch])
def test_callable_independent_equals_scipy(alternative: str, stat: Any) -> None:
    rng = np.random.default_rng(7)
    x, y = rng.standard_t(3, size=30), rng.standard_t(3, size=12) + 0.5
    _check((x, y), stat, alternative=alternative, n_resamples=999, seed=11)


@pytest.mark.parametrize("batch", [None, 1, 7, 1000])
def test_batches_do_not_change_the_answer(batch: int | None) -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=9), rng.normal(size=8)
    _check((x, y), _mean_diff, batch=batch, n_resamples=500, seed=5)
    _check((x[:8], y), _mean_diff, batch=batch, permutation_type="samples", seed=6)
    _check((x, y[:7], x[:7]), _three_means, batch=batch, n_resamples=300, seed=7)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("sizes", [(2, 2), (3, 5), (6, 6), (2, 3, 4), (7, 4)])
def test_exact_enumeration_equals_scipy(alternative: str, sizes: tuple[int, ...]) -> None:
    rng = np.random.default_rng(sum(sizes))
    data = tuple(rng.normal(i, 1.0, size=n) for i, n in enumerate(sizes))
    stat = _three_means if len(sizes) == 3 else _mean_diff
    got = _check(data, stat, alternative=alternative)
    assert got.exact
    got = _check(data, stat, alternative=alternative, n_resamples=np.inf, batch=5)
    assert got.method == "exact permutation test (independent)"


def test_integer_statistic_and_ties() -> None:
    x = np.array([1.0, 2.0, 2.0, 3.0, 5.0, 8.0])
    y = np.array([2.0, 3.0, 3.0, 4.0, 4.0])
    _check((x, y), _rank_sum)
    _check((x, y), _rank_sum, n_resamples=99, seed=4)
    _check((np.round(x), np.round(y)), _mean_diff, ours="mean_difference", n_resamples=99)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("n", [3, 6, 9, 40])
def test_paired_samples_equal_scipy(alternative: str, n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    y = x + rng.normal(0.3, 0.5, size=n)
    got = _check((x, y), _mean_diff, alternative=alternative, permutation_type="samples", seed=n)
    assert got.exact == (2**n <= 9999)
    _check((x, y), _mean_diff, ours="mean_difference", permutation_type="samples", seed=n)
    # One sample: sign flips.
    _check((y - x,), _mean, ours="mean", alternative=alternative, permutation_type="samples")


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("n", [4, 7, 25])
def test_pairings_equal_scipy(alternative: str, n: int) -> None:
    rng = np.random.default_rng(n + 1)
    x = rng.normal(size=n)
    y = 0.6 * x + rng.normal(size=n)
    _check((x, y), _pearson, alternative=alternative, permutation_type="pairings", seed=n)
    _check((x, y), _pearson, permutation_type="pairings", n_resamples=500, batch=64, seed=2)


def test_non_vectorized_statistic() -> None:
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=11), rng.normal(size=13)

    def plain(a: Any, b: Any) -> float:
        return float(np.mean(a) - np.median(b))

    _check((x, y), plain, n_resamples=200, seed=3)
    _check((x, y), plain, vectorized=False, n_resamples=50, seed=3)
    _check((x, y[:11]), plain, permutation_type="samples", n_resamples=60, seed=3)


def test_multidimensional_axis() -> None:
    rng = np.random.default_rng(12)
    x = rng.normal(size=(3, 10))
    y = rng.normal(size=(1, 8))
    _check((x, y), _mean_diff, axis=1, n_resamples=300, seed=8)
    _check((x.T, y.T), _mean_diff, axis=0, n_resamples=300, seed=8)
    _check((x[:, :6], x[:, 4:]), _mean_diff, axis=-1, permutation_type="samples", seed=2)


def test_generators_accepted_and_advanced() -> None:
    rng = np.random.default_rng(21)
    x, y = rng.normal(size=15), rng.normal(size=15)
    ref_gen = np.random.default_rng(5)
    ref = ss.permutation_test((x, y), _mean_diff, rng=ref_gen, n_resamples=400)
    ours_gen = np.random.default_rng(5)
    got = permutation_test((x, y), "mean_difference", rng=ours_gen, n_resamples=400)
    _same(got, ref)
    assert ours_gen.bit_generator.state == ref_gen.bit_generator.state
    got = permutation_test((x, y), _mean_diff, rng=prng.default_rng(5), n_resamples=400)
    _same(
        got, ss.permutation_test((x, y), _mean_diff, rng=np.random.default_rng(5), n_resamples=400)
    )
    philox = ss.permutation_test(
        (x, y), _mean_diff, rng=np.random.Generator(np.random.Philox(3)), n_resamples=300
    )
    ours = permutation_test(
        (x, y), "mean_difference", rng=np.random.Generator(np.random.Philox(3)), n_resamples=300
    )
    _same(ours, philox)
    paired = ss.permutation_test(
        (x, y),
        _mean_diff,
        permutation_type="samples",
        rng=np.random.Generator(np.random.Philox(4)),
        n_resamples=300,
    )
    ours = permutation_test(
        (x, y),
        _mean_diff,
        permutation_type="samples",
        rng=np.random.Generator(np.random.Philox(4)),
        n_resamples=300,
    )
    _same(ours, paired)


def test_result_fields() -> None:
    res = permutation_test(([1.0, 2.0, 3.0], [4.0, 5.0]), "mean_difference")
    assert isinstance(res.statistic, float)
    assert isinstance(res.pvalue, float)
    assert res.exact
    assert res.n_resamples == 10
    assert res.null_distribution.shape == (10,)
    assert res.alternative == "two-sided"
    assert res.permutation_type == "independent"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": ([1.0, 2.0],)}, "at least two samples"),
        ({"data": ([1.0], [2.0, 3.0])}, "two or more observations"),
        ({"permutation_type": "both"}, "permutation_type"),
        ({"alternative": "bigger"}, "alternative"),
        ({"n_resamples": 0}, "n_resamples"),
        ({"n_resamples": 2.5}, "n_resamples"),
        ({"batch": 0}, "batch"),
        ({"statistic": "mode"}, "unknown statistic"),
        ({"statistic": "mean"}, "takes 1 sample"),
        ({"axis": 1.5}, "axis"),
        ({"axis": 3}, "out of bounds"),
        ({"vectorized": "yes", "statistic": _mean_diff}, "vectorized"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"data": ([1.0, 2.0, 3.0], [4.0, 5.0]), "statistic": "mean_difference"}
    args.update(kwargs)
    with pytest.raises(InvalidArgumentError, match=message):
        permutation_test(args.pop("data"), args.pop("statistic"), **args)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    n1=st.integers(2, 60),
    n2=st.integers(2, 60),
    seed=st.integers(0, 2**32 - 1),
    alternative=st.sampled_from(ALTERNATIVES),
    builtin=st.sampled_from(["mean_difference", "median_difference"]),
    scale=st.sampled_from([1e-8, 1.0, 1e6]),
    ties=st.booleans(),
    n_resamples=st.sampled_from([1, 99, 999, 9999]),
)
def test_hypothesis_independent(
    n1: int,
    n2: int,
    seed: int,
    alternative: str,
    builtin: str,
    scale: float,
    ties: bool,
    n_resamples: int,
) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.standard_cauchy(n1) * scale, rng.standard_cauchy(n2) * scale + scale
    if ties:
        x, y = np.round(x / scale), np.round(y / scale)
    stat = _mean_diff if builtin == "mean_difference" else _median_diff
    _check((x, y), stat, ours=builtin, alternative=alternative, n_resamples=n_resamples, seed=seed)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    n=st.integers(2, 30),
    seed=st.integers(0, 2**32 - 1),
    alternative=st.sampled_from(ALTERNATIVES),
    kind=st.sampled_from(["samples", "pairings"]),
    n_resamples=st.sampled_from([50, 999]),
    batch=st.sampled_from([None, 13]),
)
def test_hypothesis_paired(
    n: int, seed: int, alternative: str, kind: str, n_resamples: int, batch: int | None
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = x + rng.normal(size=n)
    stat = _mean_diff if kind == "samples" else _pearson
    _check(
        (x, y),
        stat,
        alternative=alternative,
        permutation_type=kind,
        n_resamples=n_resamples,
        batch=batch,
        seed=seed,
    )
