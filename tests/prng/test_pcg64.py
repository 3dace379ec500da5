"""PCG64 must be NumPy's bit generator word for word: seeding, raw words, state, jumps.

Everything a user can do to the bit generator directly (seed it, read and write its state
dict, skip, advance, jump, spawn, pickle) is compared with ``numpy.random.PCG64``.
"""

from __future__ import annotations

import ctypes
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from crucible import prng

Sync = Callable[[Any, Any], None]

RAW_SIZES: list[Any] = [None, 0, 1, 5, (2, 3), 1001, 300_001]
DELTAS = [0, 1, 7, 2**32 + 1, 2**64, 2**64 - 1, 2**127, 2**128 - 1, 2**128, 2**200 + 5]
DELTAS += [-1, -12345, -(2**64), -(2**127) - 3]
JUMPS = [0, 1, 2, 17, 2**64 + 3, -1]


def _pcg_pair(seed: Any) -> tuple[prng.PCG64, np.random.PCG64]:
    return prng.PCG64(seed), np.random.PCG64(seed)


def _buffered_pair(seed: Any) -> tuple[prng.PCG64, np.random.PCG64]:
    """A pair whose state holds a buffered 32-bit half (``has_uint32 == 1``)."""
    ours, theirs = _pcg_pair(seed)
    prng.Generator(ours).random(3, dtype=np.float32)
    np.random.Generator(theirs).random(3, dtype=np.float32)
    assert theirs.state["has_uint32"] == 1
    return ours, theirs


def test_seeding_gives_numpy_state(seed: Any) -> None:
    ours, theirs = _pcg_pair(seed)
    assert ours.state == theirs.state
    assert ours.state["bit_generator"] == "PCG64"


def test_seed_sequence_objects_are_used_as_given(seed: Any) -> None:
    theirs = np.random.PCG64(seed).state
    ours_ss, numpy_ss = prng.SeedSequence(seed), np.random.SeedSequence(seed)
    assert prng.PCG64(ours_ss).seed_seq is ours_ss
    assert prng.PCG64(numpy_ss).seed_seq is numpy_ss
    assert prng.PCG64(ours_ss).state == theirs
    assert prng.PCG64(numpy_ss).state == theirs
    assert prng.PCG64(seed).seed_seq.state == np.random.PCG64(seed).seed_seq.state


def test_unseeded_generators_differ() -> None:
    first, second = prng.PCG64(), prng.PCG64()
    assert first.state != second.state
    entropy = first.seed_seq.entropy
    assert np.random.PCG64(entropy).state == prng.PCG64(entropy).state


@pytest.mark.parametrize("size", RAW_SIZES, ids=str)
def test_random_raw_matches(
    seed: Any, size: Any, assert_same_draw: Sync, assert_in_sync: Sync
) -> None:
    ours, theirs = _buffered_pair(seed)
    assert_same_draw(ours.random_raw(size), theirs.random_raw(size))
    assert_in_sync(ours, theirs)


@pytest.mark.parametrize("size", [None, 0, 1, 5, (2, 3), [4, 4], 300_001], ids=str)
def test_random_raw_without_output_skips_like_numpy(size: Any, assert_in_sync: Sync) -> None:
    ours, theirs = _buffered_pair(2**128 + 7)
    assert ours.random_raw(size, output=False) is None
    assert theirs.random_raw(size, output=False) is None
    assert_in_sync(ours, theirs)


@pytest.mark.parametrize("delta", DELTAS, ids=str)
def test_advance_matches(delta: int, assert_in_sync: Sync) -> None:
    ours, theirs = _buffered_pair(2**64 - 1)
    assert ours.advance(delta) is ours
    theirs.advance(delta)
    assert ours.state["has_uint32"] == 0  # NumPy resets the 32-bit buffer on advance
    assert_in_sync(ours, theirs)


@pytest.mark.parametrize("delta", [5, 2**100 + 1, -(2**90)], ids=str)
def test_advance_then_back_is_identity(delta: int) -> None:
    ours = prng.PCG64(12345)
    start = ours.state
    raw = ours.random_raw(4)
    ours.state = start
    ours.advance(delta).advance(-delta)
    np.testing.assert_array_equal(ours.random_raw(4), raw)


def test_advance_equals_drawing(seed: Any) -> None:
    ours = prng.PCG64(seed)
    skipped = prng.PCG64(seed).advance(1000)
    ours.random_raw(1000)
    assert ours.state == skipped.state


@pytest.mark.parametrize("jumps", JUMPS, ids=str)
def test_jumped_matches(jumps: int, assert_in_sync: Sync) -> None:
    ours, theirs = _buffered_pair([3, 1, 4])
    before = ours.state
    ours_jumped, theirs_jumped = ours.jumped(jumps), theirs.jumped(jumps)
    assert isinstance(ours_jumped, prng.PCG64)
    assert ours.state == before  # jumped returns a copy
    assert_in_sync(ours_jumped, theirs_jumped)
    assert_in_sync(ours, theirs)


def test_jumped_default_and_chained() -> None:
    ours, theirs = _pcg_pair(0)
    assert ours.jumped().state == theirs.jumped().state
    assert ours.jumped().jumped().state == theirs.jumped(2).state


@pytest.mark.parametrize("entropy", [0, 2**128 + 7, [9, 8, 7]], ids=str)
def test_spawn_matches(entropy: Any, assert_in_sync: Sync) -> None:
    ours, theirs = _pcg_pair(entropy)
    for _ in range(2):  # the second round continues the child counter
        children = ours.spawn(3)
        references = theirs.spawn(3)
        assert all(isinstance(child, prng.PCG64) for child in children)
        for child, reference in zip(children, references, strict=True):
            assert child.seed_seq.spawn_key == reference.seed_seq.spawn_key
            assert_in_sync(child, reference)
    assert ours.seed_seq.n_children_spawned == 6


def test_spawn_from_numpy_seed_sequence() -> None:
    ours = prng.PCG64(np.random.SeedSequence(5))
    theirs = np.random.PCG64(np.random.SeedSequence(5))
    assert [c.state for c in ours.spawn(2)] == [c.state for c in theirs.spawn(2)]


def test_spawn_needs_a_spawnable_seed_source() -> None:
    class Words:
        def generate_state(self, n_words: int, dtype: Any = np.uint32) -> Any:
            return np.arange(1, n_words + 1, dtype=dtype)

    bit_generator = prng.PCG64(Words())
    assert bit_generator.state["state"]["inc"] % 2 == 1
    with pytest.raises(TypeError, match="spawning"):
        bit_generator.spawn(1)


def _states(seed: Any) -> list[dict[str, Any]]:
    """NumPy states to import: fresh, with a buffered half, and hand-made extremes."""
    fresh = np.random.PCG64(seed).state
    buffered = _buffered_pair(seed)[1].state
    extreme = {
        "bit_generator": "PCG64",
        "state": {"state": 2**128 - 1, "inc": 2**128 - 1},
        "has_uint32": 1,
        "uinteger": 2**32 - 1,
    }
    zero = {
        "bit_generator": "PCG64",
        "state": {"state": 0, "inc": 1},
        "has_uint32": 0,
        "uinteger": 0,
    }
    return [fresh, buffered, extreme, zero]


@pytest.mark.parametrize("which", range(4))
def test_state_round_trips_with_numpy(seed: Any, which: int, assert_in_sync: Sync) -> None:
    state = _states(seed)[which]
    ours, theirs = prng.PCG64(), np.random.PCG64()
    ours.state = state
    theirs.state = state
    assert ours.state == state
    ours_gen, theirs_gen = prng.Generator(ours), np.random.Generator(theirs)
    np.testing.assert_array_equal(
        ours_gen.random(5, dtype=np.float32), theirs_gen.random(5, dtype=np.float32)
    )
    assert_in_sync(ours, theirs)
    # ...and back: our state dict drives NumPy's generator to the same place.
    ours_gen.integers(0, 3, size=7, dtype=np.uint8)
    numpy_copy = np.random.PCG64()
    numpy_copy.state = ours.state
    assert_in_sync(ours, numpy_copy)


def test_state_flags_accept_numpy_integers() -> None:
    theirs = np.random.PCG64(3).state
    converted = {
        "bit_generator": "PCG64",
        "state": {"state": 2**127 + 5, "inc": 7},
        "has_uint32": np.int8(1),
        "uinteger": np.uint32(9),
    }
    ours, reference = prng.PCG64(), np.random.PCG64()
    ours.state = converted
    reference.state = converted
    assert ours.state == reference.state
    assert ours.state != theirs


def test_pickle_round_trip_keeps_stream_and_seed_sequence(assert_in_sync: Sync) -> None:
    ours, theirs = _buffered_pair(2**128 + 7)
    clone = pickle.loads(pickle.dumps(ours))
    assert isinstance(clone, prng.PCG64)
    assert clone.state == ours.state
    assert clone.seed_seq.state == ours.seed_seq.state
    assert [c.state for c in clone.spawn(2)] == [c.state for c in theirs.spawn(2)]
    assert_in_sync(clone, theirs)


def test_capsule_is_a_numpy_bit_generator_capsule() -> None:
    bit_generator = prng.PCG64(1)
    is_valid = ctypes.pythonapi.PyCapsule_IsValid
    is_valid.restype = ctypes.c_int
    is_valid.argtypes = [ctypes.py_object, ctypes.c_char_p]
    assert is_valid(bit_generator.capsule, b"BitGenerator") == 1


def test_lock_is_reentrant_and_shared() -> None:
    bit_generator = prng.PCG64(1)
    assert bit_generator.lock is bit_generator.lock
    with bit_generator.lock, bit_generator.lock:
        assert bit_generator.random_raw() == np.random.PCG64(1).random_raw()
    assert prng.Generator(bit_generator).bit_generator is bit_generator
