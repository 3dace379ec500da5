"""Samplers against known data: rates, uniformity, determinism, unbiased estimates."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from crucible import events
from crucible.errors import InvalidArgumentError
from crucible.telemetry import Candidate, MemoryStore, start_experiment
from crucible.telemetry.analysis import metrics
from crucible.telemetry.sampling import (
    AdaptiveSampler,
    ImportanceSampler,
    Reservoir,
    Sampler,
    StratifiedReservoir,
    StratifiedSampler,
    UniformSampler,
    hajek_mean,
    horvitz_thompson_total,
    reservoir_sample,
)

NAME = ("crucible", "llm", "request", "stop")


def decisions(sampler: Sampler, n: int, metadata: Mapping[str, Any] | None = None) -> list[Any]:
    return [sampler.decide(NAME, {"i": i}, metadata or {}) for i in range(n)]


def binomial_ok(kept: int, n: int, p: float, sigmas: float = 6.0) -> bool:
    return abs(kept - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


# --- uniform ---------------------------------------------------------------------------------


def test_uniform_rate_and_weights() -> None:
    got = decisions(UniformSampler(0.1, seed=7), 20_000)
    kept = [w for w in got if w is not None]
    assert binomial_ok(len(kept), 20_000, 0.1)
    assert set(kept) == {10.0}
    assert decisions(UniformSampler(1.0), 5) == [1.0] * 5


def test_uniform_is_deterministic_for_a_seed() -> None:
    assert decisions(UniformSampler(0.3, seed=1), 500) == decisions(
        UniformSampler(0.3, seed=1), 500
    )
    assert decisions(UniformSampler(0.3, seed=1), 500) != decisions(
        UniformSampler(0.3, seed=2), 500
    )


@pytest.mark.parametrize("rate", [0.0, -0.1, 1.5, float("nan")])
def test_uniform_rejects_bad_rates(rate: float) -> None:
    with pytest.raises(InvalidArgumentError):
        UniformSampler(rate)


def test_samplers_take_the_experiment_candidate() -> None:
    candidate = Candidate(
        event_name=NAME,
        measurements={},
        metadata={"model": "a"},
        wall_time_us=0,
        monotonic_ns=0,
        experiment_id="e",
        condition=None,
    )
    assert isinstance(UniformSampler(0.5), Sampler)
    a, b = UniformSampler(0.5, seed=3), UniformSampler(0.5, seed=3)
    assert [a(candidate) for _ in range(50)] == [b.decide(NAME, {}, {}) for _ in range(50)]
    assert StratifiedSampler("model", {"a": 1.0})(candidate) == 1.0


# --- reservoir --------------------------------------------------------------------------------


def test_reservoir_small_streams_are_kept_whole() -> None:
    assert sorted(reservoir_sample(range(3), 5)) == [0, 1, 2]
    assert sorted(reservoir_sample(range(5), 5)) == [0, 1, 2, 3, 4]
    r: Reservoir[int] = Reservoir(4, seed=1)
    assert r.weight == 0.0
    r.extend(range(100))
    assert len(r) == 4
    assert r.seen == 100
    assert r.weight == 25.0
    assert len(set(r.items)) == 4


def test_reservoir_includes_every_item_equally_often() -> None:
    n, k, runs = 20, 5, 4000
    counts: Counter[int] = Counter()
    pairs: Counter[tuple[int, int]] = Counter()
    for seed in range(runs):
        sample = sorted(reservoir_sample(range(n), k, seed=seed))
        counts.update(sample)
        pairs.update(itertools.combinations(sample, 2))
    observed = [counts[i] for i in range(n)]
    assert sum(observed) == runs * k
    assert sps.chisquare(observed).pvalue > 1e-4  # inclusion probability k/n for every item
    # second order: every pair together with probability k(k-1)/(n(n-1))
    pair_counts = [pairs[p] for p in itertools.combinations(range(n), 2)]
    assert sps.chisquare(pair_counts).pvalue > 1e-4
    # early, middle and late items alike (Algorithm L's skips must not favour any)
    assert abs(np.mean(observed[:5]) - np.mean(observed[-5:])) < 0.1 * runs * k / n


def test_reservoir_is_deterministic() -> None:
    stream = list(range(10_000))
    assert reservoir_sample(stream, 7, seed=11) == reservoir_sample(stream, 7, seed=11)
    assert reservoir_sample(stream, 7, seed=11) != reservoir_sample(stream, 7, seed=12)
    with pytest.raises(InvalidArgumentError):
        Reservoir(0)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=0, max_value=400), k=st.integers(min_value=1, max_value=30))
def test_reservoir_is_a_subset_of_the_right_size(n: int, k: int) -> None:
    sample = reservoir_sample(range(n), k, seed=n * 31 + k)
    assert len(sample) == min(n, k)
    assert len(set(sample)) == len(sample)
    assert set(sample) <= set(range(n))


# --- stratified ------------------------------------------------------------------------------


def test_stratified_rates_per_stratum() -> None:
    sampler = StratifiedSampler("model", {"big": 0.05, "small": 0.5, "off": 0.0}, seed=5)
    results: dict[str, list[float | None]] = {"big": [], "small": [], "off": [], "other": []}
    for i in range(30_000):
        stratum = ("big", "small", "off", "other")[i % 4]
        metadata = {"model": stratum} if stratum != "other" else {}
        results[stratum].append(sampler.decide(NAME, {}, metadata))
    for stratum, rate in (("big", 0.05), ("small", 0.5)):
        kept = [w for w in results[stratum] if w is not None]
        assert binomial_ok(len(kept), 7500, rate)
        assert set(kept) == {1 / rate}
    assert all(w is None for w in results["off"])
    assert all(w == 1.0 for w in results["other"])  # "<missing>" stratum, default rate 1
    assert sampler.seen["<missing>"] == 7500
    assert sampler.kept["small"] == sum(w is not None for w in results["small"])


def test_stratified_reservoir_weights_recover_stratum_sizes() -> None:
    items = [("a" if i % 10 else "b", i) for i in range(1000)]  # 900 a, 100 b
    reservoir: StratifiedReservoir[tuple[str, int]] = StratifiedReservoir(
        lambda item: item[0], 20, seed=3
    )
    reservoir.extend(items)
    weighted = reservoir.weighted_items()
    assert len(weighted) == 40
    totals: Counter[str] = Counter()
    for (stratum, _), w in weighted:
        totals[stratum] += w
    assert totals == {"a": 900.0, "b": 100.0}
    again: StratifiedReservoir[tuple[str, int]] = StratifiedReservoir(
        lambda item: item[0], 20, seed=3
    )
    again.extend(items)
    assert again.weighted_items() == weighted


# --- adaptive --------------------------------------------------------------------------------


def test_adaptive_holds_the_target_rate_under_load() -> None:
    sampler = AdaptiveSampler(100.0, window_seconds=1.0, smoothing=1.0, seed=2)
    kept_per_second: list[int] = []
    weights: list[float] = []
    arrivals = 0
    for second in range(20):
        rate = 1000 if second < 10 else 50  # a burst, then a trickle
        kept = 0
        for j in range(rate):
            arrivals += 1
            w = sampler.decide(NAME, {}, {}, now=second + j / rate)
            if w is not None:
                kept += 1
                weights.append(w)
        kept_per_second.append(kept)
    assert kept_per_second[0] == 1000  # nothing known yet: keep everything
    for kept in kept_per_second[2:10]:
        assert binomial_ok(kept, 1000, 0.1)
    assert kept_per_second[11:] == [50] * 9  # under target: keep everything again
    assert sampler.rate == 1.0
    assert sum(weights) == pytest.approx(arrivals, rel=0.05)  # weights estimate the count


def test_adaptive_follows_the_clock_and_candidate_time() -> None:
    now = [0.0]
    sampler = AdaptiveSampler(10.0, window_seconds=1.0, clock=lambda: now[0], seed=0)
    for i in range(200):
        now[0] = i / 100  # 100 events/s for 2 s
        sampler.decide(NAME, {}, {})
    assert sampler.arrival_rate == pytest.approx(100.0)
    assert sampler.rate == pytest.approx(0.1)
    replay = AdaptiveSampler(10.0, seed=0)
    cands = [
        Candidate(
            NAME,
            {},
            {},
            wall_time_us=0,
            monotonic_ns=i * 10_000_000,
            experiment_id="e",
            condition=None,
        )
        for i in range(400)
    ]
    first = [replay(c) for c in cands]
    second_sampler = AdaptiveSampler(10.0, seed=0)
    assert [second_sampler(c) for c in cands] == first  # the same events, the same decisions


# --- importance sampling and estimators ---------------------------------------------------------


def _population() -> np.ndarray:
    return np.random.default_rng(12345).lognormal(mean=3.0, sigma=1.0, size=2000)


def test_horvitz_thompson_is_unbiased_under_importance_sampling() -> None:
    """Keep each event with probability proportional to its value (capped at 1); over many
    seeds the weighted total centres on the true total, within its standard error, and the
    variance estimator centres on the true variance."""
    y = _population()
    scale = float(np.quantile(y, 0.9))  # the top 10 % always kept
    true_total = float(y.sum())
    pi = np.clip(np.maximum(y / scale, 1e-3), 0, 1)
    true_var = float(np.sum((1 - pi) / pi * y * y))
    totals, var_estimates, naive = [], [], []
    for seed in range(400):
        sampler = ImportanceSampler.proportional("v", scale, min_probability=1e-3, seed=seed)
        kept = [(v, sampler.decide(NAME, {"v": v}, {})) for v in y.tolist()]
        values = np.array([v for v, w in kept if w is not None])
        weights = np.array([w for _, w in kept if w is not None])
        est = horvitz_thompson_total(values, weights)
        totals.append(est.value)
        var_estimates.append(est.standard_error**2)
        naive.append(values.mean() * y.size)
    mean_total = float(np.mean(totals))
    assert abs(mean_total - true_total) < 4 * math.sqrt(true_var / 400)
    assert float(np.var(totals, ddof=1)) == pytest.approx(true_var, rel=0.25)
    assert float(np.mean(var_estimates)) == pytest.approx(true_var, rel=0.15)
    # without the weights the big values dominate: badly biased
    assert float(np.mean(naive)) > 1.5 * true_total


def test_hajek_mean_and_count() -> None:
    y = _population()
    sampler = ImportanceSampler.proportional("v", float(np.quantile(y, 0.9)), seed=9)
    pairs = [(v, sampler.decide(NAME, {"v": v}, {})) for v in y.tolist()]
    values = np.array([v for v, w in pairs if w is not None])
    weights = np.array([w for _, w in pairs if w is not None])
    mean = hajek_mean(values, weights)
    assert abs(mean.value - y.mean()) < 4 * mean.standard_error
    count = horvitz_thompson_total(np.ones_like(weights), weights)
    assert abs(count.value - y.size) < 4 * count.standard_error
    assert math.isnan(hajek_mean([], []).value)


def test_importance_sampler_edges() -> None:
    always = ImportanceSampler(lambda n, m, md: 2.0)
    assert decisions(always, 3) == [1.0, 1.0, 1.0]
    undecided = ImportanceSampler(lambda n, m, md: math.nan)
    assert decisions(undecided, 2) == [1.0, 1.0]
    floor = ImportanceSampler(lambda n, m, md: 0.0, min_probability=0.5, seed=4)
    assert {w for w in decisions(floor, 200) if w is not None} == {2.0}
    missing = ImportanceSampler.proportional("v", 10.0, min_probability=0.25, seed=1)
    assert {w for w in decisions(missing, 200) if w is not None} == {4.0}
    with pytest.raises(InvalidArgumentError):
        ImportanceSampler.proportional("v", 0.0)


def test_estimator_input_checks() -> None:
    with pytest.raises(InvalidArgumentError):
        horvitz_thompson_total([1.0, 2.0], [1.0])
    with pytest.raises(InvalidArgumentError):
        horvitz_thompson_total([1.0], [0.5])  # a weight below 1 is no inverse probability
    with pytest.raises(InvalidArgumentError):
        horvitz_thompson_total([math.nan], [1.0])
    full = horvitz_thompson_total([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])
    assert (full.value, full.standard_error) == (6.0, 0.0)  # a census has no sampling error


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    rate=st.floats(min_value=0.01, max_value=0.99),
    n=st.integers(min_value=0, max_value=300),
)
def test_decisions_depend_only_on_seed_and_stream(seed: int, rate: float, n: int) -> None:
    a = decisions(UniformSampler(rate, seed=seed), n)
    b = decisions(UniformSampler(rate, seed=seed), n)
    assert a == b
    assert all(w is None or w == pytest.approx(1 / rate) for w in a)


def test_an_experiment_stores_the_weights_its_sampler_gives() -> None:
    store = MemoryStore()
    sampler = StratifiedSampler("model", {"cheap": 0.1}, default_rate=1.0, seed=4)
    exp = start_experiment("sampled", store=store, events="all", sampling=sampler)
    try:
        for i in range(2000):
            model = "cheap" if i % 2 else "rare"
            events.execute(("myapp", "call", "stop"), {"latency_ms": 1.0}, {"model": model})
        exp.flush()
        stored = [e for batch in store.query(experiment_id=exp.id) for e in batch]
    finally:
        exp.stop()
    kept_cheap = [e for e in stored if e.metadata["model"] == "cheap"]
    assert len(stored) - len(kept_cheap) == 1000  # every "rare" event kept, weight 1
    assert binomial_ok(len(kept_cheap), 1000, 0.1)
    assert {e.weight for e in kept_cheap} == {10.0}
    estimate = horvitz_thompson_total(np.ones(len(stored)), [e.weight for e in stored])
    assert abs(estimate.value - 2000) < 4 * estimate.standard_error
    assert metrics(stored).summary.estimated_total == estimate.value
