"""Chains: adding seals and announces events, refuses duplicate ids and dangling
references, and offers the original's lookups."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from trace_samples import T0, sample_chain

from crucible import events as bus
from crucible.errors import IntegrityError, SerializationError, ValidationError
from crucible.trace import GENESIS, TRACE_EVENT, Chain, Event, make_event
from crucible.trace.integrity import seal


def test_add_seals_each_event_after_the_previous(chain: Chain) -> None:
    assert chain.events[0].prev_hash == GENESIS
    for before, after in zip(chain.events, chain.events[1:], strict=False):
        assert after.prev_hash == before.hash
    assert chain.head == chain.events[-1].hash
    assert chain.verify().ok
    assert Chain(name="empty").head == GENESIS


def test_every_added_event_is_announced_on_the_bus() -> None:
    seen: list[tuple[Any, dict[str, Any], dict[str, Any]]] = []
    bus.attach("test-trace-announce", TRACE_EVENT, lambda n, m, md, _: seen.append((n, m, md)))
    try:
        c = Chain(name="c")
        e = c.record("loss_computed", "loss", tokens_in=5, latency_ms=2.0)
        c.add_events([make_event("metric_recorded", "m1"), make_event("metric_recorded", "m2")])
    finally:
        bus.detach("test-trace-announce")
    assert [md["event_type"] for _, _, md in seen] == ["loss_computed", *["metric_recorded"] * 2]
    name, measurements, metadata = seen[0]
    assert name == ("crucible", "trace", "event", "created")
    assert measurements == {"confidence": 1.0, "tokens_in": 5, "latency_ms": 2.0}
    assert metadata["chain_id"] == c.id
    assert metadata["event_id"] == e.id
    assert metadata["event"].hash == e.hash


def test_duplicates_and_dangling_references_are_refused_whole() -> None:
    c = Chain(name="c")
    a = c.record("hypothesis_formed", "a", id="a")
    with pytest.raises(ValidationError) as info:
        c.add_events(
            [
                make_event("pattern_applied", "b", id="b", parent_id="a"),
                make_event("pattern_applied", "dup", id="a"),
                make_event("pattern_applied", "c", id="c", depends_on=["b", "zzz"]),
                make_event("pattern_applied", "d", id="d", parent_id="later"),
                make_event("pattern_applied", "later", id="later"),
            ]
        )
    problems = {(item.path, item.code) for item in info.value.items}
    assert problems == {
        ("/events/2/id", "duplicate"),
        ("/events/3/depends_on/1", "dangling"),
        ("/events/4/parent_id", "dangling"),
    }
    assert c.events == [a]  # nothing of the batch was added


def test_lookups(chain: Chain) -> None:
    assert chain.get("e3") is chain.events[3]
    assert chain.get("nope") is None
    assert [e.id for e in chain.by_type("loss_computed")] == ["e3", "e7"]
    window = chain.in_range(T0 + timedelta(milliseconds=250), T0 + timedelta(milliseconds=750))
    assert [e.id for e in window] == ["e1", "e2", "e3"]  # inclusive bounds
    assert [e.id for e in chain.children("e1")] == ["e2"]
    parent = chain.parent("e2")
    assert parent is not None
    assert parent.id == "e1"
    assert chain.parent("e0") is None
    assert [e.id for e in chain.decision_points()] == ["e0", "e1", "e4", "e5"]
    assert [e.id for e in chain.low_confidence()] == ["e0", "e1", "e2", "e3"]
    assert [e.id for e in chain.sorted_by_time(descending=True)][:2] == ["e7", "e6"]
    assert len(chain.filter(lambda e: e.confidence > 0.6)) == 5


def test_merge_orders_by_time_and_reseals() -> None:
    a = sample_chain(4, name="a")
    b = Chain(name="b")
    b.record("metric_recorded", "middle", id="m", timestamp=T0 + timedelta(milliseconds=300))
    merged = a.merge(b)
    assert [e.id for e in merged.events] == ["e0", "e1", "m", "e2", "e3"]
    assert merged.verify().ok
    assert merged.events[1].hash != a.events[1].hash or merged.events[2].id == "m"


def test_json_round_trip(chain: Chain) -> None:
    again = Chain.from_json(chain.to_json())
    assert again == chain
    assert again.verify().ok
    with pytest.raises(SerializationError):
        Chain.from_json(b'{"name": 1}')


def test_signature(chain: Chain) -> None:
    signature = chain.sign(b"secret key")
    assert len(signature) == 64
    assert chain.signature_valid(b"secret key")
    assert not chain.signature_valid(b"other key")
    chain.record("metric_recorded", "after signing")
    assert not chain.signature_valid(b"secret key")  # the head moved


def test_resealing_an_event_elsewhere_is_refused(chain: Chain) -> None:
    with pytest.raises(IntegrityError):
        seal([chain.events[3]], chain.events[1].hash or GENESIS)
    # but the same event at the same position re-seals to itself
    assert seal([chain.events[3]], chain.events[2].hash or GENESIS) == [chain.events[3]]


def test_events_are_frozen() -> None:
    e = Event(type="hypothesis_formed", decision="d")
    with pytest.raises(AttributeError):
        e.decision = "other"  # type: ignore[misc]
