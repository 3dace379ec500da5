"""Payload capture by shape: what is stored equals a shallow copy taken at emit time.

The capture buffer keeps each payload as a shared key sequence (a shape) plus its values
instead of copying it into a new dict. Every test here runs a reference handler on the bus
beside the experiment that takes ``dict(measurements)``/``dict(metadata)`` when the event is
emitted (what capture did before) and compares the stored events' payloads with it: the
same items in the same order, as plain dicts.
"""

from __future__ import annotations

import random
import threading
import time
import types
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from crucible import _core, events
from crucible.telemetry import MemoryStore, start_experiment
from crucible.telemetry.context import CORRELATION
from crucible.telemetry.experiment import Experiment, TelemetryValidationWarning

Payload = list[tuple[Any, Any]]
Snapshot = tuple[tuple[str, ...], Payload, Payload]


class Reference:
    """A bus handler that snapshots payloads the way capture used to (shallow copies)."""

    def __init__(self) -> None:
        self.seen: list[Snapshot] = []
        self._lock = threading.Lock()

    def __call__(self, name: tuple[str, ...], m: Any, md: Any, _config: Any) -> None:
        snap = (name, list(dict(m).items()), list(dict(md).items()))
        with self._lock:
            self.seen.append(snap)


@pytest.fixture
def reference() -> Iterator[Reference]:
    ref = Reference()
    events.attach("shapes-reference", [()], ref, None, prefix=True)
    yield ref
    events.detach("shapes-reference")


def _start(batch_size: int = 1024, **kw: Any) -> Experiment:
    return start_experiment(
        "shapes", store=MemoryStore(), events="all", batch_size=batch_size, **kw
    )


def _stored(exp: Experiment) -> list[Snapshot]:
    out = []
    for e in sorted(exp.events(), key=lambda e: e.sequence):
        assert type(e.measurements) is dict
        assert type(e.metadata) is dict
        out.append((e.event_name, list(e.measurements.items()), list(e.metadata.items())))
    return out


def _same(got: list[Snapshot], want: list[Snapshot]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g == w
        # equal *and* the same types: 1 == 1.0 == True must not hide a wrong value
        assert [type(v) for _, v in g[1] + g[2]] == [type(v) for _, v in w[1] + w[2]]


@pytest.mark.parametrize("batch_size", [1, 3, 1024])
def test_payloads_mutated_after_execute_keep_their_values(
    reference: Reference, batch_size: int
) -> None:
    exp = _start(batch_size)
    m: dict[str, Any] = {"duration": 1, "input_tokens": 2}
    md: dict[str, Any] = {"model": "gpt-4o"}
    for i in range(20):
        events.execute(("app", "step"), m, md)
        m["duration"] = i * 10  # a new value for the same key
        if i % 3 == 0:
            m[f"extra{i}"] = [i]  # a new key: a new shape
        if i % 5 == 0 and "input_tokens" in m:
            del m["input_tokens"]
        if i % 4 == 0:
            md = dict(reversed(list(md.items()))) | {"provider": "openai"}
        md["model"] = "claude" if i % 2 else "gpt-4o"
    exp.stop()
    _same(_stored(exp), reference.seen)


def test_keys_in_different_orders_keep_their_order(reference: Reference) -> None:
    exp = _start(batch_size=4)
    orders = [("a", "b", "c"), ("c", "b", "a"), ("b", "a", "c"), ("a", "b", "c")]
    for rep in range(6):
        for keys in orders:
            events.execute(("app", "order"), {k: ord(k) + rep for k in keys}, {})
    exp.stop()
    _same(_stored(exp), reference.seen)
    assert [k for k, _ in _stored(exp)[1][1]] == ["c", "b", "a"]


class Key(str):
    """A str subclass: matched by identity only, never by value."""


def test_non_str_and_equal_but_distinct_keys(reference: Reference) -> None:
    exp = _start(batch_size=5, validation="off")
    runtime = "".join(["mod", "el"])  # equal to "model", another object
    assert runtime == "model"
    assert runtime is not "model"  # noqa: F632
    payloads: list[tuple[dict[Any, Any], dict[Any, Any]]] = [
        ({1: "one", (2, 3): "pair", None: 0, 2.5: "f"}, {frozenset({1}): 1}),
        ({1: "one", (2, 3): "pair", None: 0, 2.5: "f"}, {frozenset({1}): 2}),
        ({Key("duration"): 5}, {Key("model"): "gpt-4o"}),
        ({"duration": 5}, {runtime: "gpt-4o"}),
        ({"duration": 6}, {"model": "gpt-4o"}),
        ({10**30: "big", True: "t"}, {b"bytes": 1}),
    ]
    for m, md in payloads * 3:
        events.execute(("app", "keys"), m, md)
    exp.stop()
    _same(_stored(exp), reference.seen)
    stored = sorted(exp.events(), key=lambda e: e.sequence)
    # a runtime-built "model" key is still read by enrichment; a str subclass key too
    # (it was before: keys are matched by their text)
    assert stored[3].model == "gpt-4o"
    assert stored[3].latency_ms == 5 / 1e6
    assert stored[2].model == "gpt-4o"
    assert [type(k) for k in stored[2].metadata] == [Key]


@pytest.mark.parametrize("batch_size", [7, 100_000])
def test_many_distinct_shapes_interleaved(reference: Reference, batch_size: int) -> None:
    rng = random.Random(5)
    exp = _start(batch_size, validation="off")
    shapes = [tuple(f"k{j}_{i}" for j in range(i % 6)) for i in range(150)]
    for n in range(3000):
        keys = rng.choice(shapes)
        m = {k: rng.random() for k in keys}
        md = {k: n for k in rng.choice(shapes)}
        events.execute(("app", "many", str(n % 3)), m, md)
    exp.stop()
    _same(_stored(exp), reference.seen)


class Custom(Mapping[str, Any]):
    """A read-only mapping that is not a dict."""

    def __init__(self, items: dict[str, Any]) -> None:
        self._items = items

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class Sub(dict[str, Any]):
    """A dict subclass."""


def test_non_dict_mappings(reference: Reference) -> None:
    exp = _start(batch_size=2)
    backing = {"duration": 3, "input_tokens": 4}
    for i in range(6):
        proxy, custom = types.MappingProxyType(backing), Custom({"model": "m"})
        events.execute(("app", "map"), proxy, custom)  # type: ignore[arg-type]  # any Mapping works
        events.execute(("app", "map"), Sub(backing, i=i), Sub(model="gpt-4o"))
        backing["duration"] = i  # the proxy's contents change after each emit
    exp.stop()
    _same(_stored(exp), reference.seen)


def test_threads_emitting_their_own_and_shared_payloads(reference: Reference) -> None:
    exp = _start(batch_size=64, validation="off")
    shared_md = {"model": "gpt-4o", "provider": "openai"}
    n_threads, per_thread = 4, 2000

    def emit(t: int) -> None:
        own = {"thread": t, "i": 0}
        for i in range(per_thread):
            own["i"] = i
            if i % 2:
                events.execute(("app", "thread"), own, shared_md)
            else:
                events.execute(("app", "thread"), {f"t{t}": i, "i": i}, {"thread": t})

    threads = [threading.Thread(target=emit, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    exp.stop()
    got, want = _stored(exp), reference.seen
    assert len(got) == len(want) == n_threads * per_thread
    # threads interleave between the experiment's handler and the reference's: compare
    # as multisets of snapshots
    key = repr
    assert sorted(map(key, got)) == sorted(map(key, want))


def test_sampled_path_keeps_shapes(reference: Reference) -> None:
    exp = _start(batch_size=3, sampling=lambda c: 2.0, validation="off")
    m = {"duration": 1}
    for i in range(10):
        events.execute(("app", "sampled"), m, {"i": i})
        m[f"k{i % 3}"] = i
    exp.stop()
    _same(_stored(exp), reference.seen)
    assert {e.weight for e in exp.events()} == {2.0}


def test_strict_validation_reads_payloads_by_shape(reference: Reference) -> None:
    exp = _start(batch_size=8, validation="strict")
    name = ("crucible", "llm", "request", "stop")
    good = ({"duration": 5, "input_tokens": 1, "output_tokens": 1}, {"model": "gpt-4o"})
    bad = ({"duration": "bad"}, {"model": 5})

    def run() -> None:
        for i in range(12):
            events.execute(("app", "x"), {"i": i}, {})
            events.execute(name, *(bad if i % 3 == 0 else good))
        exp.stop()

    with pytest.warns(TelemetryValidationWarning):
        run()
    want = [s for s in reference.seen if not (s[0] == name and s[1] == list(bad[0].items()))]
    _same(_stored(exp), want)
    assert exp.stats.rejected == 4


class Owner:
    def _drain(self, *, block: bool) -> None:
        pass


def test_partial_takes_split_values_correctly() -> None:
    buf = _core.CaptureBuffer(
        Owner(), CORRELATION, time.monotonic_ns, batch_size=10**9, high_water=10**9
    )
    sent = []
    for i in range(50):
        m = {f"k{j}": (i, j) for j in range(i % 4)}
        md = {"i": i} if i % 2 else {}
        buf.capture(("app", "raw"), m, md, None)
        sent.append((list(m.items()), list(md.items())))
    got = []
    while (raw := buf.take(7)) is not None:
        [name] = raw.names()
        assert name == ("app", "raw")
        got += [(list(m.items()), list(md.items())) for _, m, md in raw.payloads(0)]
    assert got == sent
    assert len(buf) == 0


def test_capture_errors_keep_nothing_of_the_event() -> None:
    buf = _core.CaptureBuffer(
        Owner(), CORRELATION, time.monotonic_ns, batch_size=10**9, high_water=10**9
    )
    buf.capture(("a",), {"x": 1}, {}, None)
    with pytest.raises(TypeError):
        buf.capture(("a",), {"x": 2}, 5, None)  # type: ignore[arg-type]  # not a mapping
    buf.capture(("a",), {"x": 3}, {"y": 4}, None)
    raw = buf.take(100)
    assert raw is not None
    assert [(m, md) for _, m, md in raw.payloads(0)] == [({"x": 1}, {}), ({"x": 3}, {"y": 4})]
