"""The ``hedging`` stage: what hedged requests would do to tail latency, and what they cost.

This is a simulation, on purpose: the NumPy backend runs in-process and has no network
tail to cut, so the stage replays recorded latencies (``latencies_ms``, a ``latency_file``,
or the ``latency_ms`` fields of an earlier stage's samples via ``from_stage``) or, when none
is given, draws ``requests`` latencies from a seeded log-normal model of the ``primary``
backend (see :mod:`crucible.pipeline.analysis.latency`). Hedges draw from the ``backup``
model (default: the primary's) or resample the recorded latencies. The policy and its
budget are simulated by :mod:`crucible.pipeline.analysis.hedging`.

Options left unset come from ``experiment.reliability.hedging`` (``strategy``,
``delay_ms``, ``percentile``, ``max_hedges``, ``budget_percent``), else ``percentile`` at
0.95, one hedge, no budget. ``workload_aware`` needs live load signals a replay does not
have, so it is rejected with a pointer to ``adaptive``. A relative ``latency_file`` is
read relative to the working directory.

Writes ``stages/<name>/hedging.json`` (the policy, the metrics and the per-request
baseline and hedged latencies) and returns the p50/p95/p99 before and after, their
reductions, the hedge rate and the extra cost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import msgspec
import numpy as np

from crucible.errors import ErrorItem, InvalidArgumentError
from crucible.ir.reliability import Hedging
from crucible.pipeline.analysis.findings import finding
from crucible.pipeline.analysis.hedging import HedgePolicy, simulate, summarize
from crucible.pipeline.analysis.latency import (
    LognormalLatency,
    draw_lognormal,
    load_latency_file,
    resample,
    validated,
)
from crucible.pipeline.analysis.samples import (
    raise_errors,
    read_samples,
    samples_file,
    source_errors,
)
from crucible.pipeline.stage import StageContext, StageResult

__all__ = ["HedgingStage"]

NonNegative = Annotated[float, msgspec.Meta(ge=0.0)]
StrategyName = Literal[
    "off", "fixed", "percentile", "adaptive", "workload_aware", "exponential_backoff"
]


class HedgingOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    strategy: StrategyName | None = None
    delay_ms: NonNegative | None = None
    percentile: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] | None = None
    max_hedges: Annotated[int, msgspec.Meta(ge=1, le=8)] | None = None
    budget_percent: NonNegative | None = None
    window: Annotated[int, msgspec.Meta(ge=2)] = 200
    warmup: Annotated[int, msgspec.Meta(ge=1)] = 20
    backoff_factor: Annotated[float, msgspec.Meta(ge=1.0)] = 2.0
    latencies_ms: Annotated[list[NonNegative], msgspec.Meta(min_length=2)] | None = None
    latency_file: str | None = None
    from_stage: str | None = None
    primary: LognormalLatency = msgspec.field(default_factory=LognormalLatency)
    backup: LognormalLatency | None = None
    requests: Annotated[int, msgspec.Meta(ge=10, le=1_000_000)] = 2000


class HedgingStage:
    """Hedged-request simulation (see the module docstring)."""

    name: ClassVar[str] = "hedging"
    Options: ClassVar[type[msgspec.Struct]] = HedgingOptions

    def __init__(self, options: HedgingOptions) -> None:
        self.options = options

    def _config(self, ctx: StageContext) -> Hedging | None:
        reliability = ctx.experiment.reliability
        return reliability.hedging if reliability is not None else None

    def _strategy(self, ctx: StageContext) -> str:
        config = self._config(ctx)
        return self.options.strategy or (config.strategy.value if config else "percentile")

    def _policy(self, ctx: StageContext) -> HedgePolicy:
        opts, config = self.options, self._config(ctx)
        strategy: Any = self._strategy(ctx)

        def pick(name: str) -> Any:
            own = getattr(opts, name)
            return own if own is not None else getattr(config, name, None)

        return HedgePolicy(
            strategy=strategy,
            delay_ms=pick("delay_ms"),
            percentile=pick("percentile") or 0.95,
            max_hedges=pick("max_hedges") or 1,
            budget_percent=pick("budget_percent"),
            window=opts.window,
            warmup=opts.warmup,
            backoff_factor=opts.backoff_factor,
        )

    def check(self, ctx: StageContext) -> list[ErrorItem]:
        opts, pointer = self.options, f"{ctx.pointer}/options"
        errors: list[ErrorItem] = []
        given = [n for n in ("latencies_ms", "latency_file", "from_stage") if getattr(opts, n)]
        if len(given) > 1:
            errors.append(
                ErrorItem(f"{pointer}/{given[1]}", "conflict", f"give one of {given}, not both")
            )
        strategy = self._strategy(ctx)
        if strategy == "workload_aware":
            errors.append(
                ErrorItem(
                    f"{pointer}/strategy",
                    "unsupported",
                    "workload_aware needs live load signals a latency replay lacks; use adaptive",
                )
            )
        elif strategy in ("fixed", "exponential_backoff") and self._policy(ctx).delay_ms is None:
            errors.append(
                ErrorItem(
                    f"{pointer}/delay_ms", "required", f"the {strategy} strategy needs delay_ms"
                )
            )
        if opts.latency_file is not None and not Path(opts.latency_file).is_file():
            errors.append(
                ErrorItem(
                    f"{pointer}/latency_file", "not_found", f"{opts.latency_file} does not exist"
                )
            )
        if opts.from_stage is not None:
            errors.extend(source_errors(ctx, opts.from_stage))
        return errors

    def _latencies(
        self, ctx: StageContext, policy: HedgePolicy
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], str]:
        """(primary, backups, source description); all draws from ``ctx.rng``."""
        opts = self.options
        recorded: Any = None
        if opts.latencies_ms is not None:
            recorded, source = validated(opts.latencies_ms, "latencies_ms"), "options.latencies_ms"
        elif opts.latency_file is not None:
            recorded, source = load_latency_file(Path(opts.latency_file)), opts.latency_file
        elif opts.from_stage is not None:
            rows = read_samples(samples_file(ctx, opts.from_stage))
            values = [r.latency_ms for r in rows if r.latency_ms is not None]
            if len(values) < 2:
                raise InvalidArgumentError(
                    f"stage {opts.from_stage!r} samples carry fewer than two latency_ms values"
                )
            recorded, source = validated(values, opts.from_stage), f"{opts.from_stage} samples"
        shape = (recorded.shape[0] if recorded is not None else opts.requests) * policy.max_hedges
        if recorded is None:
            primary = draw_lognormal(opts.primary, opts.requests, ctx.rng)
            source = (
                f"lognormal model (median {opts.primary.median_ms} ms, sigma {opts.primary.sigma})"
            )
        else:
            primary = recorded
        if opts.backup is not None:
            backups = draw_lognormal(opts.backup, shape, ctx.rng)
        elif recorded is None:
            backups = draw_lognormal(opts.primary, shape, ctx.rng)
        else:
            backups = resample(recorded, shape, ctx.rng)
        return primary, backups.reshape(primary.shape[0], policy.max_hedges), source

    def run(self, ctx: StageContext) -> StageResult:
        raise_errors(self.check(ctx), ctx)
        policy = self._policy(ctx)
        primary, backups, source = self._latencies(ctx, policy)
        ctx.tracer.record(
            "pattern_applied",
            f"simulate {policy.strategy} hedging over {primary.shape[0]} requests",
            f"latencies from {source}; the NumPy backend has no network tail to measure",
            alternatives=["off", "fixed", "percentile", "adaptive", "exponential_backoff"],
            metadata={"policy": msgspec.to_builtins(policy)},
        )
        outcome = simulate(primary, backups, policy)
        ctx.report_progress(1, 1)
        metrics = summarize(outcome)
        if policy.budget_percent is not None:
            ctx.tracer.record(
                "constraint_evaluated",
                f"extra cost {metrics['extra_cost_percent']:.2f}% within budget "
                f"{policy.budget_percent}%",
                f"{outcome.budget_denied} hedges denied by the running budget",
            )
        ctx.tracer.record(
            "metric_recorded",
            f"p99 {metrics['baseline/p99_ms']:.1f} -> {metrics['hedged/p99_ms']:.1f} ms",
            f"{outcome.hedges_fired} hedges for {primary.shape[0]} requests",
        )
        path = ctx.stage_dir / "hedging.json"
        path.write_bytes(
            msgspec.json.encode(
                {
                    "policy": policy,
                    "source": source,
                    "metrics": metrics,
                    "baseline_ms": outcome.baseline.tolist(),
                    "hedged_ms": outcome.hedged.tolist(),
                }
            )
        )
        relative = path.relative_to(ctx.run_dir).as_posix()
        return StageResult(
            metrics=metrics,
            outputs={
                "findings": _findings(metrics, policy, source),
                "strategy": policy.strategy,
                "hedging": relative,
            },
            files=[relative],
        )


def _findings(metrics: dict[str, float], policy: HedgePolicy, source: str) -> list[dict[str, Any]]:
    p99 = metrics["reduction/p99_percent"]
    found = [
        finding(
            "tail_latency",
            "warning" if metrics["extra_cost"] > 0 and p99 <= 0 else "info",
            f"{policy.strategy} hedging: p99 {p99:+.1f}% reduction, p95 "
            f"{metrics['reduction/p95_percent']:+.1f}%, for {metrics['extra_cost_percent']:.1f}% "
            f"extra requests (simulated on {source})",
            p99_reduction_percent=p99,
            extra_cost_percent=metrics["extra_cost_percent"],
        )
    ]
    if metrics["budget_denied"] > 0:
        found.append(
            finding(
                "hedge_budget",
                "info",
                f"the {policy.budget_percent}% budget denied "
                f"{int(metrics['budget_denied'])} hedges",
                budget_denied=metrics["budget_denied"],
            )
        )
    return found
