"""The standard event catalogue: names, categories, descriptions and schemas.

Every crucible package emits its events under ``("crucible", <area>, <object>, <action>)``;
this module is the single place those names are defined. Each :class:`EventInfo` carries a
msgspec schema for the event's measurements and one for its metadata: the fields listed are
checked (type, and presence when they have no default); other keys are allowed and kept.

Use the ``emit_*`` helpers to emit: they validate their arguments (raising
:class:`~crucible.errors.ValidationError`) and cost one dictionary lookup when nothing is
attached. Experiments validate what they capture against the same schemas, in the mode
chosen by ``start_experiment(validation=...)``: ``"strict"`` stores only valid events
(counting and reporting the rejected ones), ``"warn"`` stores everything and warns once per
event name, ``"off"`` skips the check.

Units: ``duration`` is in nanoseconds of ``time.monotonic_ns()`` (as ``events.span``
measures it), ``*_ms`` in milliseconds, ``*_usd`` in US dollars, token counts are integers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NamedTuple

import msgspec

from crucible import events
from crucible.errors import ErrorItem, InvalidArgumentError, ValidationError

__all__ = [
    "ADVERSARY_ATTACK_EXECUTED",
    "ANOMALY_DETECTED",
    "CATEGORIES",
    "DEPLOYMENT_HEALTH_CHECK",
    "DEPLOYMENT_INFERENCE",
    "ENSEMBLE_PREDICTION",
    "ENSEMBLE_VOTE_COMPLETED",
    "FRAMEWORK_PIPELINE",
    "FRAMEWORK_STAGE",
    "HEDGING_REQUEST",
    "LLM_REQUEST",
    "STANDARD_EVENTS",
    "TOOLS_CALL",
    "TRACE_EVENT_CREATED",
    "TRAIN_BATCH_STOP",
    "TRAIN_CHECKPOINT_SAVED",
    "TRAIN_EPOCH",
    "TRAIN_TRAINING",
    "XAI_EXPLANATION_GENERATED",
    "EventInfo",
    "ValidationMode",
    "category_of",
    "emit",
    "emit_attack_executed",
    "emit_batch_stop",
    "emit_checkpoint_saved",
    "emit_epoch_start",
    "emit_epoch_stop",
    "emit_explanation_generated",
    "emit_health_check",
    "emit_inference_exception",
    "emit_inference_start",
    "emit_inference_stop",
    "emit_llm_request_exception",
    "emit_llm_request_start",
    "emit_llm_request_stop",
    "emit_pipeline_start",
    "emit_pipeline_stop",
    "emit_stage_start",
    "emit_stage_stop",
    "emit_training_exception",
    "emit_training_start",
    "emit_training_stop",
    "event_info",
    "events_in",
    "validate",
]

EventName = tuple[str, ...]
ValidationMode = Literal["strict", "warn", "off"]


class _Schema(msgspec.Struct, kw_only=True):
    """Base of the schemas: extra keys are allowed (and kept by the capture)."""


class _Empty(_Schema):
    """No fields checked (the event carries none, or only free-form ones)."""


# --- shared pieces ----------------------------------------------------------------------------


class _Timed(_Schema):
    duration: int  # ns


class _MaybeTimed(_Schema):
    duration: int | None = None


class _Failure(_Schema):
    """Metadata of every ``exception`` event (as ``events.span`` produces it)."""

    kind: str
    reason: str = ""
    stacktrace: str | None = None


# --- training (crucible.train) ----------------------------------------------------------------


class TrainingStartMetadata(_Schema):
    run_id: str | None = None
    model: str | None = None
    total_epochs: int | None = None
    config: dict[str, Any] | None = None


class TrainingStopMeasurements(_MaybeTimed):
    epochs: int | None = None
    steps: int | None = None
    final_loss: float | None = None


class TrainingRunMetadata(_Schema):
    run_id: str | None = None


class TrainingFailureMetadata(_Failure):
    run_id: str | None = None


class EpochMetadata(_Schema):
    epoch: int
    run_id: str | None = None


class EpochStopMeasurements(_MaybeTimed):
    loss: float | None = None
    accuracy: float | None = None
    learning_rate: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None


class BatchStopMeasurements(_Schema):
    loss: float
    duration: int | None = None
    gradient_norm: float | None = None
    learning_rate: float | None = None
    batch_size: int | None = None


class BatchMetadata(_Schema):
    batch: int
    epoch: int | None = None
    run_id: str | None = None


class CheckpointMeasurements(_Schema):
    size_bytes: int | None = None


class CheckpointMetadata(_Schema):
    checkpoint_path: str
    epoch: int | None = None
    step: int | None = None
    run_id: str | None = None


# --- deployment -------------------------------------------------------------------------------


class InferenceMetadata(_Schema):
    model_name: str
    model_version: str | None = None
    request_id: str | None = None


class InferenceStopMeasurements(_Timed):
    input_size: int | None = None
    output_size: int | None = None
    batch_size: int | None = None


class InferenceFailureMetadata(_Schema):
    kind: str
    model_name: str
    reason: str = ""
    stacktrace: str | None = None
    model_version: str | None = None
    request_id: str | None = None


class HealthCheckMetadata(_Schema):
    status: Literal["healthy", "degraded", "unhealthy"]
    model_name: str | None = None
    model_version: str | None = None


# --- framework --------------------------------------------------------------------------------


class PipelineMetadata(_Schema):
    pipeline_id: str
    name: str | None = None


class StageMetadata(_Schema):
    pipeline_id: str
    stage_name: str
    stage_index: int | None = None


# --- xai, adversary ---------------------------------------------------------------------------


class ExplanationMeasurements(_MaybeTimed):
    num_features: int | None = None
    fidelity: float | None = None


class ExplanationMetadata(_Schema):
    method: str
    model_name: str | None = None
    sample_id: str | None = None


class AttackMeasurements(_MaybeTimed):
    success_rate: float | None = None
    perturbation_norm: float | None = None
    queries: int | None = None


class AttackMetadata(_Schema):
    attack: str
    success: bool | None = None
    epsilon: float | None = None
    model_name: str | None = None
    target: str | None = None


# --- llm --------------------------------------------------------------------------------------


class LlmStartMetadata(_Schema):
    model: str
    provider: str | None = None
    request_id: str | None = None


class LlmStopMeasurements(_Timed):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cost_usd: float | None = None


class LlmFailureMetadata(_Schema):
    kind: str
    model: str
    reason: str = ""
    stacktrace: str | None = None
    provider: str | None = None
    request_id: str | None = None


# --- ensemble, hedging, trace, tools, telemetry itself ----------------------------------------


class EnsembleMetadata(_Schema):
    strategy: str | None = None
    models: list[str] | None = None


class VoteMeasurements(_Schema):
    votes: int | None = None
    agreement: float | None = None


class HedgingMetadata(_Schema):
    request_id: str | None = None
    hedge_index: int | None = None


class TraceEventMetadata(_Schema):
    chain_id: str
    event_type: str | None = None


class ToolMetadata(_Schema):
    tool: str
    call_id: str | None = None


class AnomalyMeasurements(_Schema):
    value: float
    score: float


class AnomalyMetadata(_Schema):
    method: str
    metric: str
    experiment_id: str | None = None


class HandlerFailureMetadata(_Schema):
    handler_id: str
    kind: str
    reason: str = ""


# --- the catalogue ----------------------------------------------------------------------------


class EventInfo(NamedTuple):
    """What the catalogue knows about one event name."""

    name: EventName
    category: str
    description: str
    measurements: type[msgspec.Struct]
    metadata: type[msgspec.Struct]

    @property
    def dotted(self) -> str:
        return ".".join(self.name)


def _ev(
    area: str,
    obj: str,
    action: str,
    description: str,
    measurements: type[msgspec.Struct] = _Empty,
    metadata: type[msgspec.Struct] = _Empty,
) -> EventInfo:
    return EventInfo(
        ("crucible", area, obj, action), _CATEGORY[area], description, measurements, metadata
    )


# area (second part of the name) -> category
_CATEGORY: dict[str, str] = {
    "train": "training",
    "deployment": "deployment",
    "framework": "framework",
    "xai": "xai",
    "adversary": "adversary",
    "llm": "llm",
    "ensemble": "ensemble",
    "hedging": "hedging",
    "trace": "trace",
    "tools": "tools",
    "telemetry": "telemetry",
    "events": "events",
}
CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(_CATEGORY.values()))

TRAIN_TRAINING: EventName = ("crucible", "train", "training")
TRAIN_EPOCH: EventName = ("crucible", "train", "epoch")
TRAIN_BATCH_STOP: EventName = ("crucible", "train", "batch", "stop")
TRAIN_CHECKPOINT_SAVED: EventName = ("crucible", "train", "checkpoint", "saved")
DEPLOYMENT_INFERENCE: EventName = ("crucible", "deployment", "inference")
DEPLOYMENT_HEALTH_CHECK: EventName = ("crucible", "deployment", "health_check", "completed")
FRAMEWORK_PIPELINE: EventName = ("crucible", "framework", "pipeline")
FRAMEWORK_STAGE: EventName = ("crucible", "framework", "stage")
XAI_EXPLANATION_GENERATED: EventName = ("crucible", "xai", "explanation", "generated")
ADVERSARY_ATTACK_EXECUTED: EventName = ("crucible", "adversary", "attack", "executed")
LLM_REQUEST: EventName = ("crucible", "llm", "request")
ENSEMBLE_PREDICTION: EventName = ("crucible", "ensemble", "prediction")
ENSEMBLE_VOTE_COMPLETED: EventName = ("crucible", "ensemble", "vote", "completed")
HEDGING_REQUEST: EventName = ("crucible", "hedging", "request")
TRACE_EVENT_CREATED: EventName = ("crucible", "trace", "event", "created")
TOOLS_CALL: EventName = ("crucible", "tools", "call")
ANOMALY_DETECTED: EventName = ("crucible", "telemetry", "anomaly", "detected")
"""Emitted by online anomaly detectors: measurements ``value``, ``score``; metadata
``method`` (``"zscore"``, ``"mad"``, ``"iqr"``, ``"ewma"``), ``metric``."""

_INFOS: tuple[EventInfo, ...] = (
    _ev("train", "training", "start", "Training job started", metadata=TrainingStartMetadata),
    _ev(
        "train",
        "training",
        "stop",
        "Training job completed",
        TrainingStopMeasurements,
        TrainingRunMetadata,
    ),
    _ev("train", "training", "exception", "Training job failed", _Timed, TrainingFailureMetadata),
    _ev("train", "epoch", "start", "Epoch started", metadata=EpochMetadata),
    _ev(
        "train",
        "epoch",
        "stop",
        "Epoch completed with metrics",
        EpochStopMeasurements,
        EpochMetadata,
    ),
    _ev(
        "train", "batch", "stop", "Batch completed with loss", BatchStopMeasurements, BatchMetadata
    ),
    _ev(
        "train",
        "checkpoint",
        "saved",
        "Model checkpoint saved",
        CheckpointMeasurements,
        CheckpointMetadata,
    ),
    _ev(
        "deployment", "inference", "start", "Inference request started", metadata=InferenceMetadata
    ),
    _ev(
        "deployment",
        "inference",
        "stop",
        "Inference request completed",
        InferenceStopMeasurements,
        InferenceMetadata,
    ),
    _ev(
        "deployment",
        "inference",
        "exception",
        "Inference request failed",
        _Timed,
        InferenceFailureMetadata,
    ),
    _ev(
        "deployment",
        "health_check",
        "completed",
        "Health check completed",
        _MaybeTimed,
        HealthCheckMetadata,
    ),
    _ev("framework", "pipeline", "start", "Pipeline execution started", metadata=PipelineMetadata),
    _ev("framework", "pipeline", "stop", "Pipeline execution completed", _Timed, PipelineMetadata),
    _ev("framework", "pipeline", "exception", "Pipeline execution failed", _Timed, _Failure),
    _ev("framework", "stage", "start", "Stage execution started", metadata=StageMetadata),
    _ev("framework", "stage", "stop", "Stage execution completed", _Timed, StageMetadata),
    _ev("framework", "stage", "exception", "Stage execution failed", _Timed, _Failure),
    _ev(
        "xai",
        "explanation",
        "generated",
        "Explanation generated",
        ExplanationMeasurements,
        ExplanationMetadata,
    ),
    _ev(
        "adversary",
        "attack",
        "executed",
        "Adversarial attack executed",
        AttackMeasurements,
        AttackMetadata,
    ),
    _ev("llm", "request", "start", "LLM request started", metadata=LlmStartMetadata),
    _ev("llm", "request", "stop", "LLM request completed", LlmStopMeasurements, LlmStartMetadata),
    _ev("llm", "request", "exception", "LLM request failed", _Timed, LlmFailureMetadata),
    _ev(
        "ensemble", "prediction", "start", "Ensemble prediction started", metadata=EnsembleMetadata
    ),
    _ev(
        "ensemble",
        "prediction",
        "stop",
        "Ensemble prediction completed",
        _Timed,
        EnsembleMetadata,
    ),
    _ev("ensemble", "vote", "completed", "Ensemble voting completed", VoteMeasurements),
    _ev("hedging", "request", "start", "Hedging request started", metadata=HedgingMetadata),
    _ev(
        "hedging",
        "request",
        "duplicated",
        "Request duplicated for hedging",
        metadata=HedgingMetadata,
    ),
    _ev("hedging", "request", "stop", "Hedging request completed", _Timed, HedgingMetadata),
    _ev("trace", "event", "created", "Decision-chain event created", metadata=TraceEventMetadata),
    _ev("tools", "call", "start", "Tool invocation started", metadata=ToolMetadata),
    _ev("tools", "call", "stop", "Tool invocation completed", _Timed, ToolMetadata),
    _ev("tools", "call", "exception", "Tool invocation failed", _Timed, _Failure),
    _ev(
        "telemetry",
        "anomaly",
        "detected",
        "Anomaly detected in a metric stream",
        AnomalyMeasurements,
        AnomalyMetadata,
    ),
    _ev(
        "events",
        "handler",
        "failure",
        "An event handler raised and was detached",
        metadata=HandlerFailureMetadata,
    ),
)

_BY_NAME: dict[EventName, EventInfo] = {info.name: info for info in _INFOS}
STANDARD_EVENTS: tuple[EventName, ...] = tuple(info.name for info in _INFOS)
"""Every catalogued event name, grouped by category."""

assert events.HANDLER_FAILURE in _BY_NAME


def event_info(name: Sequence[str]) -> EventInfo | None:
    """Category, description and schemas of a catalogued event; ``None`` otherwise."""
    return _BY_NAME.get(tuple(name))


def events_in(category: str) -> tuple[EventName, ...]:
    """The catalogued event names of a category (``"training"``, ``"llm"``, ...)."""
    if category not in CATEGORIES:
        raise InvalidArgumentError(f"unknown category {category!r}; one of {CATEGORIES}")
    return tuple(info.name for info in _INFOS if info.category == category)


def category_of(name: Sequence[str]) -> str:
    """The category of any name: catalogued, or a ``("crucible", <area>, ...)`` name of a
    known area; ``"custom"`` otherwise."""
    info = _BY_NAME.get(tuple(name))
    if info is not None:
        return info.category
    if len(name) > 1 and name[0] == "crucible":
        return _CATEGORY.get(name[1], "custom")
    return "custom"


# --- validation -------------------------------------------------------------------------------

_AT = re.compile(r" - at `\$(.*)`$")
_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def _items(exc: msgspec.ValidationError, root: str) -> list[ErrorItem]:
    message = str(exc)
    match = _AT.search(message)
    path = root
    if match:
        message = message[: match.start()]
        path += "".join("/" + (m.group(1) or m.group(2)) for m in _PART.finditer(match.group(1)))
    code = "missing" if message.startswith("Object missing required field") else "type"
    return [ErrorItem(path, code, message)]


def validate(
    name: Sequence[str], measurements: Mapping[str, Any], metadata: Mapping[str, Any]
) -> list[ErrorItem]:
    """Problems of an event against its schema (``[]`` when valid or not catalogued).

    Paths are JSON pointers under ``/measurements`` or ``/metadata``; each schema reports
    its first problem."""
    info = _BY_NAME.get(tuple(name))
    if info is None:
        return []
    items: list[ErrorItem] = []
    for part, value, schema in (
        ("/measurements", measurements, info.measurements),
        ("/metadata", metadata, info.metadata),
    ):
        if schema is _Empty:
            continue
        try:
            msgspec.convert(value, schema)
        except msgspec.ValidationError as exc:
            items.extend(_items(exc, part))
    return items


# --- emitting ---------------------------------------------------------------------------------


def emit(
    name: Sequence[str],
    measurements: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """Validate a catalogued event (raising :class:`ValidationError`) and execute it.

    Nothing is built or checked when no handler is attached. ``None`` values are dropped
    from both dicts, so optional fields can be passed through unconditionally."""
    key = tuple(name)
    if not events.has_handlers(key):
        return
    meas = {k: v for k, v in (measurements or {}).items() if v is not None}
    meta = {k: v for k, v in (metadata or {}).items() if v is not None}
    if key not in _BY_NAME:
        raise InvalidArgumentError(f"{'.'.join(key)} is not a catalogued event")
    problems = validate(key, meas, meta)
    if problems:
        raise ValidationError(problems, f"invalid {'.'.join(key)} event")
    events.execute(key, meas, meta)


def _failure(exc: BaseException | None, kind: str | None, reason: str | None) -> dict[str, Any]:
    if exc is not None:
        return {"kind": type(exc).__name__, "reason": str(exc)}
    return {"kind": kind or "error", "reason": reason or ""}


def emit_training_start(
    *,
    run_id: str | None = None,
    model: str | None = None,
    total_epochs: int | None = None,
    config: dict[str, Any] | None = None,
    **metadata: Any,
) -> None:
    """``crucible.train.training.start``."""
    meta = {"run_id": run_id, "model": model, "total_epochs": total_epochs, "config": config}
    emit((*TRAIN_TRAINING, "start"), {}, {**meta, **metadata})


def emit_training_stop(
    *,
    duration: int | None = None,
    epochs: int | None = None,
    steps: int | None = None,
    final_loss: float | None = None,
    run_id: str | None = None,
    **metadata: Any,
) -> None:
    """``crucible.train.training.stop`` (``duration`` in ns)."""
    meas = {"duration": duration, "epochs": epochs, "steps": steps, "final_loss": final_loss}
    emit((*TRAIN_TRAINING, "stop"), meas, {"run_id": run_id, **metadata})


def emit_training_exception(
    *,
    duration: int,
    exception: BaseException | None = None,
    kind: str | None = None,
    reason: str | None = None,
    run_id: str | None = None,
    **metadata: Any,
) -> None:
    """``crucible.train.training.exception``: pass the exception, or its ``kind``/``reason``."""
    meta = {**_failure(exception, kind, reason), "run_id": run_id, **metadata}
    emit((*TRAIN_TRAINING, "exception"), {"duration": duration}, meta)


def emit_epoch_start(*, epoch: int, run_id: str | None = None, **metadata: Any) -> None:
    """``crucible.train.epoch.start``."""
    emit((*TRAIN_EPOCH, "start"), {}, {"epoch": epoch, "run_id": run_id, **metadata})


def emit_epoch_stop(
    *,
    epoch: int,
    duration: int | None = None,
    loss: float | None = None,
    accuracy: float | None = None,
    learning_rate: float | None = None,
    val_loss: float | None = None,
    val_accuracy: float | None = None,
    run_id: str | None = None,
    **metadata: Any,
) -> None:
    """``crucible.train.epoch.stop`` with the epoch's metrics."""
    meas = {
        "duration": duration,
        "loss": loss,
        "accuracy": accuracy,
        "learning_rate": learning_rate,
        "val_loss": val_loss,
        "val_accuracy": val_accuracy,
    }
    emit((*TRAIN_EPOCH, "stop"), meas, {"epoch": epoch, "run_id": run_id, **metadata})


def emit_batch_stop(
    *,
    batch: int,
    loss: float,
    epoch: int | None = None,
    duration: int | None = None,
    gradient_norm: float | None = None,
    learning_rate: float | None = None,
    batch_size: int | None = None,
    run_id: str | None = None,
    **metadata: Any,
) -> None:
    """``crucible.train.batch.stop``."""
    meas = {
        "loss": loss,
        "duration": duration,
        "gradient_norm": gradient_norm,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
    }
    meta = {"batch": batch, "epoch": epoch, "run_id": run_id, **metadata}
    emit(TRAIN_BATCH_STOP, meas, meta)


def emit_checkpoint_saved(
    *,
    checkpoint_path: str,
    epoch: int | None = None,
    step: int | None = None,
    size_bytes: int | None = None,
    run_id: str | None = None,
    **metadata: Any,
) -> None:
    """``crucible.train.checkpoint.saved``."""
    meta = {
        "checkpoint_path": checkpoint_path,
        "epoch": epoch,
        "step": step,
        "run_id": run_id,
        **metadata,
    }
    emit(TRAIN_CHECKPOINT_SAVED, {"size_bytes": size_bytes}, meta)


def emit_inference_start(
    *,
    model_name: str,
    model_version: str | None = None,
    request_id: str | None = None,
    **metadata: Any,
) -> None:
    """``crucible.deployment.inference.start``."""
    meta = {
        "model_name": model_name,
        "model_version": model_version,
        "request_id": request_id,
        **metadata,
    }
    emit((*DEPLOYMENT_INFERENCE, "start"), {}, meta)


def emit_inference_stop(
    *,
    model_name: str,
    duration: int,
    model_version: str | None = None,
    request_id: str | None = None,
    input_size: int | None = None,
    output_size: int | None = None,
    batch_size: int | None = None,
    **metadata: Any,
) -> None:
    """``crucible.deployment.inference.stop`` (``duration`` in ns)."""
    meas = {
        "duration": duration,
        "input_size": input_size,
        "output_size": output_size,
        "batch_size": batch_size,
    }
    meta = {
        "model_name": model_name,
        "model_version": model_version,
        "request_id": request_id,
        **metadata,
    }
    emit((*DEPLOYMENT_INFERENCE, "stop"), meas, meta)


def emit_inference_exception(
    *,
    model_name: str,
    duration: int,
    exception: BaseException | None = None,
    kind: str | None = None,
    reason: str | None = None,
    model_version: str | None = None,
    request_id: str | None = None,
    **metadata: Any,
) -> None:
    """``crucible.deployment.inference.exception``."""
    meta = {
        **_failure(exception, kind, reason),
        "model_name": model_name,
        "model_version": model_version,
        "request_id": request_id,
        **metadata,
    }
    emit((*DEPLOYMENT_INFERENCE, "exception"), {"duration": duration}, meta)


def emit_health_check(
    *,
    status: Literal["healthy", "degraded", "unhealthy"],
    duration: int | None = None,
    model_name: str | None = None,
    model_version: str | None = None,
    **metadata: Any,
) -> None:
    """``crucible.deployment.health_check.completed``."""
    meta = {"status": status, "model_name": model_name, "model_version": model_version}
    emit(DEPLOYMENT_HEALTH_CHECK, {"duration": duration}, {**meta, **metadata})


def emit_pipeline_start(*, pipeline_id: str, name: str | None = None, **metadata: Any) -> None:
    """``crucible.framework.pipeline.start``."""
    emit((*FRAMEWORK_PIPELINE, "start"), {}, {"pipeline_id": pipeline_id, "name": name, **metadata})


def emit_pipeline_stop(
    *, pipeline_id: str, duration: int, name: str | None = None, **metadata: Any
) -> None:
    """``crucible.framework.pipeline.stop`` (``duration`` in ns)."""
    meta = {"pipeline_id": pipeline_id, "name": name, **metadata}
    emit((*FRAMEWORK_PIPELINE, "stop"), {"duration": duration}, meta)


def emit_stage_start(
    *, pipeline_id: str, stage_name: str, stage_index: int | None = None, **metadata: Any
) -> None:
    """``crucible.framework.stage.start``."""
    meta = {"pipeline_id": pipeline_id, "stage_name": stage_name, "stage_index": stage_index}
    emit((*FRAMEWORK_STAGE, "start"), {}, {**meta, **metadata})


def emit_stage_stop(
    *,
    pipeline_id: str,
    stage_name: str,
    duration: int,
    stage_index: int | None = None,
    **metadata: Any,
) -> None:
    """``crucible.framework.stage.stop`` (``duration`` in ns)."""
    meta = {"pipeline_id": pipeline_id, "stage_name": stage_name, "stage_index": stage_index}
    emit((*FRAMEWORK_STAGE, "stop"), {"duration": duration}, {**meta, **metadata})


def emit_explanation_generated(
    *,
    method: str,
    duration: int | None = None,
    num_features: int | None = None,
    fidelity: float | None = None,
    model_name: str | None = None,
    sample_id: str | None = None,
    **metadata: Any,
) -> None:
    """``crucible.xai.explanation.generated``."""
    meas = {"duration": duration, "num_features": num_features, "fidelity": fidelity}
    meta = {"method": method, "model_name": model_name, "sample_id": sample_id, **metadata}
    emit(XAI_EXPLANATION_GENERATED, meas, meta)


def emit_attack_executed(
    *,
    attack: str,
    duration: int | None = None,
    success: bool | None = None,
    success_rate: float | None = None,
    perturbation_norm: float | None = None,
    queries: int | None = None,
    epsilon: float | None = None,
    model_name: str | None = None,
    target: str | None = None,
    **metadata: Any,
) -> None:
    """``crucible.adversary.attack.executed``."""
    meas = {
        "duration": duration,
        "success_rate": success_rate,
        "perturbation_norm": perturbation_norm,
        "queries": queries,
    }
    meta = {
        "attack": attack,
        "success": success,
        "epsilon": epsilon,
        "model_name": model_name,
        "target": target,
        **metadata,
    }
    emit(ADVERSARY_ATTACK_EXECUTED, meas, meta)


def emit_llm_request_start(
    *, model: str, provider: str | None = None, request_id: str | None = None, **metadata: Any
) -> None:
    """``crucible.llm.request.start``."""
    meta = {"model": model, "provider": provider, "request_id": request_id, **metadata}
    emit((*LLM_REQUEST, "start"), {}, meta)


def emit_llm_request_stop(
    *,
    model: str,
    duration: int,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    cached_input_tokens: int | None = None,
    cost_usd: float | None = None,
    provider: str | None = None,
    request_id: str | None = None,
    **metadata: Any,
) -> None:
    """``crucible.llm.request.stop``: model, tokens in/out, latency (``duration`` in ns) and,
    when known, the cost (otherwise the capture prices the tokens with the cost model)."""
    meas = {
        "duration": duration,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cached_input_tokens": cached_input_tokens,
        "cost_usd": cost_usd,
    }
    meta = {"model": model, "provider": provider, "request_id": request_id, **metadata}
    emit((*LLM_REQUEST, "stop"), meas, meta)


def emit_llm_request_exception(
    *,
    model: str,
    duration: int,
    exception: BaseException | None = None,
    kind: str | None = None,
    reason: str | None = None,
    provider: str | None = None,
    request_id: str | None = None,
    **metadata: Any,
) -> None:
    """``crucible.llm.request.exception``."""
    meta = {
        **_failure(exception, kind, reason),
        "model": model,
        "provider": provider,
        "request_id": request_id,
        **metadata,
    }
    emit((*LLM_REQUEST, "exception"), {"duration": duration}, meta)
