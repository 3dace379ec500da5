"""``shuffle``, ``permutation`` and ``choice`` must reorder and sample exactly as NumPy does.

Shuffles draw ``random_interval`` values from the 32-bit stream, so cases run from a state
with a buffered half too. ``choice`` covers all of NumPy's branches: with replacement
(``integers``), weighted (CDF search), Floyd's algorithm, the tail shuffle for large
populations, and the weighted loop without replacement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from parity_cases import SEEDS

Check = Callable[[Any, Any], None]
Pair = Callable[[Any], Any]


def _prime(gens: tuple[Any, Any], buffered: bool) -> tuple[Any, Any]:
    for gen in gens:
        gen.random(3 if buffered else 2, dtype=np.float32)
    return gens


def _arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "empty": np.arange(0),
        "one": np.arange(1),
        "int8": np.arange(100, dtype=np.int8),
        "int16-odd": np.arange(33, dtype=np.int16),
        "float32": rng.random(257).astype(np.float32),
        "float64": rng.random(1000),
        "complex": rng.random(20) + 1j,
        "strings": np.array([f"s{i}" for i in range(40)]),
        "objects": np.array([(i, str(i)) for i in range(30)] + [None], dtype=object),
        "records": np.array([(i, i / 2) for i in range(25)], dtype=[("a", "i4"), ("b", "f8")]),
        "2d": np.arange(60).reshape(12, 5),
        "3d": np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4),
        "fortran": np.asfortranarray(np.arange(40).reshape(8, 5)),
        "strided": np.arange(100)[::3],
        "big": np.arange(70_000, dtype=np.int32),
    }


ARRAYS = _arrays()
AXES: dict[str, list[int]] = {"2d": [0, 1, -1], "3d": [0, 1, 2, -2], "fortran": [0, 1]}
CASES = [(name, axis) for name, arr in ARRAYS.items() for axis in AXES.get(name, [0])]


def _case_ids(case: Any) -> str:
    return f"{case[0]}-axis{case[1]}"


@pytest.mark.parametrize("buffered", [False, True], ids=["aligned", "buffered"])
@pytest.mark.parametrize("case", CASES, ids=_case_ids)
def test_shuffle_arrays_in_place(
    case: tuple[str, int], buffered: bool, pair: Pair, assert_in_sync: Check
) -> None:
    name, axis = case
    ours, theirs = _prime(pair(2**128 + 7), buffered)
    mine, ref = ARRAYS[name].copy(order="K"), ARRAYS[name].copy(order="K")
    assert ours.shuffle(mine, axis=axis) is None
    theirs.shuffle(ref, axis=axis)
    np.testing.assert_array_equal(mine, ref, strict=True)
    assert_in_sync(ours, theirs)


def test_shuffle_views_write_through(pair: Pair, assert_in_sync: Check) -> None:
    ours, theirs = pair(5)
    mine, ref = np.arange(50), np.arange(50)
    ours.shuffle(mine[5:40:2])
    theirs.shuffle(ref[5:40:2])
    np.testing.assert_array_equal(mine, ref)
    assert_in_sync(ours, theirs)


@pytest.mark.parametrize("items", [[], [1], list(range(10)), list("abcdefg"), [[1], [2], [3]]])
def test_shuffle_lists(items: list[Any], pair: Pair, assert_in_sync: Check) -> None:
    ours, theirs = _prime(pair([1, 2]), True)
    mine, ref = list(items), list(items)
    ours.shuffle(mine)
    theirs.shuffle(ref)
    assert mine == ref
    assert_in_sync(ours, theirs)


@pytest.mark.parametrize("buffered", [False, True], ids=["aligned", "buffered"])
@pytest.mark.parametrize("case", CASES, ids=_case_ids)
def test_permutation_of_arrays(
    case: tuple[str, int], buffered: bool, pair: Pair, assert_in_sync: Check
) -> None:
    name, axis = case
    ours, theirs = _prime(pair(2**64 - 1), buffered)
    source = ARRAYS[name].copy()
    mine, ref = ours.permutation(source, axis=axis), theirs.permutation(source, axis=axis)
    np.testing.assert_array_equal(mine, ref, strict=True)
    np.testing.assert_array_equal(source, ARRAYS[name])  # not shuffled in place
    assert_in_sync(ours, theirs)


@pytest.mark.parametrize("x", [0, 1, 2, 10, 1000, 70_000, -3, np.int64(17), np.uint8(9)], ids=str)
def test_permutation_of_int(seed: Any, x: Any, check_call: Callable[..., None]) -> None:
    check_call(seed, "permutation", x)


@pytest.mark.parametrize("x", [[3, 1, 2], (5, 6, 7, 8), range(12), [[1, 2], [3, 4], [5, 6]]])
def test_permutation_of_sequences(x: Any, check_call: Callable[..., None]) -> None:
    check_call(12345, "permutation", x)


POPULATION = np.arange(10, 40) * 3
WEIGHTS = np.linspace(1, 3, 30) / np.linspace(1, 3, 30).sum()
SPARSE = np.r_[np.zeros(20), np.full(10, 0.1)]
CHOICES: list[tuple[Any, dict[str, Any]]] = [
    (5, {}),
    (5, {"size": 10}),
    (5, {"size": (3, 4)}),
    (5, {"size": ()}),
    (5, {"size": 0}),
    (2**40, {"size": 6}),
    (POPULATION, {}),
    (POPULATION, {"size": 7}),
    (list("abcdef"), {"size": 9}),
    (np.arange(24).reshape(6, 4), {"size": 3}),
    (np.arange(24).reshape(6, 4), {"size": 3, "axis": 1}),
    (np.arange(24).reshape(6, 4), {"size": (2, 2), "axis": -1, "replace": False}),
    (30, {"p": WEIGHTS}),
    (30, {"p": WEIGHTS, "size": 50}),
    (POPULATION, {"p": WEIGHTS, "size": (5, 2)}),
    (POPULATION, {"p": list(WEIGHTS), "size": ()}),
    (30, {"p": WEIGHTS.astype(np.float32), "size": 5}),
    (30, {"p": SPARSE, "size": 8}),
    (30, {"p": WEIGHTS, "size": 12, "replace": False}),
    (30, {"p": SPARSE, "size": 10, "replace": False}),
    (POPULATION, {"p": WEIGHTS, "size": (2, 3), "replace": False}),
    (30, {"p": WEIGHTS, "replace": False}),
    (30, {"replace": False}),
    (30, {"size": 30, "replace": False}),
    (30, {"size": 29, "replace": False}),
    (30, {"size": 29, "replace": False, "shuffle": False}),
    (30, {"size": (2, 5), "replace": False}),
    (30, {"size": 0, "replace": False}),
    (1000, {"size": 500, "replace": False}),
    (1, {"size": 1, "replace": False}),
    (20_000, {"size": 100, "replace": False}),  # Floyd: 100 <= 20000 // 50
    (20_000, {"size": 401, "replace": False}),  # tail shuffle
    (20_000, {"size": 401, "replace": False, "shuffle": False}),  # Floyd: cutoff 20
    (20_000, {"size": 1001, "replace": False, "shuffle": False}),  # tail shuffle
    (20_000, {"size": 20_000, "replace": False}),
    (2**33, {"size": 50, "replace": False}),  # 64-bit random_bounded draws
    (np.arange(20_000), {"size": (20, 30), "replace": False}),
    ([], {"size": 0}),
]


@pytest.mark.parametrize(("a", "kwargs"), CHOICES, ids=lambda v: str(v)[:40])
@pytest.mark.parametrize("seed", SEEDS[::4], ids=str)
def test_choice(seed: Any, a: Any, kwargs: dict[str, Any], check_call: Callable[..., None]) -> None:
    check_call(seed, "choice", a, **kwargs)


@pytest.mark.parametrize("buffered", [False, True], ids=["aligned", "buffered"])
def test_choice_after_buffered_half(buffered: bool, pair: Pair, assert_in_sync: Check) -> None:
    ours, theirs = _prime(pair(7), buffered)
    for kwargs in ({"size": 9, "replace": False}, {"size": 4}, {"p": WEIGHTS, "size": 3}):
        np.testing.assert_array_equal(ours.choice(30, **kwargs), theirs.choice(30, **kwargs))
        assert ours.bit_generator.state == theirs.bit_generator.state
    assert_in_sync(ours, theirs)
