"""The ``emit_*`` helpers other packages call: one per standard event, keyword arguments
for its fields, validated before anything is executed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from crucible import events
from crucible.errors import InvalidArgumentError, ValidationError
from crucible.telemetry.catalog.names import (
    _BY_NAME,
    ADVERSARY_ATTACK_EXECUTED,
    DEPLOYMENT_HEALTH_CHECK,
    DEPLOYMENT_INFERENCE,
    FRAMEWORK_PIPELINE,
    FRAMEWORK_STAGE,
    LLM_REQUEST,
    TRAIN_BATCH_STOP,
    TRAIN_CHECKPOINT_SAVED,
    TRAIN_EPOCH,
    TRAIN_TRAINING,
    XAI_EXPLANATION_GENERATED,
)
from crucible.telemetry.catalog.validation import validate


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
