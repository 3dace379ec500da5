"""The msgspec schemas of the standard events' measurements and metadata.

Only the fields listed are checked (type, and presence when they have no default); other
keys are allowed and kept, so emitters may attach more than the catalogue knows about.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec


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
