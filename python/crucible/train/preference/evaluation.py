"""Held-out preference evaluation: the DPO loss, reward accuracy and margin on pairs the
policy never trained on, against the same frozen reference (an
:class:`~crucible.train.evaluation.Evaluator`, so any loop can run it)."""

from __future__ import annotations

from crucible.train.ports.training import TrainingClient
from crucible.train.preference.dataset import PreferenceDataset
from crucible.train.preference.loss import dpo_loss
from crucible.train.preference.reference import ReferenceScores, score_pairs

__all__ = ["PreferenceEvaluator"]


class PreferenceEvaluator:
    """``{prefix}/dpo_loss``, ``/dpo_accuracy``, ``/dpo_margin``, ``/dpo_chosen_reward`` and
    ``/dpo_rejected_reward`` on ``dataset``."""

    def __init__(
        self,
        dataset: PreferenceDataset,
        reference: ReferenceScores,
        *,
        beta: float,
        label_smoothing: float = 0.0,
        prefix: str = "val",
    ) -> None:
        self.dataset = dataset
        self.reference = reference
        self.beta = beta
        self.label_smoothing = label_smoothing
        self.prefix = prefix

    def __call__(self, client: TrainingClient) -> dict[str, float]:
        chosen, rejected = score_pairs(client, self.dataset)
        terms = dpo_loss(
            chosen,
            rejected,
            self.reference.chosen,
            self.reference.rejected,
            beta=self.beta,
            label_smoothing=self.label_smoothing,
        )
        return {
            f"{self.prefix}/{key.replace('/', '_')}": value for key, value in terms.metrics.items()
        }
