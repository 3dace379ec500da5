"""The loop's own state: where it is, and what early stopping remembers. Saved in every
checkpoint's manifest so a resumed run continues exactly."""

from __future__ import annotations

import math
from typing import Any

import msgspec

from crucible.train.config import EarlyStopping

__all__ = ["LoopState"]


class LoopState(msgspec.Struct, kw_only=True):
    step: int = 0
    """Optimizer steps completed (the next step's index)."""
    best_value: float | None = None
    best_step: int | None = None
    bad_evals: int = 0
    stopped_early: bool = False
    completed: bool = False

    def observe(
        self, value: float, step: int, rule: EarlyStopping | None, monitor_mode: str
    ) -> bool:
        """Record an evaluation; True if it is the best so far (by more than ``min_delta``)."""
        if math.isnan(value):
            improved = False
        elif self.best_value is None:
            improved = True
        else:
            delta = rule.min_delta if rule is not None else 0.0
            if monitor_mode == "min":
                improved = value < self.best_value - delta
            else:
                improved = value > self.best_value + delta
        if improved:
            self.best_value, self.best_step, self.bad_evals = value, step, 0
        else:
            self.bad_evals += 1
        return improved

    def should_stop(self, rule: EarlyStopping | None) -> bool:
        return rule is not None and self.bad_evals >= rule.patience

    def to_builtins(self) -> dict[str, Any]:
        return msgspec.to_builtins(self)  # type: ignore[no-any-return]

    @classmethod
    def from_builtins(cls, obj: dict[str, Any]) -> LoopState:
        return msgspec.convert(obj, cls)
