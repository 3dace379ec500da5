"""Statistics of a trace: what happened, how sure the decisions were, what it cost.

One pass over the events, so it runs on an in-memory chain or on a store's lazy iterator
(``statistics(store.events("run-7"))``) alike. Totals are kept per event type and per stage
because those are the questions asked of a run: which kind of step spent the tokens, which
stage was slow.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec

from crucible.trace.chain import Chain
from crucible.trace.event import Event, category_of

__all__ = ["ChainStats", "ConfidenceSummary", "Totals", "statistics"]

NO_STAGE = "(none)"
"""The ``by_stage`` key of events recorded outside any stage."""


class Totals(msgspec.Struct, kw_only=True):
    """Counts and sums over a group of events (missing values count as 0)."""

    events: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0

    def add(self, event: Event) -> None:
        self.events += 1
        self.tokens_in += event.tokens_in or 0
        self.tokens_out += event.tokens_out or 0
        self.latency_ms += event.latency_ms or 0.0
        self.cost_usd += event.cost_usd or 0.0


class ConfidenceSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The distribution of confidences: summary numbers and a 10-bin histogram over
    [0, 1] (bin i holds [i/10, (i+1)/10), the last one includes 1.0)."""

    mean: float
    min: float
    max: float
    median: float
    below_0_7: int
    histogram: list[int]


class ChainStats(msgspec.Struct, frozen=True, kw_only=True):
    """Statistics of a chain (see :func:`statistics`)."""

    total_events: int
    counts_by_type: dict[str, int]
    counts_by_category: dict[str, int]
    confidence: ConfidenceSummary | None
    first: datetime | None
    last: datetime | None
    duration_seconds: float | None
    stage_durations_ms: dict[str, float]
    totals: Totals
    by_type: dict[str, Totals]
    by_stage: dict[str, Totals]


def statistics(chain: Chain | Iterable[Event]) -> ChainStats:
    """Counts by type and category, the confidence distribution, the time span, stage
    durations (from ``stage_completed``/``stage_failed`` latencies), and token, latency
    and cost totals overall, per type and per stage."""
    events = chain.events if isinstance(chain, Chain) else chain
    counts: dict[str, int] = {}
    categories: dict[str, int] = {}
    confidences: list[float] = []
    first: datetime | None = None
    last: datetime | None = None
    totals = Totals()
    by_type: dict[str, Totals] = {}
    by_stage: dict[str, Totals] = {}
    stage_ms: dict[str, float] = {}
    for event in events:
        counts[event.type] = counts.get(event.type, 0) + 1
        category = category_of(event.type)
        categories[category] = categories.get(category, 0) + 1
        confidences.append(float(event.confidence))
        if first is None or event.timestamp < first:
            first = event.timestamp
        if last is None or event.timestamp > last:
            last = event.timestamp
        totals.add(event)
        by_type.setdefault(event.type, Totals()).add(event)
        by_stage.setdefault(event.stage or NO_STAGE, Totals()).add(event)
        if event.type in ("stage_completed", "stage_failed") and event.latency_ms is not None:
            name = event.stage or NO_STAGE
            stage_ms[name] = stage_ms.get(name, 0.0) + event.latency_ms
    return ChainStats(
        total_events=len(confidences),
        counts_by_type=counts,
        counts_by_category=categories,
        confidence=_summary(confidences),
        first=first,
        last=last,
        duration_seconds=(last - first).total_seconds() if first and last else None,
        stage_durations_ms=stage_ms,
        totals=totals,
        by_type=by_type,
        by_stage=by_stage,
    )


def _summary(values: list[float]) -> ConfidenceSummary | None:
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    histogram = [0] * 10
    for v in values:
        histogram[min(int(v * 10), 9)] += 1
    return ConfidenceSummary(
        mean=sum(values) / n,
        min=ordered[0],
        max=ordered[-1],
        median=median,
        below_0_7=sum(1 for v in values if v < 0.7),
        histogram=histogram,
    )
