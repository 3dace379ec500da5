"""The RL run's configuration (a typo'd field fails to decode).

A step samples ``groups_per_batch`` problems x ``group_size`` completions, turns them into
training data with group-centred advantages, and takes ``num_substeps`` optimizer steps
over it (the data split into that many minibatches; after the first, the policy has moved
away from the sampler, which is what the PPO clip guards against). The learning rate at
step ``s`` is ``learning_rate * lr_multiplier(lr_schedule, s, steps, warmup_steps,
min_lr_ratio)``.

The defaults are a recipe measured to learn ``next_letter`` by RL alone from random
weights (correct answers from ~2% to ~80% in 120 steps): a context window wide enough
to see the question (16), one-token answers, partial credit for a well-formed answer, and
a KL penalty that keeps degenerate groups pulling towards the near-uniform initial policy.
Without the penalty the policy collapses onto one answer before it learns to read the
question (measured: stuck at chance).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from crucible.train.run_settings import (
    Beta,
    LoggerName,
    NonNegFloat,
    NonNegInt,
    PosInt,
    TrainingSettings,
    settings_fingerprint,
)
from crucible.train.schedule import LRSchedule

__all__ = [
    "Beta",
    "NonNegFloat",
    "NonNegInt",
    "PosInt",
    "RLConfig",
    "RLLoss",
    "rl_config_fingerprint",
]

RLLoss = Literal["importance_sampling", "ppo"]


class RLConfig(TrainingSettings, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One RL run. ``task``/``task_options``/``partial_credit`` pick a bundled task when no
    data set is passed to :func:`~crucible.train.rl.train_rl`; the model fields build the
    NumPy LM when no client is passed."""

    log_path: str
    model: str = "numpy-lm-tiny"
    model_overrides: dict[str, Any] = msgspec.field(default_factory=lambda: {"context": 16})
    task: str = "next_letter"
    task_options: dict[str, Any] = msgspec.field(default_factory=dict)
    partial_credit: bool = True
    steps: PosInt = 120
    groups_per_batch: PosInt = 8
    group_size: PosInt = 16
    max_tokens: PosInt = 1
    temperature: Annotated[float, msgspec.Meta(gt=0.0)] = 1.0
    loss_fn: RLLoss = "importance_sampling"
    clip_low: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] = 0.8
    clip_high: Annotated[float, msgspec.Meta(ge=1.0)] = 1.2
    kl_coef: NonNegFloat = 0.1
    track_reference_kl: bool = True
    """Measure ``kl/policy_reference`` even when ``kl_coef`` is 0."""
    normalize_advantages: bool = False
    drop_degenerate_groups: bool = False
    num_substeps: PosInt = 1
    learning_rate: Annotated[float, msgspec.Meta(gt=0.0)] = 1e-2
    lr_schedule: LRSchedule = "constant"
    grad_clip_norm: NonNegFloat = 0.0
    eval_every: NonNegInt = 0
    save_every: NonNegInt = 0
    keep_last: PosInt = 3
    seed: int = 0
    loggers: list[LoggerName] = msgspec.field(default_factory=lambda: ["json"])
    resume: bool = True


_NOT_TRAINING = ("log_path", "loggers", "resume", "save_every", "keep_last", "eval_every")


def rl_config_fingerprint(config: RLConfig) -> str:
    """SHA-256 of the settings that change what is trained (paths, loggers, retention and
    evaluation cadence left out)."""
    return settings_fingerprint(config, _NOT_TRAINING)
