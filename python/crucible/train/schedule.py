"""Learning-rate schedules: constant, linear and cosine decay, each after a linear warmup.

``lr_multiplier(schedule, step, total_steps, warmup_steps)`` is the factor on the base rate
at 0-based ``step``. Warmup ramps ``(step + 1) / warmup_steps`` so the first step already
moves the weights; decay then runs over the remaining steps, from 1 down to ``min_ratio``
(tinker-cookbook's schedules are the ``warmup_steps = 0, min_ratio = 0`` case).
"""

from __future__ import annotations

import math
from typing import Literal

from crucible.errors import InvalidArgumentError

__all__ = ["LRSchedule", "lr_multiplier"]

LRSchedule = Literal["constant", "linear", "cosine"]


def lr_multiplier(
    schedule: LRSchedule,
    step: int,
    total_steps: int,
    warmup_steps: int = 0,
    min_ratio: float = 0.0,
) -> float:
    if total_steps < 1 or step < 0 or warmup_steps < 0:
        raise InvalidArgumentError("need total_steps >= 1, step >= 0, warmup_steps >= 0")
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    span = max(total_steps - warmup_steps, 1)
    progress = min((step - warmup_steps) / span, 1.0)
    if schedule == "linear":
        decay = 1.0 - progress
    elif schedule == "cosine":
        decay = 0.5 * (1.0 + math.cos(math.pi * progress))
    else:
        raise InvalidArgumentError(f"unknown schedule {schedule!r}")
    return min_ratio + (1.0 - min_ratio) * decay
