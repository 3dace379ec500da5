"""Output shapes as NumPy spells them: ``size`` may be an int, a tuple, a list or an array."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

__all__ = ["as_shape"]


def as_shape(size: Any) -> tuple[int, ...]:
    """``size`` as a tuple of ints (``5`` -> ``(5,)``, ``[3, 2]`` -> ``(3, 2)``)."""
    if isinstance(size, (int, np.integer)):
        return (operator.index(size),)
    return tuple(operator.index(s) for s in np.asarray(size).reshape(-1).tolist())
