"""What a scorer sees and promises.

A scorer turns one generated answer into one number per sample, so per-sample scores can be
paired across models (the stats stage compares them) and split by group (fairness). It
scores a whole chunk at once (:meth:`Scorer.score_batch`) because some scorers are cheaper
in bulk (one embedding call per chunk); text scorers only define :meth:`TextScorer.score`.
Scores are finite floats, higher is better except for the likelihood scorers (``nll``,
``perplexity``), whose direction the name makes plain.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar, Protocol, runtime_checkable

import msgspec

__all__ = ["Candidate", "Scorer", "TextScorer"]


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """One generated answer with what it is judged against. ``reference_logprobs`` are the
    model's log-probabilities of the reference answer's tokens given the prompt, filled in
    only when a scorer asks for them (``needs_logprobs``)."""

    prediction: str
    reference: str
    prompt: str = ""
    reference_logprobs: tuple[float, ...] | None = None


@runtime_checkable
class Scorer(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def needs_logprobs(self) -> bool: ...

    def score_batch(self, candidates: Sequence[Candidate]) -> list[float]:
        """One score per candidate, in order."""
        ...


class TextScorer(ABC):
    """A scorer that compares a prediction with its reference, one pair at a time."""

    name: ClassVar[str]
    needs_logprobs: ClassVar[bool] = False

    @abstractmethod
    def score(self, prediction: str, reference: str) -> float: ...

    def score_batch(self, candidates: Sequence[Candidate]) -> list[float]:
        return [self.score(c.prediction, c.reference) for c in candidates]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
