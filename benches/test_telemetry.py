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
  ``SQLiteStore`` and closed (row conversion, indexes, rollups and histograms, WAL commit).
  Reference: plain ``sqlite3`` ``executemany`` of the same rows into a fresh file with the
  same table and indexes, default settings, one commit — once with the rows converted
  outside the timing, once converting the same events inside it.
* ``execute`` with no handler attached, and with one no-op handler (ns per call).

Events per second are printed in the summary and stored in ``extra_info``.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crucible import events
from crucible.telemetry import CapturedEvent, MemoryStore, SQLiteStore, start_experiment
from crucible.telemetry.store import sqlite as sqlite_store

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


# --- SQLite ingest ---------------------------------------------------------------------------


def _events() -> list[CapturedEvent]:
    t0 = time.time_ns() // 1000
    return [
        CapturedEvent(
            event_id=f"bench-{i:x}",
            event_name=NAME,
            experiment_id="bench-exp",
            experiment_name="bench",
            condition="treatment",
            tags=("bench",),
            stream_id="bench",
            sequence=i,
            wall_time_us=t0 + i * 10,
            monotonic_ns=i * 10_000,
            node_id="node",
            category="custom",
            measurements=MEASUREMENTS,
            metadata=METADATA,
            latency_ms=1.25 + (i % 100) / 10,
            cost_usd=0.0005,
            success=i % 50 != 0,
            model="gpt-4o",
            provider="openai",
            tokens_in=120,
            tokens_out=40,
        )
        for i in range(N)
    ]


EVENTS = _events()
ROWS = [sqlite_store._row(e) for e in EVENTS]


def _fresh() -> Path:
    return _TMP / f"ingest-{next(_files)}.sqlite3"


def _crucible_ingest(path: Path) -> None:
    store = SQLiteStore(path)
    for i in range(0, N, 10_000):
        store.append(EVENTS[i : i + 10_000])
    store.close()


def _plain_insert(path: Path, rows: list[list[Any]]) -> None:
    conn = sqlite3.connect(path)
    for statement in sqlite_store._SCHEMA:
        if "events" in statement.split("(")[0]:
            conn.execute(statement)
    conn.commit()
    conn.executemany(
        f"INSERT INTO events ({sqlite_store._COLS}) VALUES ({', '.join('?' * len(rows[0]))})",
        rows,
    )
    conn.commit()
    conn.close()


INGEST_ROWS = {
    "crucible": _crucible_ingest,
    "sqlite3-executemany": lambda path: _plain_insert(path, ROWS),
}
INGEST_EVENTS = {
    "crucible": _crucible_ingest,
    "sqlite3-executemany": lambda path: _plain_insert(path, [sqlite_store._row(e) for e in EVENTS]),
}


def _ingest(benchmark: Any, target: Callable[[Path], None]) -> None:
    paths: list[Path] = []

    def setup() -> tuple[tuple[Path], dict[str, Any]]:
        paths.append(_fresh())
        return (paths[-1],), {}

    benchmark.pedantic(target, setup=setup, rounds=5, warmup_rounds=1)
    conn = sqlite3.connect(paths[-1])
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == N
    conn.close()
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
