"""Group-relative advantages (the GRPO recipe, as tinker-cookbook uses it).

Every episode of a group answers the same problem, so the group's mean reward is a
baseline that needs no value model: an episode's advantage is its reward minus that mean,
optionally divided by the group's standard deviation (so easy and hard problems push
equally hard). A group whose rewards are all equal is *degenerate*: every advantage is
zero and it teaches nothing; dropping it saves the compute of a backward pass that would
change no weight.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError

__all__ = ["DEGENERATE_TOLERANCE", "group_advantages", "is_degenerate"]

DEGENERATE_TOLERANCE = 1e-9
"""Rewards closer than this count as equal."""


def is_degenerate(rewards: Sequence[float]) -> bool:
    """Whether a group's rewards are all (numerically) equal."""
    if not rewards:
        raise InvalidArgumentError("a group needs at least one reward")
    values = np.asarray(rewards, dtype=np.float64)
    return float(values.max() - values.min()) <= DEGENERATE_TOLERANCE


def group_advantages(
    rewards: Sequence[float], *, normalize_std: bool = False, eps: float = 1e-6
) -> npt.NDArray[np.float64]:
    """``reward - mean`` per episode (divided by ``std + eps`` with ``normalize_std``);
    exactly zero for a degenerate group."""
    if is_degenerate(rewards):
        return np.zeros(len(rewards), dtype=np.float64)
    values = np.asarray(rewards, dtype=np.float64)
    centred: npt.NDArray[np.float64] = values - values.mean()
    if normalize_std:
        centred /= values.std() + eps
    return centred
