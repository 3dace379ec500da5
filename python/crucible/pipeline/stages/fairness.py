"""The ``fairness`` stage: do the models treat the groups of an attribute alike?

It reads an evaluate stage's samples, groups each model's answers by every ``group_by``
attribute of the rows' ``group`` map, and computes the metrics of
:mod:`crucible.pipeline.analysis.fairness`. Unset options come from
``experiment.reliability.fairness`` (``metrics``, ``group_by``, ``threshold``,
``fail_on_violation``), else: every attribute in the samples; demographic parity,
equalized odds, equal opportunity and the accuracy gap; threshold 0.8.

What "positive" means:

- with ``positive_labels`` (e.g. ``["yes"]``) the task is a classification: a prediction is
  positive when its normalized text is one of them, and so is the label (the reference);
- without, a prediction is positive when its ``scorer`` score (default: the first scorer)
  is at least ``score_threshold``, i.e. the model "got a favourable outcome"; there is
  no label then, so the label-based metrics are reported as undefined.

Correctness (for the accuracy gap) is ``scorer >= score_threshold`` when that score exists,
else normalized exact match. Gap metrics are violated above ``max_gap`` (default
``1 - threshold``); demographic parity below the ``threshold`` ratio. A violation is a
finding of severity ``error`` with ``fail_on_violation``, else ``warning``; a passing
metric is ``info``. Rows lacking an attribute, and groups smaller than ``min_group_size``,
are left out of that attribute (and the exclusion traced).

Writes ``stages/<name>/fairness.json`` (per model and attribute: the group rates and
gaps) and returns metrics ``<model>/<attribute>/<metric>`` (and ``.../demographic_parity_ratio``)
plus ``violations``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec

from crucible.errors import ErrorItem, InvalidArgumentError
from crucible.ir.reliability import Fairness
from crucible.pipeline.analysis.fairness import (
    FairnessMetricName,
    MetricGap,
    Observation,
    evaluate_metric,
    group_rates,
)
from crucible.pipeline.analysis.findings import Severity, finding
from crucible.pipeline.analysis.samples import (
    SampleRow,
    raise_errors,
    read_samples,
    samples_file,
    source_errors,
)
from crucible.pipeline.analysis.voting import normalize_answer
from crucible.pipeline.stage import StageContext, StageResult

__all__ = ["FairnessStage"]

Unit = Annotated[float, msgspec.Meta(gt=0.0, le=1.0)]
DEFAULT_METRICS: tuple[str, ...] = (
    "demographic_parity",
    "equalized_odds",
    "equal_opportunity",
    "accuracy_gap",
)


class FairnessOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    from_stage: str | None = None
    models: Annotated[list[str], msgspec.Meta(min_length=1)] | None = None
    group_by: Annotated[list[str], msgspec.Meta(min_length=1)] | None = None
    metrics: Annotated[list[FairnessMetricName], msgspec.Meta(min_length=1)] | None = None
    threshold: Unit | None = None
    max_gap: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] | None = None
    positive_labels: Annotated[list[str], msgspec.Meta(min_length=1)] | None = None
    scorer: str | None = None
    score_threshold: float = 0.5
    min_group_size: Annotated[int, msgspec.Meta(ge=1)] = 1
    fail_on_violation: bool | None = None


class FairnessStage:
    """Group fairness metrics (see the module docstring)."""

    name: ClassVar[str] = "fairness"
    Options: ClassVar[type[msgspec.Struct]] = FairnessOptions

    def __init__(self, options: FairnessOptions) -> None:
        self.options = options

    def _config(self, ctx: StageContext) -> Fairness | None:
        reliability = ctx.experiment.reliability
        return reliability.fairness if reliability is not None else None

    def check(self, ctx: StageContext) -> list[ErrorItem]:
        return source_errors(ctx, self.options.from_stage)

    def run(self, ctx: StageContext) -> StageResult:
        raise_errors(self.check(ctx), ctx)
        opts, config = self.options, self._config(ctx)
        rows = read_samples(samples_file(ctx, opts.from_stage))
        if not rows:
            raise InvalidArgumentError("the samples file is empty")
        threshold = opts.threshold or (config.threshold if config and config.threshold else 0.8)
        max_gap = opts.max_gap if opts.max_gap is not None else 1.0 - threshold
        metrics_named: list[str] = list(DEFAULT_METRICS)
        if opts.metrics:
            metrics_named = list(opts.metrics)
        elif config is not None and config.metrics:
            metrics_named = [m.value for m in config.metrics]
        fail = opts.fail_on_violation
        if fail is None:
            fail = bool(config.fail_on_violation) if config else False
        models = opts.models or list(dict.fromkeys(r.model for r in rows))
        attributes = self._attributes(ctx, config, rows)
        scorer = opts.scorer or next(iter(rows[0].scores), None)
        positive = (
            f"label in {opts.positive_labels}"
            if opts.positive_labels
            else f"{scorer} >= {opts.score_threshold}"
        )
        ctx.tracer.record(
            "hypothesis_formed",
            f"{models} treat the groups of {attributes} alike",
            f"positive = {positive}; ratio threshold {threshold}, max gap {max_gap:.3g}",
            alternatives=metrics_named,
        )
        report: dict[str, Any] = {}
        metrics: dict[str, float] = {}
        found: list[dict[str, Any]] = []
        total = len(models) * len(attributes)
        for m_i, model in enumerate(models):
            own = [r for r in rows if r.model == model]
            if not own:
                raise_errors(
                    [
                        ErrorItem(
                            f"{ctx.pointer}/options/models/{m_i}",
                            "unknown_model",
                            f"no samples for {model!r}",
                        )
                    ],
                    ctx,
                )
            for a_i, attribute in enumerate(attributes):
                observations = self._observations(ctx, own, attribute, scorer)
                rates = group_rates(observations)
                gaps = [
                    evaluate_metric(m, rates, threshold=threshold, max_gap=max_gap)
                    for m in metrics_named
                ]
                report.setdefault(model, {})[attribute] = {
                    "groups": [msgspec.to_builtins(r) for r in rates],
                    "metrics": [msgspec.to_builtins(g) for g in gaps],
                }
                for gap in gaps:
                    key = f"{model}/{attribute}/{gap.metric}"
                    if gap.value is not None:
                        metrics[key] = gap.value
                    if gap.ratio is not None:
                        metrics[f"{key}_ratio"] = gap.ratio
                    found.append(_finding(model, attribute, gap, threshold, max_gap, fail))
                    if gap.violated:
                        ctx.tracer.record(
                            "constraint_evaluated",
                            f"{gap.metric} violated for {model} on {attribute}",
                            f"value {gap.value}, ratio {gap.ratio}; threshold {threshold}, "
                            f"max gap {max_gap:.3g}",
                        )
                ctx.report_progress(m_i * len(attributes) + a_i + 1, total)
        metrics["violations"] = float(sum(f["violated"] for f in found))
        path = ctx.stage_dir / "fairness.json"
        path.write_bytes(msgspec.json.encode(report))
        relative = path.relative_to(ctx.run_dir).as_posix()
        ctx.tracer.record(
            "metric_recorded",
            f"{int(metrics['violations'])} fairness violations",
            f"{len(found)} metric evaluations over {len(models)} models and "
            f"{len(attributes)} attributes",
        )
        return StageResult(
            metrics=metrics,
            outputs={"findings": found, "fairness": relative, "group_by": attributes},
            files=[relative],
        )

    def _attributes(
        self, ctx: StageContext, config: Fairness | None, rows: list[SampleRow]
    ) -> list[str]:
        present = list(dict.fromkeys(k for r in rows for k in r.group))
        wanted = self.options.group_by or (
            [config.group_by] if config and config.group_by else present
        )
        missing = [a for a in wanted if a not in present]
        if missing or not wanted:
            raise_errors(
                [
                    ErrorItem(
                        f"{ctx.pointer}/options/group_by",
                        "unknown_attribute",
                        f"no group attribute {missing or 'at all'} in the samples (have {present})",
                    )
                ],
                ctx,
            )
        return list(wanted)

    def _observations(
        self, ctx: StageContext, rows: list[SampleRow], attribute: str, scorer: str | None
    ) -> list[Observation]:
        opts = self.options
        labels = {normalize_answer(x) for x in opts.positive_labels or []}
        observations: list[Observation] = []
        skipped = 0
        for row in rows:
            group = row.group.get(attribute)
            if group is None:
                skipped += 1
                continue
            score = row.scores.get(scorer) if scorer is not None else None
            correct = (
                score >= opts.score_threshold
                if score is not None
                else normalize_answer(row.prediction) == normalize_answer(row.reference)
            )
            if labels:
                predicted = normalize_answer(row.prediction) in labels
                label: bool | None = normalize_answer(row.reference) in labels
            else:
                predicted, label = correct, None
            observations.append(Observation(group, predicted, label, correct, row.confidence))
        sizes: dict[str, int] = {}
        for obs in observations:
            sizes[obs.group] = sizes.get(obs.group, 0) + 1
        small = sorted(g for g, n in sizes.items() if n < opts.min_group_size)
        if skipped or small:
            ctx.tracer.record(
                "ambiguity_flagged",
                f"{attribute}: left out {skipped} rows without it and groups {small}",
                f"groups need at least {opts.min_group_size} samples",
            )
        return [o for o in observations if o.group not in small]


def _finding(
    model: str, attribute: str, gap: MetricGap, threshold: float, max_gap: float, fail: bool
) -> dict[str, Any]:
    if gap.value is None:
        message = f"{gap.metric} for {model} on {attribute} is undefined: {gap.note}"
    elif gap.metric == "demographic_parity":
        message = (
            f"{gap.metric} for {model} on {attribute}: ratio {gap.ratio:.3f} "
            f"({'below' if gap.violated else 'meets'} {threshold}), difference {gap.value:.3f}"
        )
    else:
        message = (
            f"{gap.metric} for {model} on {attribute}: gap {gap.value:.3f} "
            f"({'above' if gap.violated else 'within'} {max_gap:.3g})"
        )
    severity: Severity = ("error" if fail else "warning") if gap.violated else "info"
    return finding(
        "fairness",
        severity,
        message,
        model=model,
        attribute=attribute,
        metric=gap.metric,
        value=gap.value,
        ratio=gap.ratio,
        violated=gap.violated,
        groups=gap.per_group,
    )
