"""Likelihood scorers: how probable the model finds the reference answer.

They need the model's log-probabilities of the reference tokens (the runner computes them
with ``SamplingClient.compute_logprobs`` over prompt + reference, keeping the tokens the
renderer trains on), so they measure the model, not the sampled text. ``nll`` is the mean
negative log-likelihood per reference token; ``perplexity`` is its exponential. Lower is
better for both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from crucible.errors import InvalidArgumentError
from crucible.train.evaluation.scoring.base import Candidate

__all__ = ["MAX_NLL", "ReferenceNLL", "ReferencePerplexity", "mean_nll", "perplexity_from_nll"]

MAX_NLL = 700.0
"""Where ``exp`` is clamped, so a hopeless model's perplexity stays a finite float."""


def perplexity_from_nll(nll: float) -> float:
    """``exp(nll)`` with the exponent clamped at :data:`MAX_NLL` (NaN stays NaN)."""
    return math.exp(min(nll, MAX_NLL)) if not math.isnan(nll) else math.nan


def mean_nll(candidate: Candidate) -> float:
    logprobs = candidate.reference_logprobs
    if not logprobs:
        raise InvalidArgumentError(
            "likelihood scorers need the reference tokens' logprobs; none were computed"
        )
    return -math.fsum(logprobs) / len(logprobs)


class ReferenceNLL:
    name = "nll"
    needs_logprobs = True

    def score_batch(self, candidates: Sequence[Candidate]) -> list[float]:
        return [mean_nll(c) for c in candidates]


class ReferencePerplexity:
    name = "perplexity"
    needs_logprobs = True

    def score_batch(self, candidates: Sequence[Candidate]) -> list[float]:
        return [perplexity_from_nll(mean_nll(c)) for c in candidates]
