"""Exports: CSV, JSONL and Parquet written from real stores, streamed, and read back."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telemetry_samples import make_event

from crucible.errors import ConfigurationError, InvalidArgumentError, NotFoundError
from crucible.telemetry import (
    CapturedEvent,
    ExperimentRecord,
    MemoryStore,
    SQLiteStore,
    export,
    read_export,
)
from crucible.telemetry.export import format_of

FORMATS = ["csv", "jsonl", "parquet"]


def _varied(n: int) -> list[CapturedEvent]:
    out = []
    for i in range(n):
        extra: dict[str, Any] = {}
        if i % 5 == 0:
            extra = {"latency_ms": None, "success": None, "model": None, "cost_usd": None}
        if i % 7 == 0:
            extra["metadata"] = {
                "text": 'quotes " and, commas\nnewline ü 😀',
                "nested": {"a": [1, 2.5]},
            }
            extra["correlation_id"] = f"corr-{i}"
        if i % 11 == 0:
            extra["latency_ms"] = 0.1 + 1e-17 * i  # shortest round-trip floats
            extra["derived"] = {"epoch": i}
            extra["tags"] = ()
        out.append(make_event(i, **extra))
    return out


def _all(batches: Any) -> list[CapturedEvent]:
    return [e for batch in batches for e in batch]


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Any:
    store = SQLiteStore(tmp_path / "src.sqlite3")
    store.save_experiment(ExperimentRecord(experiment_id="exp-1", name="exp", started_us=1))
    store.append(_varied(2_500))
    store.append([make_event(i, event_id=f"o-{i}", experiment_id="other") for i in range(10)])
    store.flush()
    yield store
    store.close()


@pytest.mark.parametrize("fmt", FORMATS)
def test_roundtrip_from_sqlite(sqlite_store: SQLiteStore, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"out.{fmt}"
    progress: list[int] = []
    written = export(sqlite_store, "exp", path, batch_size=1_000, progress=progress.append)
    assert written == 2_500
    assert progress == [1_000, 2_000, 2_500]
    stored = _all(sqlite_store.query(experiment_id="exp-1"))
    back = _all(read_export(path, batch_size=700))
    assert back == stored
    assert [len(b) for b in read_export(path, batch_size=700)] == [700, 700, 700, 400]


@pytest.mark.parametrize("fmt", FORMATS)
def test_filters_and_explicit_format(sqlite_store: SQLiteStore, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "out.data"
    stop = ("crucible", "llm", "request", "stop")
    n = export(sqlite_store, "exp-1", path, format=fmt, event_name=stop)  # type: ignore[arg-type]
    assert n == sqlite_store.count(experiment_id="exp-1", event_name=stop)
    back = _all(read_export(path, format=fmt))  # type: ignore[arg-type]
    assert {e.event_name for e in back} == {stop}


def test_unknown_experiment_and_format(sqlite_store: SQLiteStore, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        export(sqlite_store, "missing", tmp_path / "x.csv")
    assert export(sqlite_store, "other", tmp_path / "o.csv") == 10  # events without a record
    with pytest.raises(InvalidArgumentError, match="format"):
        format_of(tmp_path / "x.txt")
    assert format_of("a/b.NDJSON") == "jsonl"


def test_failed_export_leaves_no_file(sqlite_store: SQLiteStore, tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"

    def explode(n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export(sqlite_store, "exp", path, batch_size=100, progress=explode)
    assert list(tmp_path.glob("*.jsonl*")) == []
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_parquet_without_pyarrow_names_the_extra(
    sqlite_store: SQLiteStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ConfigurationError, match=r"crucible\[parquet\]"):
        export(sqlite_store, "exp", tmp_path / "x.parquet")
    assert not (tmp_path / "x.parquet").exists()


def test_reading_foreign_files_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InvalidArgumentError, match="not a crucible"):
        _all(read_export(tmp_path / "a.csv"))
    (tmp_path / "b.jsonl").write_text('{"event_id": 1}\n')
    with pytest.raises(InvalidArgumentError):
        _all(read_export(tmp_path / "b.jsonl"))


def _peak(fn: Any) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_export_streams_in_bounded_memory(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "big.sqlite3")
    n = 8_000
    store.append([make_event(i, metadata={"pad": "x" * 400}) for i in range(n)])
    store.flush()
    everything = _peak(lambda: _all(store.query(batch_size=n)))
    for fmt in FORMATS:
        path = tmp_path / f"big.{fmt}"
        t0 = 1_700_000_000_000_000  # warm up on 5 events: lazy imports are not counted
        assert export(store, "exp-1", path, until_us=t0 + 5_000) == 5
        peak = _peak(lambda: export(store, "exp-1", path, batch_size=400))  # noqa: B023
        assert sum(len(b) for b in read_export(path)) == n
        # holding every event at once takes `everything`; batches of 400 a small part of it
        assert peak < everything / 4, f"{fmt}: {peak / 2**20:.1f} of {everything / 2**20:.1f} MiB"
    store.close()


# --- round trips of arbitrary content (the readers parse what the writers made) ----------------

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
_scalar = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
_payload = st.dictionaries(
    _text, st.recursive(_scalar, lambda x: st.lists(x, max_size=3), max_leaves=5), max_size=4
)
_part = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)
_finite = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def _events(draw: st.DrawFn) -> CapturedEvent:
    i = draw(st.integers(0, 10**6))
    return CapturedEvent(
        event_id=f"e-{i}-{draw(st.integers(0, 10**9))}",
        event_name=tuple(draw(st.lists(_part, min_size=1, max_size=4))),
        experiment_id="exp-1",
        experiment_name=draw(_text),
        condition=draw(st.none() | _text),
        tags=tuple(draw(st.lists(_text, max_size=3))),
        correlation_id=draw(st.none() | _text),
        stream_id=draw(_text),
        sequence=i,
        wall_time_us=draw(st.integers(0, 2**62)),
        monotonic_ns=draw(st.integers(0, 2**62)),
        node_id=draw(_text),
        category=draw(_text),
        measurements=draw(_payload),
        metadata=draw(_payload),
        latency_ms=draw(st.none() | _finite),
        cost_usd=draw(st.none() | _finite),
        success=draw(st.none() | st.booleans()),
        model=draw(st.none() | _text),
        tokens_in=draw(st.none() | st.integers(0, 2**62)),
        weight=draw(_finite),
        derived=draw(_payload),
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(_events(), min_size=1, max_size=20, unique_by=lambda e: e.event_id))
def test_any_events_roundtrip_every_format(tmp_path: Path, evs: list[CapturedEvent]) -> None:
    store = MemoryStore()
    store.append(evs)
    stored = _all(store.query(experiment_id="exp-1"))
    for fmt in FORMATS:
        path = tmp_path / f"h.{fmt}"
        export(store, "exp-1", path)
        back = _all(read_export(path))
        assert [msgspec.structs.asdict(e) for e in back] == [
            msgspec.structs.asdict(e) for e in stored
        ], fmt
