"""Bad arguments must fail as they fail in NumPy, so ``except ValueError`` code keeps working.

Each case runs the same bad call against NumPy and against crucible: ours must raise an
instance of the exception class NumPy raised and, where the check is ours (not NumPy's
own ``np.empty`` or an ``AxisError`` from NumPy's helpers), a ``CrucibleError`` too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

from crucible import prng
from crucible.errors import CrucibleError


class Api(NamedTuple):
    rng: Any
    PCG64: Any  # named like the classes on both sides
    SeedSequence: Any


def _ours() -> Api:
    return Api(prng.default_rng(0), prng.PCG64, prng.SeedSequence)


def _numpy() -> Api:
    return Api(np.random.default_rng(0), np.random.PCG64, np.random.SeedSequence)


def _set_state(api: Api, drop: tuple[str, ...] = (), **changes: Any) -> None:
    """Write NumPy's state dict for seed 0 with fields replaced and keys (``a`` or ``a.b``)
    dropped."""
    state = np.random.PCG64(0).state
    inner = {**state["state"], **{k: changes.pop(k) for k in ("state", "inc") if k in changes}}
    state = {**state, **changes, "state": inner}
    for key in drop:
        outer, _, nested = key.partition(".")
        del (state[outer] if nested else state)[nested or outer]
    api.PCG64(0).state = state


def _read_only() -> np.ndarray:
    arr = np.arange(5)
    arr.setflags(write=False)
    return arr


# (id, bad call, is the check ours so the error must be a CrucibleError)
CASES: list[tuple[str, Callable[[Api], Any], bool]] = [
    # negative sizes fail inside np.empty on both sides
    ("random-size-neg", lambda a: a.rng.random(-1), False),
    ("normal-size-neg", lambda a: a.rng.standard_normal(size=-2), False),
    ("exp-size-neg", lambda a: a.rng.standard_exponential(size=(2, -1)), False),
    ("integers-size-neg", lambda a: a.rng.integers(0, 5, size=-1), False),
    ("choice-size-neg", lambda a: a.rng.choice(5, size=-1), False),
    ("raw-size-neg", lambda a: a.PCG64(0).random_raw(-1), False),
    ("choice-noreplace-size-neg", lambda a: a.rng.choice(5, size=-1, replace=False), True),
    # integer bounds
    ("low-eq-high", lambda a: a.rng.integers(5, 5), True),
    ("low-gt-high", lambda a: a.rng.integers(5, 2), True),
    ("high-zero", lambda a: a.rng.integers(0), True),
    ("high-negative", lambda a: a.rng.integers(-3), True),
    ("closed-low-gt-high", lambda a: a.rng.integers(5, 4, endpoint=True), True),
    ("uint8-low-neg", lambda a: a.rng.integers(-1, 5, dtype=np.uint8), True),
    ("uint8-high-257", lambda a: a.rng.integers(0, 257, dtype=np.uint8), True),
    ("uint8-closed-256", lambda a: a.rng.integers(0, 256, dtype=np.uint8, endpoint=True), True),
    ("int8-low", lambda a: a.rng.integers(-129, 0, dtype=np.int8), True),
    ("bool-high-3", lambda a: a.rng.integers(0, 3, dtype=bool), True),
    ("uint64-high", lambda a: a.rng.integers(0, 2**64 + 1, dtype=np.uint64), True),
    ("int64-low", lambda a: a.rng.integers(-(2**63) - 1, 0), True),
    ("array-low-ge-high", lambda a: a.rng.integers(np.array([5, 1]), 3), True),
    ("array-high-zero", lambda a: a.rng.integers(0, np.array([0, 2])), True),
    ("array-uint8-low", lambda a: a.rng.integers(np.array([-1]), 5, dtype=np.uint8), True),
    ("array-uint8-high", lambda a: a.rng.integers(0, np.array([300]), dtype=np.uint8), True),
    # dtypes
    ("integers-float", lambda a: a.rng.integers(0, 2, dtype=np.float64), True),
    ("integers-complex", lambda a: a.rng.integers(0, 2, dtype=np.complex128), True),
    ("integers-object", lambda a: a.rng.integers(0, 2, dtype=object), True),
    ("integers-big-endian", lambda a: a.rng.integers(0, 2, dtype=">i8"), True),
    ("random-int32", lambda a: a.rng.random(dtype=np.int32), True),
    ("random-float16", lambda a: a.rng.random(3, dtype=np.float16), True),
    ("normal-int64", lambda a: a.rng.standard_normal(dtype=np.int64), True),
    ("exp-float16", lambda a: a.rng.standard_exponential(dtype=np.float16), True),
    # out=
    ("out-wrong-dtype", lambda a: a.rng.random(out=np.empty(3, np.float32)), True),
    ("out-strided", lambda a: a.rng.random(out=np.empty(6)[::2]), True),
    ("out-size-mismatch", lambda a: a.rng.standard_normal(size=4, out=np.empty(3)), True),
    # scale
    ("normal-scale-neg", lambda a: a.rng.normal(0, -1), True),
    ("normal-scale-array-neg", lambda a: a.rng.normal(0, [1.0, -1.0]), True),
    ("exp-scale-neg", lambda a: a.rng.exponential(-1.0), True),
    ("exp-scale-neg-zero", lambda a: a.rng.exponential([-0.0]), True),
    ("normal-bad-broadcast", lambda a: a.rng.normal(np.zeros(3), 1.0, size=4), False),
    # choice
    ("choice-zero-pop", lambda a: a.rng.choice(0, size=3), True),
    ("choice-empty", lambda a: a.rng.choice([], size=1), True),
    ("choice-float", lambda a: a.rng.choice(1.5), True),
    ("choice-p-size", lambda a: a.rng.choice(5, p=[0.5, 0.5]), True),
    ("choice-p-sum", lambda a: a.rng.choice(2, p=[0.7, 0.7]), True),
    ("choice-p-neg", lambda a: a.rng.choice(2, p=[1.5, -0.5]), True),
    ("choice-p-2d", lambda a: a.rng.choice(2, p=[[0.5, 0.5]]), True),
    ("choice-p-nan", lambda a: a.rng.choice(2, p=[np.nan, 1.0]), True),
    ("choice-too-many", lambda a: a.rng.choice(3, size=4, replace=False), True),
    ("choice-p-nonzero", lambda a: a.rng.choice(3, size=3, replace=False, p=[1, 0, 0]), True),
    ("choice-axis", lambda a: a.rng.choice(np.arange(6).reshape(2, 3), axis=2), False),
    # shuffle / permutation
    ("shuffle-read-only", lambda a: a.rng.shuffle(_read_only()), True),
    ("shuffle-list-axis", lambda a: a.rng.shuffle([1, 2, 3], axis=1), True),
    ("shuffle-bad-axis", lambda a: a.rng.shuffle(np.arange(5), axis=1), False),
    ("permutation-bad-axis", lambda a: a.rng.permutation(np.arange(5), axis=1), False),
    ("permutation-0d", lambda a: a.rng.permutation(np.array(5)), False),
    # state dicts
    ("state-list", lambda a: setattr(a.PCG64(0), "state", []), True),
    ("state-str", lambda a: setattr(a.PCG64(0), "state", "PCG64"), True),
    ("state-wrong-name", lambda a: _set_state(a, bit_generator="MT19937"), True),
    ("state-no-name", lambda a: _set_state(a, drop=("bit_generator",)), True),
    ("state-no-state", lambda a: _set_state(a, drop=("state",)), False),
    ("state-no-inc", lambda a: _set_state(a, drop=("state.inc",)), False),
    ("state-no-has-uint32", lambda a: _set_state(a, drop=("has_uint32",)), False),
    ("state-no-uinteger", lambda a: _set_state(a, drop=("uinteger",)), False),
    ("state-too-big", lambda a: _set_state(a, state=2**128), True),
    ("state-negative", lambda a: _set_state(a, state=-1), True),
    ("inc-too-big", lambda a: _set_state(a, inc=2**129 + 1), True),
    ("uinteger-too-big", lambda a: _set_state(a, uinteger=2**32), True),
    ("uinteger-negative", lambda a: _set_state(a, uinteger=-1), True),
    ("has-uint32-too-big", lambda a: _set_state(a, has_uint32=2**40), True),
    ("state-string", lambda a: _set_state(a, state="abc"), True),
    # seeds
    ("pcg-negative", lambda a: a.PCG64(-1), True),
    ("pcg-float", lambda a: a.PCG64(1.5), True),
    ("pcg-str", lambda a: a.PCG64("abc"), True),
    ("pcg-list-negative", lambda a: a.PCG64([1, -2]), True),
    ("pcg-list-float", lambda a: a.PCG64([1.5]), True),
    ("pcg-float-array", lambda a: a.PCG64(np.array([1.5])), True),
    ("ss-negative", lambda a: a.SeedSequence(-1), True),
    ("ss-float", lambda a: a.SeedSequence(1.5), True),
    ("ss-np-float", lambda a: a.SeedSequence(np.float64(1.0)), True),
    ("ss-str", lambda a: a.SeedSequence("12"), True),
    ("ss-dict", lambda a: a.SeedSequence({1: 2}), True),
    ("ss-bad-string", lambda a: a.SeedSequence(["xyz"]), True),
    ("ss-nested-negative", lambda a: a.SeedSequence([1, [2, -3]]), True),
    ("ss-pool-3", lambda a: a.SeedSequence(1, pool_size=3), True),
    ("ss-spawn-key-negative", lambda a: a.SeedSequence(1, spawn_key=(-1,)), True),
    ("ss-spawn-key-float", lambda a: a.SeedSequence(1, spawn_key=(1.5,)), True),
    ("ss-dtype-int32", lambda a: a.SeedSequence(1).generate_state(3, np.int32), True),
    ("ss-dtype-float", lambda a: a.SeedSequence(1).generate_state(3, np.float64), True),
    ("ss-n-words-negative", lambda a: a.SeedSequence(1).generate_state(-1), True),
]


@pytest.mark.parametrize(("call", "ours_check"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_same_exception_class_as_numpy(call: Callable[[Api], Any], ours_check: bool) -> None:
    with pytest.raises(Exception) as numpy_error:  # noqa: PT011 - we learn the class here
        call(_numpy())
    expected = type(numpy_error.value)
    with pytest.raises(expected) as ours_error:
        call(_ours())
    if ours_check:
        assert isinstance(ours_error.value, CrucibleError), repr(ours_error.value)


def test_generator_needs_our_bit_generator() -> None:
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator") as error:
        prng.Generator(np.random.PCG64(0))  # type: ignore[arg-type]
    assert isinstance(error.value, CrucibleError)


def test_state_errors_leave_the_state_alone() -> None:
    bit_generator = prng.PCG64(3)
    before = bit_generator.state
    bad = dict(before, uinteger=2**32)
    with pytest.raises(OverflowError):
        bit_generator.state = bad
    assert bit_generator.state == before
    assert bit_generator.random_raw() == np.random.PCG64(3).random_raw()


def test_overflow_state_errors_are_value_errors_too() -> None:
    with pytest.raises(ValueError, match="2\\*\\*128"):
        _set_state(_ours(), state=2**128)
