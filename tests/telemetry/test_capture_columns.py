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


def test_field_lists_hold_exactly_the_fields_of_the_events(exp: Experiment) -> None:
    """What the SQLite store encodes instead of the events: every field, in order, equal to
    (and of the same type as) what the built events hold."""
    for name, m, md in CASES * 3:
        events.execute(name, m, md)
    raw = exp._buf.take(1_000)
    assert raw is not None
    batch = exp._finalize(raw, ("x", "n", "treated", ("t",), "stream", "node"), 7)
    lists = batch.field_lists()
    assert tuple(lists) == CapturedEvent.__struct_fields__
    built = batch.events()
    for field, values in lists.items():
        expected = [getattr(e, field) for e in built]
        assert values == expected, field
        assert [type(v) for v in values] == [type(v) for v in expected], field


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


def test_sqlite_store_keeps_captured_batches_field_for_field(tmp_path: Any) -> None:
    """Captured batches reach the SQLite store as columns (no events built on the way):
    what it reads back equals the events a memory store builds from the same captures."""
    from crucible.telemetry import SQLiteStore

    own = {"experiment_id", "stream_id", "event_id", "wall_time_us", "monotonic_ns"}
    # msgpack cannot hold a Flag: the SQLite store keeps str(flag) (tested below)
    cases = [c for c in CASES if not any(isinstance(v, Flag) for v in c[2].values())]
    got = {}
    for kind in ("memory", "sqlite"):
        store: Any = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "t.db")
        e = start_experiment("same", store=store, events="all", validation="off")
        for name, m, md in cases * 40:
            events.execute(name, m, md)
        e.stop()
        read = [ev for chunk in store.query(experiment_id=e.id) for ev in chunk]
        got[kind] = [  # by sequence: the stores break ties of equal times differently
            {f: getattr(ev, f) for f in CapturedEvent.__struct_fields__ if f not in own}
            for ev in sorted(read, key=lambda ev: ev.sequence)
        ]
        if kind == "sqlite":
            store.close()
    assert len(got["sqlite"]) == len(cases) * 40
    assert got["sqlite"] == got["memory"]
    assert any(m.get("big") == 10**30 for m in (ev["measurements"] for ev in got["sqlite"]))


def test_payload_values_sqlite_cannot_hold_do_not_block_the_batch(tmp_path: Any) -> None:
    import numpy as np

    from crucible.telemetry import SQLiteStore

    store = SQLiteStore(tmp_path / "odd.db")
    e = start_experiment("odd", store=store, events="all", validation="off")
    flag = Flag(True)
    events.execute(("app", "odd"), {"n": np.int64(3), "v": np.arange(2)}, {"flag": flag})
    events.execute(("app", "fine"), {"n": 1}, {})
    e.stop()
    (batch,) = store.query(experiment_id=e.id)
    odd, fine = batch
    assert odd.measurements == {"n": 3, "v": [0, 1]}
    assert odd.metadata == {"flag": str(flag)}
    assert fine.measurements == {"n": 1}
    store.close()
