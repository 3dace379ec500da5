"""The event bus: attach/detach/execute/span/list_handlers, failure isolation, threads, cost."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import timeit
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from crucible import events
from crucible.errors import InvalidArgumentError, InvalidTypeError

Call = tuple[tuple[str, ...], dict[str, Any], dict[str, Any], Any]


@pytest.fixture(autouse=True)
def clean_bus() -> Iterator[None]:
    before = {h.handler_id for h in events.list_handlers()}
    yield
    for h in events.list_handlers():
        if h.handler_id not in before:
            events.detach(h.handler_id)


def recorder() -> tuple[list[Call], events.Handler]:
    calls: list[Call] = []

    def handler(name: tuple[str, ...], m: dict[str, Any], md: dict[str, Any], cfg: Any) -> None:
        calls.append((name, m, md, cfg))

    return calls, handler


def test_execute_calls_handler_with_telemetry_signature() -> None:
    calls, handler = recorder()
    events.attach("t.rec", ("app", "job", "stop"), handler, config={"k": 1})
    events.execute(("app", "job", "stop"), {"duration": 5}, {"id": "x"})
    events.execute(("app", "job", "start"), {"x": 1}, {})  # not attached
    assert calls == [(("app", "job", "stop"), {"duration": 5}, {"id": "x"}, {"k": 1})]


def test_defaults_and_list_names() -> None:
    calls, handler = recorder()
    events.attach("t.many", [("a", "b"), ("a", "c")], handler)
    events.execute(("a", "b"))
    events.execute(["a", "c"])  # type: ignore[arg-type]  # a list is accepted too
    assert [c[0] for c in calls] == [("a", "b"), ("a", "c")]
    assert calls[0][1] == {}
    assert calls[0][2] == {}


def test_handlers_run_in_attach_order_and_detach() -> None:
    order: list[str] = []
    events.attach("t.first", ("e",), lambda *a: order.append("first"))
    events.attach("t.second", ("e",), lambda *a: order.append("second"))
    events.execute(("e",))
    assert order == ["first", "second"]
    assert events.detach("t.first") is True
    assert events.detach("t.first") is False
    events.execute(("e",))
    assert order == ["first", "second", "second"]


def test_attach_rejects_duplicates_and_bad_names() -> None:
    events.attach("t.dup", ("e",), lambda *a: None)
    with pytest.raises(InvalidArgumentError):
        events.attach("t.dup", ("other",), lambda *a: None)
    with pytest.raises(InvalidTypeError):
        events.attach("t.bad", "not.a.tuple", lambda *a: None)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError):
        events.attach("t.bad", ("e",), "not callable")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        events.attach("t.bad", (), lambda *a: None)  # the empty name needs prefix=True


def test_prefix_handlers() -> None:
    calls, handler = recorder()
    events.attach("t.prefix", ("crucible", "llm"), handler, prefix=True)
    events.execute(("crucible", "llm", "request", "stop"))
    events.execute(("crucible", "train", "epoch", "stop"))
    events.execute(("crucible", "llm"))
    assert [c[0] for c in calls] == [("crucible", "llm", "request", "stop"), ("crucible", "llm")]
    assert events.has_handlers(("crucible", "llm", "x"))
    assert not events.has_handlers(("crucible", "train", "x"))
    events.detach("t.prefix")
    events.execute(("crucible", "llm", "request", "stop"))  # the cached resolution is dropped
    assert len(calls) == 2
    everything, all_handler = recorder()
    events.attach("t.all", (), all_handler, prefix=True)
    events.execute(("anything",))
    assert [c[0] for c in everything] == [("anything",)]


def test_list_handlers_by_prefix() -> None:
    f = lambda *a: None  # noqa: E731
    events.attach("t.l1", ("x", "a", "stop"), f, "cfg")
    events.attach("t.l2", [("x", "b"), ("y", "c")], f)
    found = events.list_handlers(("x",))
    assert [(h.handler_id, h.event_name) for h in found] == [
        ("t.l1", ("x", "a", "stop")),
        ("t.l2", ("x", "b")),
    ]
    assert found[0].config == "cfg"
    assert found[0].function is f
    assert [h.handler_id for h in events.list_handlers(("y",))] == ["t.l2"]


def test_failing_handler_is_detached_and_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    calls, good = recorder()
    failures, on_failure = recorder()
    attempts: list[int] = []

    def bad(*args: Any) -> None:
        attempts.append(1)
        raise RuntimeError("handler bug")

    events.attach("t.bad", [("e",), ("f",)], bad)
    events.attach("t.good", ("e",), good)
    events.attach("t.failures", events.HANDLER_FAILURE, on_failure)
    with caplog.at_level(logging.ERROR, logger="crucible.events"):
        with pytest.warns(events.HandlerDetachedWarning, match="t.bad"):
            events.execute(("e",), {"n": 1})  # the caller sees no exception
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a second report would raise here
            events.execute(("e",), {"n": 2})
            events.execute(("f",), {"n": 3})
    assert attempts == [1]
    assert [c[1]["n"] for c in calls] == [1, 2]  # the other handler kept running
    assert [h.handler_id for h in events.list_handlers()].count("t.bad") == 0
    assert len(failures) == 1
    meta = failures[0][2]
    assert meta["handler_id"] == "t.bad"
    assert meta["kind"] == "RuntimeError"
    assert meta["event_name"] == ("e",)
    assert "handler bug" in meta["stacktrace"]
    assert sum("t.bad" in r.getMessage() for r in caplog.records) == 1


def test_failing_handler_reported_once_under_threads() -> None:
    def bad(*args: Any) -> None:
        time.sleep(0.001)
        raise ValueError("boom")

    events.attach("t.racy", ("race",), bad)
    barrier = threading.Barrier(8)

    def fire() -> None:
        barrier.wait()
        for _ in range(20):
            events.execute(("race",))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threads = [threading.Thread(target=fire) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    reports = [w for w in caught if issubclass(w.category, events.HandlerDetachedWarning)]
    assert len(reports) == 1


def test_attach_detach_while_dispatching_from_threads() -> None:
    counts = [0] * 4
    lock = threading.Lock()

    def counter(name: tuple[str, ...], m: dict[str, Any], md: dict[str, Any], i: int) -> None:
        with lock:
            counts[i] += 1

    stop = threading.Event()
    events.attach("t.steady", ("busy",), counter, 0)

    def emit() -> None:
        while not stop.is_set():
            events.execute(("busy",))

    emitters = [threading.Thread(target=emit) for _ in range(3)]
    for t in emitters:
        t.start()
    for round_ in range(200):
        events.attach(f"t.flap{round_}", ("busy",), counter, 1)
        events.detach(f"t.flap{round_}")
    stop.set()
    for t in emitters:
        t.join()
    before = counts[0]
    events.execute(("busy",))
    assert counts[0] == before + 1  # the steady handler survived all the churn
    assert [h.handler_id for h in events.list_handlers(("busy",))] == ["t.steady"]


def test_span_emits_start_and_stop_with_monotonic_duration() -> None:
    calls, handler = recorder()
    names = [("job", "run", s) for s in ("start", "stop", "exception")]
    events.attach("t.span", names, handler)
    with events.span(("job", "run"), {"who": "me"}) as s:
        time.sleep(0.02)
        s.metadata["result"] = 42
        s.measurements["items"] = 3
    start, stop = calls
    assert start[0] == ("job", "run", "start")
    assert stop[0] == ("job", "run", "stop")
    assert start[2]["who"] == "me"
    assert stop[2]["result"] == 42
    assert start[2]["span_id"] == stop[2]["span_id"]
    assert stop[1]["duration"] >= 20_000_000  # ns
    assert stop[1]["monotonic_time"] - start[1]["monotonic_time"] == stop[1]["duration"]
    assert stop[1]["items"] == 3
    assert abs(start[1]["system_time"] - time.time_ns()) < 10 * 10**9


def test_span_exception_propagates_and_is_reported() -> None:
    calls, handler = recorder()
    events.attach("t.span", [("job", "start"), ("job", "stop"), ("job", "exception")], handler)
    with pytest.raises(KeyError), events.span(("job",)):
        raise KeyError("missing")
    assert [c[0][-1] for c in calls] == ["start", "exception"]
    meta = calls[1][2]
    assert meta["kind"] == "KeyError"
    assert "missing" in meta["reason"]
    assert "KeyError" in meta["stacktrace"]
    assert calls[1][1]["duration"] >= 0


def test_span_decorator_sync_and_async_gets_fresh_span_per_call() -> None:
    calls, handler = recorder()
    events.attach("t.dec", [("f", "start"), ("f", "stop"), ("g", "start"), ("g", "stop")], handler)

    @events.span(("f",), {"fn": "f"})
    def f(x: int) -> int:
        return x * 2

    @events.span(("g",))
    async def g(x: int) -> int:
        await asyncio.sleep(0.01)
        return x + 1

    assert f(2) == 4
    assert f(3) == 6
    assert asyncio.run(g(1)) == 2
    assert [c[0] for c in calls] == [
        ("f", "start"),
        ("f", "stop"),
        ("f", "start"),
        ("f", "stop"),
        ("g", "start"),
        ("g", "stop"),
    ]
    assert calls[0][2]["span_id"] != calls[2][2]["span_id"]
    assert calls[5][1]["duration"] >= 10_000_000  # timed until the coroutine completed
    assert f.__name__ == "f"


def test_handlers_see_caller_values_unchanged() -> None:
    calls, handler = recorder()
    events.attach("t.vals", ("v",), handler)
    m = {"a": 1}
    events.execute(("v",), m)
    assert calls[0][1] is m  # no copy on the bus: handlers must not mutate


def _per_call_ns(stmt: str, ns: dict[str, Any], number: int = 200_000) -> float:
    return min(timeit.repeat(stmt, globals=ns, number=number, repeat=5)) / number * 1e9


def test_dispatch_without_handlers_is_well_under_a_microsecond() -> None:
    name = ("nobody", "listens")
    cost = _per_call_ns("execute(name)", {"execute": events.execute, "name": name})
    assert cost < 1000, f"execute without handlers took {cost:.0f} ns"
    events.attach("t.other", ("prefix", "only"), lambda *a: None, prefix=True)
    cost = _per_call_ns("execute(name)", {"execute": events.execute, "name": name})
    assert cost < 1000, f"execute with unrelated prefix handlers took {cost:.0f} ns"
