"""``numpy.random.Generator(crucible.prng.PCG64(seed))`` must be NumPy's stream exactly.

NumPy's Generator draws through our capsule's C function pointers (64-bit, 32-bit with the
shared buffer, double), so every NumPy distribution, including the ones we do not
reimplement, must match NumPy on its own PCG64, and the state in Rust must be the one
NumPy's generator advances (interleaving our Generator and NumPy's on one bit generator).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from parity_cases import BIG, SEEDS

from crucible import prng

Check = Callable[[Any, Any], None]

F32 = {"dtype": np.float32}
MEAN = np.array([1.0, -2.0, 0.5])
COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
P = np.array([0.1, 0.2, 0.3, 0.4])
GRID = np.arange(24.0).reshape(4, 6)

DISTRIBUTIONS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("random", (), {}),
    ("random", (), F32),
    ("integers", (0, 1000), {}),
    ("integers", (-5, 2**40), {"dtype": np.int64}),
    ("integers", (0, 7), {"dtype": np.uint8}),
    ("integers", (0, 1), {"dtype": bool, "endpoint": True}),
    ("standard_normal", (), {}),
    ("standard_normal", (), F32),
    ("normal", (3.0, 2.0), {}),
    ("normal", (np.array([0.0, 5.0]), 1.0), {"size": (50, 2)}),
    ("standard_exponential", (), {}),
    ("standard_exponential", (), F32),
    ("standard_exponential", (), {"method": "inv", **F32}),
    ("exponential", (2.5,), {}),
    ("standard_gamma", (0.5,), F32),
    ("standard_gamma", (3.0,), {}),
    ("gamma", (2.5, 2.0), {}),
    ("gamma", (0.3,), {}),
    ("beta", (0.5, 0.5), {}),
    ("beta", (2.0, 3.0), {}),
    ("binomial", (10, 0.3), {}),
    ("binomial", (1000, 0.6), {}),
    ("poisson", (3.0,), {}),
    ("poisson", (50.0,), {}),
    ("standard_t", (5.0,), {}),
    ("chisquare", (3.0,), {}),
    ("noncentral_chisquare", (3.0, 2.0), {}),
    ("f", (3.0, 7.0), {}),
    ("uniform", (-2.0, 5.0), {}),
    ("lognormal", (0.5, 0.75), {}),
    ("laplace", (1.0, 2.0), {}),
    ("logistic", (), {}),
    ("gumbel", (), {}),
    ("rayleigh", (2.0,), {}),
    ("weibull", (1.5,), {}),
    ("pareto", (3.0,), {}),
    ("power", (2.0,), {}),
    ("triangular", (0.0, 0.3, 1.0), {}),
    ("vonmises", (0.5, 4.0), {}),
    ("wald", (1.0, 3.0), {}),
    ("standard_cauchy", (), {}),
    ("geometric", (0.2,), {}),
    ("negative_binomial", (5, 0.4), {}),
    ("logseries", (0.9,), {}),
    ("zipf", (2.0,), {}),
    ("hypergeometric", (10, 5, 7), {}),
    ("hypergeometric", (500, 600, 300), {}),
    ("multivariate_normal", (MEAN, COV), {}),
    ("multivariate_normal", (MEAN, COV), {"method": "cholesky"}),
    ("dirichlet", ([0.5, 1.0, 2.0],), {}),
    ("multinomial", (20, P), {}),
    ("multivariate_hypergeometric", ([5, 10, 15], 12), {}),
    ("choice", (4,), {"p": P}),
    ("choice", (100,), {"replace": False, "size": 30}),
    ("permutation", (37,), {}),
]
# Methods that take no ``size`` (or a fixed one) are called as given.
NO_SIZE = {"permutation"}


def _interop_pair(seed: Any) -> tuple[np.random.Generator, np.random.Generator]:
    return np.random.Generator(prng.PCG64(seed)), np.random.Generator(np.random.PCG64(seed))


@pytest.mark.parametrize(
    ("method", "args", "kwargs"), DISTRIBUTIONS, ids=lambda v: str(v)[:30] if v else "-"
)
@pytest.mark.parametrize("seed", SEEDS[::3], ids=str)
def test_numpy_generator_on_our_bit_generator(
    seed: Any,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    assert_same_draw: Check,
    assert_in_sync: Check,
) -> None:
    ours, theirs = _interop_pair(seed)
    assert isinstance(ours.bit_generator, prng.PCG64)
    sizes: list[dict[str, Any]] = [{}]
    if method not in NO_SIZE and "size" not in kwargs:
        sizes = [{}, {"size": 257}, {"size": (3, 2)}]
    for size in sizes:
        ours_draw = getattr(ours, method)(*args, **kwargs, **size)
        theirs_draw = getattr(theirs, method)(*args, **kwargs, **size)
        assert_same_draw(ours_draw, theirs_draw)
        assert ours.bit_generator.state == theirs.bit_generator.state
    assert_in_sync(ours, theirs)


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("random", {}),
        ("random", F32),
        ("standard_normal", F32),
        ("integers", {"low": 0, "high": 2**32 - 1, "dtype": np.uint32}),
    ],
    ids=str,
)
def test_numpy_generator_large_draws(
    method: str, kwargs: dict[str, Any], assert_same_draw: Check, assert_in_sync: Check
) -> None:
    ours, theirs = _interop_pair(2**128 + 7)
    assert_same_draw(
        getattr(ours, method)(size=BIG, **kwargs), getattr(theirs, method)(size=BIG, **kwargs)
    )
    assert_in_sync(ours, theirs)


def test_permuted_shuffle_and_bytes(assert_in_sync: Check) -> None:
    ours, theirs = _interop_pair([4, 2])
    np.testing.assert_array_equal(ours.permuted(GRID, axis=1), theirs.permuted(GRID, axis=1))
    np.testing.assert_array_equal(ours.permuted(GRID), theirs.permuted(GRID))
    mine, ref = GRID.copy(), GRID.copy()
    ours.shuffle(mine, axis=1)
    theirs.shuffle(ref, axis=1)
    np.testing.assert_array_equal(mine, ref)
    assert ours.bytes(13) == theirs.bytes(13)
    assert_in_sync(ours, theirs)


def test_default_rng_accepts_our_bit_generator(seed: Any, assert_in_sync: Check) -> None:
    bit_generator = prng.PCG64(seed)
    ours, theirs = np.random.default_rng(bit_generator), np.random.default_rng(seed)
    assert ours.bit_generator is bit_generator
    np.testing.assert_array_equal(ours.standard_normal(9), theirs.standard_normal(9))
    assert_in_sync(ours, theirs)


def test_numpy_generator_spawn_uses_our_seed_sequence(assert_in_sync: Check) -> None:
    ours, theirs = _interop_pair(2**64 + 5)
    for child, reference in zip(ours.spawn(3), theirs.spawn(3), strict=True):
        assert isinstance(child.bit_generator, prng.PCG64)
        np.testing.assert_array_equal(child.random(5), reference.random(5))
        assert_in_sync(child, reference)


# (target, method, args, kwargs): target "ours" is crucible's Generator, "numpy" is NumPy's
# Generator, both on the same crucible PCG64; the reference runs every call on one NumPy
# Generator. Float32 draws leave and take buffered halves across the two.
INTERLEAVED: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = [
    ("numpy", "random", (3,), F32),
    ("ours", "integers", (0, 200), {"size": 5, "dtype": np.uint8}),
    ("numpy", "integers", (0, 2), {"size": 7, "dtype": bool}),
    ("ours", "random", (1,), F32),
    ("numpy", "standard_normal", (5,), F32),
    ("ours", "standard_exponential", (3,), F32),
    ("numpy", "gamma", (0.7,), {"size": 4}),
    ("ours", "normal", (1.0, 2.0), {"size": 3}),
    ("numpy", "integers", (0, 10**12), {"size": 2}),
    ("ours", "shuffle", (list(range(9)),), {}),
    ("numpy", "bytes", (7,), {}),
    ("ours", "choice", (50,), {"size": 5, "replace": False}),
    ("numpy", "random", (1,), F32),
    ("ours", "integers", (-3, 3), {"size": 6, "dtype": np.int16}),
]


def test_interleaving_our_generator_and_numpys_on_one_bit_generator(
    assert_same_draw: Check, assert_in_sync: Check
) -> None:
    shared = prng.PCG64(99)
    targets = {"ours": prng.Generator(shared), "numpy": np.random.Generator(shared)}
    reference = np.random.default_rng(99)
    for target, method, args, kwargs in INTERLEAVED:
        if method == "shuffle":
            mine, ref = list(args[0]), list(args[0])
            targets[target].shuffle(mine)
            reference.shuffle(ref)
            assert mine == ref
        else:
            ours_draw = getattr(targets[target], method)(*args, **kwargs)
            assert_same_draw(ours_draw, getattr(reference, method)(*args, **kwargs))
        assert shared.state == reference.bit_generator.state
    assert_in_sync(shared, reference)
