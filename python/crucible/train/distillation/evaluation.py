"""Held-out distillation evaluation: how far the student is from the teacher on prompts it
never trained on, measured on the student's own samples (an
:class:`~crucible.train.evaluation.Evaluator`).

Each call samples the same prompts with the same seeds, so two evaluations differ only by
the weights; the mean per-token ``log p_student - log p_teacher`` over those samples is a
Monte-Carlo estimate of the per-token reverse KL that distillation minimizes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from crucible import prng
from crucible.train.distillation.rollouts import grade_rollouts, sample_rollouts
from crucible.train.ports.sampling import SamplingClient
from crucible.train.ports.training import TrainingClient
from crucible.train.types import ModelInput, SamplingParams

__all__ = ["ReverseKLEvaluator"]


class ReverseKLEvaluator:
    """``{prefix}/reverse_kl``, ``/teacher_logprob``, ``/student_logprob`` (per token) and
    ``/completion_length`` on ``prompts``."""

    def __init__(
        self,
        teacher: SamplingClient,
        prompts: Sequence[ModelInput],
        *,
        params: SamplingParams,
        samples_per_prompt: int = 2,
        seed: int = 0,
        prefix: str = "val",
    ) -> None:
        self.teacher = teacher
        self.prompts = list(prompts)
        self.params = params
        self.samples_per_prompt = samples_per_prompt
        draws = prng.default_rng([seed, 0xE7A1]).integers(0, 2**62, size=len(self.prompts))
        self.seeds = [int(s) for s in draws]
        self.prefix = prefix

    def __call__(self, client: TrainingClient) -> dict[str, float]:
        sampler = client.save_weights_and_get_sampling_client("distill-eval")
        rollouts = sample_rollouts(
            sampler, self.prompts, self.samples_per_prompt, self.params, self.seeds
        )
        graded = grade_rollouts(self.teacher, rollouts)
        student = np.concatenate([g.rollout.logprobs for g in graded])
        teacher = np.concatenate([g.teacher_logprobs for g in graded])
        p = self.prefix
        return {
            f"{p}/reverse_kl": float(np.mean(student - teacher)),
            f"{p}/teacher_logprob": float(np.mean(teacher)),
            f"{p}/student_logprob": float(np.mean(student)),
            f"{p}/completion_length": float(np.mean([len(g.rollout.tokens) for g in graded])),
        }
