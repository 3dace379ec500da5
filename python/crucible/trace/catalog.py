"""The event types a trace knows, their categories, and the rule for custom types.

Types are plain strings in events (readable JSON, no release needed for a new kind of
event); this module lists the known ones (the original CrucibleTrace's 26, the training,
deployment, feedback, checkpoint and distributed lists of the gap analysis, and
``stage_failed``) and groups them into categories used for styling and statistics. Any
other type must be namespaced, ``ns:name``, so it can never collide with one added here.
"""

from __future__ import annotations

import enum
import re

__all__ = ["CATEGORIES", "KNOWN_TYPES", "EventType", "category_of", "is_valid_type"]


class EventType(str, enum.Enum):
    """The known event types. Members are ``str``, so ``EventType.LOSS_COMPUTED ==
    "loss_computed"``; events store the plain string."""

    # reasoning (the original six)
    HYPOTHESIS_FORMED = "hypothesis_formed"
    ALTERNATIVE_REJECTED = "alternative_rejected"
    CONSTRAINT_EVALUATED = "constraint_evaluated"
    PATTERN_APPLIED = "pattern_applied"
    AMBIGUITY_FLAGGED = "ambiguity_flagged"
    CONFIDENCE_UPDATED = "confidence_updated"
    # training
    TRAINING_STARTED = "training_started"
    TRAINING_COMPLETED = "training_completed"
    EPOCH_STARTED = "epoch_started"
    EPOCH_COMPLETED = "epoch_completed"
    BATCH_PROCESSED = "batch_processed"
    LOSS_COMPUTED = "loss_computed"
    METRIC_RECORDED = "metric_recorded"
    GRADIENT_COMPUTED = "gradient_computed"
    EARLY_STOPPED = "early_stopped"
    HYPERPARAMETER_TUNED = "hyperparameter_tuned"
    VALIDATION_RUN = "validation_run"
    MODEL_SAVED = "model_saved"
    # checkpoints and recovery
    CHECKPOINT_SAVED = "checkpoint_saved"
    CHECKPOINT_LOADED = "checkpoint_loaded"
    CHECKPOINT_CREATED = "checkpoint_created"
    STATE_RECOVERED = "state_recovered"
    TRAINING_RESUMED = "training_resumed"
    # deployment
    DEPLOYMENT_STARTED = "deployment_started"
    DEPLOYMENT_INITIATED = "deployment_initiated"
    DEPLOYMENT_COMPLETED = "deployment_completed"
    MODEL_LOADED = "model_loaded"
    SERVING_STARTED = "serving_started"
    INFERENCE_COMPLETED = "inference_completed"
    DEPLOYMENT_ROLLBACK = "deployment_rollback"
    CANARY_PROMOTED = "canary_promoted"
    A_B_TEST_RESULT = "a_b_test_result"
    # feedback and reinforcement learning
    REWARD_RECEIVED = "reward_received"
    POLICY_UPDATED = "policy_updated"
    EXPERIENCE_SAMPLED = "experience_sampled"
    ONLINE_UPDATE = "online_update"
    # distributed training
    WORKER_JOINED = "worker_joined"
    GRADIENT_AGGREGATED = "gradient_aggregated"
    COMMUNICATION_TIMED = "communication_timed"
    BARRIER_REACHED = "barrier_reached"
    # pipeline stages
    STAGE_STARTED = "stage_started"
    STAGE_COMPLETED = "stage_completed"
    STAGE_FAILED = "stage_failed"


_CATEGORY_MEMBERS: dict[str, tuple[str, ...]] = {
    "reasoning": (
        "hypothesis_formed",
        "alternative_rejected",
        "constraint_evaluated",
        "pattern_applied",
        "ambiguity_flagged",
        "confidence_updated",
    ),
    "training": (
        "training_started",
        "training_completed",
        "epoch_started",
        "epoch_completed",
        "batch_processed",
        "loss_computed",
        "metric_recorded",
        "gradient_computed",
        "early_stopped",
        "hyperparameter_tuned",
        "validation_run",
        "model_saved",
    ),
    "checkpoint": (
        "checkpoint_saved",
        "checkpoint_loaded",
        "checkpoint_created",
        "state_recovered",
        "training_resumed",
    ),
    "deployment": (
        "deployment_started",
        "deployment_initiated",
        "deployment_completed",
        "model_loaded",
        "serving_started",
        "inference_completed",
        "deployment_rollback",
        "canary_promoted",
        "a_b_test_result",
    ),
    "feedback": ("reward_received", "policy_updated", "experience_sampled", "online_update"),
    "distributed": (
        "worker_joined",
        "gradient_aggregated",
        "communication_timed",
        "barrier_reached",
    ),
    "stage": ("stage_started", "stage_completed", "stage_failed"),
}
CATEGORIES: tuple[str, ...] = (*_CATEGORY_MEMBERS, "custom")
"""Groups of event types, for styling and statistics; namespaced types are ``"custom"``."""

_CATEGORY_OF: dict[str, str] = {t: c for c, ts in _CATEGORY_MEMBERS.items() for t in ts}
KNOWN_TYPES: frozenset[str] = frozenset(t.value for t in EventType)
_CUSTOM = re.compile(r"[a-z][a-z0-9_]{0,63}:[a-z0-9][a-z0-9_.\-]{0,127}\Z")
assert frozenset(_CATEGORY_OF) == KNOWN_TYPES, "every EventType belongs to one category"


def is_valid_type(name: str) -> bool:
    """A known :class:`EventType` value, or a namespaced custom type ``ns:name`` (lower
    case; ``ns`` a letter then letters, digits, ``_``; ``name`` may also hold ``.`` and
    ``-``)."""
    return name in KNOWN_TYPES or _CUSTOM.match(name) is not None


def category_of(name: str) -> str:
    """The category of a type (one of :data:`CATEGORIES`)."""
    return _CATEGORY_OF.get(name, "custom")
