"""Our ``Generator``'s float methods, ``bytes`` and ``spawn`` against NumPy's, bit for bit.

Float32 draws use the 32-bit half-word stream, so each case also runs from a state with a
buffered half. Sizes include one above the parallel threshold so the chunked fills (and
the speculative ziggurat parse) are checked against NumPy's sequential loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from parity_cases import BIG, SEEDS

Check = Callable[[Any, Any], None]
Pair = Callable[[Any], Any]

METHODS: list[tuple[str, dict[str, Any]]] = [
    ("random", {}),
    ("standard_normal", {}),
    ("standard_exponential", {}),
    ("standard_exponential", {"method": "inv"}),
]
FLOAT_SIZES: list[Any] = [None, 0, 1, 7, (3, 5), 1001, (2, 0, 3), BIG]


def _float_cases() -> list[Any]:
    cases = []
    index = 0
    for name, extra in METHODS:
        for dtype in (np.float64, np.float32):
            for size in FLOAT_SIZES:
                for buffered in (False, True):
                    label = f"{name}{extra.get('method', '')}-{np.dtype(dtype).name}-{size}"
                    label += "-buffered" if buffered else ""
                    seed = SEEDS[index % len(SEEDS)]
                    kwargs = {**extra, "size": size, "dtype": dtype}
                    cases.append(pytest.param(seed, name, kwargs, buffered, id=label))
                    index += 1
    return cases


def _prime(gens: tuple[Any, Any], buffered: bool) -> tuple[Any, Any]:
    for gen in gens:
        gen.random(3 if buffered else 2, dtype=np.float32)
    return gens


@pytest.mark.parametrize(("seed", "method", "kwargs", "buffered"), _float_cases())
def test_float_methods(
    seed: Any,
    method: str,
    kwargs: dict[str, Any],
    buffered: bool,
    pair: Pair,
    assert_same_draw: Check,
    assert_in_sync: Check,
) -> None:
    ours, theirs = _prime(pair(seed), buffered)
    for _ in range(2):
        assert_same_draw(getattr(ours, method)(**kwargs), getattr(theirs, method)(**kwargs))
        assert ours.bit_generator.state == theirs.bit_generator.state
    assert_in_sync(ours, theirs)


@pytest.mark.parametrize(("method", "extra"), METHODS, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("with_size", [False, True], ids=["out", "out+size"])
def test_out_arrays_are_filled_in_place(
    method: str,
    extra: dict[str, Any],
    dtype: Any,
    order: str,
    with_size: bool,
    pair: Pair,
    assert_in_sync: Check,
) -> None:
    ours, theirs = _prime(pair(2**128 + 7), True)
    ours_out = np.zeros((4, 7), dtype=dtype, order=order)
    theirs_out = np.zeros((4, 7), dtype=dtype, order=order)
    size = {"size": (4, 7)} if with_size else {}
    ours_ret = getattr(ours, method)(out=ours_out, dtype=dtype, **extra, **size)
    theirs_ret = getattr(theirs, method)(out=theirs_out, dtype=dtype, **extra, **size)
    assert ours_ret is ours_out
    assert theirs_ret is theirs_out
    np.testing.assert_array_equal(ours_out, theirs_out, strict=True)
    assert_in_sync(ours, theirs)


SCALED: list[tuple[str, tuple[Any, ...], Any]] = [
    ("normal", (), None),
    ("normal", (), 5),
    ("normal", (3.5, 2.0), None),
    ("normal", (3.5, 2.0), (2, 3)),
    ("normal", (-1e300, 1e-300), 9),
    ("normal", (0.0, 0.0), 4),
    ("normal", (-0.0, 1.0), 4),
    ("normal", (np.inf, 1.0), 3),
    ("normal", (0.0, np.inf), 3),
    ("normal", (np.nan, 1.0), 3),
    ("normal", (np.array([0.0, 10.0, -10.0]), 2.0), None),
    ("normal", (1.0, np.array([[0.5], [1.5]])), None),
    ("normal", (np.array([0.0, 10.0, -10.0]), np.array([[0.5], [1.5]])), None),
    ("normal", (np.array([0.0, 10.0, -10.0]), np.array([[0.5], [1.5]])), (4, 2, 3)),
    ("normal", ([1, 2, 3], 1), None),
    ("normal", (np.array(2.0), np.array(3.0)), None),
    ("normal", (np.array(2.0), 3.0), 5),
    ("normal", (0.0, np.array([1.0, 2.0])), (3, 2)),
    ("normal", (0.0, 1.0), BIG),
    ("normal", (np.zeros(BIG), 2.0), None),
    ("exponential", (), None),
    ("exponential", (), 6),
    ("exponential", (2.5,), None),
    ("exponential", (2.5,), (3, 3)),
    ("exponential", (0.0,), 4),
    ("exponential", (np.inf,), 4),
    ("exponential", (np.nan,), 2),
    ("exponential", (np.array([1.0, 2.0, 1e-9]),), None),
    ("exponential", (np.array([1.0, 2.0, 1e-9]),), (2, 3)),
    ("exponential", ([[1.0], [3.0]],), None),
    ("exponential", (np.array(4.0),), None),
    ("exponential", (1.0,), BIG),
]


def _scaled_cases() -> list[Any]:
    """Each case under five seeds; the ones above the parallel threshold under one."""
    cases = []
    for method, args, size in SCALED:
        large = size == BIG or any(np.size(arg) == BIG for arg in args)
        for seed in SEEDS[:1] if large else SEEDS[::3]:
            label = f"{method}-{args!s:.40}-{size}-seed{SEEDS.index(seed)}"
            cases.append(pytest.param(seed, method, args, size, id=label))
    return cases


@pytest.mark.parametrize(("seed", "method", "args", "size"), _scaled_cases())
def test_normal_and_exponential(
    seed: Any, method: str, args: tuple[Any, ...], size: Any, check_call: Callable[..., None]
) -> None:
    check_call(seed, method, *args, size=size)


@pytest.mark.parametrize("length", [0, 1, 3, 4, 5, 8, 17, 1001])
@pytest.mark.parametrize("buffered", [False, True], ids=["aligned", "buffered"])
def test_bytes(length: int, buffered: bool, pair: Pair, assert_in_sync: Check) -> None:
    ours, theirs = _prime(pair([1, 2**64]), buffered)
    ours_bytes, theirs_bytes = ours.bytes(length), theirs.bytes(length)
    assert isinstance(ours_bytes, bytes)
    assert len(ours_bytes) == length
    assert ours_bytes == theirs_bytes
    assert_in_sync(ours, theirs)


def test_generator_spawn(seed: Any, pair: Pair, assert_in_sync: Check) -> None:
    ours, theirs = pair(seed)
    for _ in range(2):
        ours_children, theirs_children = ours.spawn(2), theirs.spawn(2)
        assert all(type(child) is type(ours) for child in ours_children)
        for child, reference in zip(ours_children, theirs_children, strict=True):
            np.testing.assert_array_equal(child.random(4), reference.random(4))
            assert_in_sync(child, reference)
    assert_in_sync(ours, theirs)


def test_default_rng_passes_through_generators_and_bit_generators(seed: Any) -> None:
    from crucible import prng

    bit_generator = prng.PCG64(seed)
    gen = prng.default_rng(bit_generator)
    assert gen.bit_generator is bit_generator
    assert prng.default_rng(gen) is gen
    assert prng.Generator(prng.PCG64(seed)).bit_generator.state == np.random.PCG64(seed).state


P10 = np.arange(1.0, 11.0) / 55.0
# Every spelling ends in 2, so the two-element array arguments below broadcast.
SIZE_SPELLINGS: list[Any] = [[3, 2], np.array([3, 2]), [2], np.int64(2), (3, 2)]
SIZED_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("random", (), {}),
    ("random", (), {"dtype": np.float32}),
    ("standard_normal", (), {}),
    ("standard_exponential", (), {"method": "inv"}),
    ("normal", (1.0, 2.0), {}),
    ("normal", (np.array([1.0, 2.0]), 2.0), {}),
    ("exponential", (np.array([1.0, 3.0]),), {}),
    ("integers", (0, 10), {}),
    ("integers", (np.array([0, 1]), 10), {"dtype": np.uint8}),
    ("integers", (np.array([0, 1]), 2**40), {}),
    ("choice", (10,), {}),
    ("choice", (10,), {"replace": False}),
    ("choice", (10,), {"p": P10}),
    ("choice", (10,), {"p": P10, "replace": False}),
]


@pytest.mark.parametrize("size", SIZE_SPELLINGS, ids=lambda v: f"{type(v).__name__}{v}")
@pytest.mark.parametrize(
    ("method", "args", "kwargs"),
    SIZED_CALLS,
    ids=[f"{method}-{i}" for i, (method, _, _) in enumerate(SIZED_CALLS)],
)
def test_size_spellings(
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    size: Any,
    check_call: Callable[..., None],
) -> None:
    """NumPy takes ``size`` as any int sequence or NumPy int, not only an int or a tuple."""
    check_call(2**128 + 7, method, *args, size=size, **kwargs)


KEYWORD_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("integers", {"low": 0, "high": 5, "size": 3, "dtype": np.int16, "endpoint": True}),
    ("random", {"size": 3, "dtype": np.float32, "out": None}),
    ("standard_normal", {"size": 3, "dtype": np.float64}),
    ("standard_exponential", {"size": 3, "dtype": np.float32, "method": "inv"}),
    ("normal", {"loc": 1.0, "scale": 2.0, "size": 3}),
    ("exponential", {"scale": 2.0, "size": 3}),
    ("choice", {"a": 9, "size": 4, "replace": False, "p": None, "axis": 0, "shuffle": False}),
    ("permutation", {"x": 7, "axis": 0}),
    ("bytes", {"length": 6}),
]


@pytest.mark.parametrize(("method", "kwargs"), KEYWORD_CALLS, ids=[c[0] for c in KEYWORD_CALLS])
def test_keyword_arguments_match_numpy_names(
    method: str, kwargs: dict[str, Any], check_call: Callable[..., None]
) -> None:
    check_call([5, 6], method, **kwargs)
