"""The supervised run's configuration: tinker-cookbook's fields plus what CrucibleTrain
lacked (warmup, accumulation, clipping, evaluation and early stopping, retention).

A typo'd field fails to decode (``forbid_unknown_fields``), and :func:`config_fingerprint`
identifies the settings that shape training, so a checkpoint can tell whether it is being
resumed under the same run.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from crucible.ir import fingerprint
from crucible.train.renderers.base import TrainOnWhat
from crucible.train.schedule import LRSchedule

__all__ = ["EarlyStopping", "LoggerName", "SupervisedConfig", "config_fingerprint"]

PosInt = Annotated[int, msgspec.Meta(ge=1)]
NonNegInt = Annotated[int, msgspec.Meta(ge=0)]
NonNegFloat = Annotated[float, msgspec.Meta(ge=0.0)]
Beta = Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)]
LoggerName = Literal["json", "console", "tensorboard", "wandb", "mlflow", "neptune"]


class EarlyStopping(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    evaluations in a row; ``restore_best`` puts the best weights back at the end."""

    monitor: str = "val/nll"
    mode: Literal["min", "max"] = "min"
    patience: PosInt = 3
    min_delta: NonNegFloat = 0.0
    restore_best: bool = True


class SupervisedConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One supervised fine-tuning run.

    Steps: each optimizer step takes ``grad_accumulation_steps`` batches of ``batch_size``
    examples; an epoch is ``examples // (batch_size * grad_accumulation_steps)`` steps.
    ``eval_every``/``save_every`` count optimizer steps (0 disables; evaluation also runs
    before the first step and after the last). The learning rate at step ``s`` is
    ``learning_rate * lr_multiplier(lr_schedule, s, total_steps, warmup_steps, min_lr_ratio)``.
    """

    log_path: str
    model: str = "numpy-lm-small"
    model_overrides: dict[str, Any] = msgspec.field(default_factory=dict)
    tokenizer: str = "byte"
    renderer: str = "role_colon"
    dataset: str = "bundled:conversations"
    train_on_what: TrainOnWhat = TrainOnWhat.LAST_ASSISTANT_MESSAGE
    max_length: PosInt | None = 512
    val_fraction: Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)] = 0.1
    batch_size: PosInt = 32
    num_epochs: PosInt = 1
    max_steps: PosInt | None = None
    learning_rate: Annotated[float, msgspec.Meta(gt=0.0)] = 1e-3
    lr_schedule: LRSchedule = "linear"
    warmup_steps: NonNegInt = 0
    min_lr_ratio: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.0
    adam_beta1: Beta = 0.9
    adam_beta2: Beta = 0.95
    adam_eps: Annotated[float, msgspec.Meta(gt=0.0)] = 1e-8
    weight_decay: NonNegFloat = 0.0
    grad_accumulation_steps: PosInt = 1
    grad_clip_norm: NonNegFloat = 1.0
    eval_every: NonNegInt = 10
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
    fields = msgspec.to_builtins(config)
    return fingerprint({k: v for k, v in fields.items() if k not in _NOT_TRAINING})
