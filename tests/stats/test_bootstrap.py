"""crucible.stats.bootstrap against scipy.stats.bootstrap itself, for the same seed.

The resampling must draw the very indices SciPy draws, so the bootstrap distributions are
compared exactly; the intervals, which pass through the normal CDF and quantile, to 1e-12.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible import prng
from crucible.errors import DegenerateDataWarning, InvalidArgumentError
from crucible.stats.bootstrap import bootstrap

METHODS = ["bca", "percentile", "basic"]
ALTERNATIVES = ["two-sided", "less", "greater"]


def _mean(x: Any, axis: int) -> Any:
    return np.mean(x, axis=axis)


def _median(x: Any, axis: int) -> Any:
    return np.median(x, axis=axis)


def _std1(x: Any, axis: int) -> Any:
    return np.std(x, ddof=1, axis=axis)


def _var0(x: Any, axis: int) -> Any:
    return np.var(x, axis=axis)


def _trim(x: Any, axis: int) -> Any:
    return ss.trim_mean(x, 0.2, axis=axis)


def _q90(x: Any, axis: int) -> Any:
    return np.quantile(x, 0.9, axis=axis)


def _q03(x: Any, axis: int) -> Any:
    return np.quantile(x, 0.03, axis=axis)


def _diff_means(x: Any, y: Any, axis: int) -> Any:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def _ratio_medians(x: Any, y: Any, axis: int) -> Any:
    return np.median(x, axis=axis) / np.median(y, axis=axis)


ONE_SAMPLE: list[tuple[str, dict[str, float], Callable[..., Any]]] = [
    ("mean", {}, _mean),
    ("median", {}, _median),
    ("std", {"ddof": 1.0}, _std1),
    ("var", {}, _var0),
    ("trim_mean", {"proportion": 0.2}, _trim),
    ("quantile", {"q": 0.9}, _q90),
    ("quantile", {"q": 0.03}, _q03),
]


def _assert_same(ours: Any, ref: Any, exact_distribution: bool = True) -> None:
    if exact_distribution:
        np.testing.assert_array_equal(ours.bootstrap_distribution, ref.bootstrap_distribution)
    else:
        np.testing.assert_allclose(
            ours.bootstrap_distribution, ref.bootstrap_distribution, rtol=1e-12, atol=1e-300
        )
    ci = ref.confidence_interval
    np.testing.assert_allclose(ours.confidence_interval.low, ci.low, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.confidence_interval.high, ci.high, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.standard_error, ref.standard_error, rtol=1e-12)


samples_st = st.integers(min_value=2, max_value=300).flatmap(
    lambda n: st.tuples(
        st.integers(0, 2**32 - 1),
        st.just(n),
        st.sampled_from(["normal", "ties", "heavy", "tiny", "huge"]),
    )
)


def _data(seed: int, n: int, kind: str) -> np.ndarray:
    r = np.random.default_rng(seed)
    if kind == "ties":
        return r.integers(0, 4, n).astype(float)
    if kind == "heavy":
        return r.standard_cauchy(n)
    if kind == "tiny":
        return r.standard_normal(n) * 1e-200
    if kind == "huge":
        return r.standard_normal(n) * 1e200
    return r.standard_normal(n)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(case=samples_st, which=st.integers(0, len(ONE_SAMPLE) - 1), method=st.sampled_from(METHODS))
def test_one_sample_builtins_match_scipy(
    case: tuple[int, int, str], which: int, method: str
) -> None:
    seed, n, kind = case
    name, options, reference = ONE_SAMPLE[which]
    x = _data(seed, n, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = bootstrap((x,), name, method=method, n_resamples=499, rng=seed, **options)  # type: ignore[arg-type]
        ref = ss.bootstrap(
            (x,), reference, method=method, n_resamples=499, rng=np.random.default_rng(seed)
        )
    exact = name != "trim_mean"  # SciPy sums a partitioned slice in its own order
    _assert_same(ours, ref, exact_distribution=exact)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("paired", [False, True])
@pytest.mark.parametrize(
    ("name", "reference"), [("diff_means", _diff_means), ("ratio_medians", _ratio_medians)]
)
def test_two_sample_builtins_match_scipy(
    method: str, alternative: str, paired: bool, name: str, reference: Callable[..., Any]
) -> None:
    r = np.random.default_rng(11)
    x = r.standard_normal(120) + 3
    y = r.standard_normal(120 if paired else 90) + 3.2
    ours = bootstrap((x, y), name, method=method, alternative=alternative, paired=paired, rng=5)  # type: ignore[arg-type]
    ref = ss.bootstrap(
        (x, y),
        reference,
        method=method,
        alternative=alternative,
        paired=paired,
        rng=np.random.default_rng(5),
    )
    _assert_same(ours, ref)


@pytest.mark.parametrize("batch", [None, 1, 7, 1000])
def test_batches_and_large_samples_match_scipy(batch: int | None) -> None:
    x = np.random.default_rng(3).exponential(size=2_000)
    ours = bootstrap((x,), "mean", n_resamples=3_001, batch=batch, rng=99)
    ref = ss.bootstrap((x,), np.mean, n_resamples=3_001, batch=batch, rng=np.random.default_rng(99))
    _assert_same(ours, ref)


def test_callable_statistic_matches_scipy() -> None:
    x = np.random.default_rng(4).gamma(2.0, size=150)

    def p90(a: Any, axis: int) -> Any:
        return np.percentile(a, 90, axis=axis)

    ours = bootstrap((x,), p90, n_resamples=999, rng=1)
    ref = ss.bootstrap((x,), p90, n_resamples=999, rng=np.random.default_rng(1))
    _assert_same(ours, ref)


def test_unvectorised_callable_is_applied_per_resample() -> None:
    x = np.random.default_rng(5).standard_normal(40)
    ours = bootstrap((x,), lambda a: float(np.max(a) - np.min(a)), n_resamples=199, rng=2)
    ref = ss.bootstrap(
        (x,),
        lambda a: np.max(a) - np.min(a),
        n_resamples=199,
        rng=np.random.default_rng(2),
        vectorized=False,
    )
    _assert_same(ours, ref)


def test_generators_are_accepted_and_advanced_like_numpy() -> None:
    x = np.random.default_rng(6).standard_normal(64)
    theirs = np.random.default_rng(8)
    ours_np = np.random.default_rng(8)
    ss.bootstrap((x,), np.mean, n_resamples=300, rng=theirs)
    bootstrap((x,), "mean", n_resamples=300, rng=ours_np)
    assert ours_np.bit_generator.state == theirs.bit_generator.state
    ours = prng.default_rng(8)
    bootstrap((x,), "mean", n_resamples=300, rng=ours)
    assert ours.bit_generator.state == theirs.bit_generator.state


def test_buffered_half_word_is_used_first() -> None:
    x = np.random.default_rng(7).standard_normal(33)
    theirs = np.random.default_rng(12)
    theirs.random(dtype=np.float32)  # leaves half a word buffered
    ours = prng.default_rng(12)
    ours.random(dtype=np.float32)
    ref = ss.bootstrap((x,), np.mean, n_resamples=101, rng=theirs)
    got = bootstrap((x,), "mean", n_resamples=101, rng=ours)
    _assert_same(got, ref)
    assert ours.bit_generator.state == theirs.bit_generator.state


def test_degenerate_data_warns_and_gives_nan_like_scipy() -> None:
    x = np.full(25, 3.0)
    with pytest.warns(DegenerateDataWarning):
        ours = bootstrap((x,), "mean", rng=0)
    assert np.isnan(ours.confidence_interval.low)
    assert np.isnan(ours.confidence_interval.high)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ss.bootstrap((x,), np.mean, rng=np.random.default_rng(0))
    assert np.isnan(ref.confidence_interval.low)
    pct = bootstrap((x,), "mean", method="percentile", rng=0)
    assert pct.confidence_interval.low == pct.confidence_interval.high == 3.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"data": ([1.0],), "statistic": "mean"}, "two or more"),
        ({"data": (), "statistic": "mean"}, "non-empty"),
        (
            {"data": ([1.0, 2.0], [1.0, 2.0, 3.0]), "statistic": "diff_means", "paired": True},
            "same length",
        ),
        ({"data": ([1.0, 2.0],), "statistic": "diff_means"}, "two samples"),
        ({"data": ([1.0, 2.0],), "statistic": "mode"}, "unknown statistic"),
        ({"data": ([1.0, 2.0],), "statistic": "mean", "method": "studentized"}, "method"),
        ({"data": ([1.0, 2.0],), "statistic": "mean", "n_resamples": 0}, "n_resamples"),
        ({"data": ([1.0, 2.0],), "statistic": "mean", "confidence_level": 1.5}, "confidence_level"),
        ({"data": ([[1.0, 2.0]],), "statistic": "mean"}, "one-dimensional"),
    ],
)
def test_bad_arguments_raise_typed_errors(kwargs: dict[str, Any], match: str) -> None:
    data = kwargs.pop("data")
    statistic = kwargs.pop("statistic")
    with pytest.raises(InvalidArgumentError, match=match):
        bootstrap(data, statistic, **kwargs)


def test_same_seed_same_answer_whatever_the_thread_count() -> None:
    x = np.random.default_rng(9).standard_normal(500)
    a = bootstrap((x,), "median", n_resamples=2_000, rng=4)
    b = bootstrap((x,), "median", n_resamples=2_000, rng=4)
    np.testing.assert_array_equal(a.bootstrap_distribution, b.bootstrap_distribution)
    assert a.confidence_interval == b.confidence_interval
