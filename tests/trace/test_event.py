"""The event model: every type of the issue, namespaced custom types, validation that
names every problem, and an encoding whose hash survives new fields."""

from __future__ import annotations

from datetime import datetime, timezone

import msgspec
import pytest

from crucible import _core
from crucible.errors import SerializationError, ValidationError
from crucible.trace import CATEGORIES, Event, EventType, category_of, is_valid_type, make_event
from crucible.trace.event import decode_event, encode_event, from_us, new_id, to_us

ORIGINAL = [
    "hypothesis_formed",
    "alternative_rejected",
    "constraint_evaluated",
    "pattern_applied",
    "ambiguity_flagged",
    "confidence_updated",
    "training_started",
    "training_completed",
    "epoch_started",
    "epoch_completed",
    "batch_processed",
    "loss_computed",
    "metric_recorded",
    "gradient_computed",
    "checkpoint_saved",
    "checkpoint_loaded",
    "early_stopped",
    "deployment_started",
    "model_loaded",
    "inference_completed",
    "deployment_completed",
    "reward_received",
    "policy_updated",
    "experience_sampled",
    "stage_started",
    "stage_completed",
]
ISSUE = [
    "training_started",
    "epoch_completed",
    "batch_processed",
    "loss_computed",
    "gradient_computed",
    "checkpoint_saved",
    "early_stopped",
    "hyperparameter_tuned",
    "validation_run",
    "model_saved",
    "deployment_initiated",
    "model_loaded",
    "serving_started",
    "inference_completed",
    "deployment_rollback",
    "canary_promoted",
    "a_b_test_result",
    "reward_received",
    "policy_updated",
    "experience_sampled",
    "online_update",
    "checkpoint_created",
    "checkpoint_loaded",
    "state_recovered",
    "training_resumed",
    "worker_joined",
    "gradient_aggregated",
    "communication_timed",
    "barrier_reached",
]


def test_every_type_of_the_original_and_the_issue_is_known() -> None:
    known = {t.value for t in EventType}
    assert set(ORIGINAL) <= known
    assert set(ISSUE) <= known
    assert "stage_failed" in known
    assert all(category_of(t) in CATEGORIES for t in known)
    assert category_of("hypothesis_formed") == "reasoning"
    assert category_of("barrier_reached") == "distributed"
    assert EventType.LOSS_COMPUTED == "loss_computed"


@pytest.mark.parametrize("name", ["myteam:prompt_rewritten", "a:b", "x1_y:v2.3-beta", "ns:0"])
def test_namespaced_custom_types_are_valid(name: str) -> None:
    assert is_valid_type(name)
    assert category_of(name) == "custom"
    assert Event(type=name, decision="d").type == name


@pytest.mark.parametrize("name", ["", "bogus", "Hypothesis_Formed", ":x", "ns:", "NS:x", "a:b c"])
def test_other_types_are_rejected(name: str) -> None:
    assert not is_valid_type(name)
    with pytest.raises(ValidationError) as info:
        Event(type=name, decision="d")
    assert info.value.items[0].path == "/type"


def test_defaults_follow_the_original() -> None:
    e = Event(type="hypothesis_formed", decision="d")
    assert e.confidence == 1.0
    assert e.alternatives == ()
    assert e.depends_on == ()
    assert e.metadata == {}
    assert e.reasoning == ""
    assert e.parent_id is None
    assert e.hash is None
    assert e.timestamp.tzinfo is not None
    assert len(e.id) == 32
    assert int(e.id, 16) >= 0
    assert new_id() != new_id()


def test_validation_lists_every_problem_with_its_path() -> None:
    with pytest.raises(ValidationError) as info:
        Event(
            type="nope",
            decision="d",
            confidence=1.5,
            timestamp=datetime(2025, 1, 1),  # naive
            tokens_in=-1,
            latency_ms=float("nan"),
            alternatives=["a"],  # type: ignore[arg-type]
            id="x",
            parent_id="x",
        )
    paths = {item.path for item in info.value.items}
    assert paths == {
        "/type",
        "/confidence",
        "/timestamp",
        "/tokens_in",
        "/latency_ms",
        "/alternatives",
        "/parent_id",
    }


def test_decoding_validates_too() -> None:
    with pytest.raises(SerializationError):
        decode_event(b'{"type": "hypothesis_formed", "decision": "d", "confidence": 2}')
    with pytest.raises(SerializationError):
        decode_event(b'{"type": "hypothesis_formed", "decision": "d", "decisoin": "typo"}')
    with pytest.raises(SerializationError):
        decode_event(b"[" * 100_000)


def test_round_trip_and_stable_encoding() -> None:
    e = make_event(
        "custom:thing",
        "décision ✓",
        "why",
        alternatives=["a", "b"],
        depends_on=[],
        metadata={"big": 2**70, "f": 0.1, "nested": [1, {"k": None}]},
        tokens_in=3,
        latency_ms=1,
        timestamp=datetime(2025, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc),
    )
    doc = encode_event(e)
    assert decode_event(doc) == e
    again = encode_event(decode_event(doc))  # latency 1 comes back as 1.0: same number
    assert _core.canonical_json(again) == _core.canonical_json(doc)
    # fields at their defaults are left out: adding a defaulted field later keeps old hashes
    plain = msgspec.json.decode(encode_event(Event(type="hypothesis_formed", decision="d")))
    assert set(plain) == {"type", "decision", "id", "timestamp"}


def test_unencodable_metadata_is_a_serialization_error() -> None:
    e = Event(type="hypothesis_formed", decision="d", metadata={"x": object()})
    with pytest.raises(SerializationError):
        encode_event(e)


def test_microsecond_clock() -> None:
    moment = datetime(2025, 6, 7, 8, 9, 10, 123456, tzinfo=timezone.utc)
    assert from_us(to_us(moment)) == moment
    assert to_us(datetime(1970, 1, 1, tzinfo=timezone.utc)) == 0


def test_canonical_form_is_what_is_hashed() -> None:
    e = Event(type="hypothesis_formed", decision="d", id="a", metadata={"b": 1, "a": 2})
    canonical = _core.canonical_json(encode_event(e), ["hash", "prev_hash"])
    assert canonical.startswith(b'{"decision":"d","id":"a","metadata":{"a":2,"b":1}')


def test_fields_are_declared_in_canonical_order_with_the_hash_fields_last() -> None:
    """What makes an encoded event its own canonical form (Rust's one-pass path)."""
    fields = list(Event.__struct_fields__)
    assert fields[-2:] == ["prev_hash", "hash"]
    assert fields[:-2] == sorted(fields[:-2])
    e = make_event(
        "loss_computed",
        "keep",
        "why",
        alternatives=["x"],
        confidence=0.5,
        stage="train",
        metadata={"a": 1, "b": 0.25},
        tokens_in=3,
        tokens_out=4,
        latency_ms=1.5,
        cost_usd=0.25,
        experiment_id="exp",
        model="m",
    )
    doc = encode_event(e)
    assert _core.canonical_json(doc) == doc
