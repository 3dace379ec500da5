"""SeedSequence must mix entropy exactly as NumPy's: every stream we seed starts here.

The pool, the generated words (both dtypes), the state dict and the spawned children are
compared with ``numpy.random.SeedSequence`` over many entropy shapes, spawn keys and pool
sizes; seeding works across the two implementations in both directions.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

from crucible import prng

ENTROPIES: list[Any] = [
    0,
    1,
    2**32 - 1,
    2**32,
    2**64 - 1,
    2**64,
    2**128 - 1,
    2**128 + 7,
    2**1000 + 12345,
    [],
    [0],
    [1, 2, 3],
    (4, 5),
    range(6),
    [2**40, 0, 2**100],
    [[1, 2], [3, [4, 5]]],
    ["0x1f", "12345"],
    np.arange(5, dtype=np.uint32),
    np.arange(5, dtype=np.uint64) * np.uint64(2**40),
    np.arange(3, dtype=np.int64),
    np.uint64(2**63 + 1),
    np.int32(77),
]
SPAWN_KEYS: list[tuple[int, ...]] = [(), (0,), (1, 2), (2**40, 7, 0)]
POOL_SIZES = [4, 5, 8]


def _ids(values: list[Any]) -> list[str]:
    return [f"{i}:{type(v).__name__}" for i, v in enumerate(values)]


@pytest.mark.parametrize("pool_size", POOL_SIZES)
@pytest.mark.parametrize("spawn_key", SPAWN_KEYS, ids=str)
@pytest.mark.parametrize("entropy", ENTROPIES, ids=_ids(ENTROPIES))
def test_pool_and_generated_words_match(
    entropy: Any, spawn_key: tuple[int, ...], pool_size: int
) -> None:
    ours = prng.SeedSequence(entropy, spawn_key=spawn_key, pool_size=pool_size)
    theirs = np.random.SeedSequence(entropy, spawn_key=spawn_key, pool_size=pool_size)
    assert ours.pool.dtype == np.uint32
    np.testing.assert_array_equal(ours.pool, theirs.pool, strict=True)
    for n_words in (0, 1, 3, 4, 9):
        np.testing.assert_array_equal(
            ours.generate_state(n_words), theirs.generate_state(n_words), strict=True
        )
        np.testing.assert_array_equal(
            ours.generate_state(n_words, np.uint64),
            theirs.generate_state(n_words, np.uint64),
            strict=True,
        )


@pytest.mark.parametrize("entropy", [0, 2**128 + 7, [1, 2, 3]], ids=str)
def test_attributes_and_state_dict_match(entropy: Any) -> None:
    kwargs: dict[str, Any] = {"spawn_key": (3, 1), "pool_size": 6, "n_children_spawned": 2}
    ours = prng.SeedSequence(entropy, **kwargs)
    theirs = np.random.SeedSequence(entropy, **kwargs)
    assert ours.entropy == theirs.entropy
    assert ours.spawn_key == theirs.spawn_key == (3, 1)
    assert ours.pool_size == theirs.pool_size == 6
    assert ours.n_children_spawned == theirs.n_children_spawned == 2
    assert ours.state == theirs.state


def test_generate_state_accepts_dtype_spellings() -> None:
    ours, theirs = prng.SeedSequence(99), np.random.SeedSequence(99)
    for dtype in ("uint32", "u8", np.dtype(np.uint64), np.uint32):
        np.testing.assert_array_equal(
            ours.generate_state(5, dtype), theirs.generate_state(5, dtype), strict=True
        )


@pytest.mark.parametrize("entropy", [7, 2**128 + 7, [5, 6]], ids=str)
def test_spawn_matches_numpy_and_counts_children(entropy: Any) -> None:
    ours, theirs = prng.SeedSequence(entropy), np.random.SeedSequence(entropy)
    first_ours, first_theirs = ours.spawn(3), theirs.spawn(3)
    second_ours, second_theirs = ours.spawn(2), theirs.spawn(2)
    assert ours.n_children_spawned == theirs.n_children_spawned == 5
    for mine, ref in zip(first_ours + second_ours, first_theirs + second_theirs, strict=True):
        assert isinstance(mine, prng.SeedSequence)
        assert mine.spawn_key == ref.spawn_key
        assert mine.state == ref.state
        np.testing.assert_array_equal(
            mine.generate_state(4, np.uint64), ref.generate_state(4, np.uint64)
        )
    grand_ours, grand_theirs = first_ours[1].spawn(2), first_theirs[1].spawn(2)
    assert [g.spawn_key for g in grand_ours] == [(1, 0), (1, 1)]
    for mine, ref in zip(grand_ours, grand_theirs, strict=True):
        np.testing.assert_array_equal(mine.pool, ref.pool)


def test_spawn_zero_children() -> None:
    ours = prng.SeedSequence(1)
    assert ours.spawn(0) == []
    assert ours.n_children_spawned == 0


def test_fresh_entropy_is_random_and_reproducible_through_numpy() -> None:
    a, b = prng.SeedSequence(), prng.SeedSequence()
    assert isinstance(a.entropy, int)
    assert 0 <= a.entropy < 2**128
    assert a.entropy != b.entropy
    np.testing.assert_array_equal(a.pool, np.random.SeedSequence(a.entropy).pool)


@pytest.mark.parametrize("entropy", [0, 2**64 - 1, 2**128 + 7, [1, 2**33]], ids=str)
def test_seeds_numpy_bit_generators_and_vice_versa(entropy: Any) -> None:
    reference = np.random.PCG64(entropy).state
    assert np.random.PCG64(prng.SeedSequence(entropy)).state == reference
    assert prng.PCG64(np.random.SeedSequence(entropy)).state == reference
    assert prng.PCG64(prng.SeedSequence(entropy)).state == reference
    child_theirs = np.random.SeedSequence(entropy).spawn(2)[1]
    child_ours = prng.SeedSequence(entropy).spawn(2)[1]
    assert np.random.PCG64(child_ours).state == np.random.PCG64(child_theirs).state


def test_registered_as_numpy_seed_sequence() -> None:
    from numpy.random.bit_generator import ISeedSequence, ISpawnableSeedSequence

    ours = prng.SeedSequence(3)
    assert isinstance(ours, ISeedSequence)
    assert isinstance(ours, ISpawnableSeedSequence)


def test_pickle_round_trip() -> None:
    ours = prng.SeedSequence(2**130 + 5, spawn_key=(1, 2), pool_size=5)
    ours.spawn(3)
    clone = pickle.loads(pickle.dumps(ours))
    assert clone.state == ours.state
    np.testing.assert_array_equal(clone.generate_state(8), ours.generate_state(8))
    assert [c.spawn_key for c in clone.spawn(1)] == [(1, 2, 3)]
