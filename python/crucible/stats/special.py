"""The standard normal CDF and quantile, from the Rust core (no SciPy at run time)."""

from __future__ import annotations

from typing import Any, overload

import numpy as np
import numpy.typing as npt

from crucible import _core

__all__ = ["ndtr", "ndtri"]


@overload
def ndtr(x: float) -> float: ...
@overload
def ndtr(x: npt.ArrayLike) -> Any: ...


def ndtr(x: npt.ArrayLike) -> Any:
    """Φ(x), elementwise; accurate in both tails (no 1 - Φ cancellation)."""
    arr = np.asarray(x, dtype=np.float64)
    out = _core.ndtr(np.ascontiguousarray(arr))
    return float(out[0]) if arr.ndim == 0 else out.reshape(arr.shape)


@overload
def ndtri(p: float) -> float: ...
@overload
def ndtri(p: npt.ArrayLike) -> Any: ...


def ndtri(p: npt.ArrayLike) -> Any:
    """Φ⁻¹(p), elementwise; ±inf at 0 and 1, NaN outside [0, 1]."""
    arr = np.asarray(p, dtype=np.float64)
    out = _core.ndtri(np.ascontiguousarray(arr))
    return float(out[0]) if arr.ndim == 0 else out.reshape(arr.shape)
