"""The SQLite store's segment layout: exact round trips, exactly-once by id without a row
per event, merging overlapping segments, compaction, and the upgrade of version-1 files."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telemetry_samples import make_event

from crucible.errors import InvalidArgumentError, StorageError
from crucible.telemetry.store.base import CapturedEvent, ExperimentRecord
from crucible.telemetry.store.sqlite import SQLiteStore
from crucible.telemetry.store.sqlite_write import COMPACT_AT

_exact = msgspec.json.Encoder().encode  # distinguishes 1, 1.0 and True


def _all(store: SQLiteStore, **filters: Any) -> list[CapturedEvent]:
    return [e for batch in store.query(**filters) for e in batch]


def _ordered(events: list[CapturedEvent]) -> list[CapturedEvent]:
    first: dict[str, CapturedEvent] = {}
    for e in events:
        first.setdefault(e.event_id, e)
    return sorted(first.values(), key=lambda e: (e.wall_time_us, e.event_id))


def _segments(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM segments").fetchone()[0])
    finally:
        conn.close()


def test_values_round_trip_exactly(tmp_path: Path) -> None:
    same = {"k": 1, "flag": True}
    events = [
        make_event(0, latency_ms=None, cost_usd=math.nan, tokens_in=None, success=None),
        make_event(1, latency_ms=math.nan, cost_usd=-0.0, tokens_in=2**62, measurements=same),
        make_event(2, latency_ms=math.inf, tokens_out=-(2**63), measurements={"k": 1.0}),
        make_event(3, tags=(), condition=None, node_id="ñ-☃", measurements={"k": True}),
        make_event(4, tags=("a", "b"), derived={"epoch": 3, "loss": [0.5, None]}),
        make_event(5, event_name=("x",), measurements=same, metadata={"nested": {"a": [1]}}),
    ]
    store = SQLiteStore(tmp_path / "rt.sqlite3")
    store.append(events)
    store.flush()
    got = _all(store)
    assert [_exact(e) for e in got] == [_exact(e) for e in _ordered(events)]
    assert got[1].latency_ms is not None
    assert math.isnan(got[1].latency_ms)
    assert got[0].latency_ms is None
    assert got[1].cost_usd is not None
    assert math.copysign(1.0, got[1].cost_usd) == -1.0
    got[5].measurements["k"] = 99  # events never share a mutable payload
    assert _all(store)[5].measurements == same
    (cols,) = store.select(["latency_ms", "tokens_in", "success", "condition"])
    assert math.isnan(cols["latency_ms"][0])
    assert math.isnan(cols["tokens_in"][0])
    assert cols["tokens_in"][1] == float(2**62)
    assert math.isnan(cols["success"][0])
    assert cols["success"][1] == 1.0
    assert cols["condition"][3] is None
    store.close()


def test_constant_and_varying_columns_in_one_store(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "c.sqlite3")
    constant = [make_event(i, measurements={"a": 1}, metadata={}) for i in range(100)]
    varying = [make_event(i, event_id=f"v-{i}", model=f"m{i}") for i in range(100)]
    store.append(constant)
    store.flush()
    store.append(varying)
    store.flush()
    assert [_exact(e) for e in _all(store)] == [_exact(e) for e in _ordered(constant + varying)]
    store.close()


def test_bad_key_columns_fail_in_append(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "bad.sqlite3")
    with pytest.raises(InvalidArgumentError, match="wall_time_us"):
        store.append([make_event(0, wall_time_us="soon")])
    with pytest.raises(InvalidArgumentError, match="sequence"):
        store.append([make_event(0, sequence=2**64)])
    with pytest.raises(InvalidArgumentError, match="monotonic_ns"):
        store.append([make_event(0, monotonic_ns=1.5)])
    store.close()


def test_ids_crucible_did_not_mint_are_stored_once(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "ids.sqlite3")
    odd = [
        make_event(0, event_id="custom"),
        make_event(1, event_id="s-01"),  # leading zero: not a minted id
        make_event(2, event_id="s-A"),  # upper case: not a minted id
        make_event(3, event_id="s-1", stream_id="other", sequence=7),  # same id as minted s-1
        make_event(4, event_id="x-10", stream_id="x", sequence=10),  # hex 0x10, not 10
        make_event(5, event_id="x-" + "f" * 16),  # too long for a sequence
    ]
    minted = [make_event(i) for i in range(8)]  # s-0 ... s-7
    store.append(odd)
    store.append(minted + odd[:2])
    store.append([odd[5], minted[1], make_event(99, event_id="custom")])
    store.flush()
    stored = {e.event_id for e in _all(store)}
    assert store.count() == len(stored) == 13
    assert store.inserted == 13
    assert store.count(event_prefix=("crucible",)) == 13
    store.close()


def test_sequence_ranges_merge_and_fill_gaps(tmp_path: Path) -> None:
    path = tmp_path / "ranges.sqlite3"
    store = SQLiteStore(path)
    events = [make_event(i) for i in range(40)]
    store.append(events[0:10])
    store.append(events[20:30])
    store.flush()
    store.append(events[5:25] + events[35:40] + events[30:35])  # overlaps, gaps, out of order
    store.append(events[39:40] + events[39:40])
    store.flush()
    assert [e.sequence for e in _all(store)] == list(range(40))
    assert sum(r.count for r in store.rollups("exp-1")) == 40
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT stream, lo, hi FROM id_ranges").fetchall() == [("s", 0, 39)]
    conn.close()


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2),  # stream
            st.integers(0, 30),  # sequence
            st.integers(0, 40),  # wall time (ties are common)
            st.booleans(),  # minted id or a custom one
        ),
        min_size=1,
        max_size=120,
    ),
    st.lists(st.integers(1, 40), min_size=1, max_size=6),
    st.integers(1, 50),
)
def test_any_interleaving_reads_back_in_order_once(
    tmp_path_factory: pytest.TempPathFactory,
    specs: list[tuple[int, int, int, bool]],
    cuts: list[int],
    batch_rows: int,
) -> None:
    events = [
        make_event(
            seq,
            event_id=f"st{s}-{seq:x}" if minted else f"id:{s}:{seq}",
            stream_id=f"st{s}",
            wall_time_us=1_000 * wall,
            experiment_id=f"e{s % 2}",
        )
        for s, seq, wall, minted in specs
    ]
    store = SQLiteStore(tmp_path_factory.mktemp("h") / "h.sqlite3", batch_rows=batch_rows)
    at = 0
    for cut in cuts * 40:
        if at >= len(events):
            break
        store.append(events[at : at + cut])
        at += cut
    store.flush()
    want = _ordered(events)
    batches = list(store.query(batch_size=7))
    assert [e for b in batches for e in b] == want
    assert all(len(b) == 7 for b in batches[:-1])  # full batches across segment boundaries
    for exp in ("e0", "e1"):
        mine = [e for e in want if e.experiment_id == exp]
        assert _all(store, experiment_id=exp, since_us=5_000, until_us=30_000) == [
            e for e in mine if 5_000 <= e.wall_time_us < 30_000
        ]
        assert store.count(experiment_id=exp, since_us=5_000) == sum(
            e.wall_time_us >= 5_000 for e in mine
        )
        assert sum(r.count for r in store.rollups(exp)) == len(mine)
    cols = list(store.select(["event_id", "wall_time_us"], batch_size=5))
    assert [i for b in cols for i in b["event_id"]] == [e.event_id for e in want]
    assert all(len(b["wall_time_us"]) == 5 for b in cols[:-1])
    store.close()


def test_small_commits_are_compacted(tmp_path: Path) -> None:
    path = tmp_path / "trickle.sqlite3"
    store = SQLiteStore(path)
    events = [make_event(i) for i in range(3 * (COMPACT_AT + 5))]
    for k in range(0, len(events), 3):
        store.append(events[k : k + 3])
        store.flush()
    assert _segments(path) < COMPACT_AT
    assert _all(store) == events
    assert store.count() == len(events)
    store.close()


def test_a_query_reads_one_snapshot_while_the_writer_works(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "snap.sqlite3", batch_rows=100)
    store.append([make_event(i) for i in range(1_000)])
    store.flush()
    batches = store.query(batch_size=100)
    first = next(batches)
    store.append([make_event(i) for i in range(1_000, 2_000)])
    store.flush()
    rest = [e for b in batches for e in b]
    assert len(first) + len(rest) == 1_000
    assert store.count() == 2_000
    store.close()


def _v1_file(path: Path, events: list[CapturedEvent]) -> None:
    """A file as crucible wrote it with schema version 1 (one row per event)."""
    fields = CapturedEvent.__struct_fields__
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)", [("schema_version", "1"), ("window_us", "1000")]
    )
    conn.execute(f"CREATE TABLE events ({', '.join(fields)})")
    rows = []
    for e in events:
        values = list(msgspec.structs.astuple(e))
        values[fields.index("event_name")] = e.name
        for name in ("tags", "measurements", "metadata", "derived"):
            values[fields.index(name)] = msgspec.json.encode(getattr(e, name)).decode()
        rows.append(values)
    conn.executemany(f"INSERT INTO events VALUES ({', '.join('?' * len(fields))})", rows)
    conn.execute(
        "CREATE TABLE experiments (experiment_id TEXT PRIMARY KEY, name TEXT NOT NULL,"
        " started_us INTEGER NOT NULL, record TEXT NOT NULL)"
    )
    record = ExperimentRecord(experiment_id="exp-1", name="exp")
    conn.execute(
        "INSERT INTO experiments VALUES (?, ?, ?, ?)",
        ("exp-1", "exp", 0, msgspec.json.encode(record).decode()),
    )
    conn.commit()
    conn.close()


def test_version_1_files_are_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    events = [make_event(i) for i in range(120)]
    _v1_file(path, events)
    store = SQLiteStore(path)
    assert store.rollup_window_us == 1_000
    assert _all(store) == events
    assert store.experiment("exp").experiment_id == "exp-1"
    store.append([*events[:10], make_event(500)])  # the upgrade kept the ids: 1 new event
    store.flush()
    assert store.count() == 121
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("2",)
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone() is None
    conn.close()


def test_unknown_schema_versions_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "v9.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)", [("schema_version", "9"), ("window_us", "1")]
    )
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="schema 9"):
        SQLiteStore(path)


def test_select_of_a_million_reads_columns_without_events(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m.sqlite3")
    base = make_event(0)
    n = 200_000
    lat = np.random.default_rng(0).random(n)
    store.append(
        [
            msgspec.structs.replace(
                base, event_id=f"s-{i:x}", sequence=i, wall_time_us=i, latency_ms=float(lat[i])
            )
            for i in range(n)
        ]
    )
    store.flush()
    got = np.concatenate([b["latency_ms"] for b in store.select(["latency_ms"])])
    np.testing.assert_array_equal(got, lat)
    store.close()
