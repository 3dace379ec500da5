"""Held-out negative log-likelihood, the evaluator the supervised loop adds by default.

Its number is the mean negative log-likelihood per trained-on token (weights as given by the
renderer), the same quantity the supervised loss minimizes, so train and validation curves
are directly comparable; accuracy is the weighted share of targets that are the argmax.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from crucible.train.datasets.supervised import SupervisedDataset
from crucible.train.evaluation.scoring.likelihood import perplexity_from_nll
from crucible.train.ports.training import TrainingClient
from crucible.train.types import Batch

__all__ = ["NLLEvaluator"]


class NLLEvaluator:
    """A :class:`~crucible.train.evaluation.protocols.TrainingClientEvaluator`."""

    def __init__(self, batches: Sequence[Batch], prefix: str = "val") -> None:
        self.batches = list(batches)
        self.prefix = prefix

    @classmethod
    def from_dataset(
        cls, dataset: SupervisedDataset, prefix: str = "val", batch_size: int = 64
    ) -> NLLEvaluator:
        return cls(dataset.all_batches(batch_size), prefix)

    def __call__(self, client: TrainingClient) -> dict[str, float]:
        nll = weight = correct = 0.0
        for batch in self.batches:
            out = client.forward(batch, "cross_entropy")
            nll += out.metrics["nll:sum"]
            weight += out.metrics["weight:sum"]
            correct += out.metrics["correct:sum"]
        mean = nll / weight if weight else math.nan
        return {
            f"{self.prefix}/nll": mean,
            f"{self.prefix}/perplexity": perplexity_from_nll(mean),
            f"{self.prefix}/accuracy": correct / weight if weight else math.nan,
        }
