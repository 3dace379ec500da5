"""The settings every training objective shares: which model, how the optimizer steps, how
the learning rate is scheduled and how often evaluation runs.

The supervised, DPO, distillation and RL configurations inherit :class:`TrainingSettings`
(an objective overrides a default by redeclaring the field), so one validated definition
serves all four; :func:`settings_fingerprint` is their common way to name the fields that
shape training, which is what lets a checkpoint refuse a run under other settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

import msgspec

from crucible.ir import fingerprint
from crucible.train.schedule import LRSchedule

__all__ = [
    "Beta",
    "LoggerName",
    "NonNegFloat",
    "NonNegInt",
    "PosInt",
    "TrainingSettings",
    "settings_fingerprint",
]

PosInt = Annotated[int, msgspec.Meta(ge=1)]
NonNegInt = Annotated[int, msgspec.Meta(ge=0)]
NonNegFloat = Annotated[float, msgspec.Meta(ge=0.0)]
Beta = Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)]
LoggerName = Literal["json", "console", "tensorboard", "wandb", "mlflow", "neptune"]


class TrainingSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The model to build (a NumPy LM preset, its overrides, tokenizer and renderer), Adam's
    settings, the schedule ``learning_rate * lr_multiplier(lr_schedule, step, total,
    warmup_steps, min_lr_ratio)``, and ``eval_every`` (optimizer steps; 0 disables)."""

    model: str = "numpy-lm-small"
    model_overrides: dict[str, Any] = msgspec.field(default_factory=dict)
    tokenizer: str = "byte"
    renderer: str = "role_colon"
    learning_rate: Annotated[float, msgspec.Meta(gt=0.0)] = 1e-3
    lr_schedule: LRSchedule = "linear"
    warmup_steps: NonNegInt = 0
    min_lr_ratio: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.0
    adam_beta1: Beta = 0.9
    adam_beta2: Beta = 0.95
    adam_eps: Annotated[float, msgspec.Meta(gt=0.0)] = 1e-8
    weight_decay: NonNegFloat = 0.0
    grad_clip_norm: NonNegFloat = 1.0
    eval_every: NonNegInt = 10


def settings_fingerprint(settings: msgspec.Struct, leave_out: Iterable[str]) -> str:
    """SHA-256 of the canonical JSON (``crucible.ir.fingerprint``) of ``settings`` without
    the ``leave_out`` fields (paths, logging, retention: what does not change training)."""
    skipped = set(leave_out)
    fields = msgspec.to_builtins(settings)
    return fingerprint({k: v for k, v in fields.items() if k not in skipped})
