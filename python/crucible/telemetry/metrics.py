"""Metrics of an experiment: counts, latency, cost, reliability, tokens, throughput.

:func:`metrics` reads the events of an experiment (a running or stopped
:class:`~crucible.telemetry.Experiment`, a store and an experiment id or name, or a list of
:class:`~crucible.telemetry.CapturedEvent`) as columns and summarises them. Percentiles are
``crucible.stats.percentile`` (Rust, equal to NumPy's default linear method); the standard
deviation is the sample one (``ddof=1``).

What each block covers:

* ``summary`` — every selected event: count, first/last wall time, duration, counts per event
  name and per node; ``estimated_total`` is Σ weight (the population count when a sampler
  thinned the capture).
* ``latency`` — events with a finite ``latency_ms``.
* ``cost`` — events with a ``cost_usd``; ``unpriced`` counts events with token counts but no
  cost (a model missing from the price table: see :mod:`crucible.telemetry.cost`).
* ``reliability`` — events with a ``success`` flag (stop and exception events); the success
  rate carries a Wilson 95 % interval; ``sla_99``/``sla_999``/``sla_9999`` tell whether the
  observed rate reaches 99 %, 99.9 %, 99.99 %.
* ``tokens`` — events with token counts.
* ``throughput`` — events per window over the experiment's span.

With sampling weights other than 1 the plain statistics describe the *sample*; the
``weighted_mean`` of latency and the ``estimated_total`` of cost (Hájek and Horvitz-Thompson
estimates, :mod:`crucible.telemetry.sampling`) estimate the population.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError, InvalidTypeError
from crucible.stats import ndtri, percentile
from crucible.telemetry.experiment import Experiment
from crucible.telemetry.store.base import CapturedEvent, Store, name_to_str

__all__ = [
    "CostStats",
    "EventColumns",
    "LatencyStats",
    "Metrics",
    "Reliability",
    "Summary",
    "Throughput",
    "ThroughputWindow",
    "TokenStats",
    "event_columns",
    "metrics",
    "nice_window_us",
    "reliability_of",
    "throughput_of",
    "wilson_interval",
]

Source = Experiment | Store | str | Iterable[CapturedEvent]
"""Where events come from: an experiment handle, a store (with ``experiment``), an
experiment id or name (with ``store``), or the events themselves."""

_Floats = npt.NDArray[np.float64]
_COLUMNS = (
    "event_name",
    "node_id",
    "wall_time_us",
    "latency_ms",
    "cost_usd",
    "success",
    "tokens_in",
    "tokens_out",
    "weight",
)
_PERCENTILES = (50.0, 90.0, 95.0, 99.0)
_NICE_SECONDS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)


class EventColumns(msgspec.Struct, frozen=True, kw_only=True):
    """The scalar columns analysis needs, one entry per event (NaN where missing)."""

    event_name: npt.NDArray[np.object_]
    node_id: npt.NDArray[np.object_]
    wall_time_us: npt.NDArray[np.int64]
    latency_ms: _Floats
    cost_usd: _Floats
    success: _Floats
    tokens_in: _Floats
    tokens_out: _Floats
    weight: _Floats

    def __len__(self) -> int:
        return int(self.wall_time_us.shape[0])


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    total_events: int
    estimated_total: float
    first_us: int | None
    last_us: int | None
    duration_seconds: float
    event_types: dict[str, int]
    nodes: dict[str, int]
    sampled: bool


class LatencyStats(msgspec.Struct, frozen=True, kw_only=True):
    count: int
    mean: float
    median: float
    std_dev: float
    min: float
    max: float
    p50: float
    p90: float
    p95: float
    p99: float
    weighted_mean: float


class CostStats(msgspec.Struct, frozen=True, kw_only=True):
    total: float
    count: int
    unpriced: int
    mean_per_request: float
    median_per_request: float
    cost_per_1k_requests: float
    cost_per_1m_requests: float
    estimated_total: float


class Reliability(msgspec.Struct, frozen=True, kw_only=True):
    total_requests: int
    successful: int
    failed: int
    success_rate: float
    failure_rate: float
    success_rate_low: float
    success_rate_high: float
    sla_99: bool
    sla_999: bool
    sla_9999: bool


class TokenStats(msgspec.Struct, frozen=True, kw_only=True):
    count: int
    total_prompt: int
    total_completion: int
    total: int
    mean_prompt: float
    mean_completion: float
    mean_total: float


class ThroughputWindow(msgspec.Struct, frozen=True, kw_only=True):
    window_start_us: int
    count: int
    errors: int
    events_per_second: float


class Throughput(msgspec.Struct, frozen=True, kw_only=True):
    window_us: int
    events_per_second: float
    peak_events_per_second: float
    windows: list[ThroughputWindow]


class Metrics(msgspec.Struct, frozen=True, kw_only=True):
    """The metrics of one experiment; blocks are None when no event carries their data.
    ``source`` is ``"events"`` (computed from every event) or ``"rollups"`` (from the
    store's continuous aggregates: percentiles within 1 %, no cost median)."""

    experiment_id: str | None
    source: str
    summary: Summary
    latency: LatencyStats | None
    cost: CostStats | None
    reliability: Reliability | None
    tokens: TokenStats | None
    throughput: Throughput


# --- reading events ------------------------------------------------------------------------


def _resolve(
    source: Source, experiment: str | None, store: Store | None
) -> tuple[Store, str] | list[CapturedEvent]:
    """A (store, experiment id) to read, or the events given directly."""
    if isinstance(source, Experiment):
        if source.running:
            source.flush()
        return source.store, source.id
    if isinstance(source, str):
        if store is None:
            raise InvalidArgumentError("an experiment id or name needs `store=`")
        return store, store.experiment(source).experiment_id
    if isinstance(source, Store):
        if experiment is None:
            raise InvalidArgumentError("reading a store needs `experiment=` (an id or a name)")
        return source, source.experiment(experiment).experiment_id
    if isinstance(source, Iterable):
        events = list(source)
        for e in events:
            if not isinstance(e, CapturedEvent):
                raise InvalidTypeError(
                    f"expected CapturedEvent items, got {type(e).__name__}; pass an "
                    "Experiment, a Store with experiment=, or an id with store="
                )
        return events
    raise InvalidTypeError(f"cannot read events from {type(source).__name__}")


def _floats(values: Iterable[float | int | bool | None]) -> _Floats:
    return np.fromiter((math.nan if v is None else float(v) for v in values), dtype=np.float64)


def event_columns(
    source: Source,
    experiment: str | None = None,
    *,
    store: Store | None = None,
    event_name: Sequence[str] | None = None,
    event_prefix: Sequence[str] | None = None,
) -> tuple[str | None, EventColumns]:
    """The experiment id (None for a list of events) and the analysis columns."""
    resolved = _resolve(source, experiment, store)
    if isinstance(resolved, list):
        name = tuple(event_name) if event_name is not None else None
        prefix = tuple(event_prefix) if event_prefix is not None else None
        events = [
            e
            for e in resolved
            if (name is None or e.event_name == name)
            and (prefix is None or e.event_name[: len(prefix)] == prefix)
        ]
        events.sort(key=lambda e: (e.wall_time_us, e.event_id))
        names = np.empty(len(events), dtype=object)
        names[:] = [name_to_str(e.event_name) for e in events]
        nodes = np.empty(len(events), dtype=object)
        nodes[:] = [e.node_id for e in events]
        return None, EventColumns(
            event_name=names,
            node_id=nodes,
            wall_time_us=np.fromiter((e.wall_time_us for e in events), dtype=np.int64),
            latency_ms=_floats(e.latency_ms for e in events),
            cost_usd=_floats(e.cost_usd for e in events),
            success=_floats(e.success for e in events),
            tokens_in=_floats(e.tokens_in for e in events),
            tokens_out=_floats(e.tokens_out for e in events),
            weight=_floats(e.weight for e in events),
        )
    db, experiment_id = resolved
    parts: dict[str, list[npt.NDArray[Any]]] = {c: [] for c in _COLUMNS}
    for batch in db.select(
        _COLUMNS, experiment_id=experiment_id, event_name=event_name, event_prefix=event_prefix
    ):
        for c in _COLUMNS:
            parts[c].append(batch[c])
    empty = {"event_name": object, "node_id": object, "wall_time_us": np.int64}
    arrays = {
        c: np.concatenate(v) if v else np.empty(0, dtype=empty.get(c, np.float64))
        for c, v in parts.items()
    }
    return experiment_id, EventColumns(**arrays)


# --- the blocks ------------------------------------------------------------------------------


def wilson_interval(successes: int, n: int, confidence_level: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a binomial proportion (good near 0 and 1, unlike the
    normal approximation); (NaN, NaN) for n = 0."""
    if n <= 0:
        return math.nan, math.nan
    z = float(ndtri(0.5 + confidence_level / 2.0))
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _latency(lat: _Floats, weight: _Floats) -> LatencyStats | None:
    keep = np.isfinite(lat)
    values, w = lat[keep], weight[keep]
    if values.size == 0:
        return None
    p50, p90, p95, p99 = (float(v) for v in percentile(values, list(_PERCENTILES)))
    return LatencyStats(
        count=int(values.size),
        mean=float(np.mean(values)),
        median=p50,
        std_dev=float(np.std(values, ddof=1)) if values.size > 1 else math.nan,
        min=float(np.min(values)),
        max=float(np.max(values)),
        p50=p50,
        p90=p90,
        p95=p95,
        p99=p99,
        weighted_mean=float(np.dot(w, values) / np.sum(w)),
    )


def _cost(cols: EventColumns) -> CostStats | None:
    keep = np.isfinite(cols.cost_usd)
    values = cols.cost_usd[keep]
    has_tokens = np.isfinite(cols.tokens_in) | np.isfinite(cols.tokens_out)
    unpriced = int(np.count_nonzero(has_tokens & ~keep))
    if values.size == 0:
        if unpriced == 0:
            return None
        nan = math.nan
        return CostStats(
            total=0.0,
            count=0,
            unpriced=unpriced,
            mean_per_request=nan,
            median_per_request=nan,
            cost_per_1k_requests=nan,
            cost_per_1m_requests=nan,
            estimated_total=0.0,
        )
    mean = float(np.mean(values))
    return CostStats(
        total=float(np.sum(values)),
        count=int(values.size),
        unpriced=unpriced,
        mean_per_request=mean,
        median_per_request=float(percentile(values, 50.0)),
        cost_per_1k_requests=mean * 1e3,
        cost_per_1m_requests=mean * 1e6,
        estimated_total=float(np.dot(cols.weight[keep], values)),
    )


def reliability_of(successful: int, failed: int) -> Reliability | None:
    """The reliability block from success and failure counts."""
    total = successful + failed
    if total == 0:
        return None
    rate = successful / total
    low, high = wilson_interval(successful, total)
    return Reliability(
        total_requests=total,
        successful=successful,
        failed=failed,
        success_rate=rate,
        failure_rate=failed / total,
        success_rate_low=low,
        success_rate_high=high,
        sla_99=rate >= 0.99,
        sla_999=rate >= 0.999,
        sla_9999=rate >= 0.9999,
    )


def _tokens(tin: _Floats, tout: _Floats) -> TokenStats | None:
    has = np.isfinite(tin) | np.isfinite(tout)
    n = int(np.count_nonzero(has))
    if n == 0:
        return None
    prompt = int(np.nansum(tin[has]))
    completion = int(np.nansum(tout[has]))
    return TokenStats(
        count=n,
        total_prompt=prompt,
        total_completion=completion,
        total=prompt + completion,
        mean_prompt=prompt / n,
        mean_completion=completion / n,
        mean_total=(prompt + completion) / n,
    )


def nice_window_us(span_us: int, *, target_windows: int = 60, base_us: int = 1_000_000) -> int:
    """A round window (1 s, 2 s, 5 s, ... 1 day, multiples of ``base_us``) that cuts
    ``span_us`` into about ``target_windows`` windows."""
    want = max(span_us / max(target_windows, 1), 1.0)
    for seconds in _NICE_SECONDS:
        us = seconds * 1_000_000
        if us >= want:
            return max(base_us, us // base_us * base_us)
    days = math.ceil(want / 86_400_000_000)
    return days * 86_400_000_000


def throughput_of(
    windows: list[ThroughputWindow], window_us: int, total: int, span_us: int
) -> Throughput:
    per_window = window_us / 1e6
    peak = max((w.count for w in windows), default=0) / per_window
    seconds = span_us / 1e6
    return Throughput(
        window_us=window_us,
        events_per_second=total / seconds if seconds > 0 else math.nan,
        peak_events_per_second=peak,
        windows=windows,
    )


def _throughput(cols: EventColumns, window_us: int | None) -> Throughput:
    t = cols.wall_time_us
    if t.size == 0:
        return Throughput(
            window_us=window_us or 1_000_000,
            events_per_second=math.nan,
            peak_events_per_second=0.0,
            windows=[],
        )
    first, last = int(t.min()), int(t.max())
    window = window_us or nice_window_us(last - first)
    starts = (t // window) * window
    base = int(starts.min())
    index = ((starts - base) // window).astype(np.int64)
    counts = np.bincount(index)
    errors = np.bincount(index, weights=(cols.success == 0.0).astype(np.float64))
    windows = [
        ThroughputWindow(
            window_start_us=base + i * window,
            count=int(counts[i]),
            errors=int(errors[i]),
            events_per_second=float(counts[i]) / (window / 1e6),
        )
        for i in range(counts.size)
    ]
    return throughput_of(windows, window, int(t.size), last - first)


def _summary(cols: EventColumns) -> Summary:
    t = cols.wall_time_us
    first = int(t.min()) if t.size else None
    last = int(t.max()) if t.size else None
    return Summary(
        total_events=len(cols),
        estimated_total=float(np.sum(cols.weight)),
        first_us=first,
        last_us=last,
        duration_seconds=(last - first) / 1e6 if first is not None and last is not None else 0.0,
        event_types=dict(sorted(Counter(cols.event_name.tolist()).items())),
        nodes=dict(sorted(Counter(cols.node_id.tolist()).items())),
        sampled=bool(np.any(cols.weight != 1.0)),
    )


def metrics(
    source: Source,
    experiment: str | None = None,
    *,
    store: Store | None = None,
    event_name: Sequence[str] | None = None,
    event_prefix: Sequence[str] | None = None,
    window_us: int | None = None,
) -> Metrics:
    """The metrics of an experiment's events (see the module docstring).

    ``source``: an :class:`~crucible.telemetry.Experiment` (flushed first when running), a
    store with ``experiment`` (id or name), an experiment id or name with ``store``, or an
    iterable of captured events. ``event_name``/``event_prefix`` restrict the events (latency
    of ``("crucible", "llm", "request", "stop")`` only, say). ``window_us``: the throughput
    window (default: a round one giving about 60 windows).
    """
    experiment_id, cols = event_columns(
        source, experiment, store=store, event_name=event_name, event_prefix=event_prefix
    )
    succ = cols.success
    return Metrics(
        experiment_id=experiment_id,
        source="events",
        summary=_summary(cols),
        latency=_latency(cols.latency_ms, cols.weight),
        cost=_cost(cols),
        reliability=reliability_of(
            int(np.count_nonzero(succ == 1.0)), int(np.count_nonzero(succ == 0.0))
        ),
        tokens=_tokens(cols.tokens_in, cols.tokens_out),
        throughput=_throughput(cols, window_us),
    )


def as_dict(m: Metrics) -> Mapping[str, Any]:
    """The metrics as plain JSON-compatible data."""
    out: Mapping[str, Any] = msgspec.to_builtins(m)
    return out
