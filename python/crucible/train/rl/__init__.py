"""crucible.train.rl: policy-gradient RL on language models (GRPO-style group baselines).

* :mod:`~.types` — ``Env``, ``StepResult``, ``Transition``, ``Trajectory``,
  ``TrajectoryGroup``, ``EnvGroupBuilder``, ``RLDataset``
* :mod:`~.rollouts` — groups sampled with a ``SamplingClient`` (sampling logprobs kept)
* :mod:`~.advantages`, :mod:`~.data`, :mod:`~.kl` — group-centred advantages, Datums,
  the KL penalty against a reference model
* :func:`train_rl` with :class:`RLConfig` — the loop

Recipe::

    from crucible.train.rl import RLConfig, train_rl

    result = train_rl(RLConfig(log_path="runs/rl", task="addition", steps=60))
"""

from __future__ import annotations

from crucible.train.rl.advantages import group_advantages, is_degenerate
from crucible.train.rl.config import RLConfig, RLLoss, rl_config_fingerprint
from crucible.train.rl.data import trajectory_data
from crucible.train.rl.kl import apply_kl_penalty, reference_logprobs
from crucible.train.rl.loop import RLResult, train_rl
from crucible.train.rl.metrics import rollout_metrics
from crucible.train.rl.optimize import optimize_policy, policy_data
from crucible.train.rl.rollouts import RolloutPolicy, rollout_group, rollout_seed
from crucible.train.rl.types import (
    Action,
    Env,
    EnvGroupBuilder,
    Metrics,
    RLDataset,
    StepResult,
    StopCondition,
    SupportsGroupRewards,
    Trajectory,
    TrajectoryGroup,
    Transition,
)

__all__ = [
    "Action",
    "Env",
    "EnvGroupBuilder",
    "Metrics",
    "RLConfig",
    "RLDataset",
    "RLLoss",
    "RLResult",
    "RolloutPolicy",
    "StepResult",
    "StopCondition",
    "SupportsGroupRewards",
    "Trajectory",
    "TrajectoryGroup",
    "Transition",
    "apply_kl_penalty",
    "group_advantages",
    "is_degenerate",
    "optimize_policy",
    "policy_data",
    "reference_logprobs",
    "rl_config_fingerprint",
    "rollout_group",
    "rollout_metrics",
    "rollout_seed",
    "train_rl",
    "trajectory_data",
]
