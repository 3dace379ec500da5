"""The feedback loop: events from production, labeling, drift detection, retraining, A/B tests.

:class:`Event` is the high-volume document (JSONL streams of millions of lines); it stays
flat and small. :class:`Config` is the original ``Feedback.Config`` (also reachable as
``crucible.ir.reliability.Feedback``); its ``drift_detection`` and ``retraining_trigger``
maps of v0.2 are typed in v0.3 as :class:`DriftDetectionConfig` and
:class:`RetrainingTrigger`.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from crucible.ir.base import (
    Document,
    Id,
    IRStruct,
    JsonObject,
    NonNegativeFloat,
    NonNegativeInt,
    OpenUnit,
    Percent,
    PositiveFloat,
    PositiveInt,
    Probability,
    Timestamp,
)
from crucible.ir.enums import (
    DriftMethod,
    DriftType,
    FeedbackStorage,
    FeedbackType,
    LabelingStatus,
)

__all__ = [
    "ABTestConfig",
    "ABVariant",
    "Config",
    "CorrectionEvent",
    "DriftDetectionConfig",
    "DriftMethod",
    "DriftType",
    "Event",
    "FeedbackStorage",
    "FeedbackType",
    "LabelingStatus",
    "LabelingTask",
    "RetrainingTrigger",
]


class DriftDetectionConfig(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How to detect drift between a reference window and live traffic.

    ``threshold`` is a p-value for the tests (``ks``, ``chi_squared``: drift when p < threshold,
    so it must lie in (0, 1)) and a distance for the others (``psi``, ``wasserstein``, ``kl`` /
    ``js_divergence``: drift when the distance exceeds it).
    """

    enabled: bool = True
    method: DriftMethod = DriftMethod.PSI
    drift_type: DriftType = DriftType.DATA
    threshold: PositiveFloat = 0.2
    features: list[Id] | None = None
    reference_window_size: PositiveInt | None = None
    window_size: PositiveInt = 1000
    check_interval_seconds: PositiveInt | None = None
    options: JsonObject | None = None


class RetrainingTrigger(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """When feedback should start a new training run: at least one condition is required."""

    enabled: bool = True
    min_feedback_count: PositiveInt | None = None
    drift_threshold: PositiveFloat | None = None
    metric: Id | None = None
    performance_threshold: float | None = None
    schedule: Id | None = None
    """A cron expression (``"0 3 * * 1"``)."""
    cooldown_hours: NonNegativeFloat = 24.0
    training_config_id: Id | None = None
    options: JsonObject | None = None


class Config(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How feedback is collected, stored and acted upon (the original ``Feedback.Config``)."""

    enabled: bool = False
    sampling_rate: Probability = 1.0
    feedback_types: list[FeedbackType] = msgspec.field(
        default_factory=lambda: [FeedbackType.THUMBS, FeedbackType.CORRECTION]
    )
    storage: FeedbackStorage = FeedbackStorage.POSTGRES
    retention_days: PositiveInt | None = None
    anonymize_pii: bool = True
    drift_detection: DriftDetectionConfig | None = None
    retraining_trigger: RetrainingTrigger | None = None
    options: JsonObject | None = None


class Event(Document, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One piece of feedback on one model output.

    ``feedback_value`` must suit ``feedback_type``: ``thumbs`` takes ``"up"``/``"down"`` or a
    boolean, ``rating`` a number, ``label`` a string or a list of strings, ``correction`` a
    string or an object, ``flag`` a boolean or a reason string.
    """

    id: Id
    deployment_id: Id | None = None
    model_version: str | None = None
    input: JsonObject | None = None
    output: JsonObject | None = None
    feedback_type: FeedbackType = FeedbackType.THUMBS
    feedback_value: Any = None
    user_id: str | None = None
    session_id: str | None = None
    latency_ms: NonNegativeFloat | None = None
    timestamp: Timestamp | None = None
    metadata: JsonObject | None = None
    # v0.3
    request_id: str | None = None
    trace_id: str | None = None
    options: JsonObject | None = None


class CorrectionEvent(Document, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A user's correction of a model output: the pair (output, corrected) trains the next
    version."""

    id: Id
    corrected_output: Any
    original_output: Any = None
    event_id: Id | None = None
    """The feedback :class:`Event` this correction answers, if any."""
    deployment_id: Id | None = None
    model_version: str | None = None
    input: JsonObject | None = None
    reason: str | None = None
    corrected_by: str | None = None
    timestamp: Timestamp | None = None
    metadata: JsonObject | None = None


class LabelingTask(Document, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A request for human labels on some inputs (often sampled from feedback events)."""

    id: Id
    labels: list[Id]
    """The labels an annotator may choose from."""
    status: LabelingStatus = LabelingStatus.PENDING
    input: JsonObject | None = None
    event_ids: list[Id] | None = None
    instructions: str | None = None
    multi_label: bool = False
    annotators_required: PositiveInt = 1
    assignees: list[Id] | None = None
    priority: NonNegativeInt = 0
    result: list[Id] | None = None
    """The chosen labels, once completed."""
    deadline: Timestamp | None = None
    created_at: Timestamp | None = None
    completed_at: Timestamp | None = None
    metadata: JsonObject | None = None


class ABVariant(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One arm of an A/B test and its share of traffic (a percentage)."""

    name: Id
    traffic_percent: Percent
    model_version_id: Id | None = None
    backend_id: Id | None = None
    options: JsonObject | None = None


class ABTestConfig(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An online comparison of variants: traffic shares sum to 100, ``control`` names one."""

    id: Id
    variants: Annotated[list[ABVariant], msgspec.Meta(min_length=2)]
    control: Id | None = None
    metrics: list[Id] | None = None
    primary_metric: Id | None = None
    significance_level: OpenUnit = 0.05
    min_sample_size: PositiveInt | None = None
    start_at: Timestamp | None = None
    end_at: Timestamp | None = None
    options: JsonObject | None = None
