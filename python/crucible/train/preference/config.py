"""The DPO run's configuration (tinker-cookbook's ``train_dpo`` fields plus warmup,
clipping, label smoothing and retention).

:class:`DPOSettings` holds everything that shapes training, so a pipeline stage can take the
same fields as options; :class:`DPOConfig` adds where the run writes. A step takes
``batch_size`` pairs; an epoch is ``pairs // batch_size`` steps.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from crucible.train.run_settings import (
    LoggerName,
    NonNegInt,
    PosInt,
    TrainingSettings,
    settings_fingerprint,
)

__all__ = ["DPOConfig", "DPOSettings", "dpo_fingerprint"]


class DPOSettings(TrainingSettings, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What is trained and how. ``beta`` scales the implicit reward ``β(π - π_ref)``;
    ``label_smoothing`` ε > 0 is conservative DPO (each label wrong with probability ε)."""

    dataset: str = "bundled:preferences"
    max_length: PosInt | None = 256
    val_fraction: Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)] = 0.1
    batch_size: PosInt = 16
    num_epochs: PosInt = 1
    max_steps: PosInt | None = None
    beta: Annotated[float, msgspec.Meta(gt=0.0)] = 0.1
    label_smoothing: Annotated[float, msgspec.Meta(ge=0.0, lt=0.5)] = 0.0


class DPOConfig(DPOSettings, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One DPO run writing under ``log_path`` (``metrics.jsonl``, ``checkpoints/``).
    ``save_every`` counts steps (0: only the final checkpoint)."""

    log_path: str
    seed: int = 0
    save_every: NonNegInt = 0
    keep_last: PosInt = 3
    loggers: list[LoggerName] = msgspec.field(default_factory=lambda: ["json"])
    resume: bool = True


_NOT_TRAINING = ("log_path", "loggers", "resume", "save_every", "keep_last")


def dpo_fingerprint(config: DPOSettings) -> str:
    """SHA-256 of the fields that change what is trained (paths and logging left out)."""
    return settings_fingerprint(config, _NOT_TRAINING)
