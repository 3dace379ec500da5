"""Telemetry capture and ingest, each beside a plain-Python/sqlite3 reference doing the
least the same job needs.

* ``execute`` into the in-memory store: 100,000 events through ``crucible.events.execute``
  into an experiment (enrichment, sequence numbers, rollups) on a ``MemoryStore``, stopped
  (flushed) and counted. The capture handler, finalisation and rollups run in Rust; the
  store keeps each finalised batch as columns, so ``CapturedEvent`` objects and event-id
  strings are built when events are read, not here (reading them is not timed). Reference:
  a hand-written dict dispatch whose handler appends
  ``(name, dict(measurements), dict(metadata), time)`` to a list — no enrichment, no store.
* SQLite ingest: 100,000 prebuilt ``CapturedEvent`` appended (10 batches) to a fresh
  ``SQLiteStore`` and closed: columns out of the events, exactly-once filtering by id,
  columnar segment encoding, rollups and latency histograms, WAL commit, and the
  checkpoint at close. Reference: plain ``sqlite3`` ``executemany`` of one row per event
  into the table a user would otherwise write (one column per field, JSON text for tags,
  measurements, metadata and derived, a unique ``event_id`` and two indexes: the layout
  crucible itself used up to schema 1), fresh file, default settings, one commit -- once
  with the rows converted outside the timing, once converting the same events inside it.
  The crucible side measures what it always did (events in, durable, deduplicated, rolled
  up, readable); since schema 2 stores segments, the reference's row table is defined
  here instead of being borrowed from the store.
* ``execute`` into an experiment on a ``SQLiteStore`` (the default store), closed: the whole
  default path. Reference: the same dict dispatch, rows of (dotted name, msgspec-JSON
  payloads, time) kept in a list and written with one ``executemany`` + commit into an
  unindexed table.
* PostgreSQL ingest (needs ``CRUCIBLE_TEST_POSTGRES_DSN``; CI starts a server): the same
  100,000 events appended (10 batches) to a ``PostgresStore`` and flushed (binary ``COPY``
  into a staging table, merge into the indexed events table skipping ids already stored,
  rollups). Reference: one psycopg binary ``COPY`` of the same rows, converted outside the
  timing, into a plain table with the same columns and no index: the least a user would
  write.
* ``metrics()`` of 10**6 stored events vs reading the latencies back from the reference's
  row table and ``numpy.percentile``, and vs ``numpy.percentile`` alone.
* ``execute`` with no handler attached, and with one no-op handler (ns per call).

Events per second are printed in the summary and stored in ``extra_info``.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest

from crucible import events
from crucible.telemetry import CapturedEvent, MemoryStore, SQLiteStore, start_experiment
from crucible.telemetry.metrics import metrics
from crucible.telemetry.store.base import ExperimentRecord

N = 100_000
NAME = ("bench", "request", "stop")
MEASUREMENTS = {"duration": 1_250_000, "input_tokens": 120, "output_tokens": 40}
METADATA = {"model": "gpt-4o", "provider": "openai"}

_TMP = Path(tempfile.mkdtemp(prefix="crucible-bench-"))
_files = iter(range(10**9))


def _rate(benchmark: Any, n: int) -> None:
    if benchmark.stats is None:  # --benchmark-disable smoke run: nothing was timed
        return
    best = benchmark.stats.stats.min
    benchmark.extra_info["events_per_second"] = round(n / best)


# --- execute into the memory store -----------------------------------------------------------


def _crucible_capture() -> None:
    exp = start_experiment(
        "bench", store=MemoryStore(max_events=N), events=[NAME], validation="off"
    )
    execute = events.execute
    for _ in range(N):
        execute(NAME, MEASUREMENTS, METADATA)
    exp.stop()
    assert exp.store.count() == N  # type: ignore[attr-defined]


def _reference_capture() -> None:
    handlers: dict[tuple[str, ...], list[Callable[..., None]]] = {}
    sink: list[tuple[Any, ...]] = []
    now = time.time_ns

    def handler(name: tuple[str, ...], m: dict[str, Any], md: dict[str, Any]) -> None:
        sink.append((name, dict(m), dict(md), now()))

    handlers.setdefault(NAME, []).append(handler)

    def execute(name: tuple[str, ...], m: dict[str, Any], md: dict[str, Any]) -> None:
        for h in handlers.get(name, ()):
            h(name, m, md)

    for _ in range(N):
        execute(NAME, MEASUREMENTS, METADATA)
    assert len(sink) == N


CAPTURE = {"crucible": _crucible_capture, "plain-python": _reference_capture}


@pytest.mark.parametrize("library", list(CAPTURE))
def test_execute_into_memory_store(benchmark: Any, library: str) -> None:
    benchmark.group = "telemetry: execute 1e5 events into memory"
    benchmark.pedantic(CAPTURE[library], rounds=5, warmup_rounds=1)
    _rate(benchmark, N)


def _crucible_capture_sqlite() -> None:
    store = SQLiteStore(_fresh())
    exp = start_experiment("bench", store=store, events=[NAME], validation="off")
    execute = events.execute
    for _ in range(N):
        execute(NAME, MEASUREMENTS, METADATA)
    exp.stop()
    store.close()


def _reference_capture_sqlite() -> None:
    conn = sqlite3.connect(_fresh())
    conn.execute(
        "CREATE TABLE events (name TEXT, measurements TEXT, metadata TEXT, wall_time_ns INTEGER)"
    )
    handlers: dict[tuple[str, ...], list[Callable[..., None]]] = {}
    rows: list[tuple[Any, ...]] = []
    now = time.time_ns
    dumps = msgspec.json.encode

    def handler(name: tuple[str, ...], m: dict[str, Any], md: dict[str, Any]) -> None:
        rows.append((".".join(name), dumps(m), dumps(md), now()))

    handlers.setdefault(NAME, []).append(handler)

    def execute(name: tuple[str, ...], m: dict[str, Any], md: dict[str, Any]) -> None:
        for h in handlers.get(name, ()):
            h(name, m, md)

    for _ in range(N):
        execute(NAME, MEASUREMENTS, METADATA)
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()


CAPTURE_SQLITE = {"crucible": _crucible_capture_sqlite, "plain-python": _reference_capture_sqlite}


@pytest.mark.parametrize("library", list(CAPTURE_SQLITE))
def test_execute_into_sqlite(benchmark: Any, library: str) -> None:
    """The default path end to end: captured, enriched, finalised, written and closed. The
    reference dispatches the same way, keeps (name, JSON payloads, time) rows and writes
    them with one ``executemany`` into an unindexed table: no enrichment, no ids, no
    rollups."""
    benchmark.group = "telemetry: execute 1e5 events into SQLite"
    benchmark.pedantic(CAPTURE_SQLITE[library], rounds=3, warmup_rounds=1)
    _rate(benchmark, N)


# --- SQLite ingest ---------------------------------------------------------------------------
#
# The reference is what a user would otherwise write: one row per event, one column per field
# (JSON text for tags, measurements, metadata and derived), a unique event_id and the two
# indexes reads need, filled with one plain executemany and one commit.

_FIELDS: tuple[str, ...] = CapturedEvent.__struct_fields__
_JSON_FIELDS = ("tags", "measurements", "metadata", "derived")
_TEXT = "event_id experiment_id experiment_name condition correlation_id stream_id node_id"
_TEXT += " category model provider error session_id user_id sample_id cohort event_name"
_REAL = ("latency_ms", "cost_usd", "weight")


def _sql_type(field: str) -> str:
    if field == "event_id":
        return "TEXT NOT NULL UNIQUE"
    if field in _TEXT.split() or field in _JSON_FIELDS:
        return "TEXT"
    return "REAL" if field in _REAL else "INTEGER"


_ROW_TABLE = [
    f"CREATE TABLE events ({', '.join(f'{f} {_sql_type(f)}' for f in _FIELDS)})",
    "CREATE INDEX events_by_experiment ON events (experiment_id, wall_time_us, event_id)",
    "CREATE INDEX events_by_name ON events (experiment_id, event_name, wall_time_us)",
]
_INSERT = f"INSERT INTO events ({', '.join(_FIELDS)}) VALUES ({', '.join('?' * len(_FIELDS))})"
_NAME_POS = _FIELDS.index("event_name")
_JSON_POS = tuple(_FIELDS.index(f) for f in _JSON_FIELDS)
_to_json = msgspec.json.Encoder().encode


def _row(event: CapturedEvent) -> list[Any]:
    """The reference's row of an event (columns in field order)."""
    values = list(msgspec.structs.astuple(event))
    values[_NAME_POS] = ".".join(event.event_name)
    for i in _JSON_POS:
        values[i] = _to_json(values[i]).decode()
    return values


def _events(
    n: int = N, *, first: int = 0, stream: str = "bench", latency: Sequence[float] | None = None
) -> list[CapturedEvent]:
    t0 = time.time_ns() // 1000
    return [
        CapturedEvent(
            event_id=f"{stream}-{i:x}",
            event_name=NAME,
            experiment_id="bench-exp",
            experiment_name="bench",
            condition="treatment",
            tags=("bench",),
            stream_id=stream,
            sequence=i,
            wall_time_us=t0 + i * 10,
            monotonic_ns=i * 10_000,
            node_id="node",
            category="custom",
            measurements=MEASUREMENTS,
            metadata=METADATA,
            latency_ms=1.25 + (i % 100) / 10 if latency is None else latency[i],
            cost_usd=0.0005,
            success=i % 50 != 0,
            model="gpt-4o",
            provider="openai",
            tokens_in=120,
            tokens_out=40,
        )
        for i in range(first, first + n)
    ]


EVENTS = _events()
ROWS = [_row(e) for e in EVENTS]


def _fresh() -> Path:
    return _TMP / f"ingest-{next(_files)}.sqlite3"


def _crucible_ingest(path: Path) -> None:
    store = SQLiteStore(path)
    for i in range(0, N, 10_000):
        store.append(EVENTS[i : i + 10_000])
    store.close()


def _plain_insert(path: Path, rows: list[list[Any]]) -> None:
    conn = sqlite3.connect(path)
    for statement in _ROW_TABLE:
        conn.execute(statement)
    conn.commit()
    conn.executemany(_INSERT, rows)
    conn.commit()
    conn.close()


INGEST_ROWS = {
    "crucible": _crucible_ingest,
    "sqlite3-executemany": lambda path: _plain_insert(path, ROWS),
}
INGEST_EVENTS = {
    "crucible": _crucible_ingest,
    "sqlite3-executemany": lambda path: _plain_insert(path, [_row(e) for e in EVENTS]),
}


def _stored(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'segments'").fetchone():
            return int(conn.execute("SELECT sum(n) FROM segments").fetchone()[0])
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


def _ingest(benchmark: Any, target: Callable[[Path], None]) -> None:
    paths: list[Path] = []

    def setup() -> tuple[tuple[Path], dict[str, Any]]:
        paths.append(_fresh())
        return (paths[-1],), {}

    # min of 9 rounds: on the 2 shared cores a single round can take twice as long
    benchmark.pedantic(target, setup=setup, rounds=9, warmup_rounds=1)
    assert _stored(paths[-1]) == N
    for path in paths:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    _rate(benchmark, N)


@pytest.mark.parametrize("library", list(INGEST_ROWS))
def test_sqlite_ingest_vs_prebuilt_rows(benchmark: Any, library: str) -> None:
    """Reference gets its rows ready-made (outside the timing)."""
    benchmark.group = "telemetry: SQLite ingest 1e5 (ref rows prebuilt)"
    _ingest(benchmark, INGEST_ROWS[library])


@pytest.mark.parametrize("library", list(INGEST_EVENTS))
def test_sqlite_ingest_from_events(benchmark: Any, library: str) -> None:
    """Both sides start from the same CapturedEvent objects."""
    benchmark.group = "telemetry: SQLite ingest 1e5 (both from events)"
    _ingest(benchmark, INGEST_EVENTS[library])


# --- PostgreSQL ingest -----------------------------------------------------------------------

PG_DSN = os.environ.get("CRUCIBLE_TEST_POSTGRES_DSN")
_pg_names = iter(range(10**9))


def _pg_store(prefix: str) -> Any:
    from crucible.telemetry.store.postgres import PostgresStore

    assert PG_DSN is not None
    return PostgresStore(PG_DSN, prefix=prefix, timescale=False)


def _crucible_pg(store: Any) -> None:
    for i in range(0, N, 10_000):
        store.append(EVENTS[i : i + 10_000])
    store.flush()


def _plain_copy(target: tuple[Any, str, list[list[Any]]]) -> None:
    conn, table, rows = target
    sql = f"COPY {table} ({', '.join(_FIELDS)}) FROM STDIN (FORMAT BINARY)"
    with conn.cursor() as cur, cur.copy(sql) as copy:
        copy.set_types(_PG_TYPES)
        for row in rows:
            copy.write_row(row)
    conn.commit()


@pytest.mark.skipif(PG_DSN is None, reason="CRUCIBLE_TEST_POSTGRES_DSN is not set")
@pytest.mark.parametrize("library", ["crucible", "psycopg-copy"])
def test_postgres_ingest(benchmark: Any, library: str) -> None:
    benchmark.group = "telemetry: PostgreSQL ingest 1e5"
    made: list[Any] = []
    if library == "crucible":

        def setup() -> tuple[tuple[Any], dict[str, Any]]:
            made.append(_pg_store(f"bench_{os.getpid()}_{next(_pg_names)}"))
            return (made[-1],), {}

        benchmark.pedantic(_crucible_pg, setup=setup, rounds=3, warmup_rounds=0)
        assert made[-1].count() == N
        for store in made:
            store.drop()
            store.close()
    else:
        import psycopg

        from crucible.telemetry.store.postgres import _copy_rows

        assert PG_DSN is not None
        rows = _copy_rows(EVENTS)
        conn = psycopg.connect(PG_DSN)

        def setup_plain() -> tuple[tuple[Any], dict[str, Any]]:
            table = f"bench_plain_{os.getpid()}_{next(_pg_names)}"
            columns = ", ".join(f"{f} {_pg_column(f)}" for f in _FIELDS)
            conn.execute(f"CREATE TABLE {table} ({columns})")
            conn.commit()
            made.append(table)
            return ((conn, table, rows),), {}

        try:
            benchmark.pedantic(_plain_copy, setup=setup_plain, rounds=3, warmup_rounds=0)
            assert conn.execute(f"SELECT count(*) FROM {made[-1]}").fetchone() == (N,)
        finally:
            for table in made:
                conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.commit()
            conn.close()
    _rate(benchmark, N)


def _pg_column(field: str) -> str:
    from crucible.telemetry.store.postgres_sql import COLUMNS

    return COLUMNS[field].replace(" NOT NULL", "")


def _pg_copy_types() -> list[str]:
    from crucible.telemetry.store.postgres_sql import COLUMNS, COPY_TYPES

    return [COPY_TYPES[COLUMNS[f].split()[0]] for f in _FIELDS]


_PG_TYPES = _pg_copy_types() if PG_DSN is not None else []


# --- metrics() over 10**6 stored latencies -----------------------------------------------------

MILLION = 1_000_000
Q = [50, 90, 95, 99]


@pytest.fixture(scope="module")
def million(request: pytest.FixtureRequest) -> Iterator[tuple[SQLiteStore, Path, np.ndarray]]:
    """10**6 events with log-normal latencies, in a SQLiteStore and in the reference's row
    table, filled outside any timing (10**4 in a ``--benchmark-disable`` smoke run)."""
    n = 10_000 if request.config.getoption("benchmark_disable") else MILLION
    latencies = np.random.default_rng(5).lognormal(3.0, 0.8, n)
    lat = latencies.tolist()
    store = SQLiteStore(_fresh())
    store.save_experiment(ExperimentRecord(experiment_id="bench-exp", name="bench"))
    rows_path = _fresh()
    conn = sqlite3.connect(rows_path)
    for statement in _ROW_TABLE:
        conn.execute(statement)
    for k in range(0, n, 50_000):
        events = _events(min(50_000, n - k), first=k, stream="m", latency=lat)
        store.append(events)
        store.flush()
        conn.executemany(_INSERT, [_row(e) for e in events])
    conn.commit()
    conn.close()
    yield store, rows_path, latencies
    store.close()


def _sqlite_percentiles(path: Path) -> np.ndarray:
    conn = sqlite3.connect(path)
    try:
        values = conn.execute(
            "SELECT latency_ms FROM events WHERE experiment_id = ?", ("bench-exp",)
        ).fetchall()
    finally:
        conn.close()
    return np.percentile(np.fromiter((v for (v,) in values), np.float64, len(values)), Q)


def _metrics_bench(
    benchmark: Any, library: str, million: tuple[SQLiteStore, Path, np.ndarray]
) -> None:
    store, rows_path, latencies = million
    want = np.percentile(latencies, Q)
    if library == "crucible":
        got = benchmark.pedantic(lambda: metrics(store, "bench-exp"), rounds=3, warmup_rounds=1)
        assert got.latency is not None
        assert got.latency.count == len(latencies)
        np.testing.assert_allclose(
            [got.latency.p50, got.latency.p90, got.latency.p95, got.latency.p99], want
        )
    elif library == "sqlite3+numpy.percentile":
        got = benchmark.pedantic(_sqlite_percentiles, args=(rows_path,), rounds=3)
        np.testing.assert_allclose(got, want)
    else:
        benchmark.pedantic(np.percentile, args=(latencies, Q), rounds=3)
    _rate(benchmark, len(latencies))


@pytest.mark.parametrize("library", ["crucible", "numpy.percentile"])
def test_metrics_vs_numpy_percentile(
    benchmark: Any, library: str, million: tuple[SQLiteStore, Path, np.ndarray]
) -> None:
    """``metrics()`` of an experiment of 10**6 events in a ``SQLiteStore`` (every block:
    summary, latency percentiles, cost, reliability, tokens, throughput, read from the
    store) vs ``numpy.percentile`` of the latencies already in memory: the floor, no
    storage and no other statistic."""
    benchmark.group = "telemetry: metrics 1e6 stored vs numpy.percentile in memory"
    _metrics_bench(benchmark, library, million)


@pytest.mark.parametrize("library", ["crucible", "sqlite3+numpy.percentile"])
def test_metrics_vs_sqlite_and_numpy(
    benchmark: Any, library: str, million: tuple[SQLiteStore, Path, np.ndarray]
) -> None:
    """The same ``metrics()`` vs what a user would otherwise write: select the latencies
    from the ingest reference's row table and ``numpy.percentile`` them (percentiles
    only)."""
    benchmark.group = "telemetry: metrics 1e6 stored vs sqlite3 + numpy.percentile"
    _metrics_bench(benchmark, library, million)


# --- the bus alone ---------------------------------------------------------------------------


def _bus_loop() -> None:
    execute = events.execute
    for _ in range(N):
        execute(NAME, MEASUREMENTS, METADATA)


@pytest.mark.parametrize("handlers", [0, 1])
def test_execute_dispatch(benchmark: Any, handlers: int) -> None:
    benchmark.group = f"telemetry: bare execute, {handlers} handler(s)"
    if handlers:
        events.attach("bench.noop", NAME, lambda *a: None)
    try:
        benchmark.pedantic(_bus_loop, rounds=5, warmup_rounds=1)
    finally:
        events.detach("bench.noop")
    if benchmark.stats is not None:
        benchmark.extra_info["ns_per_call"] = round(benchmark.stats.stats.min / N * 1e9, 1)
