"""SQLiteStore on real files: threads, processes, back-pressure, failures and kill -9."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from telemetry_samples import make_event

from crucible.errors import InvalidArgumentError, StorageError
from crucible.telemetry.store.base import CapturedEvent
from crucible.telemetry.store.sqlite import SQLiteStore, default_path


def _stream_events(stream: str, n: int, start: int = 0) -> list[CapturedEvent]:
    return [
        make_event(i, event_id=f"{stream}-{i:x}", stream_id=stream, sequence=i)
        for i in range(start, start + n)
    ]


def _check_streams(path: Path, expected: dict[str, int]) -> None:
    """Every stream has exactly sequences 0..n-1: nothing lost, nothing duplicated."""
    store = SQLiteStore(path)
    try:
        batches = list(store.select(["stream_id", "sequence"]))
    finally:
        store.close()
    seqs: dict[str, list[int]] = defaultdict(list)
    for batch in batches:
        for stream, seq in zip(
            batch["stream_id"].tolist(), batch["sequence"].tolist(), strict=True
        ):
            seqs[stream].append(seq)
    assert {s: sorted(v) for s, v in seqs.items()} == {
        s: list(range(n)) for s, n in expected.items()
    }


def test_default_path_follows_crucible_home(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert default_path() == isolated / "telemetry.sqlite3"
    monkeypatch.delenv("CRUCIBLE_HOME")
    assert default_path() == Path(".crucible") / "telemetry.sqlite3"


def test_file_is_wal_and_reopens_with_its_window(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "t.sqlite3"
    store = SQLiteStore(path, rollup_window_us=250_000)
    store.append(_stream_events("a", 10))
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    again = SQLiteStore(path)
    assert again.rollup_window_us == 250_000
    assert again.count() == 10
    again.close()
    with pytest.raises(InvalidArgumentError, match="250000"):
        SQLiteStore(path, rollup_window_us=1_000_000)


def test_threads_writing_one_store(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "t.sqlite3", batch_rows=700)
    n_threads, per_thread = 6, 3_000

    def write(k: int) -> None:
        events = _stream_events(f"thread{k}", per_thread)
        for i in range(0, per_thread, 250):
            store.append(events[i : i + 250])

    threads = [threading.Thread(target=write, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.flush()
    assert store.count() == n_threads * per_thread
    assert store.inserted == n_threads * per_thread
    store.close()
    _check_streams(tmp_path / "t.sqlite3", {f"thread{k}": per_thread for k in range(n_threads)})


def _process_writer(path: str, stream: str, n: int) -> None:
    store = SQLiteStore(path, batch_rows=500)
    events = _stream_events(stream, n)
    for i in range(0, n, 300):
        store.append(events[i : i + 300])
    store.close()


def test_processes_writing_one_store(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    SQLiteStore(path).close()  # create it once
    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=_process_writer, args=(str(path), f"proc{k}", 4_000)) for k in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    _check_streams(path, {f"proc{k}": 4_000 for k in range(4)})
    store = SQLiteStore(path)
    assert sum(r.count for r in store.rollups("exp-1")) == 16_000  # rollups agree
    store.close()


def test_readers_see_committed_data_while_writing(tmp_path: Path) -> None:
    path = tmp_path / "rw.sqlite3"
    store = SQLiteStore(path, batch_rows=200)
    done = threading.Event()

    def write() -> None:
        for k in range(40):
            store.append(_stream_events("w", 200, start=k * 200))
            time.sleep(0.005)
        store.flush()
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    reader = SQLiteStore(path)  # another handle, as another process would have
    seen = []
    while not done.is_set():
        seen.append(reader.count())
        time.sleep(0.01)
    writer.join()
    seen.append(reader.count())
    assert seen == sorted(seen)
    assert seen[-1] == 8_000
    reader.close()
    store.close()


def test_back_pressure_blocks_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bp.sqlite3"
    store = SQLiteStore(path, max_pending=1_000, batch_rows=500, busy_timeout=60)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # the writer waits for this lock
    finished = threading.Event()

    def produce() -> None:
        for k in range(10):
            store.append(_stream_events("bp", 500, start=k * 500))
        finished.set()

    producer = threading.Thread(target=produce)
    producer.start()
    time.sleep(1.0)
    assert not finished.is_set(), "append should block while the queue is full"
    blocker.execute("ROLLBACK")
    blocker.close()
    producer.join(timeout=120)
    assert finished.is_set()
    store.flush()
    assert store.count() == 5_000
    store.close()
    _check_streams(path, {"bp": 5_000})


def test_write_failures_are_reported_and_retried(tmp_path: Path) -> None:
    path = tmp_path / "fail.sqlite3"
    store = SQLiteStore(path, max_pending=1_000, busy_timeout=0.05, retries=0)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    store.append(_stream_events("f", 600))
    with pytest.raises(StorageError, match="600 events are waiting"):
        store.flush(timeout=5)
    with pytest.raises(StorageError, match="cannot write"):
        store.append(_stream_events("f", 600, start=600))  # full, and failing: say so
    blocker.execute("ROLLBACK")
    blocker.close()
    deadline = time.monotonic() + 60
    while True:  # the writer retries on its own once the lock is gone
        try:
            store.flush(timeout=5)
            break
        except StorageError:
            assert time.monotonic() < deadline
    store.append(_stream_events("f", 600, start=600))
    store.close()
    _check_streams(path, {"f": 1_200})


_CRASH_CHILD = textwrap.dedent(
    """
    import sys
    from telemetry_samples import make_event
    from crucible.telemetry.store.sqlite import SQLiteStore

    store = SQLiteStore(sys.argv[1], batch_rows=2_000)
    seq = 0
    while True:
        batch = [
            make_event(i, event_id=f"crash-{i:x}", stream_id="crash", sequence=i)
            for i in range(seq, seq + 1_000)
        ]
        seq += 1_000
        store.append(batch)
        if seq % 5_000 == 0:
            store.flush()
            print(seq, flush=True)  # every event before this one is durable
    """
)


def test_kill_9_keeps_every_flushed_event(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    child = subprocess.Popen(
        [sys.executable, "-c", _CRASH_CHILD, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    flushed = 0
    try:
        while flushed < 20_000:
            line = child.stdout.readline()
            assert line, child.stderr.read() if child.stderr else "child died"
            flushed = int(line)
    finally:
        child.send_signal(signal.SIGKILL)  # mid-write: it never stops appending
        child.wait()
    assert child.returncode == -signal.SIGKILL
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    store = SQLiteStore(path)  # opens cleanly and keeps working
    seqs = sorted(int(s) for b in store.select(["sequence"]) for s in b["sequence"])
    assert len(seqs) >= flushed
    assert seqs == list(range(len(seqs)))  # a prefix: committed whole, nothing torn
    assert sum(r.count for r in store.rollups("exp-1")) == len(seqs)
    store.append(_stream_events("after", 10))
    store.flush()
    assert store.count() == len(seqs) + 10
    store.close()


def test_forked_child_writes_through_its_own_writer(tmp_path: Path) -> None:
    if not hasattr(os, "fork"):
        pytest.skip("needs fork")
    store = SQLiteStore(tmp_path / "fork.sqlite3")
    store.append(_stream_events("parent", 100))
    ctx = mp.get_context("fork")

    def child() -> None:
        store.append(_stream_events("child", 100))
        store.close()

    p = ctx.Process(target=child)
    p.start()
    p.join(timeout=120)
    assert p.exitcode == 0
    store.flush()
    store.close()
    _check_streams(tmp_path / "fork.sqlite3", {"parent": 100, "child": 100})


def test_rejects_memory_path_and_bad_settings(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError):
        SQLiteStore(":memory:")
    with pytest.raises(InvalidArgumentError):
        SQLiteStore(tmp_path / "x.sqlite3", max_pending=0)
    with pytest.raises(InvalidArgumentError):
        SQLiteStore(tmp_path / "x.sqlite3", synchronous="OFF")  # type: ignore[arg-type]
