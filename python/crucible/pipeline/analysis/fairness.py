"""Fairness across the groups of one attribute: per-group rates and the gaps between them.

Each observation is one answer: its group, whether the prediction is *positive*, whether
the true label is positive (``None`` when the task has no positive class), whether it is
correct, and the producer's confidence if any. Per group:

- positive rate P(pred+); TPR P(pred+ | label+); FPR P(pred+ | label-); PPV P(label+ |
  pred+); accuracy; calibration error |mean confidence - accuracy| (calibration in the
  large, needing confidences).

Metrics over the groups (names are the IR's :class:`~crucible.ir.enums.FairnessMetric`
values plus two):

- ``demographic_parity``: max - min positive rate, and the ratio min / max; it is
  violated when the ratio is below ``threshold`` (0.8 is the four-fifths rule);
- ``equalized_odds``: the larger of the TPR gap and the FPR gap;
- ``equal_opportunity``: the TPR gap; ``predictive_parity``: the PPV gap;
- ``accuracy_gap`` and ``calibration_gap``: the gaps of accuracy and calibration error.

Gap metrics are violated when the gap exceeds ``max_gap``. A rate undefined in a group
(no label-positive examples for TPR, say) leaves that group out of the gap; with fewer
than two groups left the metric is undefined (``value`` None, never violated).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, NamedTuple, get_args

import msgspec

__all__ = [
    "FAIRNESS_METRICS",
    "FairnessMetricName",
    "GroupRates",
    "MetricGap",
    "Observation",
    "evaluate_metric",
    "group_rates",
]

FairnessMetricName = Literal[
    "demographic_parity",
    "equalized_odds",
    "equal_opportunity",
    "predictive_parity",
    "accuracy_gap",
    "calibration_gap",
]
FAIRNESS_METRICS: tuple[str, ...] = get_args(FairnessMetricName)


class Observation(NamedTuple):
    group: str
    predicted: bool
    label: bool | None
    correct: bool
    confidence: float | None = None


class GroupRates(msgspec.Struct, frozen=True, kw_only=True):
    group: str
    n: int
    positive_rate: float
    tpr: float | None
    fpr: float | None
    ppv: float | None
    accuracy: float
    calibration_error: float | None


class MetricGap(msgspec.Struct, frozen=True, kw_only=True):
    metric: str
    value: float | None
    ratio: float | None
    violated: bool
    per_group: dict[str, float | None]
    note: str = ""


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def group_rates(observations: Iterable[Observation]) -> list[GroupRates]:
    """Rates per group, groups in sorted order."""
    groups: dict[str, list[Observation]] = {}
    for obs in observations:
        groups.setdefault(obs.group, []).append(obs)
    rates: list[GroupRates] = []
    for name in sorted(groups):
        rows = groups[name]
        labelled = [o for o in rows if o.label is not None]
        positives = [o for o in labelled if o.label]
        negatives = [o for o in labelled if not o.label]
        predicted = [o for o in labelled if o.predicted]
        accuracy = sum(o.correct for o in rows) / len(rows)
        confidences = [o.confidence for o in rows if o.confidence is not None]
        calibration = (
            abs(sum(confidences) / len(confidences) - accuracy)
            if len(confidences) == len(rows)
            else None
        )
        rates.append(
            GroupRates(
                group=name,
                n=len(rows),
                positive_rate=sum(o.predicted for o in rows) / len(rows),
                tpr=_share(sum(o.predicted for o in positives), len(positives)),
                fpr=_share(sum(o.predicted for o in negatives), len(negatives)),
                ppv=_share(sum(bool(o.label) for o in predicted), len(predicted)),
                accuracy=accuracy,
                calibration_error=calibration,
            )
        )
    return rates


def _gap(values: dict[str, float | None]) -> float | None:
    defined = [v for v in values.values() if v is not None]
    return max(defined) - min(defined) if len(defined) >= 2 else None


_FIELD = {
    "equal_opportunity": "tpr",
    "predictive_parity": "ppv",
    "accuracy_gap": "accuracy",
    "calibration_gap": "calibration_error",
}


def evaluate_metric(
    metric: str, rates: Sequence[GroupRates], *, threshold: float, max_gap: float
) -> MetricGap:
    """One fairness metric over the groups' rates (see the module docstring)."""
    if metric == "demographic_parity":
        per_group: dict[str, float | None] = {r.group: r.positive_rate for r in rates}
        difference = _gap(per_group)
        if difference is None:
            return MetricGap(
                metric=metric,
                value=None,
                ratio=None,
                violated=False,
                per_group=per_group,
                note="fewer than two groups",
            )
        top = max(r.positive_rate for r in rates)
        ratio = min(r.positive_rate for r in rates) / top if top > 0 else 1.0
        return MetricGap(
            metric=metric,
            value=difference,
            ratio=ratio,
            violated=ratio < threshold,
            per_group=per_group,
        )
    if metric == "equalized_odds":
        tpr = _gap({r.group: r.tpr for r in rates})
        fpr = _gap({r.group: r.fpr for r in rates})
        gaps = [g for g in (tpr, fpr) if g is not None]
        value = max(gaps) if gaps else None
        note = f"TPR gap {tpr}, FPR gap {fpr}"
        return MetricGap(
            metric=metric,
            value=value,
            ratio=None,
            violated=value is not None and value > max_gap,
            per_group={f"{r.group}/tpr": r.tpr for r in rates}
            | {f"{r.group}/fpr": r.fpr for r in rates},
            note=note if value is not None else "no labelled positives and negatives in two groups",
        )
    field = _FIELD[metric]
    per_group = {r.group: getattr(r, field) for r in rates}
    value = _gap(per_group)
    return MetricGap(
        metric=metric,
        value=value,
        ratio=None,
        violated=value is not None and value > max_gap,
        per_group=per_group,
        note="" if value is not None else f"{field} defined in fewer than two groups",
    )
