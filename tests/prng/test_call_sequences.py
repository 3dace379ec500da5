"""Random mixed call sequences on one generator must stay in step with NumPy throughout.

Single-method tests start from a clean state; real code mixes calls, so a float32 draw
leaves half a word buffered for the next ``integers(dtype=uint8)``, a shuffle, or a state
export. Hypothesis builds the sequences (derandomized, so the run is reproducible) and
shrinks any divergence to the shortest sequence that shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible import prng

Call = tuple[str, tuple[Any, ...], dict[str, Any]]

INT_DTYPES: list[Any] = [
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
SIZES = st.sampled_from([None, 0, 1, 2, 3, 5, 17, 100, (2, 3)])
FLOATS = st.sampled_from([np.float64, np.float32])
SETTINGS = settings(max_examples=300, deadline=None, derandomize=True)


@st.composite
def integer_calls(draw: st.DrawFn) -> Call:
    dtype = draw(st.sampled_from(INT_DTYPES))
    if dtype is np.bool_:
        lo, hi = 0, 1
    else:
        lo, hi = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
    edges = [lo, hi, 0, 2**8, 2**16, 2**31, 2**32, 2**63]
    bound = st.integers(lo, hi) | st.sampled_from([e for e in edges if lo <= e <= hi])
    low, high = sorted((draw(bound), draw(bound)))
    endpoint = draw(st.booleans()) or low == high or high == hi
    kwargs = {"size": draw(SIZES), "dtype": dtype, "endpoint": endpoint}
    if not endpoint:
        high += 1
    return "integers", (low, high), kwargs


@st.composite
def float_calls(draw: st.DrawFn) -> Call:
    method = draw(st.sampled_from(["random", "standard_normal", "standard_exponential"]))
    kwargs: dict[str, Any] = {"size": draw(SIZES), "dtype": draw(FLOATS)}
    if method == "standard_exponential":
        kwargs["method"] = draw(st.sampled_from(["zig", "inv"]))
    return method, (), kwargs


@st.composite
def other_calls(draw: st.DrawFn) -> Call:
    kind = draw(st.integers(0, 6))
    size = draw(SIZES)
    if kind == 0:
        return "normal", (draw(st.floats(-10, 10)), draw(st.floats(0, 5))), {"size": size}
    if kind == 1:
        return "exponential", (draw(st.floats(0, 5)),), {"size": size}
    if kind == 2:
        return "bytes", (draw(st.integers(1, 21)),), {}  # bytes(0): see test_bytes
    if kind == 3:
        return "permutation", (draw(st.integers(0, 40)),), {}
    if kind == 4:
        return "shuffle", (list(range(draw(st.integers(0, 30)))),), {}
    if kind == 5:
        n = draw(st.integers(1, 60))
        replace = draw(st.booleans())
        count = draw(st.integers(0, n)) if not replace else draw(st.integers(0, 20))
        return "choice", (n,), {"size": count, "replace": replace}
    return "random_raw", (draw(st.integers(0, 3)),), {}


CALLS = st.lists(integer_calls() | float_calls() | other_calls(), min_size=1, max_size=25)


def _run(gen: Any, call: Call) -> Any:
    method, args, kwargs = call
    if method == "random_raw":
        return gen.bit_generator.random_raw(*args)
    if method == "shuffle":
        items = list(args[0])
        gen.shuffle(items)
        return items
    return getattr(gen, method)(*args, **kwargs)


def _replay(
    calls: list[Call], seed: Any, make: Callable[[Any], Any], sync: Callable[..., None]
) -> None:
    ours, theirs = make(seed)
    for call in calls:
        np.testing.assert_array_equal(_run(ours, call), _run(theirs, call), strict=True)
        assert ours.bit_generator.state == theirs.bit_generator.state, call
    sync(ours, theirs)


@SETTINGS
@given(calls=CALLS, seed=st.integers(0, 2**130) | st.lists(st.integers(0, 2**40), max_size=4))
def test_random_call_sequences_match(
    calls: list[Call],
    seed: Any,
    pair: Callable[[Any], Any],
    assert_in_sync: Callable[[Any, Any], None],
) -> None:
    _replay(calls, seed, pair, assert_in_sync)


@SETTINGS
@given(calls=CALLS, cut=st.integers(0, 25))
def test_state_exported_mid_sequence_continues_in_numpy(
    calls: list[Call], cut: int, assert_in_sync: Callable[[Any, Any], None]
) -> None:
    """Run a prefix on ours, hand the state to NumPy (and back), run the rest on both."""
    ours, reference = prng.default_rng(31), np.random.default_rng(31)
    for call in calls[:cut]:
        _run(ours, call)
        _run(reference, call)
    theirs = np.random.default_rng()
    theirs.bit_generator.state = ours.bit_generator.state
    ours.bit_generator.state = reference.bit_generator.state
    for call in calls[cut:]:
        np.testing.assert_array_equal(_run(ours, call), _run(theirs, call), strict=True)
    assert_in_sync(ours, theirs)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    entropy=st.integers(0, 2**300) | st.lists(st.integers(0, 2**70), max_size=6),
    spawn_key=st.lists(st.integers(0, 2**40), max_size=3),
    pool_size=st.integers(4, 10),
)
def test_seed_sequence_pools_match(entropy: Any, spawn_key: list[int], pool_size: int) -> None:
    ours = prng.SeedSequence(entropy, spawn_key=spawn_key, pool_size=pool_size)
    theirs = np.random.SeedSequence(entropy, spawn_key=spawn_key, pool_size=pool_size)
    np.testing.assert_array_equal(ours.pool, theirs.pool)
    np.testing.assert_array_equal(
        ours.generate_state(6, np.uint64), theirs.generate_state(6, np.uint64)
    )


@settings(max_examples=200, deadline=None, derandomize=True)
@given(delta=st.integers(-(2**130), 2**130), seed=st.integers(0, 2**128))
def test_advance_any_delta(
    delta: int, seed: int, assert_in_sync: Callable[[Any, Any], None]
) -> None:
    ours, theirs = prng.PCG64(seed), np.random.PCG64(seed)
    ours.advance(delta)
    theirs.advance(delta)
    assert_in_sync(ours, theirs)
