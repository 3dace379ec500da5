"""Supervised fine-tuning: the loop (:func:`train`), its state, and building a run's parts
from a :class:`~crucible.train.config.SupervisedConfig`."""

from __future__ import annotations

from crucible.train.supervised.build import RunParts, build_client, build_parts, load_examples
from crucible.train.supervised.loop import TrainResult, train
from crucible.train.supervised.state import LoopState

__all__ = [
    "LoopState",
    "RunParts",
    "TrainResult",
    "build_client",
    "build_parts",
    "load_examples",
    "train",
]
