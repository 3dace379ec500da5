"""crucible.stats descriptive statistics against NumPy and SciPy, and the streaming summaries.

The moments are computed with NumPy's summation order and SciPy's formulas, so they are
checked to 1e-12 relative (in practice they agree to the bit). RunningStats is checked
against NumPy over the concatenated stream, QuantileSketch's rank error against its stated
KLL bound on several distributions, streamed whole and merged from parts.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.errors import InvalidArgumentError, InvalidTypeError
from crucible.stats import descriptive as d
from crucible.stats.quantile import QuantileSketch

RTOL = 1e-12
KINDS = ["normal", "skewed", "cauchy", "ties", "offset", "huge", "tiny", "constant"]


def make_data(kind: str, n: int, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    if kind == "normal":
        return rng.standard_normal(n)
    if kind == "skewed":
        return rng.lognormal(0, 1.5, n)
    if kind == "cauchy":
        return rng.standard_cauchy(n)
    if kind == "ties":
        return rng.integers(0, 3, n).astype(float)
    if kind == "offset":
        return 1e6 + rng.standard_normal(n)  # large mean, small spread
    if kind == "huge":
        return rng.standard_normal(n) * 1e150
    if kind == "tiny":
        return rng.standard_normal(n) * 1e-150
    return np.full(n, 0.1)


def quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def close(got: float, want: Any) -> None:
    np.testing.assert_allclose(got, float(want), rtol=RTOL, atol=0, equal_nan=True)


samples = st.builds(
    make_data,
    st.sampled_from(KINDS),
    st.one_of(st.integers(1, 10), st.integers(1, 5000)),
    st.integers(0, 2**32),
)
SETTINGS = settings(deadline=None, derandomize=True, max_examples=60)

REFERENCES: list[tuple[str, Callable[[Any], float], Callable[[Any], Any]]] = [
    ("mean", d.mean, np.mean),
    ("var", d.var, np.var),
    ("var ddof=1", lambda x: d.var(x, ddof=1), lambda x: np.var(x, ddof=1)),
    ("std ddof=1.5", lambda x: d.std(x, ddof=1.5), lambda x: np.std(x, ddof=1.5)),
    ("sem", d.sem, ss.sem),
    ("sem ddof=0", lambda x: d.sem(x, ddof=0), lambda x: ss.sem(x, ddof=0)),
    ("median", d.median, np.median),
    ("min", d.min, np.min),
    ("max", d.max, np.max),
    ("skew", d.skew, ss.skew),
    ("skew unbiased", lambda x: d.skew(x, bias=False), lambda x: ss.skew(x, bias=False)),
    ("kurtosis", d.kurtosis, ss.kurtosis),
    (
        "kurtosis pearson unbiased",
        lambda x: d.kurtosis(x, fisher=False, bias=False),
        lambda x: ss.kurtosis(x, fisher=False, bias=False),
    ),
]


@pytest.mark.parametrize(("name", "ours", "ref"), REFERENCES, ids=[r[0] for r in REFERENCES])
@SETTINGS
@given(x=samples)
def test_statistics_match_numpy_and_scipy(name: str, ours: Any, ref: Any, x: Any) -> None:
    close(ours(x), quiet(ref, x))


@SETTINGS
@given(x=samples)
def test_describe_matches_scipy(x: Any) -> None:
    got, want = d.describe(x), quiet(ss.describe, x)
    assert isinstance(got, d.Describe)
    assert got.nobs == want.nobs
    assert (got.min, got.max) == want.minmax
    for ours, theirs in [
        (got.mean, want.mean),
        (got.variance, want.variance),
        (got.skewness, want.skewness),
        (got.kurtosis, want.kurtosis),
    ]:
        close(ours, theirs)


@settings(deadline=None, derandomize=True, max_examples=40)
@given(x=samples, seed=st.integers(0, 2**32), nans=st.integers(1, 20))
def test_nan_policies(x: Any, seed: int, nans: int) -> None:
    x = x.copy()
    x[np.random.default_rng(seed).integers(0, x.size, nans)] = np.nan
    clean = x[~np.isnan(x)]
    assert np.isnan(d.mean(x))
    assert np.isnan(d.skew(x))
    assert np.isnan(d.min(x))
    assert np.isnan(d.describe(x).variance)
    if clean.size:
        close(d.mean(x, nan_policy="omit"), np.nanmean(x))
        close(d.var(x, ddof=1, nan_policy="omit"), quiet(np.nanvar, x, ddof=1))
        close(d.median(x, nan_policy="omit"), np.nanmedian(x))
        close(d.max(x, nan_policy="omit"), np.nanmax(x))
        close(d.skew(x, nan_policy="omit"), quiet(ss.skew, x, nan_policy="omit"))
        close(d.kurtosis(x, nan_policy="omit"), quiet(ss.kurtosis, x, nan_policy="omit"))
        close(d.describe(x, nan_policy="omit").variance, quiet(ss.describe, clean).variance)
    for fn in (d.mean, d.median, d.describe):
        with pytest.raises(InvalidArgumentError, match="contains nan"):
            fn(x, nan_policy="raise")


@settings(deadline=None, derandomize=True, max_examples=30)
@given(
    rows=st.integers(0, 30),
    cols=st.integers(1, 30),
    axis=st.sampled_from([None, 0, 1, -1]),
    seed=st.integers(0, 2**32),
)
def test_median_along_an_axis(rows: int, cols: int, axis: Any, seed: int) -> None:
    x = make_data("ties", rows * cols, seed).reshape(rows, cols)
    if rows:
        x[0, 0] = np.nan
    np.testing.assert_array_equal(d.median(x, axis=axis), quiet(np.median, x, axis=axis))
    np.testing.assert_array_equal(
        d.median(x, axis=axis, nan_policy="omit"), quiet(np.nanmedian, x, axis=axis)
    )


def test_large_inputs_sum_in_parallel_exactly() -> None:
    x = make_data("skewed", 1_000_003, 1)
    assert d.mean(x) == np.mean(x)
    assert d.var(x, ddof=1) == np.var(x, ddof=1)
    close(d.skew(x), ss.skew(x))
    close(d.kurtosis(x), ss.kurtosis(x))
    assert d.median(x) == np.median(x)


def test_edge_cases() -> None:
    assert np.isnan(d.mean([]))
    assert np.isnan(d.var([]))
    assert np.isnan(d.median([]))
    assert np.isnan(d.skew([]))
    assert np.isnan(d.sem([1.0]))
    with pytest.raises(InvalidArgumentError, match="zero-size array"):
        d.min([])
    with pytest.raises(InvalidArgumentError, match="must not be empty"):
        d.describe([])
    one = d.describe([4.0])
    assert (one.nobs, one.min, one.max, one.mean) == (1, 4.0, 4.0, 4.0)
    assert np.isnan(one.variance)
    assert np.isnan(one.skewness)
    assert np.isnan(d.skew([2.0] * 10))
    assert np.isnan(quiet(ss.skew, [2.0] * 10))
    assert d.var([1, 2, 3], ddof=5) == np.inf  # NumPy divides by max(n - ddof, 0)
    assert d.mean([[1, 2], [3, 4]]) == 2.5  # all values, any shape
    with pytest.raises(InvalidTypeError):
        d.mean(["x"])
    with pytest.raises(InvalidArgumentError, match="nan_policy"):
        d.mean([1.0], nan_policy="drop")  # type: ignore[arg-type]
    summary = d.describe([1, 2, 3, 4])
    with pytest.raises(AttributeError):
        summary.nobs = 5  # type: ignore[misc]
    assert msgspec.json.decode(msgspec.json.encode(summary), type=d.Describe) == summary


@settings(deadline=None, derandomize=True, max_examples=40)
@given(
    kind=st.sampled_from(["normal", "skewed", "offset", "ties"]),
    sizes=st.lists(st.integers(0, 700), min_size=1, max_size=12),
    seed=st.integers(0, 2**32),
    ddof=st.sampled_from([0.0, 1.0]),
)
def test_running_stats_equal_numpy_over_the_stream(
    kind: str, sizes: list[int], seed: int, ddof: float
) -> None:
    x = make_data(kind, sum(sizes), seed)
    whole, left, right = (d.RunningStats(ddof=ddof) for _ in range(3))
    start = 0
    for i, size in enumerate(sizes):
        batch = x[start : start + size]
        whole.update(batch)
        (left if i % 2 else right).update(batch)
        start += size
    left.merge(right)
    for stats in (whole, left):
        assert stats.count == x.size
        if x.size == 0:
            assert np.isnan(stats.mean)
            assert np.isnan(stats.var)
            assert np.isnan(stats.min)
            continue
        np.testing.assert_allclose(stats.mean, np.mean(x), rtol=RTOL, atol=1e-300)
        if x.size > ddof:
            np.testing.assert_allclose(stats.var, np.var(x, ddof=ddof), rtol=1e-10, atol=1e-300)
            np.testing.assert_allclose(stats.std, np.std(x, ddof=ddof), rtol=1e-10, atol=1e-300)
        assert (stats.min, stats.max) == (x.min(), x.max())


def test_running_stats_nan_policies_and_pickling() -> None:
    propagate, omit = d.RunningStats(), d.RunningStats(nan_policy="omit")
    for s in (propagate, omit):
        s.update([1.0, np.nan, 3.0])
    assert np.isnan(propagate.mean)
    assert np.isnan(propagate.min)
    assert (omit.count, omit.mean, omit.var, omit.min, omit.max) == (2, 2.0, 1.0, 1.0, 3.0)
    with pytest.raises(InvalidArgumentError):
        d.RunningStats(nan_policy="raise").update([np.nan])
    with pytest.raises(InvalidTypeError):
        omit.merge([1.0])  # type: ignore[arg-type]
    clone = pickle.loads(pickle.dumps(omit))
    clone.merge(omit)
    assert (clone.count, clone.mean, clone.var) == (4, 2.0, 1.0)
    assert "count=2" in repr(omit)


def rank_error(sorted_x: Any, values: Any, qs: Any) -> float:
    """Worst distance from q to the normalized rank interval of the value returned for q."""
    below = np.searchsorted(sorted_x, values, side="left") / sorted_x.size
    at_most = np.searchsorted(sorted_x, values, side="right") / sorted_x.size
    return float(np.max(np.maximum(np.maximum(below - qs, qs - at_most), 0)))


SKETCH_DATA: dict[str, Callable[[np.random.Generator, int], Any]] = {
    "normal": lambda g, n: g.standard_normal(n),
    "lognormal": lambda g, n: g.lognormal(0, 3, n),
    "cauchy": lambda g, n: g.standard_cauchy(n),
    "ties": lambda g, n: g.integers(0, 50, n).astype(float),
    "sorted": lambda g, n: np.sort(g.uniform(size=n)),
    "reversed": lambda g, n: np.sort(g.exponential(size=n))[::-1],
}


@pytest.mark.parametrize("kind", list(SKETCH_DATA))
def test_sketch_rank_error_within_kll_bound(kind: str) -> None:
    x = SKETCH_DATA[kind](np.random.default_rng(len(kind)), 300_000)
    qs = np.linspace(0.001, 0.999, 999)
    sorted_x = np.sort(x)
    whole = QuantileSketch(200, seed=1)
    for batch in np.array_split(x, 37):
        whole.update(batch)
    parts = []
    for i, part in enumerate(np.array_split(x, 16)):
        sketch = QuantileSketch(200, seed=100 + i)
        sketch.update(part)
        parts.append(sketch)
    while len(parts) > 1:  # merge as a tree, as shards would be combined
        for left, right in zip(parts[::2], parts[1::2], strict=True):
            left.merge(right)
        parts = parts[::2]
    for sketch in (whole, parts[0]):
        assert len(sketch) == x.size
        assert (sketch.min, sketch.max) == (x.min(), x.max())
        assert sketch.retained < 3 * 200 + 60
        assert rank_error(sorted_x, sketch.quantile(qs), qs) <= 0.0165


def test_sketch_smaller_k_keeps_its_own_bound() -> None:
    x = np.random.default_rng(3).standard_normal(200_000)
    sketch = QuantileSketch(50, seed=2)
    sketch.update(x)
    qs = np.linspace(0.01, 0.99, 99)
    assert rank_error(np.sort(x), sketch.quantile(qs), qs) <= 2.446 / 50**0.9433


def test_sketch_is_exact_while_small_and_deterministic() -> None:
    x = np.random.default_rng(4).standard_normal(200)
    sketch = QuantileSketch(200)
    sketch.update(x)
    qs = np.linspace(0, 1, 41)
    np.testing.assert_array_equal(sketch.quantile(qs), np.quantile(x, qs, method="inverted_cdf"))
    big = np.random.default_rng(5).standard_normal(50_000)
    a, b = QuantileSketch(seed=7), QuantileSketch(seed=7)
    a.update(big)
    for chunk in np.array_split(big, 123):
        b.update(chunk)
    np.testing.assert_array_equal(a.quantile(qs), b.quantile(qs))


def test_sketch_edges() -> None:
    sketch = QuantileSketch()
    assert len(sketch) == 0
    assert np.isnan(sketch.quantile(0.5))
    assert np.isnan(sketch.min)
    sketch.update([[np.nan, 2.0], [1.0, 3.0]])
    assert len(sketch) == 3
    assert sketch.quantile(0.5) == 2.0
    assert isinstance(sketch.quantile(0.5), float)
    assert sketch.quantile([0, 1]).tolist() == [1, 3]
    sketch.merge(sketch)
    assert len(sketch) == 6
    assert sketch.quantile(1.0) == 3.0
    with pytest.raises(InvalidArgumentError, match="different k"):
        sketch.merge(QuantileSketch(100))
    with pytest.raises(InvalidArgumentError, match="Quantiles"):
        sketch.quantile(1.01)
    with pytest.raises(InvalidArgumentError, match="k must be"):
        QuantileSketch(4)
    with pytest.raises(InvalidTypeError):
        QuantileSketch(200.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError):
        sketch.update([1j])
    assert "n=6" in repr(sketch)
    assert sketch.k == 200
