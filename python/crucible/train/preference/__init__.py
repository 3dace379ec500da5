"""Preference learning: comparisons, rendered pair data sets, and DPO.

* :mod:`.comparisons` — :class:`Comparison`, JSONL reading (two record shapes), the bundled set
* :mod:`.dataset` — :class:`PreferenceDataset`, chosen/rejected datum pairs
* :mod:`.loss` — the (conservative) DPO loss and its gradient w.r.t. token logprobs
* :mod:`.reference` — frozen reference scores; :mod:`.evaluation` — held-out accuracy
* :func:`train_dpo` with :class:`DPOConfig`

Recipe::

    from crucible.train.preference import DPOConfig, train_dpo

    result = train_dpo(DPOConfig(log_path="runs/dpo", beta=0.1))
"""

from __future__ import annotations

from crucible.train.preference.comparisons import (
    Comparison,
    comparison_from_record,
    load_comparisons,
    read_comparisons,
    write_comparisons,
)
from crucible.train.preference.config import DPOConfig, DPOSettings
from crucible.train.preference.dataset import PreferenceDataset, render_completion
from crucible.train.preference.evaluation import PreferenceEvaluator
from crucible.train.preference.loop import DPOResult, build_preference_data, train_dpo
from crucible.train.preference.loss import DPOTerms, dpo_loss, dpo_loss_fn, sequence_logprobs
from crucible.train.preference.reference import ReferenceScores, reference_scores

__all__ = [
    "Comparison",
    "DPOConfig",
    "DPOResult",
    "DPOSettings",
    "DPOTerms",
    "PreferenceDataset",
    "PreferenceEvaluator",
    "ReferenceScores",
    "build_preference_data",
    "comparison_from_record",
    "dpo_loss",
    "dpo_loss_fn",
    "load_comparisons",
    "read_comparisons",
    "reference_scores",
    "render_completion",
    "sequence_logprobs",
    "train_dpo",
    "write_comparisons",
]
