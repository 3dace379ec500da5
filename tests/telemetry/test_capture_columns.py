"""The Rust capture path: derived fields and rollups agree with the Python rules, batches
stay sequences of CapturedEvent, and the memory store's id set deduplicates exactly."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from crucible import _core, events
from crucible.telemetry import CapturedEvent, MemoryStore, start_experiment
from crucible.telemetry.batch import CapturedBatch
from crucible.telemetry.catalog import category_of
from crucible.telemetry.cost import (
    CACHED_TOKEN_KEYS,
    INPUT_TOKEN_KEYS,
    OUTPUT_TOKEN_KEYS,
    default_price_table,
)
from crucible.telemetry.enrichment import derive
from crucible.telemetry.experiment import Experiment
from crucible.telemetry.store.base import rollups_of
from crucible.telemetry.store.event_ids import EventIdSet, split_event_id


class Flag:
    def __init__(self, truthy: bool) -> None:
        self.truthy = truthy

    def __bool__(self) -> bool:
        return self.truthy


CASES: list[tuple[tuple[str, ...], dict[str, Any], dict[str, Any]]] = [
    (("crucible", "llm", "request", "stop"), {"duration": 2_500_000, "input_tokens": 1000,
     "output_tokens": 200, "cached_tokens": 100}, {"model": "gpt-4o", "provider": "openai"}),
    (("crucible", "llm", "request", "exception"), {"duration": 10}, {"kind": "Timeout"}),
    (("crucible", "llm", "request", "exception"), {}, {"kind": "", "error": "boom"}),
    (("crucible", "llm", "request", "exception"), {}, {}),
    (("app", "job", "stop"), {"latency_ms": 4}, {"status": "FAILED"}),
    (("app", "job"), {"status": "ok"}, {"status": None}),
    (("app", "job"), {"status": "Healthy"}, {}),
    (("app", "job"), {"success": 1}, {"success": False}),
    (("app", "job"), {"success": True}, {"error": Flag(False)}),
    (("app", "job"), {}, {"exception": Flag(True), "model_name": "claude-3-5-sonnet"}),
    (("app", "job"), {"duration": "x", "duration_ms": 7.5}, {}),
    (("app", "job"), {"start": 1_000_000, "stop": 4_000_000}, {}),
    (("app", "job"), {"tokens_in": 3.0, "completion_tokens": 2.5}, {"model": "gpt-4o"}),
    (("app", "job"), {"input_tokens": "many", "tokens_in": 5}, {"model": "gpt-4o"}),
    (("app", "job"), {"tokens": {"prompt": 11, "completion": 7}}, {"model": "gpt-4o-mini"}),
    (("app", "job"), {}, {"tokens": {"prompt": 2}, "model": "unknown-model-x"}),
    (("app", "job"), {"cost": 0.25, "input_tokens": 9}, {"model": "gpt-4o"}),
    (("app", "job"), {"cost_usd": None, "input_tokens": 9}, {"model": "gpt-4o", "cost": 2}),
    (("app", "job"), {"input_tokens": 10, "cached_input_tokens": 20}, {"model": "gpt-4o"}),
    (("app", "job"), {"input_tokens": -1}, {"model": "gpt-4o"}),
    (("app", "job"), {"big": 10**30, "duration": 10**30}, {"model": "", "user_id": "u"}),
    (("crucible", "train", "epoch", "stop"), {"loss": 0.5, "step": None},
     {"epoch": 3, "run_id": "r", "session_id": 5, "cohort": "c", "sample_id": "s"}),
    (("crucible", "deployment", "inference", "stop"), {"batch_size": 4},
     {"model_name": "m", "status": "unhealthy"}),
]  # fmt: skip


@pytest.fixture
def exp() -> Iterator[Experiment]:
    e = start_experiment("columns", store=MemoryStore(), events="all", validation="off")
    yield e
    e.stop()


def _expected(name: tuple[str, ...], m: dict[str, Any], md: dict[str, Any]) -> tuple[Any, ...]:
    try:
        return derive(name, category_of(name), m, md, default_price_table())
    except Exception:  # the price table raises on impossible token counts: unpriced here
        unpriced = {k: v for k, v in md.items() if k != "model"}
        got = list(derive(name, category_of(name), m, unpriced))
        got[3] = md["model"]
        return tuple(got)


def test_derived_fields_match_the_python_rules(exp: Experiment) -> None:
    for name, m, md in CASES:
        events.execute(name, m, md)
    exp.flush()
    got = list(exp.events())
    assert len(got) == len(CASES)
    for e, (name, m, md) in zip(got, CASES, strict=True):
        lat, cost, ok, model, provider, tin, tout, err, session, user, sample, cohort, lifted = (
            _expected(name, m, md)
        )
        where = f"{name} {m} {md}"
        assert (e.latency_ms, e.cost_usd) == (lat, cost), where
        assert (e.success, e.error) == (ok, err), where
        assert (e.model, e.provider, e.tokens_in, e.tokens_out) == (model, provider, tin, tout)
        assert (e.session_id, e.user_id, e.sample_id, e.cohort) == (session, user, sample, cohort)
        assert e.derived == lifted, where
        assert e.category == category_of(name)
        assert e.measurements == m
        assert e.measurements is not m


def test_batch_rollups_equal_rollups_of_its_events(exp: Experiment) -> None:
    for i in range(3_000):
        name = ("app", "a") if i % 3 else ("app", "b", "stop")
        m = {"duration": (i % 17) * 1e5, "tokens_in": i, "cost": i / 7}
        events.execute(name, m, {"success": i % 5 > 0})
    exp.flush()
    store = exp.store
    assert isinstance(store, MemoryStore)
    chunks = list(store._chunks)
    assert len(chunks) >= 3
    for chunk in chunks:
        batch = getattr(chunk, "batch", None)
        assert isinstance(batch, CapturedBatch)
        for window in (1_000, 1_000_000):
            assert batch.rollups(window) == rollups_of(list(batch), window)
    assert sum(r.count for r in store.rollups(exp.id)) == 3_000


def test_a_batch_is_a_sequence_of_captured_events(exp: Experiment) -> None:
    for i in range(5):
        events.execute(("app", "e"), {"i": i}, {})
    raw = exp._buf.take(100)
    assert raw is not None
    batch = exp._finalize(raw, ("x", "n", None, (), "stream", "node"), 10)
    assert len(batch) == 5
    assert isinstance(batch[0], CapturedEvent)
    assert [e.event_id for e in batch] == [f"stream-{s:x}" for s in range(10, 15)]
    assert batch[1:3] == list(batch)[1:3]
    assert batch.columns.seq_runs(5) == [(10, 15)]


def test_memory_store_deduplicates_batches_and_events(exp: Experiment) -> None:
    for i in range(40):
        events.execute(("app", "e"), {"i": i}, {})
    raw = exp._buf.take(100)
    assert raw is not None
    batch = exp._finalize(raw, (exp.id, "n", None, (), "s1", "node"), 0)
    store = MemoryStore(max_events=30)
    with pytest.warns(RuntimeWarning, match="evicting"):
        store.append(batch)
    assert len(store) == 30
    assert store.evicted == 10
    store.append(batch)  # partly there: only the evicted ten come back (as objects)
    assert store.count() == 30
    store.append(list(batch)[-5:])  # all there
    assert store.count() == 30
    ids = [e.event_id for b in store.query() for e in b]
    assert len(set(ids)) == 30


def test_event_id_set() -> None:
    assert split_event_id("abc-1f") == ("abc", 31)
    assert split_event_id("a-b-0") == ("a-b", 0)
    for opaque in ("abc-01", "abc-1F", "abc", "abc-", "abc-x"):
        assert split_event_id(opaque) is None
    ids = EventIdSet()
    assert ids.add_runs("s", [(0, 10), (20, 30)])
    assert not ids.add_runs("s", [(9, 12)])
    assert ids.add("s-a")
    assert not ids.add("s-a")
    assert "s-b" not in ids
    assert "s-1d" in ids
    assert "s-1e" not in ids
    ids.discard_runs("s", [(5, 25)])
    assert "s-4" in ids
    assert "s-5" not in ids
    assert "s-19" in ids
    assert ids.add("opaque")
    assert "opaque" in ids
    assert not ids.add("opaque")
    ids.discard("opaque")
    assert "opaque" not in ids


def test_token_keys_and_clock_agree_with_python(exp: Experiment) -> None:
    assert tuple(map(tuple, _core.TELEMETRY_TOKEN_KEYS)) == (
        INPUT_TOKEN_KEYS,
        OUTPUT_TOKEN_KEYS,
        CACHED_TOKEN_KEYS,
    )
    before = time.monotonic_ns()
    wall, mono = exp._buf.now()
    after = time.monotonic_ns()
    assert before - 100_000 <= mono <= after + 100_000  # anchored to Python's clock
    assert abs(wall - time.time_ns() // 1000) < 1_000_000
