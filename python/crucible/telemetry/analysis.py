"""Analysis of captured experiments, in one place.

* :func:`metrics` — counts, latency, cost, reliability, tokens and throughput of an
  experiment (:mod:`crucible.telemetry.metrics`).
* :func:`compare` — A against B on one metric: bootstrap CI of the difference, Welch and
  Mann-Whitney tests, effect sizes and a verdict (:mod:`crucible.telemetry.compare`).
* :func:`window_stats` and :func:`rollup_metrics` — the same from the stores' continuous
  aggregates, without reading the events (:mod:`crucible.telemetry.aggregates`).
"""

from __future__ import annotations

from crucible.telemetry.aggregates import WindowStats, rollup_metrics, window_stats
from crucible.telemetry.compare import Comparison, GroupSummary, compare, metric_values
from crucible.telemetry.metrics import (
    CostStats,
    LatencyStats,
    Metrics,
    Reliability,
    Summary,
    Throughput,
    ThroughputWindow,
    TokenStats,
    event_columns,
    metrics,
    wilson_interval,
)

__all__ = [
    "Comparison",
    "CostStats",
    "GroupSummary",
    "LatencyStats",
    "Metrics",
    "Reliability",
    "Summary",
    "Throughput",
    "ThroughputWindow",
    "TokenStats",
    "WindowStats",
    "compare",
    "event_columns",
    "metric_values",
    "metrics",
    "rollup_metrics",
    "wilson_interval",
    "window_stats",
]
