"""Ranks, as ``scipy.stats.rankdata`` assigns them, and the input checks of the rank tests.

Ranking runs in Rust (one sort of order-preserving integer keys; see ``rust/stats/rank.rs``).
Ties get the ``method``'s rank: ``"average"`` (the mean of the ranks they span, SciPy's
default), ``"min"``, ``"max"``, ``"dense"`` or ``"ordinal"`` (ties broken by position).
Like SciPy, -0.0 and 0.0 tie, average ranks are float64 and the other methods' int64.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from crucible import _core
from crucible.errors import DegenerateDataWarning, InvalidArgumentError, InvalidTypeError

__all__ = ["RankMethod", "rankdata"]

RankMethod = Literal["average", "min", "max", "dense", "ordinal"]
NanPolicy = Literal["propagate", "omit", "raise"]
Alternative = Literal["two-sided", "less", "greater"]

_Floats = npt.NDArray[np.float64]
_METHODS = ("average", "min", "max", "dense", "ordinal")


def _choice(value: object, name: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        expected = ", ".join(repr(a) for a in allowed)
        raise InvalidArgumentError(f"`{name}` must be one of {expected}; got {value!r}")
    return value


def check_nan_policy(nan_policy: object) -> NanPolicy:
    """Validate ``nan_policy`` (``"propagate"``, ``"omit"`` or ``"raise"``)."""
    policy = _choice(nan_policy, "nan_policy", ("propagate", "omit", "raise"))
    return policy  # type: ignore[return-value]


def check_alternative(alternative: object) -> Alternative:
    """Validate ``alternative`` (``"two-sided"``, ``"less"`` or ``"greater"``)."""
    return _choice(alternative, "alternative", ("two-sided", "less", "greater"))  # type: ignore[return-value]


def check_flag(value: object, name: str) -> bool:
    """A boolean option; like SciPy, 0 and 1 pass too."""
    if value not in (True, False):
        raise InvalidArgumentError(f"`{name}` must be True or False; got {value!r}")
    return bool(value)


def as_sample(values: npt.ArrayLike, name: str) -> _Floats:
    """A contiguous 1-D float64 array of real numbers (a scalar becomes one observation)."""
    arr: npt.NDArray[Any] = np.asarray(values)
    if arr.dtype.kind not in "biuf":
        raise InvalidTypeError(f"`{name}` must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InvalidArgumentError(f"`{name}` must be one-dimensional, got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def drop_nan(arr: _Floats, name: str, nan_policy: NanPolicy) -> _Floats:
    """Apply ``"omit"`` or ``"raise"``; ``"propagate"`` leaves NaNs for the kernels, which
    return NaN (checking here would cost a pass over the data)."""
    if nan_policy == "propagate":
        return arr
    nan = np.isnan(arr)
    if not nan.any():
        return arr
    if nan_policy == "raise":
        raise InvalidArgumentError(f"`{name}` contains NaN")
    return np.ascontiguousarray(arr[~nan])


def warn_too_small() -> None:
    """SciPy returns NaN for an empty sample with a ``SmallSampleWarning``; so do we."""
    warnings.warn(
        DegenerateDataWarning(
            "one or more samples is empty: all returned values are NaN",
        ),
        stacklevel=3,
    )


def rankdata(
    a: npt.ArrayLike,
    method: RankMethod = "average",
    *,
    axis: int | None = None,
    nan_policy: NanPolicy = "propagate",
) -> npt.NDArray[Any]:
    """Rank ``a`` from 1 (``scipy.stats.rankdata``), flattened or along ``axis``.

    With NaN, ``"propagate"`` makes every rank of the affected slice NaN and ``"omit"``
    ranks the other values and leaves NaN in place (both give float64 ranks).
    """
    method = _choice(method, "method", _METHODS)  # type: ignore[assignment]
    policy = check_nan_policy(nan_policy)
    arr: npt.NDArray[Any] = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise InvalidTypeError(f"`a` must hold real numbers, got dtype {arr.dtype}")
    values = arr.astype(np.float64)
    if axis is None:
        values = values.reshape(-1)
        axis = -1
    elif values.ndim == 0:
        raise InvalidArgumentError("`axis` must be None for a scalar")
    elif not -values.ndim <= axis < values.ndim:
        raise InvalidArgumentError(f"`axis` {axis} is out of bounds for {values.ndim} dims")
    if values.size == 0:
        return np.empty(values.shape, dtype=np.float64 if method == "average" else np.int64)
    lanes = np.moveaxis(values, axis, -1)
    flat = lanes.reshape(-1, lanes.shape[-1])
    out = np.empty(flat.shape, dtype=np.float64)
    has_nan = False
    for i, lane in enumerate(flat):
        out[i], lane_nan = _rank_lane(np.ascontiguousarray(lane), method, policy)
        has_nan = has_nan or lane_nan
    ranks = np.moveaxis(out.reshape(lanes.shape), -1, axis)
    if method != "average" and not has_nan:
        return ranks.astype(np.int64)
    return ranks


def _rank_lane(lane: _Floats, method: str, policy: NanPolicy) -> tuple[_Floats, bool]:
    nan = np.isnan(lane)
    if not nan.any():
        ranks, _ = _core.rank_values(lane, method)
        return ranks, False
    if policy == "raise":
        raise InvalidArgumentError("`a` contains NaN")
    out = np.full(lane.shape, np.nan)
    if policy == "omit":
        out[~nan], _ = _core.rank_values(np.ascontiguousarray(lane[~nan]), method)
    return out, True
