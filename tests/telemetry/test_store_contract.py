"""The Store contract, run against every store we ship (memory and SQLite)."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telemetry_samples import make_event

from crucible.errors import InvalidArgumentError, NotFoundError, StorageError
from crucible.telemetry.store.base import (
    CapturedEvent,
    ExperimentRecord,
    Rollup,
    Store,
    bucket_value_ms,
    histogram_quantile,
    latency_bucket,
    latency_buckets,
    name_from_str,
    name_to_str,
)
from crucible.telemetry.store.memory import MemoryStore, StoreCapacityWarning

Factory = Callable[..., Any]


def _all(store: Store, **filters: Any) -> list[CapturedEvent]:
    return [e for batch in store.query(**filters) for e in batch]


def test_is_a_store(store_factory: Factory) -> None:
    assert isinstance(store_factory(), Store)


def test_append_flush_query_roundtrip_in_order(store_factory: Factory) -> None:
    store = store_factory()
    events = [make_event(i) for i in range(1_000)]
    shuffled = events[::-1]
    store.append(shuffled[:400])
    store.append(shuffled[400:])
    store.flush()
    got = _all(store, batch_size=128)
    assert got == events  # ordered by (wall_time_us, event_id), every field intact
    batches = list(store.query(batch_size=128))
    assert [len(b) for b in batches] == [128] * 7 + [104]
    assert store.count() == 1_000


def test_duplicates_are_stored_once(store_factory: Factory) -> None:
    store = store_factory()
    events = [make_event(i) for i in range(50)]
    store.append(events)
    store.append(events[10:30])  # re-sent
    store.append([events[0], events[0]])
    store.flush()
    assert store.count() == 50
    rollups = store.rollups("exp-1")
    assert sum(r.count for r in rollups) == 50


def test_filters(store_factory: Factory) -> None:
    store = store_factory()
    a = [make_event(i) for i in range(40)]
    b = [make_event(i, event_id=f"b-{i}", experiment_id="exp-2") for i in range(10)]
    other = [make_event(100 + i, event_name=("crucible", "llmx", "y")) for i in range(3)]
    store.append(a + b + other)
    store.flush()
    assert store.count(experiment_id="exp-2") == 10
    stop = ("crucible", "llm", "request", "stop")
    assert store.count(experiment_id="exp-1", event_name=stop) == 30
    assert _all(store, experiment_id="exp-1", event_name=stop) == [
        e for e in a if e.event_name == stop
    ]
    # a prefix matches whole parts: crucible.llm does not match crucible.llmx
    assert store.count(experiment_id="exp-1", event_prefix=("crucible", "llm")) == 40
    assert store.count(event_prefix=("crucible",)) == 53
    assert store.count(event_prefix=stop) == 30 + 7  # the name itself counts
    t0 = a[10].wall_time_us
    window = _all(store, experiment_id="exp-1", since_us=t0, until_us=t0 + 5_000)
    assert [e.sequence for e in window] == [10, 11, 12, 13, 14]
    assert store.count(experiment_id="nope") == 0


def test_select_columns(store_factory: Factory) -> None:
    store = store_factory()
    events = [make_event(i) for i in range(300)]
    events.append(make_event(300, latency_ms=None, success=None, model=None))
    store.append(events)
    store.flush()
    cols = ["latency_ms", "success", "wall_time_us", "event_name", "model", "tokens_in"]
    batches = list(store.select(cols, experiment_id="exp-1", batch_size=100))
    assert [len(b["latency_ms"]) for b in batches] == [100, 100, 100, 1]
    got = {c: np.concatenate([b[c] for b in batches]) for c in cols}
    assert got["latency_ms"].dtype == np.float64
    assert math.isnan(got["latency_ms"][-1])
    np.testing.assert_array_equal(got["latency_ms"][:-1], [e.latency_ms for e in events[:-1]])
    assert got["success"][0] == 0.0
    assert got["success"][1] == 1.0
    assert math.isnan(got["success"][-1])
    assert got["wall_time_us"].dtype == np.int64
    assert got["event_name"][0] == "crucible.llm.request.exception"
    assert got["model"][-1] is None
    assert got["tokens_in"][3] == 3.0
    with pytest.raises(InvalidArgumentError):
        list(store.select(["measurements"]))


def _expected_rollups(events: list[CapturedEvent], window: int) -> dict[tuple[int, str], Rollup]:
    out: dict[tuple[int, str], Rollup] = {}
    for e in events:
        start = e.wall_time_us // window * window
        lat = e.latency_ms
        one = Rollup(
            experiment_id=e.experiment_id,
            event_name=e.name,
            window_start_us=start,
            window_us=window,
            count=1,
            weight_sum=e.weight,
            success_count=int(e.success is True),
            error_count=int(e.success is False),
            latency_count=int(lat is not None),
            latency_sum=lat or 0.0,
            latency_sum_sq=(lat or 0.0) ** 2,
            latency_min=lat,
            latency_max=lat,
            latency_hist={latency_bucket(lat): 1} if lat is not None else {},
            cost_usd=e.cost_usd or 0.0,
            tokens_in=e.tokens_in or 0,
            tokens_out=e.tokens_out or 0,
        )
        key = (start, e.name)
        prev = out.get(key)
        out[key] = one if prev is None else prev.merge(one, window_start_us=start, window_us=window)
    return out


def _close(a: Rollup, b: Rollup) -> None:
    fa, fb = msgspec.structs.asdict(a), msgspec.structs.asdict(b)
    for key in fa:
        if isinstance(fa[key], float):
            assert fa[key] == pytest.approx(fb[key], rel=1e-12, abs=1e-12), key
        else:
            assert fa[key] == fb[key], key


def test_rollups_match_the_events(store_factory: Factory) -> None:
    store = store_factory(rollup_window_us=100_000)
    events = [make_event(i) for i in range(2_000)]
    store.append(events[:700])
    store.append(events[700:])
    store.flush()
    got = store.rollups("exp-1")
    want = _expected_rollups(events, 100_000)
    assert [(r.window_start_us, r.event_name) for r in got] == sorted(want)
    for r in got:
        _close(r, want[(r.window_start_us, r.event_name)])
    coarse = store.rollups("exp-1", window_us=1_000_000)
    want_coarse = _expected_rollups(events, 1_000_000)
    assert len(coarse) == len(want_coarse)
    for r in coarse:
        _close(r, want_coarse[(r.window_start_us, r.event_name)])
    stop = store.rollups("exp-1", event_name=("crucible", "llm", "request", "stop"))
    assert sum(r.count for r in stop) == 1_500
    t0 = got[3].window_start_us
    assert all(r.window_start_us >= t0 for r in store.rollups("exp-1", since_us=t0))
    with pytest.raises(InvalidArgumentError):
        store.rollups("exp-1", window_us=150_000)
    assert store.rollups("nope") == []


def test_rollups_count_only_new_events_of_a_partly_resent_batch(store_factory: Factory) -> None:
    store = store_factory(rollup_window_us=100_000)
    events = [make_event(i) for i in range(300)]
    store.append(events[:200])
    store.flush()
    store.append(events[150:])  # 50 already stored, 100 new, in one batch
    store.flush()
    got = store.rollups("exp-1")
    want = _expected_rollups(events, 100_000)
    assert len(got) == len(want)
    for r in got:
        _close(r, want[(r.window_start_us, r.event_name)])


def test_rollups_ignore_non_finite_latency(store_factory: Factory) -> None:
    store = store_factory()
    store.append([make_event(1, latency_ms=math.inf), make_event(2, latency_ms=5.0)])
    store.flush()
    (r,) = [r for r in store.rollups("exp-1") if r.count == 2]
    assert r.latency_count == 1
    assert r.latency_max == 5.0


def test_experiment_records(store_factory: Factory) -> None:
    store = store_factory()
    first = ExperimentRecord(experiment_id="e1", name="same", started_us=10, tags=("a",))
    second = ExperimentRecord(experiment_id="e2", name="same", started_us=20, metadata={"k": [1]})
    store.save_experiment(second)
    store.save_experiment(first)
    assert store.experiment("e1") == first
    assert store.experiment("same") == second  # the latest of that name
    assert store.experiments() == [first, second]
    stopped = msgspec.structs.replace(first, status="stopped", stopped_us=99)
    store.save_experiment(stopped)
    assert store.experiment("e1") == stopped
    with pytest.raises(NotFoundError):
        store.experiment("missing")


def test_closed_store_rejects_appends(store_factory: Factory) -> None:
    store = store_factory()
    store.append([make_event(1)])
    store.close()
    store.close()  # idempotent
    with pytest.raises(StorageError):
        store.append([make_event(2)])


def test_memory_store_is_bounded_and_says_so() -> None:
    store = MemoryStore(max_events=100)
    events = [make_event(i) for i in range(250)]
    store.append(events[:60])
    with pytest.warns(StoreCapacityWarning, match="max_events=100"):
        store.append(events[60:130])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once only
        store.append(events[130:])
    assert len(store) == 100
    assert store.evicted == 150
    assert _all(store) == events[150:]  # the newest are kept
    assert sum(r.count for r in store.rollups("exp-1")) == 250  # rollups keep counting
    store.append(events[149:151])  # 149 was evicted: it comes back; 150 is still there
    assert store.count() == 100
    assert store.evicted == 151


# --- base helpers --------------------------------------------------------------------------


def test_name_helpers() -> None:
    assert name_to_str(("a", "b", "c")) == "a.b.c"
    assert name_from_str("a.b.c") == ("a", "b", "c")
    assert name_from_str("") == ()


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=1e-5, max_value=1e7, allow_nan=False, allow_infinity=False))
def test_histogram_bucket_is_within_one_percent(ms: float) -> None:
    b = latency_bucket(ms)
    assert abs(bucket_value_ms(b) - ms) <= 0.01 * ms * (1 + 1e-9)
    assert latency_buckets(np.array([ms]))[0] == b


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(min_value=0.01, max_value=1e5), min_size=1, max_size=300),
    st.floats(min_value=0.0, max_value=1.0),
)
def test_histogram_quantile_is_close_to_the_exact_quantile(values: list[float], q: float) -> None:
    hist: dict[int, int] = {}
    for v in values:
        hist[latency_bucket(v)] = hist.get(latency_bucket(v), 0) + 1
    got = histogram_quantile(hist, q)
    exact = float(np.quantile(values, q, method="lower"))
    assert got is not None
    assert abs(got - exact) <= 0.0101 * exact


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=10), min_size=2, max_size=6),
    st.lists(st.floats(min_value=0.01, max_value=1e4), min_size=6, max_size=60),
)
def test_rollup_merge_is_the_rollup_of_the_union(cuts: list[int], latencies: list[float]) -> None:
    events = [make_event(i, latency_ms=v) for i, v in enumerate(latencies)]
    whole = _expected_rollups(events, 10**12)
    parts = sorted({min(c, len(events)) for c in cuts} | {0, len(events)})
    pieces = [_expected_rollups(events[a:b], 10**12) for a, b in itertools.pairwise(parts)]
    merged: dict[tuple[int, str], Rollup] = {}
    for piece in pieces:
        for key, r in piece.items():
            prev = merged.get(key)
            merged[key] = (
                r if prev is None else prev.merge(r, window_start_us=key[0], window_us=r.window_us)
            )
    assert merged.keys() == whole.keys()
    for key in whole:
        _close(merged[key], whole[key])
