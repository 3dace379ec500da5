"""Training: the configuration of a run, the run itself, and its checkpoints.

:class:`Config` keeps every v0.2 field with its v0.2 meaning (``optimizer`` and
``loss_function`` stay names; ``learning_rate`` stays the initial rate). The hyperparameters
seed 000 asks for arrive as optional v0.3 sub-configurations that refine those names:
:class:`OptimizerConfig` (of ``optimizer``), :class:`LossConfig` (of ``loss_function``),
:class:`SchedulerConfig`, :class:`DataLoaderConfig`, :class:`RegularizationConfig`; and the
v0.2 ``early_stopping`` map is typed as :class:`EarlyStoppingConfig`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from crucible.ir.base import (
    Document,
    Id,
    Int,
    IRStruct,
    JsonObject,
    Metrics,
    NonNegativeFloat,
    NonNegativeInt,
    OpenUnit,
    PositiveFloat,
    PositiveInt,
    Seed,
    Sha256,
    Timestamp,
)
from crucible.ir.dataset import DatasetRef
from crucible.ir.enums import (
    Device,
    EarlyStoppingMode,
    LossFunction,
    LossReduction,
    Optimizer,
    RunStatus,
    SchedulerType,
)
from crucible.ir.model import ModelRef

__all__ = [
    "CheckpointRef",
    "Config",
    "DataLoaderConfig",
    "Device",
    "EarlyStoppingConfig",
    "EarlyStoppingMode",
    "LossConfig",
    "LossFunction",
    "LossReduction",
    "Optimizer",
    "OptimizerConfig",
    "RegularizationConfig",
    "Run",
    "RunStatus",
    "SchedulerConfig",
    "SchedulerType",
]

UnitOpenAbove = Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)]
"""A coefficient in [0, 1): momentum, betas, dropout, label smoothing."""


class OptimizerConfig(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Hyperparameters of ``Config.optimizer``: ``momentum``/``nesterov`` belong to sgd and
    rmsprop, ``betas``/``amsgrad`` to adam and adamw."""

    weight_decay: NonNegativeFloat | None = None
    momentum: UnitOpenAbove | None = None
    nesterov: bool | None = None
    betas: Annotated[list[UnitOpenAbove], msgspec.Meta(min_length=2, max_length=2)] | None = None
    eps: PositiveFloat | None = None
    amsgrad: bool | None = None
    options: JsonObject | None = None


class SchedulerConfig(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The learning-rate schedule. ``step`` needs ``step_size``; ``multistep`` needs increasing
    ``milestones``; ``reduce_on_plateau`` uses ``patience`` and ``factor``."""

    type: SchedulerType = SchedulerType.CONSTANT
    warmup_steps: NonNegativeInt = 0
    total_steps: PositiveInt | None = None
    step_size: PositiveInt | None = None
    milestones: list[NonNegativeInt] | None = None
    gamma: PositiveFloat | None = None
    min_lr: NonNegativeFloat | None = None
    patience: NonNegativeInt | None = None
    factor: OpenUnit | None = None
    options: JsonObject | None = None


class DataLoaderConfig(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How batches are drawn; ``batch_size`` here, when set, must equal ``Config.batch_size``."""

    batch_size: PositiveInt | None = None
    shuffle: bool = True
    num_workers: NonNegativeInt = 0
    drop_last: bool = False
    pin_memory: bool = False
    prefetch_factor: PositiveInt | None = None
    seed: Seed | None = None
    options: JsonObject | None = None


class LossConfig(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parameters of ``Config.loss_function``: ``label_smoothing`` and ``ignore_index`` belong
    to cross_entropy, ``pos_weight`` to bce, ``class_weights`` to both."""

    reduction: LossReduction = LossReduction.MEAN
    label_smoothing: UnitOpenAbove | None = None
    class_weights: list[NonNegativeFloat] | None = None
    pos_weight: PositiveFloat | None = None
    ignore_index: Int | None = None
    options: JsonObject | None = None


class EarlyStoppingConfig(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    A monitor named ``val_*`` needs validation data (a ``validation_split`` or a
    ``validation_dataset_ref``).
    """

    monitor: Id = "val_loss"
    mode: EarlyStoppingMode = EarlyStoppingMode.MIN
    patience: NonNegativeInt = 3
    min_delta: NonNegativeFloat = 0.0
    baseline: float | None = None
    restore_best_weights: bool = True
    options: JsonObject | None = None


class RegularizationConfig(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Dropout and penalties."""

    dropout: UnitOpenAbove | None = None
    attention_dropout: UnitOpenAbove | None = None
    weight_decay: NonNegativeFloat | None = None
    l1: NonNegativeFloat | None = None
    l2: NonNegativeFloat | None = None
    options: JsonObject | None = None


class Config(Document, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to train, on what data, with which hyperparameters."""

    id: Id
    model_ref: ModelRef
    dataset_ref: DatasetRef
    epochs: PositiveInt = 1
    batch_size: PositiveInt = 32
    learning_rate: PositiveFloat = 0.001
    optimizer: Optimizer = Optimizer.ADAM
    loss_function: LossFunction = LossFunction.CROSS_ENTROPY
    metrics: list[Id] = msgspec.field(default_factory=lambda: ["loss", "accuracy"])
    validation_split: OpenUnit | None = None
    device: Device = Device.CPU
    seed: Seed | None = None
    mixed_precision: bool = False
    gradient_clipping: PositiveFloat | None = None
    early_stopping: EarlyStoppingConfig | None = None
    checkpoint_every: PositiveInt | None = None
    options: JsonObject | None = None
    # v0.3
    gradient_accumulation: PositiveInt | None = None
    validation_dataset_ref: DatasetRef | None = None
    optimizer_config: OptimizerConfig | None = None
    scheduler: SchedulerConfig | None = None
    data_loader: DataLoaderConfig | None = None
    loss: LossConfig | None = None
    regularization: RegularizationConfig | None = None


class CheckpointRef(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A saved training state."""

    uri: Id
    step: NonNegativeInt | None = None
    epoch: NonNegativeInt | None = None
    metrics: Metrics | None = None
    is_best: bool = False
    sha256: Sha256 | None = None
    created_at: Timestamp | None = None
    options: JsonObject | None = None


class Run(Document, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One execution of a training :class:`Config`."""

    id: Id
    config: Config
    status: RunStatus = RunStatus.PENDING
    current_epoch: NonNegativeInt | None = None
    metrics_history: list[Metrics] | None = None
    best_metrics: Metrics | None = None
    checkpoint_uris: list[str] | None = None
    final_model_version: Id | None = None
    started_at: Timestamp | None = None
    completed_at: Timestamp | None = None
    error_message: str | None = None
    options: JsonObject | None = None
    # v0.3
    checkpoints: list[CheckpointRef] | None = None
    current_step: NonNegativeInt | None = None
