from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest
from analysis_context import decoded, event_types, make_context, sample

from crucible.errors import ValidationError
from crucible.ir.enums import HedgingStrategy
from crucible.ir.reliability import Config as Reliability
from crucible.ir.reliability import Hedging
from crucible.pipeline.analysis.hedging import HedgePolicy, simulate, summarize
from crucible.pipeline.stages.hedging import HedgingStage

PRIMARY = np.array([10.0, 100.0, 20.0, 200.0])
BACKUP = np.full((4, 1), 5.0)


def test_fixed_delay_hand_computed() -> None:
    outcome = simulate(PRIMARY, BACKUP, HedgePolicy(strategy="fixed", delay_ms=50.0))
    assert outcome.hedged.tolist() == [10.0, 55.0, 20.0, 55.0]
    assert (outcome.hedges_fired, outcome.hedge_wins, outcome.budget_denied) == (2, 2, 0)
    metrics = summarize(outcome)
    assert metrics["extra_cost"] == 0.5
    assert metrics["hedge_win_rate"] == 1.0
    assert metrics["baseline/p50_ms"] == 60.0
    assert metrics["hedged/p50_ms"] == 37.5


def test_budget_is_a_running_allowance() -> None:
    policy = HedgePolicy(strategy="fixed", delay_ms=50.0, budget_percent=25.0)
    outcome = simulate(PRIMARY, BACKUP, policy)
    # request 1: 1 hedge of 2 requests is 50% > 25%: denied; request 3: 1 of 4 = 25%: allowed
    assert outcome.hedged.tolist() == [10.0, 100.0, 20.0, 55.0]
    assert (outcome.hedges_fired, outcome.budget_denied) == (1, 1)


def test_hedge_that_loses_still_costs() -> None:
    backups = np.full((4, 1), 500.0)
    outcome = simulate(PRIMARY, backups, HedgePolicy(strategy="fixed", delay_ms=50.0))
    assert outcome.hedged.tolist() == PRIMARY.tolist()
    assert (outcome.hedges_fired, outcome.hedge_wins) == (2, 0)


def test_exponential_backoff_and_percentile_delays() -> None:
    primary = np.array([100.0])
    backups = np.array([[95.0, 60.0]])
    policy = HedgePolicy(strategy="exponential_backoff", delay_ms=10.0, max_hedges=2)
    outcome = simulate(primary, backups, policy)
    assert outcome.hedged.tolist() == [80.0]  # hedges at 10 and 20 ms: min(105, 80)
    assert outcome.hedges_fired == 2
    percentile = simulate(PRIMARY, BACKUP, HedgePolicy(strategy="percentile", percentile=0.5))
    assert np.all(percentile.delays == np.quantile(PRIMARY, 0.5))
    off = simulate(PRIMARY, BACKUP, HedgePolicy(strategy="off"))
    assert off.hedges_fired == 0
    assert off.hedged.tolist() == PRIMARY.tolist()


def test_adaptive_waits_for_warmup_then_tracks_recent_latency() -> None:
    primary = np.concatenate([np.full(50, 10.0), np.full(50, 100.0)])
    backups = np.full((100, 1), 1.0)
    policy = HedgePolicy(strategy="adaptive", percentile=0.9, window=10, warmup=5)
    outcome = simulate(primary, backups, policy)
    assert np.all(np.isnan(outcome.delays[:5]))
    assert outcome.delays[20] == 10.0
    assert outcome.delays[99] == 100.0  # the window has moved to the slow regime


def test_stage_on_lognormal_model_cuts_the_tail_within_budget(tmp_path: Path) -> None:
    options = {
        "strategy": "percentile",
        "percentile": 0.9,
        "budget_percent": 15.0,
        "primary": {"median_ms": 100.0, "sigma": 0.8},
        "requests": 4000,
    }
    ctx, _ = make_context(tmp_path, "hedging", None, options)
    result = decoded(HedgingStage, ctx).run(ctx)
    metrics = result.metrics
    assert metrics["reduction/p99_percent"] > 20.0
    assert metrics["reduction/p50_percent"] == pytest.approx(0.0, abs=1.0)
    assert 0.05 < metrics["extra_cost"] <= 0.15
    saved = msgspec.json.decode((tmp_path / result.outputs["hedging"]).read_bytes())
    assert len(saved["hedged_ms"]) == 4000
    assert result.outputs["findings"][0]["kind"] == "tail_latency"
    assert {"pattern_applied", "constraint_evaluated", "metric_recorded"} <= set(event_types(ctx))
    again_ctx, _ = make_context(tmp_path / "again", "hedging", None, options)
    assert decoded(HedgingStage, again_ctx).run(again_ctx).metrics == metrics


def test_stage_replays_recorded_latencies(tmp_path: Path) -> None:
    latencies = [10.0] * 90 + [1000.0] * 10
    latency_file = tmp_path / "lat.json"
    latency_file.write_bytes(msgspec.json.encode({"latencies_ms": latencies}))
    ctx, _ = make_context(
        tmp_path,
        "hedging",
        None,
        {"strategy": "fixed", "delay_ms": 50, "latency_file": str(latency_file)},
    )
    result = decoded(HedgingStage, ctx).run(ctx)
    assert result.metrics["baseline/p99_ms"] == 1000.0
    # a hedge resamples the record: 90% of the time it returns in 60 ms
    assert result.metrics["extra_cost"] == 0.1
    assert result.metrics["hedged/mean_ms"] < result.metrics["baseline/mean_ms"]
    rows = [sample("m", i, "a", "a", latency_ms=v) for i, v in enumerate(latencies)]
    ctx, _ = make_context(
        tmp_path / "rows",
        "hedging",
        rows,
        {"strategy": "fixed", "delay_ms": 50, "from_stage": "evaluate"},
    )
    from_rows = decoded(HedgingStage, ctx).run(ctx)
    assert from_rows.metrics["baseline/p99_ms"] == 1000.0


def test_defaults_from_reliability_and_option_errors(tmp_path: Path) -> None:
    config = Reliability(hedging=Hedging(strategy=HedgingStrategy.FIXED, delay_ms=120))
    ctx, _ = make_context(tmp_path, "hedging", None, {"requests": 200}, reliability=config)
    result = decoded(HedgingStage, ctx).run(ctx)
    assert result.outputs["strategy"] == "fixed"
    ctx, _ = make_context(tmp_path, "hedging", None, {"strategy": "fixed"})
    assert [e.path for e in decoded(HedgingStage, ctx).check(ctx)] == [
        "/pipeline/1/options/delay_ms"
    ]
    ctx, _ = make_context(tmp_path, "hedging", None, {"strategy": "workload_aware"})
    with pytest.raises(ValidationError) as unsupported:
        decoded(HedgingStage, ctx).run(ctx)
    assert unsupported.value.items[0].path == "/pipeline/1/options/strategy"
    options = {"latencies_ms": [1.0, 2.0], "latency_file": str(tmp_path / "missing.json")}
    ctx, _ = make_context(tmp_path, "hedging", None, options)
    paths = [e.path for e in decoded(HedgingStage, ctx).check(ctx)]
    assert paths == ["/pipeline/1/options/latency_file", "/pipeline/1/options/latency_file"]
    ctx, _ = make_context(tmp_path, "hedging", None, {"primary": {"median_ms": -1}})
    with pytest.raises(ValidationError) as negative:
        decoded(HedgingStage, ctx)
    assert negative.value.items[0].path == "/pipeline/1/options/primary/median_ms"
