"""The supervised run's configuration: tinker-cookbook's fields plus what CrucibleTrain
lacked (warmup, accumulation, clipping, evaluation and early stopping, retention).

A typo'd field fails to decode (``forbid_unknown_fields``), and :func:`config_fingerprint`
identifies the settings that shape training, so a checkpoint can tell whether it is being
resumed under the same run.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from crucible.train.renderers.base import TrainOnWhat
from crucible.train.run_settings import (
    Beta,
    LoggerName,
    NonNegFloat,
    NonNegInt,
    PosInt,
    TrainingSettings,
    settings_fingerprint,
)

__all__ = [
    "Beta",
    "EarlyStopping",
    "LoggerName",
    "NonNegFloat",
    "NonNegInt",
    "PosInt",
    "SupervisedConfig",
    "config_fingerprint",
]


class EarlyStopping(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    evaluations in a row; ``restore_best`` puts the best weights back at the end."""

    monitor: str = "val/nll"
    mode: Literal["min", "max"] = "min"
    patience: PosInt = 3
    min_delta: NonNegFloat = 0.0
    restore_best: bool = True


class SupervisedConfig(TrainingSettings, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One supervised fine-tuning run.

    Steps: each optimizer step takes ``grad_accumulation_steps`` batches of ``batch_size``
    examples; an epoch is ``examples // (batch_size * grad_accumulation_steps)`` steps.
    ``eval_every``/``save_every`` count optimizer steps (0 disables; evaluation also runs
    before the first step and after the last). The learning rate at step ``s`` is
    ``learning_rate * lr_multiplier(lr_schedule, s, total_steps, warmup_steps, min_lr_ratio)``.
    """

    log_path: str
    dataset: str = "bundled:conversations"
    train_on_what: TrainOnWhat = TrainOnWhat.LAST_ASSISTANT_MESSAGE
    max_length: PosInt | None = 512
    val_fraction: Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)] = 0.1
    batch_size: PosInt = 32
    num_epochs: PosInt = 1
    max_steps: PosInt | None = None
    grad_accumulation_steps: PosInt = 1
    save_every: NonNegInt = 0
    keep_last: PosInt = 3
    keep_best: bool = True
    early_stopping: EarlyStopping | None = None
    seed: int = 0
    loggers: list[LoggerName] = msgspec.field(default_factory=lambda: ["json"])
    resume: bool = True


_NOT_TRAINING = ("log_path", "loggers", "resume", "save_every", "keep_last", "keep_best")


def config_fingerprint(config: SupervisedConfig) -> str:
    """SHA-256 of the canonical JSON (``crucible.ir.fingerprint``) of the fields that change
    what is trained: paths, loggers and retention are left out."""
    return settings_fingerprint(config, _NOT_TRAINING)
