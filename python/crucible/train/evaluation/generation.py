"""A sampling-client evaluator: generate answers to held-out prompts and score them.

It is the in-training face of the batch runner (no journal: a mid-training evaluation is
cheap to redo and its numbers go to the loop's logger), returning the mean of each scorer as
``"<prefix>/<scorer>"``. Sampling is seeded per item, so evaluating the same weights twice
gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from crucible.train.evaluation.items import EvalItem
from crucible.train.evaluation.runner import BatchRunner, GenerationConfig
from crucible.train.evaluation.scoring.base import Scorer
from crucible.train.ports.sampling import SamplingClient
from crucible.train.renderers.base import Renderer

__all__ = ["GenerationEvaluator"]


class GenerationEvaluator:
    """A :class:`~crucible.train.evaluation.protocols.SamplingClientEvaluator`."""

    def __init__(
        self,
        items: Sequence[EvalItem],
        renderer: Renderer,
        scorers: Sequence[Scorer],
        *,
        prefix: str = "gen",
        config: GenerationConfig | None = None,
        chunk_size: int = 32,
    ) -> None:
        self.items = list(items)
        self.prefix = prefix
        self.runner = BatchRunner(renderer, scorers, config=config, chunk_size=chunk_size)

    def __call__(self, sampler: SamplingClient) -> dict[str, float]:
        if not self.items:
            return {}
        records = self.runner.run(sampler, self.items, model=self.prefix)
        names = [s.name for s in self.runner.scorers]
        return {
            f"{self.prefix}/{name}": sum(r.scores[name] for r in records) / len(records)
            for name in names
        }
