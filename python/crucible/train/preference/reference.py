"""The frozen reference model's log-likelihoods, computed once per data set.

The reference never changes during DPO, so its score of every completion is computed in one
pass before training (batched ``forward`` calls) instead of once per step; by default the
reference is the policy's own starting weights, scored before the first update, so at step 0
policy and reference agree exactly and every reward is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from crucible.train.ports.training import TrainingClient
from crucible.train.preference.dataset import PreferenceDataset
from crucible.train.preference.loss import sequence_logprobs

__all__ = ["ReferenceScores", "reference_scores", "score_pairs"]

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ReferenceScores:
    """Log-likelihood of each pair's chosen and rejected completion, by pair index."""

    chosen: F64
    rejected: F64

    def take(self, rows: npt.NDArray[np.int64]) -> tuple[F64, F64]:
        return self.chosen[rows], self.rejected[rows]


def score_pairs(
    client: TrainingClient, dataset: PreferenceDataset, batch_size: int = 64
) -> tuple[F64, F64]:
    """``client``'s log-likelihood of every chosen and rejected completion (forward only)."""
    chosen: list[F64] = []
    rejected: list[F64] = []
    for rows in dataset.all_rows(batch_size):
        data = dataset.datums(rows)
        out = client.forward(data, "cross_entropy")
        logprobs = [np.asarray(o["logprobs"], dtype=np.float64) for o in out.loss_fn_outputs]
        seq = sequence_logprobs(data, logprobs)
        chosen.append(seq[0::2])
        rejected.append(seq[1::2])
    return np.concatenate(chosen), np.concatenate(rejected)


def reference_scores(client: TrainingClient, dataset: PreferenceDataset) -> ReferenceScores:
    """The frozen scores of ``dataset`` under ``client``'s current weights."""
    chosen, rejected = score_pairs(client, dataset)
    return ReferenceScores(chosen, rejected)
