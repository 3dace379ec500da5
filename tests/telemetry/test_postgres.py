"""PostgresStore against a real server (CRUCIBLE_TEST_POSTGRES_DSN; tools/start_postgres.sh).

Every test works in a schema of its own, dropped afterwards. Nothing is mocked.
"""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crucible.errors import ConfigurationError, InvalidArgumentError, NotFoundError, StorageError
from crucible.telemetry.store.base import (
    CapturedEvent,
    ExperimentRecord,
    Rollup,
    Store,
    latency_bucket,
)
from crucible.telemetry.store.memory import MemoryStore

DSN = os.environ.get("CRUCIBLE_TEST_POSTGRES_DSN")
pytestmark = pytest.mark.skipif(
    not DSN,
    reason="CRUCIBLE_TEST_POSTGRES_DSN is not set: start a server with "
    "`export CRUCIBLE_TEST_POSTGRES_DSN=$(tools/start_postgres.sh)`",
)
psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is needed: pip install '.[postgres]'")

from crucible.telemetry.store.postgres import PostgresStore  # noqa: E402

T0 = 1_700_000_000_000_000  # µs, a round second
LLM_STOP = ("crucible", "llm", "request", "stop")


def event(
    i: int,
    *,
    stream: str = "s",
    experiment: str = "exp-a",
    name: tuple[str, ...] = LLM_STOP,
    node: str = "node-1",
    **fields: object,
) -> CapturedEvent:
    values: dict[str, object] = {
        "event_id": f"{stream}-{i:x}",
        "event_name": name,
        "experiment_id": experiment,
        "experiment_name": "latency study",
        "condition": "treatment" if i % 2 else "control",
        "tags": ("llm", "v2"),
        "correlation_id": f"corr-{i // 3}",
        "stream_id": stream,
        "sequence": i,
        "wall_time_us": T0 + i * 250_000,
        "monotonic_ns": 10**9 + i * 250_000_000,
        "node_id": node,
        "category": "llm",
        "measurements": {"duration": (5 + i % 11) * 1_000_000, "input_tokens": 100 + i},
        "metadata": {"model": "gpt-4o", "attempt": [1, {"nested": None}]},
        "latency_ms": 5.0 + i % 11,
        "cost_usd": 0.001 * (i % 4),
        "success": i % 5 != 0,
        "model": "gpt-4o",
        "provider": "openai",
        "tokens_in": 100 + i,
        "tokens_out": 20,
        "weight": 1.0 + (i % 3),
    }
    values.update(fields)
    return msgspec.convert(values, CapturedEvent)


@pytest.fixture
def schema() -> Iterator[str]:
    assert DSN is not None
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture
def store(schema: str) -> Iterator[PostgresStore]:
    s = PostgresStore(DSN, schema=schema)
    yield s
    s.close()


def stored(store: PostgresStore, **filters: object) -> list[CapturedEvent]:
    return [e for batch in store.query(batch_size=7, **filters) for e in batch]  # type: ignore[arg-type]


def expected_rollups(events: list[CapturedEvent], experiment: str, window: int) -> list[Rollup]:
    """Rollups computed the slow way, through the in-memory store."""
    memory = MemoryStore(rollup_window_us=window)
    memory.append(events)
    return memory.rollups(experiment)


def assert_rollups_equal(got: list[Rollup], want: list[Rollup]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        for field in Rollup.__struct_fields__:
            a, b = getattr(g, field), getattr(w, field)
            if isinstance(b, float):
                assert a == pytest.approx(b, rel=1e-12, abs=1e-12), field
            else:
                assert a == b, field


# --- round trip ---------------------------------------------------------------------------------


def test_is_a_store(store: PostgresStore) -> None:
    assert isinstance(store, Store)
    assert store.layout == "table"  # Debian's server has no TimescaleDB
    assert store.rollup_window_us == 1_000_000


def test_round_trip_keeps_every_field(store: PostgresStore) -> None:
    events = [event(i) for i in range(40)]
    events.append(
        event(
            40,
            condition=None,
            tags=(),
            correlation_id=None,
            measurements={"text": "tab\tnew\nline \\ back 'q' \"dq\" ünï €", "big": 2**62},
            metadata={"nul": "a\u0000b", "control": "\x01\x02\x1f", "empty": {}},
            latency_ms=None,
            cost_usd=None,
            success=None,
            model=None,
            provider=None,
            tokens_in=None,
            tokens_out=None,
            error="TimeoutError",
            session_id="sess",
            user_id="u",
            sample_id="smp",
            cohort="c1",
            derived={"epoch": 3, "loss": 0.25},
        )
    )
    store.append(events[:25])
    store.append(events[25:])
    store.flush()
    assert stored(store) == sorted(events, key=lambda e: (e.wall_time_us, e.event_id))
    assert store.count() == 41
    assert store.failed == []


def test_query_orders_by_time_then_id_across_appends(store: PostgresStore) -> None:
    events = [event(i, wall_time_us=T0 + (i % 4) * 1000) for i in range(30)]
    store.append(events[::-1])
    store.flush()
    got = stored(store)
    assert [(e.wall_time_us, e.event_id) for e in got] == sorted(
        (e.wall_time_us, e.event_id) for e in events
    )


def test_duplicate_ids_are_stored_once(store: PostgresStore) -> None:
    events = [event(i) for i in range(20)]
    store.append(events)
    store.append(events[5:15] + events[5:15])  # re-sent, and duplicated inside a batch
    store.flush()
    assert store.count() == 20
    assert store.inserted == 20
    assert sum(r.count for r in store.rollups("exp-a")) == 20


def test_filters(store: PostgresStore) -> None:
    other = ("crucible", "llm", "request", "start")
    tricky = ("my_app", "50%", "stop")  # LIKE wildcards must match literally
    lookalike = ("my_appX", "50", "stop")
    events = (
        [event(i) for i in range(10)]
        + [event(i, stream="t", name=other) for i in range(10)]
        + [event(i, stream="u", experiment="exp-b", name=tricky) for i in range(5)]
        + [event(i, stream="v", experiment="exp-b", name=lookalike) for i in range(3)]
    )
    store.append(events)
    store.flush()
    assert store.count(experiment_id="exp-a") == 20
    assert store.count(event_name=LLM_STOP) == 10
    assert store.count(event_prefix=("crucible", "llm")) == 20
    assert store.count(event_prefix=("crucible", "ll")) == 0  # parts, not characters
    assert store.count(event_prefix=("my_app",)) == 5
    assert store.count(event_prefix=("my_app", "50%")) == 5
    assert store.count(event_prefix=()) == 28
    since, until = T0 + 1_000_000, T0 + 2_000_000
    want = [e for e in events if since <= e.wall_time_us < until and e.experiment_id == "exp-a"]
    got = stored(store, experiment_id="exp-a", since_us=since, until_us=until)
    assert sorted(e.event_id for e in got) == sorted(e.event_id for e in want)
    assert store.count(experiment_id="exp-a", since_us=since, until_us=until) == len(want)


def test_select_columns(store: PostgresStore) -> None:
    events = [event(i) for i in range(12)] + [event(12, latency_ms=None, success=None)]
    store.append(events)
    store.flush()
    batches = list(
        store.select(
            ["latency_ms", "success", "event_name", "sequence", "tokens_in", "node_id"],
            experiment_id="exp-a",
            batch_size=5,
        )
    )
    assert [len(b["sequence"]) for b in batches] == [5, 5, 3]
    cols = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
    assert cols["sequence"].dtype == np.int64
    assert cols["sequence"].tolist() == list(range(13))
    assert cols["latency_ms"].dtype == np.float64
    assert np.isnan(cols["latency_ms"][12])
    assert cols["latency_ms"][:12].tolist() == [e.latency_ms for e in events[:12]]
    assert cols["success"][:12].tolist() == [1.0 if e.success else 0.0 for e in events[:12]]
    assert np.isnan(cols["success"][12])
    assert cols["event_name"][0] == "crucible.llm.request.stop"
    assert cols["node_id"].dtype == object
    with pytest.raises(InvalidArgumentError):
        next(store.select(["no_such_column"]))


# --- rollups ------------------------------------------------------------------------------------


def test_rollups_match_the_memory_store(store: PostgresStore) -> None:
    events = [event(i) for i in range(100)]
    events += [event(i, stream="t", name=("crucible", "train", "epoch", "stop")) for i in range(30)]
    events.append(event(200, latency_ms=float("nan")))  # not a latency: not counted as one
    store.append(events[:60])
    store.append(events[60:])
    store.flush()
    got = store.rollups("exp-a")
    assert_rollups_equal(got, expected_rollups(events, "exp-a", 1_000_000))
    assert sum(r.count for r in got) == len(events)
    assert all(sum(r.latency_hist.values()) == r.latency_count for r in got)
    first_second = [e.latency_ms for e in events[:4] if e.latency_ms is not None]
    buckets = [latency_bucket(ms) for ms in first_second]
    assert got[0].latency_hist == {b: buckets.count(b) for b in buckets}


def test_rollups_coarsen_and_filter(store: PostgresStore) -> None:
    events = [event(i) for i in range(100)]  # 25 s of events, 4 per second
    store.append(events)
    store.flush()
    base = store.rollups("exp-a")
    coarse = store.rollups("exp-a", window_us=10_000_000)
    assert [r.window_start_us for r in coarse] == [T0, T0 + 10_000_000, T0 + 20_000_000]
    assert [r.count for r in coarse] == [40, 40, 20]
    assert sum(r.latency_sum for r in coarse) == pytest.approx(sum(r.latency_sum for r in base))
    window = store.rollups("exp-a", since_us=T0 + 2_000_000, until_us=T0 + 4_000_000)
    assert [r.window_start_us for r in window] == [T0 + 2_000_000, T0 + 3_000_000]
    assert store.rollups("exp-a", event_name=("crucible", "nothing")) == []
    with pytest.raises(InvalidArgumentError):
        store.rollups("exp-a", window_us=1_500_000)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=6),
    resend=st.lists(st.integers(min_value=0, max_value=59), max_size=10),
    window=st.sampled_from([1_000_000, 2_000_000, 5_000_000]),
)
def test_rollups_are_mergeable_whatever_the_batching(
    schema: str, cuts: list[int], resend: list[int], window: int
) -> None:
    """Upserted per-batch aggregates equal the aggregate of the whole, however the events
    are split into transactions and whatever is re-sent."""
    events = [event(i, latency_ms=0.5 + (i * 7919 % 1000) / 10.0) for i in range(60)]
    prefix = f"p{uuid.uuid4().hex[:10]}"
    with PostgresStore(DSN, schema=schema, prefix=prefix, rollup_window_us=window) as s:
        bounds = [0, *sorted(cuts), 60]
        for lo, hi in itertools.pairwise(bounds):
            s.append(events[lo:hi])
            s.flush()  # one transaction per piece
        s.append([events[i] for i in resend])
        s.flush()
        assert_rollups_equal(s.rollups("exp-a"), expected_rollups(events, "exp-a", window))
        memory = MemoryStore(rollup_window_us=window)
        memory.append(events)
        assert_rollups_equal(
            s.rollups("exp-a", window_us=10 * window),
            memory.rollups("exp-a", window_us=10 * window),
        )
        s.drop()


# --- experiments ----------------------------------------------------------------------------


def test_experiment_records(store: PostgresStore) -> None:
    first = ExperimentRecord(experiment_id="e1", name="study", started_us=10, tags=("a",))
    second = ExperimentRecord(
        experiment_id="e2", name="study", started_us=20, hypothesis="faster", metadata={"k": 1}
    )
    store.save_experiment(second)
    store.save_experiment(first)
    assert store.experiment("e1") == first
    assert store.experiment("study") == second  # the latest of that name
    assert [r.experiment_id for r in store.experiments()] == ["e1", "e2"]
    stopped = msgspec.structs.replace(first, status="stopped", stopped_us=99)
    store.save_experiment(stopped)
    assert store.experiment("e1") == stopped
    with pytest.raises(NotFoundError):
        store.experiment("nope")


# --- schema, lifecycle, failures ----------------------------------------------------------------


def test_reopen_keeps_the_window(schema: str) -> None:
    with PostgresStore(DSN, schema=schema, rollup_window_us=5_000_000) as first:
        first.append([event(i) for i in range(10)])
    with PostgresStore(DSN, schema=schema) as again:
        assert again.rollup_window_us == 5_000_000
        assert again.count() == 10  # close() flushed
    with pytest.raises(ConfigurationError, match="rollup windows"):
        PostgresStore(DSN, schema=schema, rollup_window_us=1_000_000)
    with pytest.raises(ConfigurationError):
        PostgresStore(DSN, schema=schema, timescale=True)


def test_bad_arguments(schema: str) -> None:
    with pytest.raises(InvalidArgumentError):
        PostgresStore(DSN, schema="Bad-Name")
    with pytest.raises(InvalidArgumentError):
        PostgresStore(DSN, schema=schema, rollup_window_us=0)
    with pytest.raises(StorageError):
        PostgresStore("postgresql://nobody@127.0.0.1:1/none", connect_timeout=1)


def test_close_is_idempotent_and_final(schema: str) -> None:
    s = PostgresStore(DSN, schema=schema)
    s.append([event(0)])
    s.close()
    s.close()
    with pytest.raises(StorageError):
        s.append([event(1)])


def test_a_batch_the_server_refuses_is_kept_and_reported(store: PostgresStore) -> None:
    bad = event(0, event_id="bad\u0000id")  # text columns cannot hold NUL
    store.append([bad])
    with pytest.raises(StorageError, match="could not be written"):
        store.flush()
    assert store.failed == [bad]
    store.append([event(1)])  # the writer goes on
    store.flush()
    assert store.count() == 1


def test_back_pressure_loses_nothing(schema: str) -> None:
    with PostgresStore(DSN, schema=schema, batch_size=50, max_pending=120) as s:
        for k in range(40):
            s.append([event(i, stream=f"s{k}") for i in range(30)])
        s.flush()
        assert s.count() == 1200


# --- concurrency ------------------------------------------------------------------------------


def test_threads_writing_one_store(store: PostgresStore) -> None:
    def work(k: int) -> None:
        for chunk in range(10):
            store.append([event(chunk * 20 + i, stream=f"th{k}") for i in range(20)])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.flush()
    assert store.count() == 800
    for k in range(4):
        seqs = [e.sequence for e in stored(store) if e.stream_id == f"th{k}"]
        assert sorted(seqs) == list(range(200))


_WRITER = textwrap.dedent(
    """
    import sys
    import msgspec
    from crucible.telemetry.store.base import CapturedEvent
    from crucible.telemetry.store.postgres import PostgresStore

    dsn, schema, node, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    def ev(i, stream):
        return CapturedEvent(
            event_id=f"{stream}-{i:x}", event_name=("crucible", "llm", "request", "stop"),
            experiment_id="shared", experiment_name="multi-node", stream_id=stream,
            sequence=i, wall_time_us=1_700_000_000_000_000 + i * 1000, node_id=node,
            latency_ms=1.0 + i % 50, success=i % 7 != 0, weight=1.0,
        )

    with PostgresStore(dsn, schema=schema, batch_size=500) as store:
        for lo in range(0, n, 250):
            store.append([ev(i, node) for i in range(lo, min(n, lo + 250))])
            # every writer also re-sends the same shared events: stored once in all
            store.append([ev(i, "shared") for i in range(lo // 10, lo // 10 + 25)])
    print("ok")
    """
)


def test_processes_on_several_nodes_write_one_experiment(schema: str) -> None:
    with PostgresStore(DSN, schema=schema) as s:  # create the tables first, as a deployment would
        pass
    nodes, per_node = ["node-a", "node-b", "node-c", "node-d"], 3000
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, DSN or "", schema, node, str(per_node)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for node in nodes
    ]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert out.strip() == "ok"
    shared = {i for lo in range(0, per_node, 250) for i in range(lo // 10, lo // 10 + 25)}
    with PostgresStore(DSN, schema=schema) as s:
        counts = s.node_counts("shared")
        assert set(counts) == set(nodes)
        assert all(counts[node] >= per_node for node in nodes)  # + the shared ones it won
        assert sum(counts.values()) == len(nodes) * per_node + len(shared)
        assert s.count(experiment_id="shared") == len(nodes) * per_node + len(shared)
        seqs: dict[str, list[int]] = {}
        for batch in s.select(["stream_id", "sequence"], experiment_id="shared"):
            for stream, seq in zip(batch["stream_id"], batch["sequence"], strict=True):
                seqs.setdefault(stream, []).append(int(seq))
        for node in nodes:
            assert sorted(seqs[node]) == list(range(per_node))  # no gap, no duplicate
        assert sorted(seqs["shared"]) == sorted(shared)
        rollups = s.rollups("shared")
        assert sum(r.count for r in rollups) == s.count(experiment_id="shared")
        assert sum(r.latency_count for r in rollups) == s.count(experiment_id="shared")
        assert math.isclose(sum(r.weight_sum for r in rollups), sum(counts.values()))
