"""The catalogue itself: every standard event's name, category, description and schemas,
and the lookups over them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import msgspec

from crucible import events
from crucible.errors import InvalidArgumentError
from crucible.telemetry.catalog.schemas import (
    AnomalyMeasurements,
    AnomalyMetadata,
    AttackMeasurements,
    AttackMetadata,
    BatchMetadata,
    BatchStopMeasurements,
    CheckpointMeasurements,
    CheckpointMetadata,
    EnsembleMetadata,
    EpochMetadata,
    EpochStopMeasurements,
    ExplanationMeasurements,
    ExplanationMetadata,
    HandlerFailureMetadata,
    HealthCheckMetadata,
    HedgingMetadata,
    InferenceFailureMetadata,
    InferenceMetadata,
    InferenceStopMeasurements,
    LlmFailureMetadata,
    LlmStartMetadata,
    LlmStopMeasurements,
    PipelineMetadata,
    StageMetadata,
    ToolMetadata,
    TraceEventMetadata,
    TrainingFailureMetadata,
    TrainingRunMetadata,
    TrainingStartMetadata,
    TrainingStopMeasurements,
    VoteMeasurements,
    _Empty,
    _Failure,
    _MaybeTimed,
    _Timed,
)

EventName = tuple[str, ...]
ValidationMode = Literal["strict", "warn", "off"]


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
