"""``Generator.choice``: NumPy's sampling rules on top of our Rust draws.

Without weights, sampling with replacement is ``integers(0, pop_size)``; without
replacement it is NumPy's tail shuffle or Floyd's algorithm, both in Rust. With weights
``p`` the draws are uniforms searched in the normalised CDF, as NumPy does.
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.prng.shape import as_shape

if TYPE_CHECKING:
    from crucible.prng.generator import Generator

__all__ = ["choose"]


def _population(a: Any, size: Any, axis: int) -> tuple[npt.NDArray[Any], int]:
    arr = np.asarray(a)
    if arr.ndim == 0:
        try:
            pop_size = operator.index(arr.item())
        except TypeError as exc:
            raise InvalidArgumentError(
                f"a must be a sequence or an integer, not {type(a)}"
            ) from exc
        if pop_size <= 0 and np.prod(size) != 0:
            raise InvalidArgumentError("a must be a positive integer unless no samples are taken")
        return arr, pop_size
    pop_size = arr.shape[axis]
    if pop_size == 0 and np.prod(size) != 0:
        raise InvalidArgumentError("a cannot be empty unless no samples are taken")
    return arr, pop_size


def _weights(p: Any, pop_size: int) -> npt.NDArray[np.float64]:
    atol = math.sqrt(np.finfo(np.float64).eps)
    if isinstance(p, np.ndarray) and np.issubdtype(p.dtype, np.floating):
        atol = max(atol, math.sqrt(float(np.finfo(p.dtype).eps)))
    weights = np.ascontiguousarray(p, dtype=np.float64)
    if weights.ndim != 1:
        raise InvalidArgumentError("p must be 1-dimensional")
    if weights.size != pop_size:
        raise InvalidArgumentError("a and p must have same size")
    total = math.fsum(weights.tolist())
    if math.isnan(total):
        raise InvalidArgumentError("Probabilities contain NaN")
    if np.any(weights < 0):
        raise InvalidArgumentError("Probabilities are not non-negative")
    if abs(total - 1.0) > atol:
        raise InvalidArgumentError(
            "Probabilities do not sum to 1. See Notes section of docstring for more information."
        )
    return weights


def _weighted_unique(
    gen: Generator, weights: npt.NDArray[np.float64], shape: tuple[int, ...], size: int
) -> npt.NDArray[np.int64]:
    if np.count_nonzero(weights > 0) < size:
        raise InvalidArgumentError("Fewer non-zero entries in p than size")
    weights = weights.copy()
    found = np.zeros(shape, dtype=np.int64)
    flat = found.ravel()
    n_uniq = 0
    while n_uniq < size:
        x = gen.random((size - n_uniq,))
        if n_uniq > 0:
            weights[flat[0:n_uniq]] = 0
        cdf = np.cumsum(weights)
        cdf /= cdf[-1]
        new = cdf.searchsorted(x, side="right")
        _, unique_indices = np.unique(new, return_index=True)
        unique_indices.sort()
        new = new.take(unique_indices)
        flat[n_uniq : n_uniq + new.size] = new
        n_uniq += new.size
    return found


def choose(
    gen: Generator, a: Any, size: Any, replace: bool, p: Any, axis: int, shuffle: bool
) -> Any:
    arr, pop_size = _population(a, size, axis)
    weights = None if p is None else _weights(p, pop_size)
    is_scalar = size is None
    shape: tuple[int, ...] = () if is_scalar else as_shape(size)
    n = 1 if is_scalar else int(np.prod(shape, dtype=np.intp))
    if replace:
        if weights is not None:
            cdf = weights.cumsum()
            cdf /= cdf[-1]
            idx: Any = np.asarray(cdf.searchsorted(gen.random(shape), side="right"), dtype=np.int64)
        else:
            idx = gen.integers(0, pop_size, size=shape, dtype=np.int64)
    else:
        if n > pop_size:
            raise InvalidArgumentError(
                "Cannot take a larger sample than population when replace is False"
            )
        if n < 0:
            raise InvalidArgumentError("negative dimensions are not allowed")
        if weights is not None:
            idx = _weighted_unique(gen, weights, shape, n)
        else:
            with gen.bit_generator.lock:
                flat = gen.bit_generator._core.sample_without_replacement(pop_size, n, shuffle)
            idx = flat.reshape(shape)
    if is_scalar and isinstance(idx, np.ndarray):
        idx = idx.item(0)
    if arr.ndim == 0:
        return idx
    if not is_scalar and np.ndim(idx) == 0 and arr.ndim == 1:
        res = np.empty((), dtype=arr.dtype)
        res[()] = arr[idx]
        return res
    return arr.take(np.asarray(idx, dtype=np.intp), axis=axis)
