"""The two kinds of evaluator a training loop can call, as tinker-cookbook splits them.

A :class:`TrainingClientEvaluator` reads the live weights through the training client
(held-out NLL needs no sampling); a :class:`SamplingClientEvaluator` needs a sampler over a
snapshot of the weights (generate, then score). Both answer with flat ``{name: value}``
metrics whose names carry their own prefix (``"val/nll"``, ``"gen/exact_match"``).

Both are structural protocols with only ``__call__``, so at runtime they cannot be told
apart: code that holds a mix keeps them in separate lists (see
:class:`~crucible.train.evaluation.hook.EvalHook`). ``Evaluator`` is the historical name of
the training-client kind, kept because the supervised loop and other loops use it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from crucible.train.ports.sampling import SamplingClient
from crucible.train.ports.training import TrainingClient

__all__ = ["Evaluator", "SamplingClientEvaluator", "TrainingClientEvaluator"]


@runtime_checkable
class TrainingClientEvaluator(Protocol):
    """Scores the current weights through the training client."""

    def __call__(self, client: TrainingClient) -> dict[str, float]: ...


@runtime_checkable
class SamplingClientEvaluator(Protocol):
    """Scores what a sampler over (a snapshot of) the weights generates."""

    def __call__(self, sampler: SamplingClient) -> dict[str, float]: ...


Evaluator = TrainingClientEvaluator
