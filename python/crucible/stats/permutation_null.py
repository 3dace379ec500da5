"""The null distributions behind :func:`crucible.stats.permutation_test`, in SciPy's order.

``scipy.stats.permutation_test`` enumerates every distinct reassignment when there are no
more of them than ``n_resamples`` (in the order of its set-based partition generator, or
of ``itertools.product`` of ``permutations`` for paired data) and otherwise draws random
ones: one ``rng.permutation(n)`` per resample for independent samples, and
``rng.permuted`` over a tiled ``(batch, samples, n)`` index array for paired data (a whole
batch is drawn even when only part of the last one is used). We reproduce each order,
draw the permutations from the same PCG64 stream in Rust, and hand the statistic arrays
with the same shapes and memory layouts, so a NumPy statistic gives SciPy's values bit
for bit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from crucible import _core
from crucible.prng import PCG64

__all__ = ["NullDistribution", "independent", "pairings", "samples"]

Statistic = Callable[..., Any]
Arrays = list[npt.NDArray[Any]]


class NullDistribution:
    """Statistic values under the null, how many there are, and whether all were seen."""

    def __init__(self, values: npt.NDArray[Any], count: int, exact: bool) -> None:
        self.values = values
        self.count = count
        self.exact = exact


def _rows(source: Any, rows: int, n: int) -> npt.NDArray[np.int64]:
    """``rows`` consecutive ``permutation(n)`` draws, shape ``(rows, n)``."""
    if isinstance(source, PCG64):
        with source.lock:
            flat = _core.permutation_rows_draw(source._core, rows, n)
        return flat.reshape(rows, n)
    return np.asarray([source.permutation(n) for _ in range(rows)], dtype=np.int64).reshape(rows, n)


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def _partitions(sizes: Sequence[int]) -> Iterator[npt.NDArray[np.int_]]:
    """Every assignment of ``range(sum(sizes))`` to groups of ``sizes``, concatenated.

    The groups are Python sets, chosen with ``itertools.combinations`` over the set of
    indices still free: SciPy enumerates them this way, and the order of the indices
    within each group (CPython's set order) decides the order in which the statistic
    sums them, so we build the very same sets.
    """

    def split(pool: set[int], rest: Sequence[int]) -> Iterator[list[set[int]]]:
        if not rest:
            yield [pool]
            return
        for chosen in itertools.combinations(pool, rest[0]):
            first = set(chosen)
            for tail in split(pool - first, rest[1:]):
                yield [first, *tail]

    for groups in split(set(range(sum(sizes))), list(sizes)):
        yield np.concatenate([list(group) for group in groups]).astype(int)


def independent(
    data: Arrays,
    statistic: Statistic,
    n_resamples: float,
    batch: int | None,
    source: Any,
    fused: Callable[[int], npt.NDArray[np.float64]] | None = None,
) -> NullDistribution:
    """Reassign observations among independent samples (sizes kept)."""
    sizes = [sample.shape[-1] for sample in data]
    bounds = list(itertools.accumulate(sizes, initial=0))
    n_obs = bounds[-1]
    n_max = math.prod(math.comb(n, k) for k, n in itertools.pairwise(bounds))
    exact = n_resamples >= n_max
    count = n_max if exact else int(n_resamples)
    if not exact and fused is not None:
        return NullDistribution(fused(count), count, exact)
    step = batch or count
    pooled = np.concatenate(data, axis=-1)

    def index_batches() -> Iterator[npt.NDArray[Any]]:
        if exact:
            for chunk in _batches(_partitions(sizes), step):
                yield np.asarray(chunk)
        else:
            for start in range(0, count, step):
                yield _rows(source, min(step, count - start), n_obs)

    parts = []
    for indices in index_batches():
        moved = np.moveaxis(pooled[..., indices], -2, 0)
        groups = [moved[..., i:j] for i, j in itertools.pairwise(bounds)]
        parts.append(statistic(*groups, axis=-1))
    return NullDistribution(np.concatenate(parts, axis=0), count, exact)


def _permuted_batches(
    count: int, n_samples: int, n: int, batch: int, source: Any
) -> Iterator[npt.NDArray[np.int64]]:
    """SciPy's ``rng.permuted`` batches: each draws ``batch`` full rows per sample."""
    batch = min(batch, count)
    for start in range(0, count, batch):
        used = min(batch, count - start)
        if isinstance(source, PCG64):
            drawn = _rows(source, batch * n_samples, n).reshape(batch, n_samples, n)
        else:
            tiled = np.tile(np.arange(n), (batch, n_samples, 1))
            drawn = source.permuted(tiled, axis=-1)
        yield drawn[:used]


def pairings(
    data: Arrays, statistic: Statistic, n_resamples: float, batch: int | None, source: Any
) -> NullDistribution:
    """Permute the order of observations within each sample (breaking the pairing)."""
    n_samples = len(data)
    n = data[0].shape[-1]
    n_max = math.factorial(n) ** n_samples
    exact = n_resamples >= n_max
    count = n_max if exact else int(n_resamples)
    step = batch or count
    if exact:
        every = itertools.product(*(itertools.permutations(range(n)) for _ in range(n_samples)))
        batches: Iterator[Any] = (np.asarray(chunk) for chunk in _batches(every, step))
    else:
        batches = _permuted_batches(count, n_samples, n, step, source)
    parts = []
    for indices in batches:
        per_sample = np.swapaxes(indices, 0, 1)
        moved = [np.moveaxis(data[i][..., per_sample[i]], -2, 0) for i in range(n_samples)]
        parts.append(statistic(*moved, axis=-1))
    return NullDistribution(np.concatenate(parts, axis=0), count, exact)


def samples(
    data: Arrays, statistic: Statistic, n_resamples: float, batch: int | None, source: Any
) -> NullDistribution:
    """Permute which sample each paired observation belongs to (one sample: flip signs).

    As SciPy does, the roles of samples and observations are swapped and the pairings
    engine does the work; the statistic is handed the arrays it expects.
    """
    n_samples = len(data)
    if n_samples == 1:
        data = [data[0], -data[0]]
    swapped = np.swapaxes(np.stack(data, axis=0), 0, -1)

    def unswapped(*columns: Any, axis: int) -> Any:
        back = np.swapaxes(np.stack(columns, axis=0), 0, -1)
        if n_samples == 1:
            back = back[0:1, ...]
        return statistic(*[back[i, ...] for i in range(back.shape[0])], axis=axis)

    rows = [swapped[i, ...] for i in range(swapped.shape[0])]
    return pairings(rows, unswapped, n_resamples, batch, source)
