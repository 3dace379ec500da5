"""Rules of training configurations and runs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from crucible.ir import training
from crucible.ir.enums import (
    EarlyStoppingMode,
    LossFunction,
    Optimizer,
    RunStatus,
    SchedulerType,
)
from crucible.ir.rules.registry import Finding, duplicates, pointer, rule


@rule("training.batch_size_mismatch", training.Config)
def _batch_size(config: training.Config) -> Iterator[Finding]:
    """The data loader's batch size, when set, is the configuration's."""
    loader = config.data_loader
    if loader is not None and loader.batch_size not in (None, config.batch_size):
        yield (
            pointer("data_loader", "batch_size"),
            f"data_loader.batch_size {loader.batch_size} differs from "
            f"batch_size {config.batch_size}",
        )


@rule("training.validation_conflict", training.Config)
def _validation_conflict(config: training.Config) -> Iterator[Finding]:
    """Validation data comes from a split or from a dataset, not both."""
    if config.validation_split is not None and config.validation_dataset_ref is not None:
        yield (
            pointer("validation_split"),
            "set validation_split or validation_dataset_ref, not both",
        )


@rule("training.validation_required", training.Config)
def _validation_required(config: training.Config) -> Iterator[Finding]:
    """Early stopping on a ``val_*`` metric needs validation data."""
    stopping = config.early_stopping
    if stopping is None or not stopping.monitor.startswith("val_"):
        return
    if config.validation_split is None and config.validation_dataset_ref is None:
        yield (
            pointer("early_stopping", "monitor"),
            f"monitoring {stopping.monitor!r} needs validation_split or validation_dataset_ref",
        )


@rule("training.early_stopping_metric_unknown", training.Config)
def _stopping_metric(config: training.Config) -> Iterator[Finding]:
    """Early stopping monitors ``loss`` or a tracked metric (``val_``/``train_`` prefixes
    allowed)."""
    stopping = config.early_stopping
    if stopping is None:
        return
    name = stopping.monitor
    for prefix in ("val_", "train_"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if name != "loss" and name not in config.metrics:
        yield (
            pointer("early_stopping", "monitor"),
            f"{stopping.monitor!r} is neither loss nor one of the tracked metrics",
        )


@rule("training.duplicate_metric", training.Config)
def _training_metrics(config: training.Config) -> Iterator[Finding]:
    """A metric is tracked once."""
    for index, metric in duplicates(config.metrics):
        yield pointer("metrics", index), f"metric {metric!r} is listed twice"


_MOMENTUM_OPTIMIZERS = {Optimizer.SGD, Optimizer.RMSPROP}
_ADAM_OPTIMIZERS = {Optimizer.ADAM, Optimizer.ADAMW}


@rule("training.optimizer_param_mismatch", training.Config)
def _optimizer_params(config: training.Config) -> Iterator[Finding]:
    """Optimizer hyperparameters belong to the optimizer: momentum and nesterov to sgd and
    rmsprop, betas and amsgrad to adam and adamw."""
    params = config.optimizer_config
    if params is None:
        return
    owners: Sequence[tuple[str, Any, set[Optimizer]]] = (
        ("momentum", params.momentum, _MOMENTUM_OPTIMIZERS),
        ("nesterov", params.nesterov, {Optimizer.SGD}),
        ("betas", params.betas, _ADAM_OPTIMIZERS),
        ("amsgrad", params.amsgrad, _ADAM_OPTIMIZERS),
    )
    for name, value, optimizers in owners:
        if value is not None and config.optimizer not in optimizers:
            yield (
                pointer("optimizer_config", name),
                f"{name} does not apply to optimizer {config.optimizer}",
            )


@rule("training.loss_param_mismatch", training.Config)
def _loss_params(config: training.Config) -> Iterator[Finding]:
    """Loss parameters belong to the loss: label_smoothing and ignore_index to cross_entropy,
    pos_weight to bce, class_weights to cross_entropy and bce."""
    params = config.loss
    if params is None:
        return
    owners: Sequence[tuple[str, Any, set[LossFunction]]] = (
        ("label_smoothing", params.label_smoothing, {LossFunction.CROSS_ENTROPY}),
        ("ignore_index", params.ignore_index, {LossFunction.CROSS_ENTROPY}),
        ("pos_weight", params.pos_weight, {LossFunction.BCE}),
        ("class_weights", params.class_weights, {LossFunction.CROSS_ENTROPY, LossFunction.BCE}),
    )
    for name, value, losses in owners:
        if value is not None and config.loss_function not in losses:
            yield pointer("loss", name), f"{name} does not apply to loss {config.loss_function}"


@rule("training.weight_decay_conflict", training.Config)
def _weight_decay(config: training.Config) -> Iterator[Finding]:
    """Weight decay is given once, or twice with one value."""
    reg = config.regularization.weight_decay if config.regularization else None
    opt = config.optimizer_config.weight_decay if config.optimizer_config else None
    if reg is not None and opt is not None and reg != opt:
        yield (
            pointer("regularization", "weight_decay"),
            f"regularization.weight_decay {reg} differs from optimizer_config.weight_decay {opt}",
        )


@rule("early_stopping.mode_mismatch", training.EarlyStoppingConfig)
def _stopping_mode(stopping: training.EarlyStoppingConfig) -> Iterator[Finding]:
    """A loss or error is minimised: monitoring one in ``max`` mode stops at the worst."""
    name = stopping.monitor.lower()
    if stopping.mode == EarlyStoppingMode.MAX and ("loss" in name or "error" in name):
        yield pointer("mode"), f"{stopping.monitor!r} should be minimised (mode min)"


@rule("scheduler.step_size_required", training.SchedulerConfig)
def _scheduler_step(scheduler: training.SchedulerConfig) -> Iterator[Finding]:
    """A step schedule needs its step size."""
    if scheduler.type == SchedulerType.STEP and scheduler.step_size is None:
        yield pointer("step_size"), "a step schedule needs step_size"


@rule("scheduler.milestones_required", training.SchedulerConfig)
def _scheduler_milestones(scheduler: training.SchedulerConfig) -> Iterator[Finding]:
    """A multistep schedule needs milestones."""
    if scheduler.type == SchedulerType.MULTISTEP and not scheduler.milestones:
        yield pointer("milestones"), "a multistep schedule needs milestones"


@rule("scheduler.milestones_not_increasing", training.SchedulerConfig)
def _milestone_order(scheduler: training.SchedulerConfig) -> Iterator[Finding]:
    """Milestones strictly increase."""
    milestones = scheduler.milestones or []
    for index in range(1, len(milestones)):
        if milestones[index] <= milestones[index - 1]:
            yield pointer("milestones", index), "milestones must strictly increase"


@rule("scheduler.warmup_exceeds_total", training.SchedulerConfig)
def _scheduler_warmup(scheduler: training.SchedulerConfig) -> Iterator[Finding]:
    """Warm-up ends before the schedule does."""
    if scheduler.total_steps is not None and scheduler.warmup_steps >= scheduler.total_steps:
        yield pointer("warmup_steps"), "warmup_steps must be below total_steps"


@rule("data_loader.prefetch_requires_workers", training.DataLoaderConfig)
def _prefetch(loader: training.DataLoaderConfig) -> Iterator[Finding]:
    """Prefetching needs worker processes."""
    if loader.prefetch_factor is not None and loader.num_workers == 0:
        yield pointer("prefetch_factor"), "prefetch_factor needs num_workers > 0"


@rule("training_run.time_order", training.Run)
def _run_times(run: training.Run) -> Iterator[Finding]:
    """A run does not complete before it starts."""
    if run.started_at and run.completed_at and run.completed_at < run.started_at:
        yield pointer("completed_at"), "completed_at is before started_at"


@rule("training_run.epoch_exceeds_total", training.Run)
def _run_epoch(run: training.Run) -> Iterator[Finding]:
    """The current epoch is within the configured epochs."""
    if run.current_epoch is not None and run.current_epoch > run.config.epochs:
        yield (
            pointer("current_epoch"),
            f"epoch {run.current_epoch} exceeds the configured {run.config.epochs}",
        )


@rule("training_run.error_required", training.Run)
def _run_error(run: training.Run) -> Iterator[Finding]:
    """A failed run says why."""
    if run.status == RunStatus.FAILED and not run.error_message:
        yield pointer("error_message"), "a failed run needs an error_message"


@rule("training_run.unfinished_has_completed_at", training.Run)
def _run_unfinished(run: training.Run) -> Iterator[Finding]:
    """Only a finished run has a completion time."""
    if run.completed_at is not None and run.status in (RunStatus.PENDING, RunStatus.RUNNING):
        yield pointer("completed_at"), f"a {run.status} run cannot have completed_at"


@rule("training_run.duplicate_checkpoint", training.Run)
def _run_checkpoints(run: training.Run) -> Iterator[Finding]:
    """A checkpoint is recorded once."""
    for index, uri in duplicates(c.uri for c in run.checkpoints or []):
        yield pointer("checkpoints", index, "uri"), f"checkpoint {uri!r} is recorded twice"


@rule("training_run.multiple_best_checkpoints", training.Run)
def _run_best(run: training.Run) -> Iterator[Finding]:
    """At most one checkpoint is the best."""
    best = [i for i, c in enumerate(run.checkpoints or []) if c.is_best]
    for index in best[1:]:
        yield pointer("checkpoints", index, "is_best"), "more than one checkpoint is the best"
