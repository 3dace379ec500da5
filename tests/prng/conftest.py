"""Shared fixtures for the NumPy parity suite: one seed list, paired generators, sync checks.

Every parity test builds the same generator twice, ours and NumPy's, runs the same call on
both and then checks three things: equal values, equal state dicts, equal next draws.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from parity_cases import SEEDS, seed_id

from crucible import prng


def _make_pair(seed: Any) -> tuple[prng.Generator, np.random.Generator]:
    return prng.default_rng(seed), np.random.default_rng(seed)


def _bit_generator(gen: Any) -> Any:
    return getattr(gen, "bit_generator", gen)


def _assert_in_sync(ours: Any, theirs: Any) -> None:
    """Same state dict, then the same next raw words (which also moves both on by 3)."""
    ours_bg, theirs_bg = _bit_generator(ours), _bit_generator(theirs)
    assert ours_bg.state == theirs_bg.state
    np.testing.assert_array_equal(ours_bg.random_raw(3), theirs_bg.random_raw(3))
    assert ours_bg.state == theirs_bg.state


def _assert_same_draw(ours: Any, theirs: Any) -> None:
    """Exactly equal values of the same kind: dtype and shape for arrays, type for scalars."""
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray)
        assert ours.dtype == theirs.dtype
        assert ours.shape == theirs.shape
    else:
        assert type(ours) is type(theirs)
    np.testing.assert_array_equal(ours, theirs, strict=True)


@pytest.fixture(params=SEEDS, ids=seed_id)
def seed(request: pytest.FixtureRequest) -> Any:
    """Each seed of :data:`SEEDS` in turn."""
    return request.param


@pytest.fixture(scope="session")
def pair() -> Callable[[Any], tuple[prng.Generator, np.random.Generator]]:
    """``pair(seed)`` -> ``(ours, numpy)`` generators built from the same seed."""
    return _make_pair


@pytest.fixture(scope="session")
def assert_in_sync() -> Callable[[Any, Any], None]:
    """``assert_in_sync(ours, theirs)``: generators or bit generators left in the same place."""
    return _assert_in_sync


@pytest.fixture(scope="session")
def assert_same_draw() -> Callable[[Any, Any], None]:
    """``assert_same_draw(ours, theirs)``: bit-exact values with the same dtype/type."""
    return _assert_same_draw


@pytest.fixture(scope="session")
def check_call(
    pair: Callable[[Any], tuple[prng.Generator, np.random.Generator]],
) -> Callable[..., None]:
    """``check_call(seed, method, *args, **kwargs)``: the full three-way parity check."""

    def check(seed: Any, method: str, /, *args: Any, **kwargs: Any) -> None:
        ours, theirs = pair(seed)
        _assert_same_draw(
            getattr(ours, method)(*args, **kwargs), getattr(theirs, method)(*args, **kwargs)
        )
        _assert_in_sync(ours, theirs)

    return check
