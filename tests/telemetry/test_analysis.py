"""metrics(), compare(), the rollup aggregates and `crucible telemetry compare`, on known data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import msgspec
import numpy as np
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint
from typer.testing import CliRunner

from crucible.cli.telemetry import app as telemetry_app
from crucible.errors import InvalidArgumentError
from crucible.telemetry import MemoryStore, SQLiteStore, catalog, start_experiment
from crucible.telemetry.analysis import (
    compare,
    metric_values,
    metrics,
    rollup_metrics,
    wilson_interval,
    window_stats,
)
from crucible.telemetry.metrics import nice_window_us
from crucible.telemetry.store.base import CapturedEvent, ExperimentRecord

T0 = 1_700_000_000_000_000
STOP = ("crucible", "llm", "request", "stop")
FAIL = ("crucible", "llm", "request", "exception")


def llm_events(
    n: int, *, experiment: str = "exp-a", seed: int = 0, shift: float = 0.0, stream: str = "s"
) -> list[CapturedEvent]:
    """n requests over n/10 seconds: lognormal latencies, every 25th fails, every 7th has
    tokens but no price."""
    rng = np.random.default_rng(seed)
    latencies = rng.lognormal(3.0, 0.4, n) + shift
    out = []
    for i in range(n):
        failed = i % 25 == 0
        priced = i % 7 != 0
        out.append(
            CapturedEvent(
                event_id=f"{stream}-{i}",
                event_name=FAIL if failed else STOP,
                experiment_id=experiment,
                experiment_name=experiment,
                stream_id=stream,
                sequence=i,
                wall_time_us=T0 + i * 100_000,
                node_id=f"node-{i % 2}",
                category="llm",
                latency_ms=float(latencies[i]),
                cost_usd=(0.002 + 0.0001 * (i % 5)) if priced and not failed else None,
                success=not failed,
                tokens_in=None if failed else 100 + i % 50,
                tokens_out=None if failed else 20 + i % 10,
                model="gpt-4o",
                measurements={"loss": float(latencies[i]) / 10},
            )
        )
    return out


def stored(events: list[CapturedEvent], *, name: str = "exp-a") -> MemoryStore:
    store = MemoryStore()
    store.save_experiment(ExperimentRecord(experiment_id=name, name=name, started_us=T0))
    store.append(events)
    store.flush()
    return store


# --- metrics --------------------------------------------------------------------------------


def test_metrics_on_known_events() -> None:
    events = llm_events(1000)
    m = metrics(events)
    lat = np.array([e.latency_ms for e in events])
    assert m.source == "events"
    assert m.experiment_id is None
    assert m.summary.total_events == 1000
    assert m.summary.event_types == {"crucible.llm.request.exception": 40, STOP_DOTTED: 960}
    assert m.summary.nodes == {"node-0": 500, "node-1": 500}
    assert m.summary.first_us == T0
    assert m.summary.duration_seconds == pytest.approx(99.9)
    assert not m.summary.sampled
    assert m.latency is not None
    assert m.latency.count == 1000
    assert m.latency.mean == pytest.approx(lat.mean(), rel=1e-12)
    assert m.latency.std_dev == pytest.approx(lat.std(ddof=1), rel=1e-12)
    assert (m.latency.min, m.latency.max) == (lat.min(), lat.max())
    for name, q in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        assert getattr(m.latency, name) == np.percentile(lat, q)  # bit-equal to NumPy
    assert m.latency.median == m.latency.p50
    assert m.latency.weighted_mean == pytest.approx(m.latency.mean)
    costs = np.array([e.cost_usd for e in events if e.cost_usd is not None])
    assert m.cost is not None
    assert m.cost.count == costs.size
    assert m.cost.total == pytest.approx(costs.sum())
    assert m.cost.median_per_request == np.percentile(costs, 50)
    assert m.cost.cost_per_1k_requests == pytest.approx(costs.mean() * 1000)
    assert m.cost.unpriced == sum(1 for e in events if e.tokens_in and e.cost_usd is None)
    assert m.reliability is not None
    assert (m.reliability.successful, m.reliability.failed) == (960, 40)
    assert m.reliability.success_rate == 0.96
    assert m.reliability.failure_rate == pytest.approx(0.04)
    assert not m.reliability.sla_99
    low, high = proportion_confint(960, 1000, alpha=0.05, method="wilson")
    assert (m.reliability.success_rate_low, m.reliability.success_rate_high) == pytest.approx(
        (low, high), rel=1e-9
    )
    assert m.tokens is not None
    assert m.tokens.count == 960
    assert m.tokens.total_prompt == sum(e.tokens_in or 0 for e in events)
    assert m.tokens.total == m.tokens.total_prompt + m.tokens.total_completion
    assert m.throughput.window_us == 2_000_000  # ~100 s in about 60 round windows
    assert sum(w.count for w in m.throughput.windows) == 1000
    assert [w.count for w in m.throughput.windows[:3]] == [20, 20, 20]
    assert m.throughput.windows[0].errors == 1
    assert m.throughput.events_per_second == pytest.approx(1000 / 99.9)
    assert m.throughput.peak_events_per_second == 10.0
    json.dumps(msgspec.to_builtins(m))  # plain data, ready for reports


STOP_DOTTED = "crucible.llm.request.stop"


def test_metrics_filters_and_empty_blocks() -> None:
    events = llm_events(200)
    only_stop = metrics(events, event_name=STOP)
    assert only_stop.summary.total_events == 192
    assert only_stop.reliability is not None
    assert only_stop.reliability.sla_99  # no exception events among stops
    bare = [
        msgspec.structs.replace(
            e, latency_ms=None, cost_usd=None, success=None, tokens_in=None, tokens_out=None
        )
        for e in events[:5]
    ]
    m = metrics(bare)
    assert (m.latency, m.cost, m.reliability, m.tokens) == (None, None, None, None)
    nothing = metrics([])
    assert nothing.summary.total_events == 0
    assert nothing.throughput.windows == []
    with pytest.raises(InvalidArgumentError):
        metrics(MemoryStore())  # a store needs an experiment
    with pytest.raises(InvalidArgumentError):
        metrics("exp-a")  # a name needs a store


def test_metrics_from_a_store_equal_metrics_from_the_events() -> None:
    events = llm_events(500)
    store = stored(events)
    assert metrics(store, "exp-a") == msgspec.structs.replace(
        metrics(events), experiment_id="exp-a"
    )
    assert metrics("exp-a", store=store).summary.total_events == 500


def test_weighted_events_report_population_estimates() -> None:
    events = [
        msgspec.structs.replace(e, weight=1.0 if e.latency_ms < 20 else 4.0)
        for e in llm_events(400)
    ]
    m = metrics(events)
    lat = np.array([e.latency_ms for e in events])
    w = np.array([e.weight for e in events])
    assert m.summary.sampled
    assert m.summary.estimated_total == w.sum()
    assert m.latency is not None
    assert m.latency.weighted_mean == pytest.approx(np.dot(w, lat) / w.sum())
    assert m.cost is not None
    costs = [(e.cost_usd, e.weight) for e in events if e.cost_usd is not None]
    assert m.cost.estimated_total == pytest.approx(sum(c * wt for c, wt in costs))


def test_metrics_of_a_running_experiment() -> None:
    store = MemoryStore()
    exp = start_experiment("live", store=store, events=[STOP], validation="strict")
    try:
        for i in range(50):
            catalog.emit_llm_request_stop(
                model="gpt-4o-mini",
                duration=(10 + i) * 1_000_000,
                input_tokens=1000,
                output_tokens=100,
            )
        m = metrics(exp)  # flushes first
    finally:
        exp.stop()
    assert m.summary.total_events == 50
    assert m.latency is not None
    assert m.latency.mean == pytest.approx(34.5)
    assert m.cost is not None
    assert m.cost.total == pytest.approx(50 * (1000 * 0.15 + 100 * 0.6) / 1e6)


def test_wilson_interval_matches_statsmodels() -> None:
    for k, n in ((0, 10), (10, 10), (3, 17), (999, 1000)):
        assert wilson_interval(k, n) == pytest.approx(
            proportion_confint(k, n, alpha=0.05, method="wilson"), rel=1e-9, abs=1e-12
        )
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_nice_windows() -> None:
    assert nice_window_us(0) == 1_000_000
    assert nice_window_us(100_000_000) == 2_000_000
    assert nice_window_us(3_600_000_000) == 60_000_000
    assert nice_window_us(30 * 86_400_000_000) % 86_400_000_000 == 0
    assert nice_window_us(10_000_000, base_us=5_000_000) == 5_000_000


# --- continuous aggregates -------------------------------------------------------------------


def test_rollup_metrics_agree_with_the_events() -> None:
    events = llm_events(2000)
    store = stored(events)
    exact, fast = metrics(store, "exp-a"), rollup_metrics(store, "exp-a")
    assert fast.source == "rollups"
    assert fast.summary.total_events == exact.summary.total_events
    assert fast.summary.event_types == exact.summary.event_types
    assert fast.reliability == exact.reliability
    assert exact.latency is not None
    assert fast.latency is not None
    assert fast.latency.count == exact.latency.count
    assert fast.latency.mean == pytest.approx(exact.latency.mean, rel=1e-9)
    assert fast.latency.std_dev == pytest.approx(exact.latency.std_dev, rel=1e-6)
    assert (fast.latency.min, fast.latency.max) == (exact.latency.min, exact.latency.max)
    lat = np.sort([e.latency_ms for e in events])
    for name, q in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)):
        lower_rank = lat[math.floor(q * (lat.size - 1))]  # the histogram's quantile style
        assert getattr(fast.latency, name) == pytest.approx(lower_rank, rel=0.0101)
    assert fast.cost is not None
    assert exact.cost is not None
    assert fast.cost.total == pytest.approx(exact.cost.total)
    assert fast.tokens is not None
    assert exact.tokens is not None
    assert fast.tokens.total == exact.tokens.total
    assert sum(w.count for w in fast.throughput.windows) == 2000


def test_window_stats_per_window() -> None:
    events = llm_events(300)  # 10 events per second for 30 s
    store = stored(events)
    per_second = window_stats(store, "exp-a")
    assert [w.count for w in per_second] == [10] * 30
    assert per_second[0].error_count == 1  # event 0 failed
    assert per_second[0].error_rate == pytest.approx(0.1)
    assert per_second[0].events_per_second == 10.0
    first = np.array([e.latency_ms for e in events[:10]])
    assert per_second[0].latency_mean == pytest.approx(first.mean())
    assert per_second[0].latency_std == pytest.approx(first.std(ddof=1))
    assert per_second[0].latency_p50 == pytest.approx(np.sort(first)[4], rel=0.0101)
    tens = window_stats(store, "exp-a", window_us=10_000_000)
    assert [w.count for w in tens] == [100, 100, 100]
    stops = window_stats(store, "exp-a", event_name=STOP, window_us=10_000_000)
    assert [w.error_count for w in stops] == [0, 0, 0]
    later = window_stats(store, "exp-a", since_us=T0 + 20_000_000)
    assert len(later) == 10


@settings(max_examples=40, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=59_999_999), min_size=1, max_size=80),
    factor=st.sampled_from([2, 3, 5, 10, 60]),
)
def test_window_stats_merge_exactly(offsets: list[int], factor: int) -> None:
    """Coarse windows are exactly the merge of the fine ones they cover (counts, errors,
    latency moments, extremes): the rollups are mergeable summaries."""
    events = [
        CapturedEvent(
            event_id=f"e{i}",
            event_name=STOP if i % 3 else FAIL,
            experiment_id="x",
            experiment_name="x",
            wall_time_us=T0 + off,
            latency_ms=1.0 + (off % 997) / 10,
            success=bool(i % 3),
        )
        for i, off in enumerate(offsets)
    ]
    store = stored(events, name="x")
    fine = window_stats(store, "x")
    coarse = window_stats(store, "x", window_us=factor * 1_000_000)
    for w in coarse:
        covered = [
            f
            for f in fine
            if w.window_start_us <= f.window_start_us < w.window_start_us + w.window_us
        ]
        assert w.count == sum(f.count for f in covered)
        assert w.error_count == sum(f.error_count for f in covered)
        assert w.latency_count == sum(f.latency_count for f in covered)
        total = sum(f.latency_mean * f.latency_count for f in covered)
        assert w.latency_mean * w.latency_count == pytest.approx(total)
        assert w.latency_min == min(f.latency_min for f in covered if f.latency_min is not None)
        assert w.latency_max == max(f.latency_max for f in covered if f.latency_max is not None)
    assert sum(w.count for w in coarse) == len(events)


# --- compare ---------------------------------------------------------------------------------


def test_compare_against_scipy() -> None:
    rng = np.random.default_rng(42)
    a = rng.lognormal(3.0, 0.5, 400)
    b = rng.lognormal(3.2, 0.5, 300)
    c = compare(a, b, "latency_ms", seed=7)
    assert c.a.n == 400
    assert c.b.n == 300
    assert c.difference == pytest.approx(b.mean() - a.mean())
    assert c.relative_difference == pytest.approx((b.mean() - a.mean()) / a.mean())
    welch = sps.ttest_ind(b, a, equal_var=False)
    assert c.welch_statistic == pytest.approx(welch.statistic, rel=1e-10)
    assert c.welch_pvalue == pytest.approx(welch.pvalue, rel=1e-8)
    mw = sps.mannwhitneyu(b, a)
    assert c.mannwhitney_u == mw.statistic
    assert c.mannwhitney_pvalue == pytest.approx(mw.pvalue, rel=1e-9)
    pooled = math.sqrt(
        ((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (a.size + b.size - 2)
    )
    assert c.cohens_d == pytest.approx((b.mean() - a.mean()) / pooled)
    dominance = np.sign(b[:, None] - a[None, :]).mean()
    assert c.cliffs_delta == pytest.approx(dominance)
    boot = sps.bootstrap(
        (b, a),
        lambda x, y, axis: x.mean(axis) - y.mean(axis),
        n_resamples=9999,
        method="BCa",
        rng=np.random.default_rng(7),
    )
    assert c.ci_method == "bootstrap BCa"
    assert c.n_resamples == 9999
    assert c.confidence_interval.low == pytest.approx(boot.confidence_interval.low, rel=1e-9)
    assert c.confidence_interval.high == pytest.approx(boot.confidence_interval.high, rel=1e-9)
    assert c.significant
    assert c.better == "A"  # lower latency is better
    assert "B's mean latency_ms is" in c.verdict
    assert "higher than A's" in c.verdict
    assert "A is better than B" in c.verdict
    assert compare(a, b, seed=7) == c  # reproducible


def test_compare_without_a_difference() -> None:
    rng = np.random.default_rng(3)
    c = compare(rng.normal(10, 1, 200), rng.normal(10, 1, 200), "latency_ms")
    assert not c.significant
    assert c.better is None
    assert c.verdict.startswith("No significant difference in mean latency_ms")
    assert c.confidence_interval.low < 0 < c.confidence_interval.high


def test_compare_success_rates_and_unknown_directions() -> None:
    a = [1.0] * 190 + [0.0] * 10
    b = [1.0] * 160 + [0.0] * 40
    c = compare(a, b, "success")
    assert c.significant
    assert c.better == "A"  # a higher success rate is better
    tokens = compare([100.0, 110, 120, 130] * 20, [200.0, 210, 220, 230] * 20, "tokens_out")
    assert tokens.better is None
    assert "pass higher_is_better" in tokens.verdict
    told = compare([1.0, 2, 3] * 10, [5.0, 6, 7] * 10, "score", higher_is_better=True)
    assert told.better == "B"


def test_compare_notices_when_the_tests_disagree() -> None:
    # same centre, B has a few enormous values: the means differ, the ranks hardly do
    a = np.random.default_rng(5).normal(100, 5, 400)
    b = np.concatenate([a[10:], np.full(10, 2000.0)])
    c = compare(a, b, "latency_ms")
    assert c.welch_pvalue < 0.05
    assert c.mannwhitney_pvalue > 0.05
    assert "The tests disagree" in c.verdict


def test_compare_large_samples_use_the_welch_interval() -> None:
    rng = np.random.default_rng(8)
    a, b = rng.normal(0, 1, 3000), rng.normal(0.2, 1, 3000)
    c = compare(a, b, "x", bootstrap_limit=1000)
    welch = sps.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert c.ci_method == "Welch t"
    assert c.n_resamples == 0
    assert c.confidence_interval.low == pytest.approx(welch.low)
    budget = compare(a, b, "x", bootstrap_budget=3_000_000)
    assert budget.n_resamples == 999  # cut to stay within the budget, never below 999


def test_compare_degenerate_inputs() -> None:
    same = compare([2.0, 2.0, 2.0], [2.0, 2.0], "latency_ms")
    assert not same.significant
    assert same.cohens_d is None
    assert (same.confidence_interval.low, same.confidence_interval.high) == (0.0, 0.0)
    with pytest.raises(InvalidArgumentError, match="at least 2"):
        compare([1.0], [1.0, 2.0])
    with pytest.raises(InvalidArgumentError):
        compare([1.0, 2.0], [1.0, 2.0], confidence_level=1.5)


def test_compare_experiments_in_a_store() -> None:
    store = MemoryStore()
    for name, shift in (("baseline", 0.0), ("candidate", 8.0)):
        store.save_experiment(ExperimentRecord(experiment_id=name, name=name, started_us=T0))
        store.append(llm_events(300, experiment=name, shift=shift, stream=name))
    store.flush()
    c = compare("baseline", "candidate", "latency_ms", store=store, event_name=STOP)
    assert c.a.n == c.b.n == 288
    assert c.difference == pytest.approx(8.0, rel=1e-9)
    assert c.better == "A"
    loss = metric_values("candidate", "loss", store=store)  # a measurement by name
    assert loss.size == 300
    explicit = metric_values(llm_events(10), "measurements.loss")
    assert explicit.size == 10
    assert metric_values(llm_events(10), "success").tolist().count(0.0) == 1


# --- the CLI command ------------------------------------------------------------------------


@pytest.fixture
def cli_store(tmp_path: Path) -> Path:
    path = tmp_path / "telemetry.sqlite3"
    store = SQLiteStore(path)
    for name, shift in (("v1", 0.0), ("v2", 5.0)):
        store.save_experiment(
            ExperimentRecord(experiment_id=f"id-{name}", name=name, started_us=T0)
        )
        store.append(llm_events(200, experiment=f"id-{name}", shift=shift, stream=name))
    store.close()
    return path


def _app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(telemetry_app, name="telemetry")
    return app


def test_compare_command_prints_table_and_verdict(cli_store: Path) -> None:
    result = CliRunner().invoke(
        _app(),
        ["telemetry", "compare", "v1", "v2", "--store", str(cli_store), "--resamples", "999"],
    )
    assert result.exit_code == 0, result.output
    assert "v1 vs v2: latency_ms" in result.output
    assert "Mann-Whitney" in result.output
    assert "v1 is better than v2" in result.output


def test_compare_command_json_and_errors(cli_store: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        _app(),
        [
            "telemetry",
            "compare",
            "v1",
            "v2",
            "--store",
            str(cli_store),
            "--metric",
            "success",
            "--json",
            "--event",
            "crucible.llm.request",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["metric"] == "success"
    assert data["a"]["n"] == 200
    missing = runner.invoke(
        _app(), ["telemetry", "compare", "v1", "nope", "--store", str(cli_store)]
    )
    assert missing.exit_code == 1
    assert "nope" in missing.output
    nostore = runner.invoke(
        _app(), ["telemetry", "compare", "a", "b", "--store", str(tmp_path / "x.db")]
    )
    assert nostore.exit_code == 2
