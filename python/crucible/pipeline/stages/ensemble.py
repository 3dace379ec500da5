"""The ``ensemble`` stage: vote over several models' answers to the same samples.

It reads an evaluate stage's samples, lines up each member model's prediction for every
sample index that all members answered, and votes (see
:mod:`crucible.pipeline.analysis.voting` for strategies, confidences and tie-breaking).
Options left unset come from ``experiment.reliability.ensemble`` (its ``strategy`` unless
``none``, ``models``, ``weights``, ``min_agreement``), else: ``majority`` over every model
in the samples, in file order.

Scoring: the voted answer *is* one member's prediction, so its score under every scorer of
the evaluate stage is that member's score on the sample (exactly what re-scoring would
give); ``exact_match`` (normalized, as voting compares answers) is added when the evaluate
stage did not score it. An abstention scores 0 under every scorer.

Writes ``stages/<name>/samples.jsonl`` (model ``ensemble``, the contract's row shape, with
the vote support as ``confidence``) and returns metrics ``ensemble/<scorer>`` and
``<member>/<scorer>`` over the same samples, ``gain/<scorer>`` (ensemble minus best
member), ``agreement_rate`` (share of samples where all members agree), ``mean_support``
and ``abstain_rate``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec

from crucible.errors import ErrorItem, InvalidArgumentError
from crucible.ir.reliability import Ensemble
from crucible.pipeline.analysis.findings import finding
from crucible.pipeline.analysis.samples import (
    SampleRow,
    by_model,
    raise_errors,
    read_samples,
    samples_file,
    source_errors,
    write_samples,
)
from crucible.pipeline.analysis.voting import (
    Ballot,
    Normalization,
    Strategy,
    VoteResult,
    normalize_answer,
    vote,
)
from crucible.pipeline.stage import StageContext, StageResult

__all__ = ["EnsembleStage"]

ENSEMBLE_MODEL = "ensemble"
EXACT_MATCH = "exact_match"
PositiveWeight = Annotated[float, msgspec.Meta(gt=0.0)]


class EnsembleOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    from_stage: str | None = None
    strategy: Strategy | None = None
    models: Annotated[list[str], msgspec.Meta(min_length=2)] | None = None
    weights: dict[str, PositiveWeight] | None = None
    normalization: Normalization = "lowercase_trim"
    min_agreement: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] | None = None


class _Plan(msgspec.Struct, frozen=True, kw_only=True):
    strategy: Strategy
    models: list[str]
    weights: dict[str, float]
    min_agreement: float | None


class EnsembleStage:
    """Voting over member models (see the module docstring)."""

    name: ClassVar[str] = "ensemble"
    Options: ClassVar[type[msgspec.Struct]] = EnsembleOptions

    def __init__(self, options: EnsembleOptions) -> None:
        self.options = options

    def _config(self, ctx: StageContext) -> Ensemble | None:
        reliability = ctx.experiment.reliability
        return reliability.ensemble if reliability is not None else None

    def check(self, ctx: StageContext) -> list[ErrorItem]:
        pointer = f"{ctx.pointer}/options"
        errors = source_errors(ctx, self.options.from_stage)
        models = self.options.models
        if models is not None and len(set(models)) != len(models):
            errors.append(ErrorItem(f"{pointer}/models", "duplicate", "models repeat a name"))
        for key in self.options.weights or {}:
            if models is not None and key not in models:
                errors.append(
                    ErrorItem(f"{pointer}/weights/{key}", "unknown_model", f"{key!r} not in models")
                )
        return errors

    def _plan(self, ctx: StageContext, available: list[str]) -> _Plan:
        config = self._config(ctx)
        strategy: Any = self.options.strategy
        if strategy is None:
            configured = config.strategy.value if config is not None else "none"
            strategy = "majority" if configured == "none" else configured
        models = self.options.models or (config.models if config and config.models else None)
        models = (
            list(models) if models is not None else [m for m in available if m != ENSEMBLE_MODEL]
        )
        pointer = f"{ctx.pointer}/options/models"
        missing = [m for m in models if m not in available]
        if missing:
            raise_errors([ErrorItem(pointer, "unknown_model", f"no samples for {missing}")], ctx)
        if len(models) < 2:
            raise_errors([ErrorItem(pointer, "too_few", "an ensemble needs two models")], ctx)
        weights = dict(
            self.options.weights or (config.weights if config and config.weights else {})
        )
        min_agreement = self.options.min_agreement or (config.min_agreement if config else None)
        return _Plan(
            strategy=strategy,
            models=models,
            weights={m: float(weights.get(m, 1.0)) for m in models},
            min_agreement=min_agreement,
        )

    def run(self, ctx: StageContext) -> StageResult:
        raise_errors(self.check(ctx), ctx)
        table = by_model(read_samples(samples_file(ctx, self.options.from_stage)))
        plan = self._plan(ctx, list(table))
        members = [table[m] for m in plan.models]
        indices = sorted(set.intersection(*(set(rows) for rows in members)))
        if not indices:
            raise InvalidArgumentError(f"no sample was answered by every model of {plan.models}")
        dropped = len(set().union(*(set(rows) for rows in members))) - len(indices)
        ctx.tracer.record(
            "pattern_applied",
            f"{plan.strategy} vote over {len(plan.models)} models",
            "ties go to the earliest model in the list; answers compared after "
            f"{self.options.normalization} normalization",
            alternatives=["majority", "weighted", "best_confidence", "unanimous"],
            metadata={"models": plan.models, "weights": plan.weights, "dropped": dropped},
        )
        if dropped:
            ctx.tracer.record(
                "ambiguity_flagged",
                f"{dropped} samples not answered by every member were left out",
            )
        out_rows: list[SampleRow] = []
        votes: list[VoteResult] = []
        member_scores: dict[str, list[dict[str, float]]] = {m: [] for m in plan.models}
        for done, index in enumerate(indices, start=1):
            rows = [member[index] for member in members]
            result = vote(
                [Ballot(r.model, r.prediction, plan.weights[r.model], r.confidence) for r in rows],
                plan.strategy,
                normalization=self.options.normalization,
                min_agreement=plan.min_agreement,
            )
            votes.append(result)
            scored = {r.model: self._scores(r) for r in rows}
            for model, scores in scored.items():
                member_scores[model].append(scores)
            out_rows.append(self._ensemble_row(rows[0], result, scored))
            ctx.report_progress(done, len(indices))
        path = write_samples(ctx.stage_dir / "samples.jsonl", out_rows)
        metrics = _metrics(out_rows, member_scores, votes)
        ctx.tracer.record(
            "metric_recorded",
            f"ensemble {EXACT_MATCH} {metrics[f'{ENSEMBLE_MODEL}/{EXACT_MATCH}']:.4g}",
            f"agreement rate {metrics['agreement_rate']:.4g}, abstain rate "
            f"{metrics['abstain_rate']:.4g} over {len(indices)} samples",
        )
        relative = path.relative_to(ctx.run_dir).as_posix()
        return StageResult(
            metrics=metrics,
            outputs={
                "findings": _findings(metrics, plan),
                "samples": relative,
                "models": [ENSEMBLE_MODEL],
                "members": plan.models,
                "strategy": plan.strategy,
                "scorers": sorted({k for r in out_rows for k in r.scores}),
            },
            files=[relative],
        )

    def _scores(self, row: SampleRow) -> dict[str, float]:
        scores = dict(row.scores)
        if EXACT_MATCH not in scores:
            how = self.options.normalization
            same = normalize_answer(row.prediction, how) == normalize_answer(row.reference, how)
            scores[EXACT_MATCH] = float(same)
        return scores

    def _ensemble_row(
        self, first: SampleRow, result: VoteResult, scored: dict[str, dict[str, float]]
    ) -> SampleRow:
        if result.model is None:
            scores = dict.fromkeys(next(iter(scored.values())), 0.0)
        else:
            scores = scored[result.model]
        return SampleRow(
            model=ENSEMBLE_MODEL,
            index=first.index,
            id=first.id,
            prompt=first.prompt,
            reference=first.reference,
            prediction=result.answer or "",
            scores=scores,
            group=dict(first.group),
            confidence=result.support,
        )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _metrics(
    rows: list[SampleRow], members: dict[str, list[dict[str, float]]], votes: list[VoteResult]
) -> dict[str, float]:
    scorers = sorted({k for r in rows for k in r.scores})
    metrics: dict[str, float] = {}
    for scorer in scorers:
        ensemble = _mean([r.scores[scorer] for r in rows])
        metrics[f"{ENSEMBLE_MODEL}/{scorer}"] = ensemble
        best = max(_mean([s.get(scorer, 0.0) for s in scores]) for scores in members.values())
        for model, scores in members.items():
            metrics[f"{model}/{scorer}"] = _mean([s.get(scorer, 0.0) for s in scores])
        metrics[f"gain/{scorer}"] = ensemble - best
    metrics["agreement_rate"] = _mean([float(v.unanimous) for v in votes])
    metrics["mean_support"] = _mean([v.support for v in votes])
    metrics["abstain_rate"] = _mean([float(v.answer is None) for v in votes])
    return metrics


def _findings(metrics: dict[str, float], plan: _Plan) -> list[dict[str, Any]]:
    gain = metrics[f"gain/{EXACT_MATCH}"]
    found = [
        finding(
            "ensemble_accuracy",
            "warning" if gain < 0 else "info",
            f"{plan.strategy} ensemble {EXACT_MATCH} "
            f"{metrics[f'{ENSEMBLE_MODEL}/{EXACT_MATCH}']:.3f}, "
            f"{'+' if gain >= 0 else ''}{gain:.3f} against the best member",
            gain=gain,
            members=plan.models,
        )
    ]
    if metrics["abstain_rate"] > 0:
        found.append(
            finding(
                "ensemble_abstained",
                "warning" if metrics["abstain_rate"] >= 0.5 else "info",
                f"the ensemble abstained on {metrics['abstain_rate']:.1%} of samples "
                "(no unanimity or support below min_agreement)",
                abstain_rate=metrics["abstain_rate"],
            )
        )
    return found
