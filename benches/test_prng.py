"""crucible.prng against NumPy, the reference a user would otherwise call, in one run.

Each group times the same call on ``crucible.prng.default_rng(seed)`` and on
``numpy.random.default_rng(seed)``; both produce identical output (asserted), so the ratio
compares equal work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from crucible import prng

SEED = 12345
N = 10**7

Draw = Callable[[Any], Any]

CASES: dict[str, Draw] = {
    "random_raw 1e7": lambda g: g.bit_generator.random_raw(N),
    "random f64 1e7": lambda g: g.random(N),
    "random f32 1e7": lambda g: g.random(N, dtype=np.float32),
    "integers(0, 1000) 1e7": lambda g: g.integers(0, 1000, N),
    "standard_normal 1e7": lambda g: g.standard_normal(N),
    "permutation 1e6": lambda g: g.permutation(10**6),
}

LIBRARIES: dict[str, Callable[[int], Any]] = {
    "crucible": prng.default_rng,
    "numpy": np.random.default_rng,
}


@pytest.mark.parametrize("library", list(LIBRARIES))
@pytest.mark.parametrize("case", list(CASES))
def test_bulk_draws(benchmark: Any, case: str, library: str) -> None:
    benchmark.group = case
    make, draw = LIBRARIES[library], CASES[case]
    # A fresh generator per round, so every round draws the same numbers.
    result = benchmark.pedantic(draw, setup=lambda: ((make(SEED),), {}), rounds=7)
    expected = draw(np.random.default_rng(SEED))
    assert np.array_equal(result, expected)


@pytest.mark.parametrize("library", list(LIBRARIES))
def test_default_rng_cost(benchmark: Any, library: str) -> None:
    benchmark.group = "default_rng(seed)"
    gen = benchmark(LIBRARIES[library], SEED)
    assert gen.bit_generator.state == np.random.default_rng(SEED).bit_generator.state
