"""Training data: example types, deterministic split and shuffling, rendered supervised
data sets (local files are read by :mod:`crucible.train.adapters.local_datasets`)."""

from __future__ import annotations

from crucible.train.datasets.examples import (
    Conversation,
    Example,
    PromptCompletion,
    example_from_record,
    messages_of,
)
from crucible.train.datasets.order import epoch_order, split_indices
from crucible.train.datasets.supervised import SupervisedDataset

__all__ = [
    "Conversation",
    "Example",
    "PromptCompletion",
    "SupervisedDataset",
    "epoch_order",
    "example_from_record",
    "messages_of",
    "split_indices",
]
