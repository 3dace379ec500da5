"""What a batch of rollouts says about the policy, as flat, deterministic metrics.

``env/reward_mean`` and ``env/reward_std`` are over every episode's total reward;
``env/<name>`` averages each metric the envs report per turn (``env/correct``...);
``entropy`` is ``-mean log q`` over sampled tokens, a one-sample estimate of the
sampler's per-token entropy; ``ac_tokens_per_turn`` the mean action length. Wall-clock
numbers never go here: these rows must be identical for a fixed seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from crucible.train.rl.advantages import is_degenerate
from crucible.train.rl.types import TrajectoryGroup

__all__ = ["rollout_metrics"]


def _mean_by_key(rows: Sequence[dict[str, float]], prefix: str) -> dict[str, float]:
    sums: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            sums.setdefault(key, []).append(float(value))
    return {f"{prefix}{key}": float(np.mean(values)) for key, values in sorted(sums.items())}


def rollout_metrics(groups: Sequence[TrajectoryGroup]) -> dict[str, float]:
    """The metrics of one step's rollouts (before any group is dropped)."""
    rewards = np.asarray([r for g in groups for r in g.total_rewards()], dtype=np.float64)
    transitions = [t for g in groups for traj in g.trajectories for t in traj.transitions]
    logprobs = [lp for t in transitions for lp in t.action.logprobs]
    action_tokens = sum(len(t.action.tokens) for t in transitions)
    degenerate = sum(is_degenerate(g.total_rewards()) for g in groups)
    metrics = {
        "env/reward_mean": float(rewards.mean()),
        "env/reward_std": float(rewards.std()),
        "env/reward_min": float(rewards.min()),
        "env/reward_max": float(rewards.max()),
        "env/episodes": float(rewards.size),
        "env/turns_per_episode": len(transitions) / rewards.size,
        "frac_degenerate_groups": degenerate / len(groups),
        "ac_tokens_per_turn": action_tokens / len(transitions) if transitions else 0.0,
        "entropy": -float(np.mean(logprobs)) if logprobs else 0.0,
    }
    metrics.update(_mean_by_key([t.metrics for t in transitions], "env/"))
    metrics.update(_mean_by_key([m for g in groups for m in g.metrics], "env/group/"))
    return metrics
