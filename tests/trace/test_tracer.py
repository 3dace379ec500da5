"""Recording a run: defaults, stages (completed, failed, nested, per thread), sinks, and
the bridge from bus events into trace events."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from crucible import events as bus
from crucible.trace import TRACE_EVENT, JsonlReader, JsonlWriter, Tracer, bridge, check


def test_record_fills_run_defaults() -> None:
    tracer = Tracer("run", experiment_id="exp-9", model="gpt-x")
    e = tracer.record("hypothesis_formed", "h", alternatives=["a"])
    assert (e.experiment_id, e.model, e.stage, e.parent_id) == ("exp-9", "gpt-x", None, None)
    assert e.alternatives == ("a",)
    assert tracer.record("loss_computed", "l", model="other").model == "other"


def test_stages_record_start_completion_and_failure() -> None:
    tracer = Tracer("run")
    with tracer.stage("train", epochs=3) as scope:
        assert tracer.current_stage == scope
        inner = tracer.record("loss_computed", "loss 0.4")
        with tracer.stage("eval") as nested:
            tracer.record("metric_recorded", "acc 0.9")
    assert tracer.current_stage is None
    with pytest.raises(RuntimeError, match="boom"), tracer.stage("deploy"):
        raise RuntimeError("boom")
    types = [e.type for e in tracer.chain.events]
    assert types == [
        "stage_started",
        "loss_computed",
        "stage_started",
        "metric_recorded",
        "stage_completed",
        "stage_completed",
        "stage_started",
        "stage_failed",
    ]
    start = tracer.chain.events[0]
    assert start.metadata == {"epochs": 3}
    assert (inner.stage, inner.parent_id) == ("train", start.id)
    assert nested.started.parent_id == start.id
    done = tracer.chain.events[5]
    assert (done.stage, done.parent_id) == ("train", start.id)
    assert done.latency_ms is not None
    assert done.latency_ms >= 0
    failed = tracer.chain.events[-1]
    assert (failed.reasoning, failed.metadata, failed.confidence) == (
        "boom",
        {"error_type": "RuntimeError"},
        0.0,
    )
    assert check(tracer.chain) == []
    assert tracer.chain.verify().ok


def test_threads_each_see_their_own_stage() -> None:
    tracer = Tracer("threads")
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            for _ in range(20):
                with tracer.stage(name):
                    event = tracer.record("batch_processed", name)
                    assert event.stage == name
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(tracer.chain.events) == 4 * 20 * 3
    assert tracer.chain.verify().ok


def test_sinks_receive_every_event(tmp_path: Path) -> None:
    tracer = Tracer("sinked")
    tracer.sinks.append(JsonlWriter(tmp_path / "t.jsonl", chain=tracer.chain))
    with tracer.stage("s"):
        tracer.record("hypothesis_formed", "h")
    assert JsonlReader(tmp_path / "t.jsonl").load().events == tracer.chain.events


def test_bridge_converts_chosen_bus_events() -> None:
    tracer = Tracer("bridged", experiment_id="exp")
    seen: list[str] = []
    bus.attach("test-bridge-seen", TRACE_EVENT, lambda n, m, md, _: seen.append(md["event_type"]))
    hid = bridge.attach(tracer, [("crucible", "framework", "stage"), ("app", "llm")], prefix=True)
    try:
        with bus.span(("crucible", "framework", "stage"), {"stage_name": "fit"}):
            bus.execute(
                ("app", "llm", "call"),
                {"duration": 2_500_000, "input_tokens": 12, "output_tokens": 3, "cost_usd": 0.1},
                {"model": "m-1", "odd": object()},
            )
        bus.execute(("crucible", "trace", "event", "x"), {}, {})  # never converted
        bus.execute(("other",), {}, {})  # not subscribed
    finally:
        assert bridge.detach(hid)
        bus.detach("test-bridge-seen")
    events = tracer.chain.events
    assert [e.type for e in events] == ["stage_started", "bus:app.llm.call", "stage_completed"]
    call = events[1]
    assert (call.latency_ms, call.tokens_in, call.tokens_out, call.cost_usd, call.model) == (
        2.5,
        12,
        3,
        0.1,
        "m-1",
    )
    assert call.metadata["metadata"]["odd"].startswith("<object")
    assert call.experiment_id == "exp"
    assert events[2].stage == "fit"
    assert events[2].latency_ms is not None
    assert seen == [e.type for e in events]


def test_bridge_converter_and_failures() -> None:
    tracer = Tracer("custom")

    def only_losses(name: Any, m: Any, md: Any) -> Any:
        return None if "loss" not in m else bridge.convert(name, m, md)

    hid = bridge.attach(tracer, ("app", "step"), converter=only_losses)
    try:
        bus.execute(("app", "step"), {"loss": 0.3}, {})
        bus.execute(("app", "step"), {"acc": 0.3}, {})
        with bus.span(("crucible", "framework", "stage"), {"stage_name": "x"}):
            pass
    finally:
        bridge.detach(hid)
    assert [e.type for e in tracer.chain.events] == ["bus:app.step"]
    failed = bridge.convert(
        ("crucible", "framework", "stage", "exception"),
        {"duration": 1_000},
        {"stage_name": "s", "reason": "bad"},
    )
    assert failed is not None
    assert (failed.type, failed.reasoning, failed.confidence) == ("stage_failed", "bad", 0.0)
    assert bridge.convert(("crucible", "trace", "event", "created"), {}, {}) is None
    weird = bridge.convert(("Weird Name!", "x"), {"duration": -1}, {"model": 3})
    assert weird is not None
    assert (weird.type, weird.latency_ms, weird.model) == ("bus:weird_name_.x", None, None)
