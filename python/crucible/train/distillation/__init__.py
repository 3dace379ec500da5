"""On-policy distillation: the student samples, a teacher grades every token, and the
student descends the per-token reverse KL with an importance-sampling (or PPO) loss.

* :mod:`.prompts` — :class:`PromptSet` from conversations or prompt/completion pairs
* :mod:`.rollouts` — sampling, teacher grading, KL advantages, training datums
* :mod:`.evaluation` — :class:`ReverseKLEvaluator` on held-out prompts
* :func:`train_distill` with :class:`DistillConfig`

Recipe::

    from crucible.train.distillation import DistillConfig, train_distill

    result = train_distill(DistillConfig(log_path="runs/distill"), teacher=teacher_sampler)
"""

from __future__ import annotations

from crucible.train.distillation.config import DistillConfig, DistillSettings
from crucible.train.distillation.evaluation import ReverseKLEvaluator
from crucible.train.distillation.loop import DistillResult, build_prompt_sets, train_distill
from crucible.train.distillation.prompts import PromptSet, prompt_of
from crucible.train.distillation.rollouts import (
    GradedRollout,
    Rollout,
    grade_rollouts,
    kl_advantages,
    rollout_datum,
    sample_rollouts,
)

__all__ = [
    "DistillConfig",
    "DistillResult",
    "DistillSettings",
    "GradedRollout",
    "PromptSet",
    "ReverseKLEvaluator",
    "Rollout",
    "build_prompt_sets",
    "grade_rollouts",
    "kl_advantages",
    "prompt_of",
    "rollout_datum",
    "sample_rollouts",
    "train_distill",
]
