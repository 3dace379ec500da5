"""crucible.stats percentile/quantile against numpy.percentile/quantile/nanpercentile.

Every method is meant to be bit-exact, so results are compared with ``assert_array_equal``
(NaN equal to NaN, -0.0 equal to 0.0). Data come from hypothesis-chosen recipes (size,
distribution, magnitude, ties, NaNs, infinities) rather than hypothesis float lists, so
sizes up to 5,000 stay fast; lanes of 2**16 and more take the sampled-bracket path and get
their own cases.
"""

from __future__ import annotations

import warnings
from typing import Any, get_args

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible.errors import InvalidArgumentError, InvalidTypeError
from crucible.stats.quantile import Method, percentile, quantile

METHODS: list[str] = list(get_args(Method))
SETTINGS = settings(deadline=None, derandomize=True, max_examples=30)
KINDS = ["normal", "cauchy", "ties", "constant", "sorted", "reversed", "huge", "tiny", "mixed"]


def make_data(kind: str, n: int, seed: int, nans: int = 0, infs: int = 0) -> Any:
    rng = np.random.default_rng(seed)
    x: Any
    if kind == "normal":
        x = rng.standard_normal(n)
    elif kind == "cauchy":
        x = rng.standard_cauchy(n) * 1e3
    elif kind == "ties":
        x = rng.integers(-3, 4, n).astype(float)
    elif kind == "constant":
        x = np.full(n, -2.5)
    elif kind == "sorted":
        x = np.sort(rng.lognormal(0, 2, n))
    elif kind == "reversed":
        x = np.sort(rng.exponential(1, n))[::-1].copy()
    elif kind == "huge":
        x = rng.standard_normal(n) * 1e300
    elif kind == "tiny":
        x = rng.standard_normal(n) * 1e-310  # subnormal
    else:
        x = rng.standard_normal(n) * 10.0 ** rng.integers(-200, 200, n)
    if infs:
        x[rng.integers(0, n, infs)] = rng.choice([np.inf, -np.inf], infs)
    if nans:
        x[rng.integers(0, n, nans)] = np.nan
    return x


@st.composite
def data(draw: Any, max_n: int = 5000) -> Any:
    n = draw(st.one_of(st.integers(1, 12), st.integers(1, max_n)))
    kind = draw(st.sampled_from(KINDS))
    infs = draw(st.sampled_from([0, 0, 0, 1, 3]))
    return make_data(kind, n, draw(st.integers(0, 2**32)), infs=min(infs, n))


qs_strategy = st.one_of(
    st.floats(0, 100),
    st.sampled_from([0.0, 100.0, 50.0, 25.0, 99.9, 1e-9]),
    st.lists(st.floats(0, 100), min_size=1, max_size=8),
)


def np_quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(x=data(), q=qs_strategy)
def test_percentile_matches_numpy_exactly(method: Any, x: Any, q: Any) -> None:
    got = percentile(x, q, method=method)
    want = np_quiet(np.percentile, x, q, method=method)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("method", METHODS)
@settings(deadline=None, derandomize=True, max_examples=12)
@given(x=data(max_n=3000), q=st.lists(st.floats(0, 1), min_size=1, max_size=5))
def test_quantile_matches_numpy_exactly(method: Any, x: Any, q: list[float]) -> None:
    np.testing.assert_array_equal(
        quantile(x, q, method=method), np_quiet(np.quantile, x, q, method=method)
    )


@pytest.mark.parametrize("method", METHODS)
@settings(deadline=None, derandomize=True, max_examples=10)
@given(
    n=st.integers(1, 4000),
    kind=st.sampled_from(KINDS),
    nans=st.integers(1, 50),
    seed=st.integers(0, 2**32),
    q=st.lists(st.floats(0, 100), min_size=1, max_size=4),
)
def test_nan_policies(method: Any, n: int, kind: str, nans: int, seed: int, q: Any) -> None:
    x = make_data(kind, n, seed, nans=nans)
    np.testing.assert_array_equal(
        percentile(x, q, method=method), np_quiet(np.percentile, x, q, method=method)
    )
    assert np.isnan(percentile(x, q, method=method)).all()
    np.testing.assert_array_equal(
        percentile(x, q, method=method, nan_policy="omit"),
        np_quiet(np.nanpercentile, x, q, method=method),
    )
    with pytest.raises(InvalidArgumentError, match="contains nan"):
        percentile(x, q, method=method, nan_policy="raise")


@pytest.mark.parametrize("method", METHODS)
def test_large_lanes_take_the_bracket_path(method: Any) -> None:
    q = [0, 1e-4, 1, 25, 50, 50.0001, 90, 95, 99, 99.99, 100]
    for n, kind, seed in [(70_001, "normal", 1), (200_000, "ties", 2), (131_072, "mixed", 3)]:
        x = make_data(kind, n, seed, infs=2)
        np.testing.assert_array_equal(
            percentile(x, q, method=method), np_quiet(np.percentile, x, q, method=method)
        )
        x[::1000] = np.nan
        np.testing.assert_array_equal(
            percentile(x, q, method=method, nan_policy="omit"),
            np_quiet(np.nanpercentile, x, q, method=method),
        )
        assert np.isnan(percentile(x, q, method=method)).all()


def test_many_scattered_q_on_a_large_lane() -> None:
    x = make_data("cauchy", 100_000, 5)
    q = np.linspace(0, 100, 201)
    np.testing.assert_array_equal(percentile(x, q), np.percentile(x, q))


@pytest.mark.parametrize("method", ["linear", "hazen", "nearest", "averaged_inverted_cdf"])
@settings(deadline=None, derandomize=True, max_examples=25)
@given(
    rows=st.integers(1, 40),
    cols=st.integers(1, 40),
    axis=st.sampled_from([None, 0, 1, -1, -2]),
    q=st.one_of(st.floats(0, 100), st.lists(st.floats(0, 100), min_size=1, max_size=4)),
    seed=st.integers(0, 2**32),
    nans=st.booleans(),
)
def test_two_dimensional_axis(
    method: Any, rows: int, cols: int, axis: Any, q: Any, seed: int, nans: bool
) -> None:
    x = make_data("ties", rows * cols, seed, nans=3 if nans else 0).reshape(rows, cols)
    got = percentile(x, q, method=method, axis=axis)
    want = np_quiet(np.percentile, x, q, method=method, axis=axis)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_array_equal(got, want)
    omit = percentile(x, q, method=method, axis=axis, nan_policy="omit")
    np.testing.assert_array_equal(omit, np_quiet(np.nanpercentile, x, q, method=method, axis=axis))


def test_parallel_lanes_and_higher_dimensions() -> None:
    x = make_data("normal", 400 * 300, 9).reshape(400, 300)
    q = [5, 50, 95]
    for axis in (0, 1):
        np.testing.assert_array_equal(percentile(x, q, axis=axis), np.percentile(x, q, axis=axis))
    cube = x.reshape(40, 50, 60)
    got = percentile(cube, [[10, 20], [30, 40]], axis=1, method="weibull")
    want = np.percentile(cube, [[10, 20], [30, 40]], axis=1, method="weibull")
    assert got.shape == want.shape == (2, 2, 40, 60)
    np.testing.assert_array_equal(got, want)
    # Non-contiguous and Fortran-ordered input.
    np.testing.assert_array_equal(percentile(x[::3, ::2], 30), np.percentile(x[::3, ::2], 30))
    f = np.asfortranarray(x)
    np.testing.assert_array_equal(percentile(f, 70, axis=0), np.percentile(f, 70, axis=0))


def test_result_types_and_shapes() -> None:
    x = [3, 1, 4, 1, 5, 9, 2, 6]
    assert isinstance(percentile(x, 50), float)
    assert percentile(x, 50) == np.percentile(x, 50) == 3.5
    assert percentile(x, [50]).shape == (1,)
    assert percentile(np.array(x).reshape(2, 4), 50, axis=1).shape == (2,)
    assert percentile(x, np.array([[10, 20, 30]])).shape == (1, 3)
    assert percentile(x, []).shape == (0,)
    assert percentile(np.zeros((3, 0)), 50, axis=0).shape == (0,)
    # Integers, booleans and float32 are taken as float64.
    assert percentile(x, 50, method="lower") == 3.0
    assert percentile([True, False, True], 50) == 1.0
    f32 = np.array([0.1, 0.7, 0.3], dtype=np.float32)
    assert percentile(f32, 40) == np.percentile(f32.astype(np.float64), 40)


def test_integer_q_with_linear_takes_numpy_index_path() -> None:
    # NumPy reads integer q (0 or 1) with 'linear' as an index: no inf - inf in a lerp.
    x = [1.0, np.inf]
    assert quantile(x, 1) == np.quantile(x, 1) == np.inf
    assert quantile(x, [0, 1]).tolist() == np.quantile(x, [0, 1]).tolist() == [1.0, np.inf]
    assert np.isnan(quantile(x, 1.0))
    assert np.isnan(np_quiet(np.quantile, x, 1.0))


def test_validation_errors() -> None:
    x = [1.0, 2.0, 3.0]
    with pytest.raises(InvalidArgumentError, match=r"Percentiles must be in the range \[0, 100\]"):
        percentile(x, 101)
    with pytest.raises(ValueError, match=r"Percentiles must be in the range \[0, 100\]"):
        percentile(x, [50, -1e-9])
    with pytest.raises(InvalidArgumentError, match=r"Quantiles must be in the range \[0, 1\]"):
        quantile(x, 1.5)
    with pytest.raises(InvalidArgumentError, match="Quantiles"):
        quantile(x, np.nan)
    with pytest.raises(InvalidArgumentError, match="'foo' is not a valid method"):
        percentile(x, 50, method="foo")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="nan_policy must be one of"):
        percentile(x, 50, nan_policy="ignore")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="empty"):
        percentile([], 50)
    with pytest.raises(InvalidArgumentError, match="empty"):
        percentile(np.zeros((0, 3)), 50, axis=0)
    assert np.isnan(percentile([], 50, nan_policy="omit"))
    assert np.isnan(percentile([np.nan, np.nan], [10, 90], nan_policy="omit")).all()
    with pytest.raises(InvalidTypeError, match="real numbers"):
        percentile([1 + 2j, 3], 50)
    with pytest.raises(TypeError, match="real numbers"):
        percentile(["a", "b"], 50)
    with pytest.raises(InvalidTypeError, match="q must be"):
        percentile(x, "50")
    with pytest.raises(InvalidArgumentError, match="axis 2 is out of bounds"):
        percentile(np.zeros((2, 2)), 50, axis=2)
    with pytest.raises(InvalidTypeError, match="axis must be an integer"):
        percentile(x, 50, axis=1.0)  # type: ignore[arg-type]


def test_input_is_not_modified_and_calls_repeat() -> None:
    x = make_data("normal", 100_000, 4)
    before = x.copy()
    first = percentile(x, [1, 50, 99], method="median_unbiased")
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(first, percentile(x, [1, 50, 99], method="median_unbiased"))
