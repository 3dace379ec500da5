"""Student rollouts graded by a teacher, turned into importance-sampling training data.

The student samples completions; the teacher scores the same tokens (``compute_logprobs``
over prompt + completion). The per-token reverse KL estimate is ``log p_student(x_t) -
log p_teacher(x_t)`` at the sampled token (its expectation under the student is exactly
``KL(student || teacher)`` at that position), and its negative, times ``kl_coef``, is the
token's advantage: the student is pushed down where the teacher finds its choice unlikely
and up where the teacher agrees (Agarwal et al. 2024; Thinking Machines' on-policy
distillation). With ``kl_discount`` g > 0 a token is also charged ``g^k`` of the KL that
follows it, crediting choices that lead the student astray later.

Each rollout becomes one datum carrying the sampler's ``logprobs`` (the ``q`` the
importance ratio divides by) and the ``advantages``, nonzero only on completion tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.train.ports.sampling import SamplingClient
from crucible.train.types import Datum, ModelInput, SamplingParams

__all__ = [
    "GradedRollout",
    "Rollout",
    "grade_rollouts",
    "kl_advantages",
    "rollout_datum",
    "sample_rollouts",
]

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Rollout:
    """One sampled completion of a prompt, with the sampler's logprob of each token."""

    prompt: tuple[int, ...]
    tokens: tuple[int, ...]
    logprobs: F64
    stopped: bool


@dataclass(frozen=True)
class GradedRollout:
    """A rollout and the teacher's logprob of each of its completion tokens."""

    rollout: Rollout
    teacher_logprobs: F64

    @property
    def reverse_kl(self) -> F64:
        """Per-token ``log p_student - log p_teacher`` at the sampled tokens."""
        out: F64 = self.rollout.logprobs - self.teacher_logprobs
        return out


def sample_rollouts(
    sampler: SamplingClient,
    prompts: Sequence[ModelInput],
    samples_per_prompt: int,
    params: SamplingParams,
    seeds: Sequence[int],
) -> list[Rollout]:
    """``samples_per_prompt`` completions of each prompt; prompt ``i`` samples with
    ``seeds[i]``, so the rollouts are a pure function of the weights and the seeds."""
    if len(seeds) != len(prompts):
        raise InvalidArgumentError(f"{len(seeds)} seeds for {len(prompts)} prompts")
    out = []
    for prompt, seed in zip(prompts, seeds, strict=True):
        tokens = tuple(prompt.to_ints())
        if not tokens:
            raise InvalidArgumentError("cannot distill from an empty prompt")
        seeded = msgspec.structs.replace(params, seed=int(seed))
        response = sampler.sample(prompt, samples_per_prompt, seeded)
        for seq in response.sequences:
            if not seq.tokens or seq.logprobs is None:
                continue  # nothing was generated: no token to grade
            out.append(
                Rollout(
                    prompt=tokens,
                    tokens=tuple(seq.tokens),
                    logprobs=np.asarray(seq.logprobs, dtype=np.float64),
                    stopped=seq.stop_reason == "stop",
                )
            )
    return out


def grade_rollouts(teacher: SamplingClient, rollouts: Sequence[Rollout]) -> list[GradedRollout]:
    """The teacher's logprob of every completion token of every rollout."""
    graded = []
    for r in rollouts:
        full = ModelInput.from_ints((*r.prompt, *r.tokens))
        lps = teacher.compute_logprobs(full)[len(r.prompt) :]
        if len(lps) != len(r.tokens) or any(lp is None for lp in lps):
            raise InvalidArgumentError("the teacher returned no logprob for a completion token")
        graded.append(GradedRollout(r, np.asarray(lps, dtype=np.float64)))
    return graded


def kl_advantages(reverse_kl: F64, kl_coef: float, kl_discount: float = 0.0) -> F64:
    """``-kl_coef * KL_t``; with ``g = kl_discount > 0``, the discounted sum
    ``-kl_coef * sum_k g^k KL_{t+k}``."""
    adv = -kl_coef * np.asarray(reverse_kl, dtype=np.float64)
    if kl_discount > 0.0:
        out = np.empty_like(adv)
        running = 0.0
        for t in range(adv.size - 1, -1, -1):
            running = adv[t] + kl_discount * running
            out[t] = running
        adv = out
    return adv


def rollout_datum(rollout: Rollout, advantages: F64) -> Datum:
    """The next-token datum of prompt + completion: the completion's positions carry the
    sampler's logprobs, their advantages and weight 1; the prompt's carry zeros."""
    full = np.asarray((*rollout.prompt, *rollout.tokens), dtype=np.int64)
    n = full.size - 1
    start = len(rollout.prompt) - 1  # input position whose target is the first new token
    logprobs = np.zeros(n, dtype=np.float32)
    adv = np.zeros(n, dtype=np.float32)
    mask = np.zeros(n, dtype=np.float32)
    logprobs[start:] = rollout.logprobs
    adv[start:] = advantages
    mask[start:] = 1.0
    return Datum(
        model_input=ModelInput.from_ints(full[:-1].tolist()),
        loss_fn_inputs={
            "target_tokens": full[1:],
            "weights": mask,
            "logprobs": logprobs,
            "advantages": adv,
        },
    )
