"""Experiments: capture, enrichment, context propagation, sampling, validation, lifecycle."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from crucible import events
from crucible.errors import InvalidArgumentError, StorageError
from crucible.telemetry import (
    Candidate,
    CapturedEvent,
    MemoryStore,
    SQLiteStore,
    TelemetryValidationWarning,
    bind_context,
    catalog,
    correlation,
    correlation_id,
    default_path,
    read_export,
    start_experiment,
)
from crucible.telemetry.experiment import Experiment

LLM_STOP = ("crucible", "llm", "request", "stop")


def _events(exp: Experiment) -> list[CapturedEvent]:
    exp.flush()
    return list(exp.events())


def _assert_streams_complete(captured: list[CapturedEvent]) -> dict[str, int]:
    by_stream: dict[str, list[int]] = defaultdict(list)
    for e in captured:
        by_stream[e.stream_id].append(e.sequence)
        assert e.event_id == f"{e.stream_id}-{e.sequence:x}"
    for seqs in by_stream.values():
        assert sorted(seqs) == list(range(len(seqs)))
    return {s: len(v) for s, v in by_stream.items()}


def test_capture_enriches_events() -> None:
    exp = start_experiment(
        "enrich",
        hypothesis="h",
        condition="treatment",
        tags=["a", "b"],
        sample_size=10,
        metadata={"owner": "me"},
        store="memory",
    )
    before = time.time_ns() // 1000
    catalog.emit_llm_request_stop(
        model="gpt-4o",
        provider="openai",
        duration=2_500_000,
        input_tokens=1_000,
        output_tokens=200,
        session_id="s1",
        user_id="u1",
        sample_id="x1",
        cohort="c1",
    )
    catalog.emit_epoch_stop(epoch=3, loss=0.5, accuracy=0.9, run_id="r")
    events.execute(
        ("crucible", "llm", "request", "exception"),
        {"duration": 10},
        {"kind": "Timeout", "model": "m"},
    )
    events.execute(("myapp", "ignored"), {}, {})  # outside the default selection
    llm, epoch, failure = _events(exp)
    assert llm.event_name == LLM_STOP
    assert llm.experiment_id == exp.id
    assert llm.experiment_name == "enrich"
    assert llm.condition == "treatment"
    assert llm.tags == ("a", "b")
    assert llm.node_id == "test-node"
    assert llm.category == "llm"
    assert before <= llm.wall_time_us <= time.time_ns() // 1000
    assert llm.monotonic_ns < epoch.monotonic_ns < failure.monotonic_ns
    assert (llm.sequence, epoch.sequence, failure.sequence) == (0, 1, 2)
    assert llm.latency_ms == 2.5
    assert llm.success is True
    assert llm.model == "gpt-4o"
    assert llm.provider == "openai"
    assert (llm.tokens_in, llm.tokens_out) == (1_000, 200)
    assert llm.cost_usd is not None
    assert llm.cost_usd > 0
    assert (llm.session_id, llm.user_id, llm.sample_id, llm.cohort) == ("s1", "u1", "x1", "c1")
    assert llm.weight == 1.0
    assert epoch.derived == {"run_id": "r", "epoch": 3, "loss": 0.5, "accuracy": 0.9}
    assert epoch.success is True
    assert failure.success is False
    assert failure.error == "Timeout"
    record = exp.stop()
    assert record.status == "stopped"
    assert record.stopped_us is not None
    assert record.hypothesis == "h"
    assert record.sample_size == 10
    assert exp.store.experiment(exp.id) == record


def test_measurements_are_copied_at_capture() -> None:
    exp = start_experiment("copy", store="memory", events=[("app", "step")])
    m = {"loss": 1.0}
    events.execute(("app", "step"), m, {})
    m["loss"] = 2.0  # a caller reusing its dict must not rewrite history
    (e,) = _events(exp)
    assert e.measurements == {"loss": 1.0}


def test_event_selection() -> None:
    exact = start_experiment("exact", store="memory", events=[("app", "a")])
    prefix = start_experiment("prefix", store="memory", events=[("app", "*")])
    everything = start_experiment("all", store="memory", events="all")
    for name in [("app", "a"), ("app", "b", "c"), ("other",), ("crucible", "x")]:
        events.execute(name, {}, {})
    assert [e.event_name for e in _events(exact)] == [("app", "a")]
    assert [e.event_name for e in _events(prefix)] == [("app", "a"), ("app", "b", "c")]
    assert len(_events(everything)) == 4
    with pytest.raises(InvalidArgumentError):
        start_experiment("bad", store="memory", events="app")  # type: ignore[arg-type]


def test_events_reach_the_store_without_an_explicit_flush() -> None:
    exp = start_experiment("ticker", events=[("app", "e")], flush_interval=0.1)
    for i in range(10):
        events.execute(("app", "e"), {"i": i}, {})
    store = exp.store
    assert isinstance(store, SQLiteStore)
    assert store.path == default_path().resolve()
    reader = SQLiteStore(store.path)
    deadline = time.monotonic() + 30
    while reader.count(experiment_id=exp.id) < 10:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    reader.close()


def test_correlation_ids_propagate_to_bound_threads_and_tasks() -> None:
    exp = start_experiment("corr", store="memory", events=[("app", "*")])

    def work(tag: str) -> str | None:
        events.execute(("app", "thread"), {}, {"tag": tag})
        return correlation_id()

    async def task(tag: str) -> None:
        await asyncio.sleep(0)
        events.execute(("app", "task"), {}, {"tag": tag})

    async def main() -> None:
        with correlation("async-1"):
            await asyncio.gather(task("t1"), task("t2"))
        await task("none")

    with correlation("req-42") as cid:
        assert cid == "req-42"
        with ThreadPoolExecutor(4) as pool:
            bound = list(pool.map(bind_context(work), ["b1", "b2", "b3"]))
            unbound = pool.submit(work, "u").result()
        events.execute(("app", "here"), {}, {})
    assert bound == ["req-42"] * 3
    assert unbound is None
    assert correlation_id() is None
    asyncio.run(main())
    got = {e.metadata.get("tag", e.event_name[-1]): e.correlation_id for e in _events(exp)}
    assert got == {
        "b1": "req-42",
        "b2": "req-42",
        "b3": "req-42",
        "u": None,
        "here": "req-42",
        "t1": "async-1",
        "t2": "async-1",
        "none": None,
    }
    with correlation() as fresh:
        assert len(fresh) == 32
        assert correlation_id() == fresh


def test_scoped_experiments_run_side_by_side() -> None:
    control = start_experiment("ab", condition="control", store="memory", scoped=True)
    treatment = start_experiment("ab", condition="treatment", store="memory", scoped=True)

    def arm(exp: Experiment, n: int) -> None:
        with exp.activate():
            for i in range(n):
                catalog.emit_llm_request_stop(model="m", duration=i + 1)

    threads = [
        threading.Thread(target=bind_context(arm), args=(control, 30)),
        threading.Thread(target=bind_context(arm), args=(treatment, 20)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    catalog.emit_llm_request_stop(model="m", duration=1)  # in neither scope
    assert {e.condition for e in _events(control)} == {"control"}
    assert len(_events(control)) == 30
    assert len(_events(treatment)) == 20


def test_sampler_hook_records_weights_and_counts_drops() -> None:
    seen: list[Candidate] = []

    def every_other(c: Candidate) -> float | None:
        seen.append(c)
        return 2.0 if c.measurements["i"] % 2 == 0 else None

    exp = start_experiment(
        "sampled", store="memory", events=[("app", "e")], sampling=every_other, condition="c"
    )
    for i in range(100):
        events.execute(("app", "e"), {"i": i}, {"k": "v"})
    captured = _events(exp)
    assert [e.measurements["i"] for e in captured] == list(range(0, 100, 2))
    assert {e.weight for e in captured} == {2.0}
    assert [e.sequence for e in captured] == list(range(50))  # no gaps for dropped events
    assert exp.stats.sampled_out == 50
    assert exp.stats.captured == 50
    c = seen[0]
    assert c.event_name == ("app", "e")
    assert c.metadata == {"k": "v"}
    assert c.experiment_id == exp.id
    assert c.condition == "c"
    assert c.wall_time_us > 0
    assert c.monotonic_ns > 0


def test_library_sampler_plugs_in() -> None:
    from crucible.telemetry.sampling import UniformSampler

    def run(seed: int) -> list[int]:
        exp = start_experiment(
            "uniform",
            store="memory",
            events=[("app", "e")],
            sampling=UniformSampler(0.25, seed=seed),
        )
        for i in range(2_000):
            events.execute(("app", "e"), {"i": i}, {})
        kept = _events(exp)
        assert {e.weight for e in kept} == {4.0}
        assert len(kept) + exp.stats.sampled_out == 2_000
        exp.stop()
        return [e.measurements["i"] for e in kept]

    first = run(7)
    assert 350 < len(first) < 650
    assert run(7) == first  # deterministic for a seed


def test_validation_modes() -> None:
    bad = (("crucible", "train", "epoch", "stop"), {"loss": "high"}, {"epoch": 1})
    good = (("crucible", "train", "epoch", "stop"), {"loss": 0.1}, {"epoch": 2})
    strict = start_experiment("strict", store="memory", validation="strict")
    warn = start_experiment("warn", store="memory", validation="warn")
    off = start_experiment("off", store="memory", validation="off")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            events.execute(*bad)
        events.execute(*good)
        for exp in (strict, warn, off):
            exp.flush()
    messages = [str(w.message) for w in caught if w.category is TelemetryValidationWarning]
    assert len(messages) == 2  # once per experiment and event name; "off" says nothing
    assert any("rejected" in m and "/measurements/loss" in m for m in messages)
    assert any("stored anyway" in m for m in messages)
    assert [e.metadata["epoch"] for e in _events(strict)] == [2]
    assert strict.stats.rejected == 3
    assert [e.sequence for e in _events(strict)] == [0]
    assert len(_events(warn)) == 4
    assert warn.stats.invalid == 3
    assert len(_events(off)) == 4
    with pytest.raises(InvalidArgumentError):
        start_experiment("x", store="memory", validation="loud")  # type: ignore[arg-type]


def test_store_failure_never_reaches_the_emitter() -> None:
    broken = MemoryStore()
    exp = start_experiment("broken", store=broken, events=[("app", "e")], batch_size=10)
    broken.close()  # every append now fails

    def emit() -> None:
        for i in range(25):
            events.execute(("app", "e"), {"i": i}, {})  # no exception here

    with pytest.warns(RuntimeWarning, match="telemetry store failed"):
        emit()
    handler_ids = [h.handler_id for h in events.list_handlers()]
    assert any(h.startswith(f"crucible.telemetry.experiment.{exp.id}") for h in handler_ids)
    with pytest.raises(StorageError, match="25 events could not be stored"):
        exp.flush()
    assert exp.stats.unsaved == 25


def test_many_threads_one_experiment_nothing_lost() -> None:
    exp = start_experiment("threads", events=[("app", "e")], batch_size=64)
    n_threads, per = 8, 2_000

    def emit(k: int) -> None:
        for i in range(per):
            events.execute(("app", "e"), {"k": k, "i": i}, {})

    threads = [threading.Thread(target=emit, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    captured = _events(exp)
    assert len(captured) == n_threads * per
    assert _assert_streams_complete(captured) == {exp.stream_id: n_threads * per}
    pairs = {(e.measurements["k"], e.measurements["i"]) for e in captured}
    assert len(pairs) == n_threads * per


def _spawned_worker(path: str, experiment_id: str, n: int) -> None:
    exp = start_experiment(
        "multi", store=path, experiment_id=experiment_id, events=[("app", "e")], batch_size=100
    )
    for i in range(n):
        events.execute(("app", "e"), {"i": i, "pid": os.getpid()}, {})
    exp.stop()


def test_processes_capture_into_one_experiment(tmp_path: Path) -> None:
    path = str(tmp_path / "multi.sqlite3")
    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=_spawned_worker, args=(path, "shared-exp", 1_500)) for _ in range(3)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    store = SQLiteStore(path)
    captured = [e for b in store.query(experiment_id="shared-exp") for e in b]
    store.close()
    assert sorted(_assert_streams_complete(captured).values()) == [1_500] * 3
    assert len({e.measurements["pid"] for e in captured}) == 3


def test_forked_child_continues_on_a_new_stream(tmp_path: Path) -> None:
    if not hasattr(os, "fork"):
        pytest.skip("needs fork")
    exp = start_experiment("fork", store=tmp_path / "f.sqlite3", events=[("app", "e")])
    for i in range(50):
        events.execute(("app", "e"), {"who": "parent-before", "i": i}, {})

    def child() -> None:
        for i in range(70):
            events.execute(("app", "e"), {"who": "child", "i": i}, {})
        exp.flush()

    p = mp.get_context("fork").Process(target=child)
    p.start()
    p.join(timeout=120)
    assert p.exitcode == 0
    for i in range(30):
        events.execute(("app", "e"), {"who": "parent-after", "i": i}, {})
    captured = _events(exp)
    counts = _assert_streams_complete(captured)
    assert sorted(counts.values()) == [70, 80]
    assert sum(e.measurements["who"] == "child" for e in captured) == 70


def _emit_and_return(n: int) -> None:
    for i in range(n):
        events.execute(("app", "e"), {"i": i}, {})  # no flush: the child just returns


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_children_flush_when_they_end(tmp_path: Path, method: str) -> None:
    if method not in mp.get_all_start_methods():
        pytest.skip(f"no {method}")
    path = tmp_path / "children.sqlite3"
    exp = start_experiment(
        "children", store=path, events=[("app", "e")], flush_interval=3600, batch_size=10_000
    )
    if method == "fork":
        p = mp.get_context("fork").Process(target=_emit_and_return, args=(321,))
    else:  # a spawned child has no experiment of its own unless it starts one
        p = mp.get_context("spawn").Process(target=_spawned_worker, args=(str(path), exp.id, 321))
    p.start()
    p.join(timeout=120)
    assert p.exitcode == 0
    exp.flush()
    assert exp.count() == 321


def test_flush_at_exit_without_stop(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        from crucible import events
        from crucible.telemetry import start_experiment
        exp = start_experiment("atexit", experiment_id="atexit-exp", events=[("app", "e")],
                               flush_interval=3600, batch_size=10_000)
        for i in range(777):
            events.execute(("app", "e"), {"i": i}, {})
        # no flush, no stop: the interpreter exits here
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, env=os.environ.copy())
    store = SQLiteStore(default_path())
    assert store.count(experiment_id="atexit-exp") == 777
    assert store.experiment("atexit-exp").status == "running"  # it was never stopped
    store.close()


def test_stop_detaches_and_context_manager_stops() -> None:
    with start_experiment("ctx", store="memory", events=[("app", "e")]) as exp:
        events.execute(("app", "e"), {}, {})
        assert exp.running
    assert not exp.running
    events.execute(("app", "e"), {}, {})
    assert exp.count() == 1
    assert exp.stop() is exp.record  # idempotent
    assert not [h for h in events.list_handlers() if exp.id in h.handler_id]


def test_archive_to_file_and_to_another_store(tmp_path: Path) -> None:
    exp = start_experiment("arch", events=[("app", "e")])
    for i in range(120):
        events.execute(("app", "e"), {"i": i}, {})
    record = exp.archive(tmp_path / "arch.jsonl")
    assert record.status == "archived"
    assert record.archive_path == str((tmp_path / "arch.jsonl").resolve())
    assert exp.store.experiment(exp.id) == record
    back = [e for b in read_export(tmp_path / "arch.jsonl") for e in b]
    assert back == list(exp.events())
    other = MemoryStore()
    from crucible.telemetry import archive

    again = archive(exp.store, exp.id, to=other)
    assert other.count(experiment_id=exp.id) == 120
    assert other.experiment(exp.id).status == "archived"
    assert again.archive_path is not None
    running = start_experiment("busy", store="memory")
    with pytest.raises(InvalidArgumentError, match="running"):
        archive(running.store, running.id, to=tmp_path / "x.jsonl")


@pytest.mark.skipif(
    not os.environ.get("CRUCIBLE_TEST_POSTGRES_DSN"),
    reason="CRUCIBLE_TEST_POSTGRES_DSN is not set (tools/start_postgres.sh)",
)
def test_archive_to_postgres() -> None:
    import psycopg

    from crucible.telemetry import archive
    from crucible.telemetry.store.postgres import PostgresStore

    dsn = os.environ["CRUCIBLE_TEST_POSTGRES_DSN"]
    schema = f"t1_archive_{os.getpid()}"
    exp = start_experiment("to-pg", events=[("app", "e")])
    for i in range(500):
        events.execute(("app", "e"), {"i": i, "latency_ms": i / 10}, {})
    exp.stop()
    target = PostgresStore(dsn, schema=schema)
    try:
        record = archive(exp.store, exp.id, to=target)
        assert record.status == "archived"
        copied = [e for b in target.query(experiment_id=exp.id) for e in b]
        assert copied == list(exp.events())
        assert target.experiment(exp.id).status == "archived"
        assert sum(r.count for r in target.rollups(exp.id)) == 500
    finally:
        target.close()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_start_experiment_checks_arguments() -> None:
    with pytest.raises(InvalidArgumentError):
        start_experiment("", store="memory")
    with pytest.raises(InvalidArgumentError):
        start_experiment("x", store="memory", batch_size=0)
    with pytest.raises(InvalidArgumentError):
        start_experiment("x", store="memory", sampling="uniform")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        start_experiment("x", store=42)  # type: ignore[arg-type]
