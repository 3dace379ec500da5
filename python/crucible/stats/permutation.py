"""Permutation tests, equal to ``scipy.stats.permutation_test`` for the same seed.

With ``rng=seed`` the statistic, the null distribution (element by element, in order)
and the p-value equal SciPy's with ``rng=numpy.random.default_rng(seed)``: the same
permutations come from the same PCG64 stream (:mod:`crucible.stats.permutation_null`
reproduces SciPy's draw and enumeration orders), every distinct reassignment is
enumerated instead when there are no more than ``n_resamples`` of them, and p-values
follow SciPy's rule: a null value counts as at least as extreme as the observed one
within a relative tolerance of ``100 * eps`` (so theoretically equal values that differ
by rounding count), and a random (not exact) test adds one to both counts, so a p-value
is never zero. A NumPy ``Generator`` is accepted too (a PCG64 one is left where NumPy
would leave it).

Built-in statistics by name — ``mean_difference`` and ``median_difference`` (two
samples), ``mean`` and ``median`` (one sample, e.g. a sign-flip test) — are NumPy's
``mean``/``median`` along the axis; random tests of the two-sample ones on independent
1-D float64 samples run fused in Rust (shuffle and reduce, no index matrix, both cores).
Any callable works as SciPy expects: ``f(*samples, axis=-1)`` when vectorised, else
``f(*samples)`` on 1-D samples.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt

from crucible import _core
from crucible.errors import InvalidArgumentError
from crucible.prng import PCG64
from crucible.stats import permutation_null
from crucible.stats.bootstrap import _generator
from crucible.stats.resampling import _vectorize

__all__ = ["PERMUTATION_STATISTICS", "PermutationTestResult", "permutation_test"]

PermutationType = Literal["independent", "samples", "pairings"]
Alternative = Literal["two-sided", "less", "greater"]


def _mean_difference(x: Any, y: Any, *, axis: int = -1) -> Any:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def _median_difference(x: Any, y: Any, *, axis: int = -1) -> Any:
    return np.median(x, axis=axis) - np.median(y, axis=axis)


def _mean(x: Any, *, axis: int = -1) -> Any:
    return np.mean(x, axis=axis)


def _median(x: Any, *, axis: int = -1) -> Any:
    return np.median(x, axis=axis)


# name -> (vectorised NumPy statistic, number of samples, Rust reduction when fused)
_BUILTIN: dict[str, tuple[Callable[..., Any], int, str | None]] = {
    "mean_difference": (_mean_difference, 2, "mean"),
    "median_difference": (_median_difference, 2, "median"),
    "mean": (_mean, 1, None),
    "median": (_median, 1, None),
}
PERMUTATION_STATISTICS = frozenset(_BUILTIN)


class PermutationTestResult(msgspec.Struct, frozen=True, kw_only=True):
    statistic: Any
    pvalue: Any
    null_distribution: npt.NDArray[Any]
    alternative: str
    permutation_type: str
    exact: bool
    n_resamples: int
    method: str


def _samples(data: Sequence[npt.ArrayLike], axis: int, kind: str) -> list[npt.NDArray[Any]]:
    """SciPy's input handling: broadcast all but ``axis``, which moves last."""
    message = "`data` must be a tuple containing at least two samples"
    if isinstance(data, np.ndarray) or not isinstance(data, Sequence):
        raise InvalidArgumentError(message)
    if len(data) < 2 and kind == "independent":
        raise InvalidArgumentError(message)
    if len(data) == 0:
        raise InvalidArgumentError("`data` must contain at least one sample")
    arrays = [np.atleast_1d(np.asarray(s)) for s in data]
    ndim = max(a.ndim for a in arrays)
    if not -ndim <= axis < ndim:
        raise InvalidArgumentError(f"`axis` {axis} is out of bounds for {ndim}-d samples")
    ax = axis % ndim
    shapes = [(1,) * (ndim - a.ndim) + a.shape for a in arrays]
    try:
        common = np.broadcast_shapes(*((*s[:ax], 1, *s[ax + 1 :]) for s in shapes))
    except ValueError as exc:
        raise InvalidArgumentError("samples must broadcast except along `axis`") from exc
    out = []
    for a, shape in zip(arrays, shapes, strict=True):
        full = (*common[:ax], shape[ax], *common[ax + 1 :])
        sample = np.broadcast_to(a.reshape(shape), full)
        if sample.shape[ax] <= 1:
            raise InvalidArgumentError(
                "each sample in `data` must contain two or more observations along `axis`."
            )
        out.append(np.moveaxis(sample, ax, -1))
    return out


def _statistic(statistic: str | Callable[..., Any], vectorized: bool | None, n: int) -> Any:
    if isinstance(statistic, str):
        if statistic not in _BUILTIN:
            raise InvalidArgumentError(
                f"unknown statistic {statistic!r}; use a callable or one of "
                f"{sorted(PERMUTATION_STATISTICS)}"
            )
        fn, n_samples, _ = _BUILTIN[statistic]
        if n != n_samples:
            raise InvalidArgumentError(f"statistic {statistic!r} takes {n_samples} sample(s)")
        return fn
    if not callable(statistic):
        raise InvalidArgumentError("`statistic` must be a callable or a built-in name")
    if vectorized not in (True, False, None):
        raise InvalidArgumentError("`vectorized` must be `True`, `False`, or `None`.")
    if vectorized is None:
        vectorized = "axis" in inspect.signature(statistic).parameters
    return statistic if vectorized else _vectorize(statistic)


def _fused(
    statistic: str | Callable[..., Any], data: list[npt.NDArray[Any]], kind: str, source: Any
) -> Callable[[int], npt.NDArray[np.float64]] | None:
    """The Rust kernel for a built-in two-sample statistic, where it applies."""
    if not isinstance(statistic, str) or kind != "independent" or not isinstance(source, PCG64):
        return None
    reduce = _BUILTIN[statistic][2]
    if reduce is None or any(s.ndim != 1 or s.dtype != np.float64 for s in data):
        return None
    pooled = np.ascontiguousarray(np.concatenate(data))
    n_first = data[0].shape[0]

    def draw(count: int) -> npt.NDArray[np.float64]:
        with source.lock:
            return _core.permutation_independent_null(source._core, pooled, n_first, count, reduce)

    return draw


def _pvalue(
    null: permutation_null.NullDistribution, observed: Any, alternative: str, dtype: Any
) -> Any:
    adjustment = 0 if null.exact else 1
    observed = np.asarray(observed)
    eps = np.finfo(observed.dtype).eps * 100 if np.issubdtype(observed.dtype, np.floating) else 0
    gamma = np.abs(eps * observed)
    denominator = null.count + adjustment

    def less() -> Any:
        hits = np.count_nonzero(null.values <= observed + gamma, axis=0) + adjustment
        return np.asarray(hits).astype(dtype) / denominator

    def greater() -> Any:
        hits = np.count_nonzero(null.values >= observed - gamma, axis=0) + adjustment
        return np.asarray(hits).astype(dtype) / denominator

    if alternative == "less":
        p = less()
    elif alternative == "greater":
        p = greater()
    else:
        p = np.minimum(less(), greater()) * 2
    return np.clip(p, 0.0, 1.0)


def _scalar(value: Any) -> Any:
    arr = np.asarray(value)
    return arr[()].item() if arr.ndim == 0 else arr


def permutation_test(
    data: Sequence[npt.ArrayLike],
    statistic: str | Callable[..., Any],
    *,
    permutation_type: PermutationType = "independent",
    vectorized: bool | None = None,
    n_resamples: float = 9999,
    batch: int | None = None,
    alternative: Alternative = "two-sided",
    axis: int = 0,
    rng: Any = None,
) -> PermutationTestResult:
    """Permutation test of ``statistic`` over ``data`` (a sequence of samples).

    ``permutation_type`` is ``"independent"`` (observations reassigned among samples),
    ``"samples"`` (paired observations swapped between samples; one sample: sign flips)
    or ``"pairings"`` (observations reordered within samples, e.g. for correlation).
    ``n_resamples=numpy.inf`` always enumerates every reassignment.
    """
    if int(axis) != axis:
        raise InvalidArgumentError("`axis` must be an integer.")
    kind = str(permutation_type).lower()
    if kind not in ("independent", "samples", "pairings"):
        raise InvalidArgumentError(
            "`permutation_type` must be in {'independent', 'samples', 'pairings'}."
        )
    alt = str(alternative).lower()
    if alt not in ("two-sided", "less", "greater"):
        raise InvalidArgumentError("`alternative` must be in {'two-sided', 'greater', 'less'}")
    if n_resamples != np.inf and (int(n_resamples) != n_resamples or n_resamples <= 0):
        raise InvalidArgumentError("`n_resamples` must be a positive integer.")
    if batch is not None and (int(batch) != batch or batch <= 0):
        raise InvalidArgumentError("`batch` must be a positive integer or None.")
    samples = _samples(data, int(axis), kind)
    stat = _statistic(statistic, vectorized, len(samples))
    dtype = np.result_type(*samples)
    dtype = dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)

    source, hand_back = _generator(rng)
    observed = stat(*samples, axis=-1)
    limit = np.inf if n_resamples == np.inf else int(n_resamples)
    step = None if batch is None else int(batch)
    if kind == "independent":
        fused = _fused(statistic, samples, kind, source)
        null = permutation_null.independent(samples, stat, limit, step, source, fused)
    elif kind == "pairings":
        null = permutation_null.pairings(samples, stat, limit, step, source)
    else:
        null = permutation_null.samples(samples, stat, limit, step, source)
    hand_back()

    pvalue = _pvalue(null, observed, alt, dtype)
    how = "exact" if null.exact else "randomized"
    return PermutationTestResult(
        statistic=_scalar(observed),
        pvalue=_scalar(pvalue),
        null_distribution=np.asarray(null.values),
        alternative=alt,
        permutation_type=kind,
        exact=null.exact,
        n_resamples=null.count,
        method=f"{how} permutation test ({kind})",
    )
