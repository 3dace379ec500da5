"""Continuous aggregates: per-window statistics read from a store's rollups, without a scan.

Every store keeps :class:`~crucible.telemetry.Rollup` rows per (experiment, base window,
event name), updated as events are ingested. :func:`window_stats` merges them into windows
of any multiple of the base window (across event names) and derives rates, error rates and
latency moments and percentiles; :func:`rollup_metrics` gives the
:class:`~crucible.telemetry.metrics.Metrics` of a whole experiment the same way, in time
proportional to the number of windows rather than of events.

Exactness: counts, sums, minima and maxima are exact; the mean and standard deviation come
from running sums (exact up to rounding); percentiles come from the rollups' log-bucketed
histograms and are within 1 % (relative) of the exact ones. The median cost per request is
not kept, so it is NaN in rollup metrics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec

from crucible.telemetry.metrics import (
    CostStats,
    LatencyStats,
    Metrics,
    Summary,
    ThroughputWindow,
    TokenStats,
    nice_window_us,
    reliability_of,
    throughput_of,
)
from crucible.telemetry.store.base import Rollup, Store, histogram_quantile

__all__ = ["WindowStats", "rollup_metrics", "window_stats"]


class WindowStats(msgspec.Struct, frozen=True, kw_only=True):
    """One window of an experiment (all selected event names together)."""

    window_start_us: int
    window_us: int
    count: int
    estimated_count: float
    events_per_second: float
    success_count: int
    error_count: int
    error_rate: float
    latency_count: int
    latency_mean: float
    latency_std: float
    latency_min: float | None
    latency_max: float | None
    latency_p50: float | None
    latency_p90: float | None
    latency_p95: float | None
    latency_p99: float | None
    cost_usd: float
    tokens_in: int
    tokens_out: int


def _sample_std(n: int, total: float, total_sq: float) -> float:
    if n < 2:
        return math.nan
    return math.sqrt(max(0.0, (total_sq - total * total / n) / (n - 1)))


def _merge_names(rollups: Sequence[Rollup], window_us: int) -> list[Rollup]:
    """One rollup per window, all event names together."""
    merged: dict[int, Rollup] = {}
    for r in rollups:
        prev = merged.get(r.window_start_us)
        merged[r.window_start_us] = (
            msgspec.structs.replace(r, event_name="*")
            if prev is None
            else prev.merge(r, window_start_us=r.window_start_us, window_us=window_us)
        )
    return [merged[k] for k in sorted(merged)]


def _experiment_id(store: Store, experiment: str) -> str:
    return store.experiment(experiment).experiment_id


def window_stats(
    store: Store,
    experiment: str,
    *,
    window_us: int | None = None,
    event_name: Sequence[str] | None = None,
    event_prefix: Sequence[str] | None = None,
    since_us: int | None = None,
    until_us: int | None = None,
) -> list[WindowStats]:
    """Per-window statistics of an experiment (id or name) from the store's rollups.
    ``window_us`` must be a multiple of the store's base window (default: the base)."""
    window = window_us or store.rollup_window_us
    rollups = store.rollups(
        _experiment_id(store, experiment),
        event_name=event_name,
        event_prefix=event_prefix,
        since_us=since_us,
        until_us=until_us,
        window_us=window,
    )
    out = []
    for r in _merge_names(rollups, window):
        flagged = r.success_count + r.error_count
        n = r.latency_count
        q = {p: histogram_quantile(r.latency_hist, p) for p in (0.5, 0.9, 0.95, 0.99)}
        out.append(
            WindowStats(
                window_start_us=r.window_start_us,
                window_us=window,
                count=r.count,
                estimated_count=r.weight_sum,
                events_per_second=r.count / (window / 1e6),
                success_count=r.success_count,
                error_count=r.error_count,
                error_rate=r.error_count / flagged if flagged else math.nan,
                latency_count=n,
                latency_mean=r.latency_sum / n if n else math.nan,
                latency_std=_sample_std(n, r.latency_sum, r.latency_sum_sq),
                latency_min=r.latency_min,
                latency_max=r.latency_max,
                latency_p50=q[0.5],
                latency_p90=q[0.9],
                latency_p95=q[0.95],
                latency_p99=q[0.99],
                cost_usd=r.cost_usd,
                tokens_in=r.tokens_in,
                tokens_out=r.tokens_out,
            )
        )
    return out


def rollup_metrics(
    store: Store,
    experiment: str,
    *,
    event_name: Sequence[str] | None = None,
    event_prefix: Sequence[str] | None = None,
    window_us: int | None = None,
) -> Metrics:
    """:func:`~crucible.telemetry.metrics.metrics` from the rollups alone (no event scan).

    Differences from the event-based metrics: percentiles within 1 %; the time range is
    that of the windows (so ``duration_seconds`` is a multiple of the base window); cost
    ``count`` is the number of events (costs are summed, not counted) and its median NaN;
    token ``count`` is the number of events; there are no per-node counts.
    """
    experiment_id = _experiment_id(store, experiment)
    base = store.rollup_window_us
    rollups = store.rollups(experiment_id, event_name=event_name, event_prefix=event_prefix)
    types: dict[str, int] = {}
    for r in rollups:
        types[r.event_name] = types.get(r.event_name, 0) + r.count
    windows = _merge_names(rollups, base)
    total = sum(r.count for r in windows)
    first = windows[0].window_start_us if windows else None
    last = windows[-1].window_start_us + base if windows else None
    span = (last - first) if first is not None and last is not None else 0
    summary = Summary(
        total_events=total,
        estimated_total=sum(r.weight_sum for r in windows),
        first_us=first,
        last_us=last,
        duration_seconds=span / 1e6,
        event_types=dict(sorted(types.items())),
        nodes={},
        sampled=any(r.weight_sum != r.count for r in windows),
    )
    everything = Rollup(experiment_id=experiment_id, event_name="*", window_start_us=0, window_us=0)
    for r in windows:
        everything = everything.merge(r, window_start_us=0, window_us=0)
    latency = None
    n = everything.latency_count
    if n:
        hist = everything.latency_hist
        p50, p90, p95, p99 = (
            histogram_quantile(hist, q) or math.nan for q in (0.5, 0.9, 0.95, 0.99)
        )
        mean = everything.latency_sum / n
        latency = LatencyStats(
            count=n,
            mean=mean,
            median=p50,
            std_dev=_sample_std(n, everything.latency_sum, everything.latency_sum_sq),
            min=everything.latency_min if everything.latency_min is not None else math.nan,
            max=everything.latency_max if everything.latency_max is not None else math.nan,
            p50=p50,
            p90=p90,
            p95=p95,
            p99=p99,
            weighted_mean=math.nan,  # rollups keep unweighted latency sums
        )
    cost = None
    if everything.cost_usd:
        mean_cost = everything.cost_usd / total
        cost = CostStats(
            total=everything.cost_usd,
            count=total,
            unpriced=0,
            mean_per_request=mean_cost,
            median_per_request=math.nan,
            cost_per_1k_requests=mean_cost * 1e3,
            cost_per_1m_requests=mean_cost * 1e6,
            estimated_total=math.nan,
        )
    tokens = None
    if everything.tokens_in or everything.tokens_out:
        both = everything.tokens_in + everything.tokens_out
        tokens = TokenStats(
            count=total,
            total_prompt=everything.tokens_in,
            total_completion=everything.tokens_out,
            total=both,
            mean_prompt=everything.tokens_in / total,
            mean_completion=everything.tokens_out / total,
            mean_total=both / total,
        )
    window = window_us or (nice_window_us(span, base_us=base) if span else base)
    coarse = _merge_names(
        store.rollups(
            experiment_id, event_name=event_name, event_prefix=event_prefix, window_us=window
        ),
        window,
    )
    throughput = throughput_of(
        [
            ThroughputWindow(
                window_start_us=r.window_start_us,
                count=r.count,
                errors=r.error_count,
                events_per_second=r.count / (window / 1e6),
            )
            for r in coarse
        ],
        window,
        total,
        span,
    )
    return Metrics(
        experiment_id=experiment_id,
        source="rollups",
        summary=summary,
        latency=latency,
        cost=cost,
        reliability=reliability_of(everything.success_count, everything.error_count),
        tokens=tokens,
        throughput=throughput,
    )
