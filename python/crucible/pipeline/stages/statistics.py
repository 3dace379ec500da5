"""The ``stats`` stage: is the candidate model really better than the baseline?

It reads an evaluate stage's ``samples.jsonl``, pairs the candidate's and the baseline's
scores by sample index, and for each metric (scorer) computes a bootstrap CI of the mean
difference, the named tests, an effect size and, across every (metric, test) hypothesis,
a multiple-testing correction (see :mod:`crucible.pipeline.analysis.comparison`). Each
option left unset takes its value from ``experiment.reliability.stats`` when present, else
the defaults below. With a single model in the samples (or no baseline) it reports the CI
of each metric's mean and runs no test.

Model defaults: ``baseline`` is ``"init"`` when the samples have it, else the first model;
``candidate`` is the last model that is not the baseline. Pairs present for only one of
the two models are dropped (and the drop recorded as a trace decision).

Outputs: ``verdicts`` (one per metric and test, fields as the pipeline contract lists,
plus ``n``, ``effect_size_type`` and ``note``), ``bootstrap`` (the path of
``bootstrap.json``: per metric, at most 2000 bootstrap replicates of the mean difference,
or of the mean without a baseline) and ``findings``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec
import numpy as np

from crucible.errors import ErrorItem, InvalidArgumentError
from crucible.ir.reliability import Stats
from crucible.pipeline.analysis.comparison import (
    CiMethod,
    ComparisonSettings,
    Correction,
    EffectSizeKind,
    MetricComparison,
    apply_correction,
    compare_metric,
)
from crucible.pipeline.analysis.findings import finding
from crucible.pipeline.analysis.paired_tests import PairedTest
from crucible.pipeline.analysis.samples import (
    SampleRow,
    by_model,
    raise_errors,
    read_samples,
    resolve_source,
    samples_file,
    source_errors,
)
from crucible.pipeline.stage import StageContext, StageResult

__all__ = ["StatisticsStage"]

OpenUnit = Annotated[float, msgspec.Meta(gt=0.0, lt=1.0)]
BASELINE_DEFAULT = "init"
MIN_PAIRS = 2


class StatisticsOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    from_stage: str | None = None
    candidate: str | None = None
    baseline: str | None = None
    metrics: Annotated[list[str], msgspec.Meta(min_length=1)] | None = None
    tests: Annotated[list[PairedTest], msgspec.Meta(min_length=1)] | None = None
    confidence: OpenUnit | None = None
    alpha: OpenUnit | None = None
    correction: Correction | None = None
    iterations: Annotated[int, msgspec.Meta(ge=100, le=100_000)] | None = None
    effect_size: EffectSizeKind | None = None
    ci_method: CiMethod = "bca"


def _settings(options: StatisticsOptions, stats: Stats | None) -> ComparisonSettings:
    """Options first, then ``reliability.stats``, then the defaults."""
    tests: list[str] = (
        list(options.tests)
        if options.tests is not None
        else [str(t.value) for t in stats.tests]
        if stats is not None
        else ["ttest", "bootstrap"]
    )
    alpha = options.alpha or (stats.alpha if stats is not None else 0.05)
    confidence = options.confidence or (
        stats.confidence_level if stats and stats.confidence_level else 0.95
    )
    correction: Any = options.correction or (
        stats.multiple_testing_correction.value
        if stats and stats.multiple_testing_correction
        else "holm"
    )
    effect: Any = options.effect_size or (
        stats.effect_size_type.value if stats and stats.effect_size_type else "cohens_d"
    )
    iterations = options.iterations or (
        stats.bootstrap_iterations if stats and stats.bootstrap_iterations else 2000
    )
    return ComparisonSettings(
        tests=tuple(dict.fromkeys(tests)),
        confidence=confidence,
        alpha=alpha,
        correction=correction,
        iterations=iterations,
        effect_size=effect,
        ci_method=options.ci_method,
    )


def _pick_models(options: StatisticsOptions, models: list[str]) -> tuple[str, str | None]:
    """(candidate, baseline or None) following the module docstring's defaults."""
    baseline = options.baseline
    if baseline is None and len(models) >= 2:
        baseline = BASELINE_DEFAULT if BASELINE_DEFAULT in models else models[0]
        if options.candidate == baseline:
            baseline = next(m for m in models if m != options.candidate)
    candidate = options.candidate
    if candidate is None:
        others = [m for m in models if m != baseline]
        if not others:
            raise InvalidArgumentError("the samples hold no model to treat as the candidate")
        candidate = others[-1]
    return candidate, baseline


class StatisticsStage:
    """Paired candidate-versus-baseline statistics (see the module docstring)."""

    name: ClassVar[str] = "stats"
    Options: ClassVar[type[msgspec.Struct]] = StatisticsOptions

    def __init__(self, options: StatisticsOptions) -> None:
        self.options = options

    def check(self, ctx: StageContext) -> list[ErrorItem]:
        opts = self.options
        pointer = f"{ctx.pointer}/options"
        errors = source_errors(ctx, opts.from_stage)
        if opts.candidate is not None and opts.candidate == opts.baseline:
            errors.append(
                ErrorItem(f"{pointer}/baseline", "same_model", "baseline equals candidate")
            )
        source = resolve_source(ctx, opts.from_stage)
        result = ctx.results.get(source) if source is not None else None
        if result is not None and not errors:
            models = list(result.outputs.get("models", []))
            scorers = list(result.outputs.get("scorers", []))
            for field in ("candidate", "baseline"):
                model = getattr(opts, field)
                if models and model is not None and model not in models:
                    errors.append(
                        ErrorItem(
                            f"{pointer}/{field}", "unknown_model", f"{model!r} not in {models}"
                        )
                    )
            for i, metric in enumerate(opts.metrics or []):
                if scorers and metric not in scorers:
                    errors.append(
                        ErrorItem(
                            f"{pointer}/metrics/{i}",
                            "unknown_metric",
                            f"{metric!r} not in {scorers}",
                        )
                    )
        return errors

    def run(self, ctx: StageContext) -> StageResult:
        raise_errors(self.check(ctx), ctx)
        reliability = ctx.experiment.reliability
        settings = _settings(self.options, reliability.stats if reliability else None)
        table = by_model(read_samples(samples_file(ctx, self.options.from_stage)))
        candidate, baseline = _pick_models(self.options, list(table))
        for field, model in (("candidate", candidate), ("baseline", baseline)):
            if model is not None and model not in table:
                raise_errors(
                    [
                        ErrorItem(
                            f"{ctx.pointer}/options/{field}",
                            "unknown_model",
                            f"no samples for {model!r}",
                        )
                    ],
                    ctx,
                )
        indices = self._paired_indices(ctx, table, candidate, baseline)
        metrics = self._metrics(ctx, table[candidate], indices)
        ctx.tracer.record(
            "hypothesis_formed",
            f"{candidate} differs from {baseline}" if baseline else f"estimate {candidate}",
            f"{len(indices)} paired samples; tests {list(settings.tests)}, "
            f"{settings.correction} correction at alpha {settings.alpha}",
            alternatives=list(settings.tests),
            metadata={"metrics": metrics, "iterations": settings.iterations},
        )
        generators = ctx.rng.spawn(len(metrics))
        comparisons: list[MetricComparison] = []
        for done, (metric, rng) in enumerate(zip(metrics, generators, strict=True), start=1):
            cand = _scores(table[candidate], indices, metric)
            base = (
                None if baseline is None else (baseline, _scores(table[baseline], indices, metric))
            )
            comparisons.append(compare_metric(metric, (candidate, cand), base, settings, rng))
            ctx.report_progress(done, len(metrics))
        verdicts = [v for c in comparisons for v in c.verdicts]
        corrected = apply_correction(verdicts, settings.correction, settings.alpha)
        ctx.tracer.record(
            "constraint_evaluated",
            f"{sum(v['significant'] for v in verdicts)} of {corrected} hypotheses significant",
            f"p-values adjusted together ({settings.correction}) at alpha {settings.alpha}",
        )
        for comparison in comparisons:
            self._record_metric(ctx, comparison)
        bootstrap_path = ctx.stage_dir / "bootstrap.json"
        bootstrap_path.write_bytes(
            msgspec.json.encode({c.metric: c.replicates for c in comparisons})
        )
        relative = bootstrap_path.relative_to(ctx.run_dir).as_posix()
        return StageResult(
            metrics=_metrics_of(verdicts),
            outputs={
                "verdicts": verdicts,
                "bootstrap": relative,
                "findings": _findings(verdicts, settings.alpha),
                "candidate": candidate,
                "baseline": baseline,
            },
            files=[relative],
        )

    def _paired_indices(
        self,
        ctx: StageContext,
        table: dict[str, dict[int, SampleRow]],
        candidate: str,
        baseline: str | None,
    ) -> list[int]:
        own = set(table[candidate])
        shared = own if baseline is None else own & set(table[baseline])
        if baseline is not None and len(shared) < len(own | set(table[baseline])):
            dropped = len(own | set(table[baseline])) - len(shared)
            ctx.tracer.record(
                "ambiguity_flagged",
                f"dropped {dropped} unpaired samples",
                f"only samples scored for both {candidate} and {baseline} can be paired",
            )
        if len(shared) < MIN_PAIRS:
            raise InvalidArgumentError(
                f"stats needs at least {MIN_PAIRS} paired samples, found {len(shared)}"
            )
        return sorted(shared)

    def _metrics(
        self, ctx: StageContext, rows: dict[int, SampleRow], indices: list[int]
    ) -> list[str]:
        available = [
            m for m in rows[indices[0]].scores if all(m in rows[i].scores for i in indices)
        ]
        if self.options.metrics is None:
            if not available:
                raise InvalidArgumentError("the samples carry no scores to compare")
            return available
        for i, metric in enumerate(self.options.metrics):
            if metric not in available:
                raise_errors(
                    [
                        ErrorItem(
                            f"{ctx.pointer}/options/metrics/{i}",
                            "unknown_metric",
                            f"no {metric!r} scores",
                        )
                    ],
                    ctx,
                )
        return list(dict.fromkeys(self.options.metrics))

    def _record_metric(self, ctx: StageContext, comparison: MetricComparison) -> None:
        first = comparison.verdicts[0]
        if first["baseline"] is None:
            decision = f"{comparison.metric}: mean {first['estimate']:.4g}"
        else:
            significant = [v["test"] for v in comparison.verdicts if v["significant"]]
            direction = "better" if (first["difference"] or 0.0) > 0 else "not better"
            decision = (
                f"{comparison.metric}: candidate {direction} (difference "
                f"{first['difference']:.4g}); significant by {significant or 'no test'}"
            )
        ctx.tracer.record(
            "a_b_test_result",
            decision,
            f"{comparison.ci_method} bootstrap CI [{comparison.ci_low}, {comparison.ci_high}] "
            f"over {comparison.n} samples",
            metadata={
                "metric": comparison.metric,
                "ci_low": comparison.ci_low,
                "ci_high": comparison.ci_high,
            },
        )


def _scores(
    rows: dict[int, SampleRow], indices: list[int], metric: str
) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.array([rows[i].scores[metric] for i in indices], dtype=np.float64)


def _metrics_of(verdicts: list[dict[str, Any]]) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for v in verdicts:
        prefix = v["metric"]
        for key in (
            "estimate",
            "baseline_estimate",
            "difference",
            "ci_low",
            "ci_high",
            "effect_size",
        ):
            if v[key] is not None:
                metrics[f"{prefix}/{key}"] = float(v[key])
        for key in ("pvalue", "adjusted_pvalue"):
            if v[key] is not None:
                metrics[f"{prefix}/{v['test']}/{key}"] = float(v[key])
    metrics["significant_count"] = float(sum(bool(v["significant"]) for v in verdicts))
    return metrics


def _findings(verdicts: list[dict[str, Any]], alpha: float) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for v in verdicts:
        if v["baseline"] is None:
            continue
        if v["significant"]:
            worse = (v["difference"] or 0.0) < 0
            found.append(
                finding(
                    "significant_difference",
                    "warning" if worse else "info",
                    f"{v['candidate']} is significantly {'worse' if worse else 'better'} than "
                    f"{v['baseline']} on {v['metric']} ({v['test']}, adjusted p "
                    f"{v['adjusted_pvalue']:.3g} <= {alpha})",
                    metric=v["metric"],
                    test=v["test"],
                    difference=v["difference"],
                )
            )
    if verdicts and verdicts[0]["baseline"] is not None and not found:
        found.append(
            finding(
                "no_significant_difference",
                "info",
                f"no test found a significant difference at alpha {alpha}",
            )
        )
    return found
