"""The on-policy distillation run's configuration (tinker-cookbook's ``train_on_policy``
fields for one teacher, plus schedules, clipping and held-out evaluation).

:class:`DistillSettings` holds everything that shapes training (a pipeline stage takes the
same fields as options); :class:`DistillConfig` adds where the run writes. A step samples
``samples_per_prompt`` completions for each of ``prompts_per_batch`` prompts; an epoch is
``prompts // prompts_per_batch`` steps.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from crucible.train.run_settings import (
    LoggerName,
    NonNegInt,
    PosInt,
    TrainingSettings,
    settings_fingerprint,
)

__all__ = ["DistillConfig", "DistillSettings", "distill_fingerprint"]


class DistillSettings(TrainingSettings, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the student learns and how. ``kl_coef`` scales the per-token reverse KL that
    becomes the (negative) advantage; ``kl_discount`` > 0 also charges each token for the
    discounted KL of the tokens after it. ``loss_fn`` is the policy-gradient surrogate."""

    dataset: str = "bundled:conversations"
    val_fraction: Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)] = 0.1
    prompts_per_batch: PosInt = 8
    samples_per_prompt: PosInt = 4
    max_tokens: PosInt = 32
    temperature: Annotated[float, msgspec.Meta(gt=0.0)] = 1.0
    kl_coef: Annotated[float, msgspec.Meta(gt=0.0)] = 1.0
    kl_discount: Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)] = 0.0
    loss_fn: Literal["importance_sampling", "ppo"] = "importance_sampling"
    num_epochs: PosInt = 1
    max_steps: PosInt | None = None
    eval_prompts: PosInt = 32
    eval_samples_per_prompt: PosInt = 2


class DistillConfig(DistillSettings, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One distillation run writing under ``log_path`` (``metrics.jsonl``, ``checkpoints/``).
    ``save_every`` counts steps (0: only the final checkpoint)."""

    log_path: str
    seed: int = 0
    save_every: NonNegInt = 0
    keep_last: PosInt = 3
    loggers: list[LoggerName] = msgspec.field(default_factory=lambda: ["json"])
    resume: bool = True


_NOT_TRAINING = ("log_path", "loggers", "resume", "save_every", "keep_last")


def distill_fingerprint(config: DistillSettings) -> str:
    """SHA-256 of the fields that change what is trained (paths and logging left out)."""
    return settings_fingerprint(config, _NOT_TRAINING)
