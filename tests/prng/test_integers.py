"""``Generator.integers`` against NumPy for every dtype, at every edge of the bounded paths.

NumPy picks a different kernel by range: constant (range 0), raw 32- or 64-bit words (range
2**32-1 or 2**64-1), Lemire on 32 bits (with an 8/16-bit buffer for small dtypes, a bit
buffer for bool) or on 64 bits. The cases below put the closed range ``high - low`` on and
around each power of two, at the dtype's min and max, with and without ``endpoint``, for
scalar and broadcast array bounds, and above the parallel-fill threshold.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from parity_cases import BIG, SEEDS

DTYPES: list[Any] = [
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.bool_,
]
SIZES: list[Any] = [0, 1, 7, 64, 1001, (3, 5), 2]
POWERS = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 62, 63, 64]


def _limits(dtype: Any) -> tuple[int, int]:
    if dtype is np.bool_:
        return 0, 1
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _spans(dtype: Any) -> list[int]:
    """Closed ranges ``high - low`` on and around every power of two up to the full width."""
    lo, hi = _limits(dtype)
    width = hi - lo
    spans = {0, 1, 2, 3, 5, width, width - 1}
    for k in POWERS:
        spans |= {2**k - 2, 2**k - 1, 2**k, 2**k + 1}
    return sorted(s for s in spans if 0 <= s <= width)


def _scalar_cases() -> list[Any]:
    cases = []
    index = 0
    for dtype in DTYPES:
        lo, hi = _limits(dtype)
        for span in _spans(dtype):
            middle = max(lo, min(hi - span, -(span // 2)))
            for low in sorted({lo, hi - span, middle}):
                for endpoint in (False, True):
                    high = low + span if endpoint else low + span + 1
                    size = SIZES[index % len(SIZES)]
                    seed = SEEDS[index % len(SEEDS)]
                    buffered = index % 3 == 0
                    name = f"{np.dtype(dtype).name}-{low}-{high}-{'closed' if endpoint else 'open'}"
                    cases.append(
                        pytest.param(seed, dtype, low, high, endpoint, size, buffered, id=name)
                    )
                    index += 1
    return cases


def _buffered(gens: tuple[Any, Any], buffered: bool) -> tuple[Any, Any]:
    """Optionally leave half a word in both generators' 32-bit buffers first."""
    if buffered:
        for gen in gens:
            gen.random(1, dtype=np.float32)
    return gens


@pytest.mark.parametrize(
    ("seed", "dtype", "low", "high", "endpoint", "size", "buffered"), _scalar_cases()
)
def test_scalar_bounds(
    seed: Any,
    dtype: Any,
    low: int,
    high: int,
    endpoint: bool,
    size: Any,
    buffered: bool,
    pair: Callable[[Any], Any],
    assert_same_draw: Callable[[Any, Any], None],
    assert_in_sync: Callable[[Any, Any], None],
) -> None:
    ours, theirs = _buffered(pair(seed), buffered)
    for draw_size in (None, size):
        kwargs = {"size": draw_size, "dtype": dtype, "endpoint": endpoint}
        assert_same_draw(ours.integers(low, high, **kwargs), theirs.integers(low, high, **kwargs))
        assert ours.bit_generator.state == theirs.bit_generator.state
    assert_in_sync(ours, theirs)


def _big_spans(dtype: Any) -> list[int]:
    lo, hi = _limits(dtype)
    width = hi - lo
    # full range, raw 32-bit words, Lemire with ~50% rejections (32- and 64-bit), tiny.
    wanted = [width, 2**32 - 1, 2**31 + 1, 2**63 + 1, (width + 1) // 2 + 1, 5, 0]
    return sorted({s for s in wanted if 0 <= s <= width})


@pytest.mark.parametrize("buffered", [False, True], ids=["aligned", "buffered"])
@pytest.mark.parametrize(
    ("dtype", "span"),
    [(dtype, span) for dtype in DTYPES for span in _big_spans(dtype)],
    ids=lambda v: np.dtype(v).name if isinstance(v, type) else str(v),
)
def test_large_sizes_use_the_parallel_path_exactly(
    dtype: Any,
    span: int,
    buffered: bool,
    pair: Callable[[Any], Any],
    assert_same_draw: Callable[[Any, Any], None],
    assert_in_sync: Callable[[Any, Any], None],
) -> None:
    ours, theirs = _buffered(pair(2**128 + 7), buffered)
    low = _limits(dtype)[0]
    for size in (BIG, BIG + 1):
        ours_draw = ours.integers(low, low + span, size=size, dtype=dtype, endpoint=True)
        theirs_draw = theirs.integers(low, low + span, size=size, dtype=dtype, endpoint=True)
        assert_same_draw(ours_draw, theirs_draw)
        assert ours.bit_generator.state == theirs.bit_generator.state
    assert_in_sync(ours, theirs)


def _array_bounds(dtype: Any, endpoint: bool, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` pairs of bounds with ranges spread over every kernel, as int64/uint64 arrays."""
    lo, hi = _limits(dtype)
    # Open 64-bit bounds cannot hold hi + 1 in an int64/uint64 array; see the test below.
    top = hi - (0 if endpoint or dtype not in (np.int64, np.uint64) else 1)
    spans = [s for s in _spans(dtype) if s <= top - lo]
    chooser = random.Random(f"{np.dtype(dtype).name}-{endpoint}-{n}")
    lows, highs = [], []
    for _ in range(n):
        span = chooser.choice(spans)
        low = chooser.randint(lo, top - span)
        lows.append(low)
        highs.append(low + span + (0 if endpoint else 1))
    array_dtype = np.uint64 if dtype is np.uint64 else np.int64
    return np.array(lows, dtype=array_dtype), np.array(highs, dtype=array_dtype)


def _broadcast_cases() -> list[Any]:
    cases = []
    for dtype in DTYPES:
        for endpoint in (False, True):
            lows, highs = _array_bounds(dtype, endpoint, 257)
            name = f"{np.dtype(dtype).name}-{'closed' if endpoint else 'open'}"
            lo, hi = _limits(dtype)
            top = hi if endpoint else hi + 1
            column, row = np.sort(lows)[:3].reshape(3, 1), np.sort(highs)[-4:]
            layouts = {
                "both-1d": (lows, highs, None),
                "low-array": (lows[:6], top, None),
                "high-array": (lo, highs[:6], (4, 6)),
                "outer": (column, row, None),
                "sized": (column, row, (2, 3, 4)),
                "0d-arrays": (np.array(lows[0]), np.array(highs[0]), 5),
            }
            if dtype in (np.int64, np.uint64):
                del layouts["low-array"]  # top does not fit; covered by the test below
            for layout, (low, high, size) in layouts.items():
                cases.append(pytest.param(dtype, low, high, size, endpoint, id=f"{name}-{layout}"))
    return cases


@pytest.mark.parametrize(("dtype", "low", "high", "size", "endpoint"), _broadcast_cases())
def test_array_bounds_broadcast(
    dtype: Any,
    low: Any,
    high: Any,
    size: Any,
    endpoint: bool,
    pair: Callable[[Any], Any],
    assert_same_draw: Callable[[Any, Any], None],
    assert_in_sync: Callable[[Any, Any], None],
) -> None:
    # Buffered first: the small-dtype broadcast loop shares one buffer across elements.
    ours, theirs = _buffered(pair([7, 2**64 + 1]), True)
    for _ in range(2):
        kwargs = {"size": size, "dtype": dtype, "endpoint": endpoint}
        assert_same_draw(ours.integers(low, high, **kwargs), theirs.integers(low, high, **kwargs))
        assert ours.bit_generator.state == theirs.bit_generator.state
    assert_in_sync(ours, theirs)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_array_low_with_open_high_at_dtype_max_plus_one(
    dtype: Any, check_call: Callable[..., None]
) -> None:
    """``integers(low_array, iinfo.max + 1)``: for 64-bit dtypes that high is a Python int
    beyond int64/uint64, which NumPy accepts."""
    lo, hi = _limits(dtype)
    low = np.array([lo, lo + 1, max(lo, hi - 3), 0], dtype=np.uint64 if lo == 0 else np.int64)
    check_call(11, "integers", low, hi + 1, dtype=dtype)
    check_call(11, "integers", low, np.array([hi + 1] * 4, dtype=object), dtype=dtype)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((10,), {}),
        ((10,), {"size": 5}),
        ((np.uint64(2**64 - 1),), {"dtype": np.uint64}),
        ((np.int8(-5), np.uint8(200)), {"dtype": np.int16, "size": 4}),
        ((1.5, 10.7), {"size": 6}),
        ((True, 2), {"dtype": bool, "size": 9}),
        ((2,), {"dtype": bool}),
        ((0, 1), {"dtype": bool, "endpoint": True, "size": 40}),
        ((100,), {"dtype": int}),
        ((-(2**63), 2**63), {"dtype": int}),
        ((0, 2**64), {"dtype": "u8", "size": 3}),
        ((3, 9), {"dtype": "i4", "size": 5}),
        ((3, 9), {"dtype": np.dtype("uint16"), "size": 5}),
        ((0, 2), {"dtype": "?", "size": 5}),
        ((0, 2), {"dtype": "bool", "size": 5}),
        ((5, 5), {"endpoint": True, "size": 3}),
        ((np.array([1, 2]), np.array([[3], [4]])), {"dtype": np.uint8}),
        (([1, 2, 3], 10), {"dtype": np.int32}),
        ((0, [2**32, 2**32 - 1]), {"dtype": np.uint64}),
        ((np.array([0, 1], dtype=np.uint8), 256), {"dtype": np.uint8}),
        ((np.array([1.0, 2.0]), 5.0), {}),
        ((np.int64(0), np.int64(7)), {"size": ()}),
        ((0, 7), {"size": (0, 3)}),
        ((5, 3), {"size": 0}),
    ],
    ids=str,
)
def test_argument_forms(args: Any, kwargs: Any, check_call: Callable[..., None]) -> None:
    check_call(2**64 - 1, "integers", *args, **kwargs)
