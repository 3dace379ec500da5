"""The standard event catalogue: names, categories, descriptions and schemas.

A package of four modules: ``names`` (the catalogue and its lookups), ``schemas`` (the
payload schemas), ``validation`` and ``emitters`` (the ``emit_*`` helpers); everything
public is importable from here.

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

from crucible.telemetry.catalog.emitters import (
    emit,
    emit_attack_executed,
    emit_batch_stop,
    emit_checkpoint_saved,
    emit_epoch_start,
    emit_epoch_stop,
    emit_explanation_generated,
    emit_health_check,
    emit_inference_exception,
    emit_inference_start,
    emit_inference_stop,
    emit_llm_request_exception,
    emit_llm_request_start,
    emit_llm_request_stop,
    emit_pipeline_start,
    emit_pipeline_stop,
    emit_stage_start,
    emit_stage_stop,
    emit_training_exception,
    emit_training_start,
    emit_training_stop,
)
from crucible.telemetry.catalog.names import (
    ADVERSARY_ATTACK_EXECUTED,
    ANOMALY_DETECTED,
    CATEGORIES,
    DEPLOYMENT_HEALTH_CHECK,
    DEPLOYMENT_INFERENCE,
    ENSEMBLE_PREDICTION,
    ENSEMBLE_VOTE_COMPLETED,
    FRAMEWORK_PIPELINE,
    FRAMEWORK_STAGE,
    HEDGING_REQUEST,
    LLM_REQUEST,
    STANDARD_EVENTS,
    TOOLS_CALL,
    TRACE_EVENT_CREATED,
    TRAIN_BATCH_STOP,
    TRAIN_CHECKPOINT_SAVED,
    TRAIN_EPOCH,
    TRAIN_TRAINING,
    XAI_EXPLANATION_GENERATED,
    EventInfo,
    ValidationMode,
    category_of,
    event_info,
    events_in,
)
from crucible.telemetry.catalog.validation import validate

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
