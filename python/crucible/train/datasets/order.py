"""Deterministic orders: the train/validation split and each epoch's shuffle.

Both are pure functions of (seed, ...) through ``crucible.prng`` (NumPy's PCG64 stream), so a
resumed run visits the same batches and the same split with no saved state, and NumPy users
can reproduce them with ``numpy.random.default_rng``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from crucible import prng
from crucible.errors import InvalidArgumentError

__all__ = ["epoch_order", "split_indices"]


def split_indices(
    n: int, val_fraction: float, seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Sorted train and validation indices; validation gets ``round(n * val_fraction)``
    examples (at least one when the fraction is positive and ``n > 1``)."""
    if not 0.0 <= val_fraction < 1.0:
        raise InvalidArgumentError(f"val_fraction {val_fraction} must be in [0, 1)")
    n_val = round(n * val_fraction)
    if val_fraction > 0 and n > 1:
        n_val = min(max(n_val, 1), n - 1)
    perm = np.asarray(prng.default_rng([seed, 0x5B11]).permutation(n), dtype=np.int64)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def epoch_order(n: int, epoch: int, seed: int, shuffle: bool = True) -> npt.NDArray[np.int64]:
    """The order of ``n`` examples in ``epoch`` (a fresh permutation each epoch)."""
    if not shuffle:
        return np.arange(n, dtype=np.int64)
    return np.asarray(prng.default_rng([seed, epoch]).permutation(n), dtype=np.int64)
