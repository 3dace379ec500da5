"""Rules of the feedback loop: collection, drift, retraining, events, labeling, A/B tests."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from crucible.ir import feedback
from crucible.ir.enums import (
    DriftMethod,
    FeedbackType,
    LabelingStatus,
)
from crucible.ir.rules.registry import Finding, duplicates, is_number, pointer, rule


@rule("feedback.types_required", feedback.Config)
def _feedback_types(config: feedback.Config) -> Iterator[Finding]:
    """Enabled feedback collection collects at least one type."""
    if config.enabled and not config.feedback_types:
        yield pointer("feedback_types"), "enabled feedback collection needs feedback_types"


@rule("feedback.duplicate_type", feedback.Config)
def _feedbackduplicates(config: feedback.Config) -> Iterator[Finding]:
    """A feedback type is listed once."""
    for index, kind in duplicates(config.feedback_types):
        yield pointer("feedback_types", index), f"feedback type {kind} is listed twice"


@rule("feedback.enabled_without_sampling", feedback.Config)
def _feedback_sampling(config: feedback.Config) -> Iterator[Finding]:
    """Enabled collection samples something."""
    if config.enabled and config.sampling_rate == 0:
        yield pointer("sampling_rate"), "enabled feedback collection with sampling_rate 0"


@rule("drift.threshold_out_of_range", feedback.DriftDetectionConfig)
def _drift_threshold(drift: feedback.DriftDetectionConfig) -> Iterator[Finding]:
    """For the hypothesis tests (ks, chi_squared) the threshold is a p-value in (0, 1)."""
    if drift.method in (DriftMethod.KS, DriftMethod.CHI_SQUARED) and not (0 < drift.threshold < 1):
        yield (
            pointer("threshold"),
            f"{drift.method} compares a p-value: threshold must lie in (0, 1)",
        )


@rule("retraining.condition_required", feedback.RetrainingTrigger)
def _retraining_condition(trigger: feedback.RetrainingTrigger) -> Iterator[Finding]:
    """An enabled trigger has a condition: a feedback count, a drift threshold, a
    performance threshold or a schedule."""
    if trigger.enabled and all(
        value is None
        for value in (
            trigger.min_feedback_count,
            trigger.drift_threshold,
            trigger.performance_threshold,
            trigger.schedule,
        )
    ):
        yield (
            "",
            (
                "set at least one of min_feedback_count, drift_threshold, "
                "performance_threshold, schedule"
            ),
        )


@rule("retraining.metric_required", feedback.RetrainingTrigger)
def _retraining_metric(trigger: feedback.RetrainingTrigger) -> Iterator[Finding]:
    """A performance threshold names its metric."""
    if trigger.performance_threshold is not None and not trigger.metric:
        yield pointer("metric"), "performance_threshold needs a metric"


def _value_fits(kind: Any, value: Any) -> bool:
    if value is None:
        return True
    if kind == FeedbackType.THUMBS:
        return isinstance(value, bool) or value in ("up", "down")
    if kind == FeedbackType.RATING:
        return is_number(value) and math.isfinite(value)
    if kind == FeedbackType.LABEL:
        return isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        )
    if kind == FeedbackType.CORRECTION:
        return isinstance(value, (str, dict))
    if kind == FeedbackType.FLAG:
        return isinstance(value, (bool, str))
    return True


@rule("feedback_event.value_mismatch", feedback.Event)
def _event_value(event: feedback.Event) -> Iterator[Finding]:
    """The value suits the feedback type: thumbs "up"/"down" or a boolean, rating a number,
    label a string or strings, correction a string or an object, flag a boolean or a reason."""
    if not _value_fits(event.feedback_type, event.feedback_value):
        yield (
            pointer("feedback_value"),
            f"value {event.feedback_value!r} does not suit feedback type {event.feedback_type}",
        )


@rule("correction.unchanged", feedback.CorrectionEvent)
def _correction_unchanged(event: feedback.CorrectionEvent) -> Iterator[Finding]:
    """A correction changes the output."""
    if event.original_output is not None and event.corrected_output == event.original_output:
        yield pointer("corrected_output"), "the corrected output equals the original output"


@rule("labeling_task.duplicate_label", feedback.LabelingTask)
def _labels_unique(task: feedback.LabelingTask) -> Iterator[Finding]:
    """A label is offered once."""
    for index, label in duplicates(task.labels):
        yield pointer("labels", index), f"label {label!r} is listed twice"


@rule("labeling_task.result_label_unknown", feedback.LabelingTask)
def _result_labels(task: feedback.LabelingTask) -> Iterator[Finding]:
    """Chosen labels are among the offered labels."""
    for index, label in enumerate(task.result or []):
        if label not in task.labels:
            yield pointer("result", index), f"label {label!r} is not one of the task's labels"


@rule("labeling_task.multiple_results", feedback.LabelingTask)
def _single_label(task: feedback.LabelingTask) -> Iterator[Finding]:
    """A single-label task has at most one chosen label."""
    if not task.multi_label and task.result is not None and len(task.result) > 1:
        yield pointer("result"), "a single-label task has more than one result"


@rule("labeling_task.result_required", feedback.LabelingTask)
def _result_required(task: feedback.LabelingTask) -> Iterator[Finding]:
    """A completed task has its result."""
    if task.status == LabelingStatus.COMPLETED and not task.result:
        yield pointer("result"), "a completed task needs a result"


@rule("labeling_task.time_order", feedback.LabelingTask)
def _task_times(task: feedback.LabelingTask) -> Iterator[Finding]:
    """A task is not completed before it was created."""
    if task.created_at and task.completed_at and task.completed_at < task.created_at:
        yield pointer("completed_at"), "completed_at is before created_at"


@rule("ab_test.traffic_sum", feedback.ABTestConfig)
def _ab_traffic(test: feedback.ABTestConfig) -> Iterator[Finding]:
    """Variant traffic shares add up to 100 percent."""
    total = math.fsum(v.traffic_percent for v in test.variants)
    if test.variants and abs(total - 100.0) > 1e-6:
        yield pointer("variants"), f"traffic shares add up to {total:g}%, not 100%"


@rule("ab_test.duplicate_variant", feedback.ABTestConfig)
def _abduplicates(test: feedback.ABTestConfig) -> Iterator[Finding]:
    """Variant names are unique."""
    for index, name in duplicates(v.name for v in test.variants):
        yield pointer("variants", index, "name"), f"variant {name!r} is defined twice"


@rule("ab_test.unknown_control", feedback.ABTestConfig)
def _ab_control(test: feedback.ABTestConfig) -> Iterator[Finding]:
    """The control is one of the variants."""
    if test.control is not None and test.control not in {v.name for v in test.variants}:
        yield pointer("control"), f"control {test.control!r} is not a variant"


@rule("ab_test.primary_metric_unknown", feedback.ABTestConfig)
def _ab_primary(test: feedback.ABTestConfig) -> Iterator[Finding]:
    """The primary metric is one of the metrics, when metrics are listed."""
    if test.primary_metric and test.metrics is not None and test.primary_metric not in test.metrics:
        yield pointer("primary_metric"), f"{test.primary_metric!r} is not one of the metrics"


@rule("ab_test.time_order", feedback.ABTestConfig)
def _ab_times(test: feedback.ABTestConfig) -> Iterator[Finding]:
    """A test ends after it starts."""
    if test.start_at and test.end_at and test.end_at <= test.start_at:
        yield pointer("end_at"), "end_at is not after start_at"
