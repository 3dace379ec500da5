"""How a bootstrap statistic is computed: built-in (fused in Rust) or a user callable.

A built-in statistic names a per-sample reduction that the Rust kernel applies to each
resample as it draws it (``mean``, ``median``, ``std``, ``var``, ``trim_mean``, ``quantile``),
and for
two samples how the two reductions combine (``diff_*`` / ``ratio_*``). A callable takes the
samples and an ``axis`` (vectorised, as SciPy's ``bootstrap`` expects) and is applied to
index matrices drawn from the same stream, the slow path. Either way the random words are
consumed in SciPy's order, so results match ``scipy.stats.bootstrap`` for the same seed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from crucible import _core
from crucible.errors import InvalidArgumentError
from crucible.prng import PCG64

__all__ = ["BUILTIN_STATISTICS", "Builtin", "Draws", "resolve_statistic"]

Samples = list[npt.NDArray[np.float64]]
VectorStatistic = Callable[..., Any]

_ONE_SAMPLE = {"mean", "median", "std", "var", "trim_mean", "quantile"}
_TWO_SAMPLE = {
    "diff_means": ("mean", np.subtract),
    "ratio_means": ("mean", np.divide),
    "diff_medians": ("median", np.subtract),
    "ratio_medians": ("median", np.divide),
}
BUILTIN_STATISTICS = frozenset(_ONE_SAMPLE | set(_TWO_SAMPLE))


class Builtin(msgspec.Struct, frozen=True, kw_only=True):
    """A statistic the Rust kernel computes while it resamples."""

    name: str
    reduce: str
    param: float = 0.0
    combine: Callable[[Any, Any], Any] | None = None

    def whole(self, samples: Samples) -> list[float]:
        return [_core.bootstrap_reduce(s, self.reduce, self.param) for s in samples]

    def join(self, parts: Sequence[Any]) -> Any:
        """One sample's reduction is the statistic; two combine (difference or ratio)."""
        return parts[0] if self.combine is None else self.combine(parts[0], parts[1])


def resolve_statistic(
    statistic: str | VectorStatistic,
    n_samples: int,
    *,
    ddof: float,
    proportion: float,
    q: float = 0.5,
) -> Builtin | VectorStatistic:
    if callable(statistic):
        if "axis" in inspect.signature(statistic).parameters:
            return statistic
        return _vectorize(statistic)
    if statistic in _ONE_SAMPLE:
        if n_samples != 1:
            raise InvalidArgumentError(f"statistic {statistic!r} takes one sample")
        if statistic == "trim_mean" and not 0 <= proportion < 0.5:
            raise InvalidArgumentError("proportion must be in [0, 0.5)")
        if statistic == "quantile" and not 0 <= q <= 1:
            raise InvalidArgumentError("q must be in [0, 1]")
        param = {"trim_mean": proportion, "quantile": q}.get(statistic, float(ddof))
        return Builtin(name=statistic, reduce=statistic, param=param)
    if statistic in _TWO_SAMPLE:
        if n_samples != 2:
            raise InvalidArgumentError(f"statistic {statistic!r} takes two samples")
        reduce, combine = _TWO_SAMPLE[statistic]
        return Builtin(name=statistic, reduce=reduce, combine=combine)
    raise InvalidArgumentError(
        f"unknown statistic {statistic!r}; use a callable or one of {sorted(BUILTIN_STATISTICS)}"
    )


def _vectorize(statistic: Callable[..., Any]) -> VectorStatistic:
    """Apply a per-sample statistic along the last axis (SciPy's non-vectorised path)."""

    def along_axis(*samples: Any, axis: int = -1) -> Any:
        moved_in = [np.moveaxis(s, axis, -1) for s in samples]
        split = np.cumsum([s.shape[-1] for s in moved_in])[:-1]
        lead = np.broadcast_shapes(*(s.shape[:-1] for s in moved_in))
        joined = [np.broadcast_to(s, (*lead, s.shape[-1])) for s in moved_in]
        moved = np.moveaxis(np.concatenate(joined, axis=-1), -1, 0)
        return np.apply_along_axis(lambda z: statistic(*np.split(z, split)), 0, moved)[()]

    return along_axis


class Draws:
    """Bootstrap and jackknife statistics for one call, in SciPy's draw order."""

    def __init__(self, samples: Samples, stat: Builtin | VectorStatistic, paired: bool) -> None:
        self.samples = samples
        self.stat = stat
        self.paired = paired

    def observed(self) -> Any:
        if isinstance(self.stat, Builtin):
            return self.stat.join(self.stat.whole(self.samples))
        return self.stat(*self.samples, axis=-1)

    def resampled(self, rng: Any, n_resamples: int) -> Any:
        """One batch: ``n_resamples`` statistics of fresh resamples."""
        stat = self.stat
        if isinstance(stat, Builtin) and isinstance(rng, PCG64):
            with rng.lock:
                if self.paired:
                    flat = _core.bootstrap_resample_reduce(
                        rng._core, self.samples, n_resamples, stat.reduce, stat.param
                    )
                    parts = list(flat.reshape(len(self.samples), n_resamples))
                else:
                    parts = [
                        _core.bootstrap_resample_reduce(
                            rng._core, [s], n_resamples, stat.reduce, stat.param
                        )
                        for s in self.samples
                    ]
            return stat.join(parts)
        gen = np.random.Generator(rng) if isinstance(rng, PCG64) else rng  # type: ignore[arg-type]
        vector = stat if not isinstance(stat, Builtin) else _builtin_as_vector(stat)
        if self.paired:
            n = self.samples[0].shape[-1]
            idx = gen.integers(0, n, (n_resamples, n))
            return vector(*[s[..., idx] for s in self.samples], axis=-1)
        resamples = [
            s[..., gen.integers(0, s.shape[-1], (n_resamples, s.shape[-1]))] for s in self.samples
        ]
        return vector(*resamples, axis=-1)

    def jackknife(self) -> list[Any]:
        """Leave-one-out statistics, one array per sample (one in all when paired)."""
        stat = self.stat
        if isinstance(stat, Builtin):
            if self.paired:
                n = self.samples[0].shape[-1]
                flat = _core.bootstrap_jackknife(self.samples, stat.reduce, stat.param)
                return [stat.join(list(flat.reshape(len(self.samples), n)))]
            whole = stat.whole(self.samples)
            out = []
            for j, sample in enumerate(self.samples):
                parts: list[Any] = list(whole)
                parts[j] = _core.bootstrap_jackknife([sample], stat.reduce, stat.param)
                out.append(stat.join(parts))
            return out
        if self.paired:
            n = self.samples[0].shape[-1]
            loo = _leave_one_out(n)
            return [stat(*[s[..., loo] for s in self.samples], axis=-1)]
        out = []
        for j, sample in enumerate(self.samples):
            expanded = [np.expand_dims(s, axis=-2) for s in self.samples]
            expanded[j] = sample[..., _leave_one_out(sample.shape[-1])]
            lead = np.broadcast_shapes(*(e.shape[:-1] for e in expanded))
            broadcast = [np.broadcast_to(e, (*lead, e.shape[-1])) for e in expanded]
            out.append(stat(*broadcast, axis=-1))
        return out


def _leave_one_out(n: int) -> npt.NDArray[np.intp]:
    keep = ~np.eye(n, dtype=bool)
    return np.broadcast_to(np.arange(n), (n, n))[keep].reshape(n, n - 1)


def _builtin_as_vector(stat: Builtin) -> VectorStatistic:
    """The NumPy equivalent of a built-in, for generators our kernel cannot drive."""

    def reduce(x: Any, axis: int) -> Any:
        if stat.reduce == "mean":
            return np.mean(x, axis=axis)
        if stat.reduce == "median":
            return np.median(x, axis=axis)
        if stat.reduce in ("std", "var"):
            fn = np.std if stat.reduce == "std" else np.var
            return fn(x, ddof=stat.param, axis=axis)
        if stat.reduce == "quantile":
            return np.quantile(x, stat.param, axis=axis)
        n = x.shape[axis]
        cut = int(stat.param * n)
        part = np.partition(x, (cut, n - cut - 1), axis=axis)
        return np.mean(np.take(part, np.arange(cut, n - cut), axis=axis), axis=axis)

    def vector(*samples: Any, axis: int = -1) -> Any:
        return stat.join([reduce(s, axis) for s in samples])

    return vector
