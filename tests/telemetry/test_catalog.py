"""The standard event catalogue: names, info, validation and the emit helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crucible import events
from crucible.errors import InvalidArgumentError, ValidationError
from crucible.telemetry import catalog
from crucible.telemetry.enrichment import derive

Seen = list[tuple[tuple[str, ...], dict[str, Any], dict[str, Any]]]


@pytest.fixture
def seen() -> Iterator[Seen]:
    got: Seen = []
    events.attach(
        "test.catalog", ("crucible",), lambda n, m, md, c: got.append((n, m, md)), prefix=True
    )
    yield got
    events.detach("test.catalog")


def test_catalogue_covers_the_seed_events() -> None:
    names = {".".join(n[1:]) for n in catalog.STANDARD_EVENTS}
    for expected in [
        "train.training.start",
        "train.training.stop",
        "train.training.exception",
        "train.epoch.start",
        "train.epoch.stop",
        "train.batch.stop",
        "train.checkpoint.saved",
        "deployment.inference.start",
        "deployment.inference.stop",
        "deployment.inference.exception",
        "deployment.health_check.completed",
        "framework.pipeline.start",
        "framework.pipeline.stop",
        "framework.stage.start",
        "framework.stage.stop",
        "xai.explanation.generated",
        "adversary.attack.executed",
        "llm.request.start",
        "llm.request.stop",
        "llm.request.exception",
        "ensemble.prediction.start",
        "ensemble.prediction.stop",
        "ensemble.vote.completed",
        "hedging.request.start",
        "hedging.request.duplicated",
        "hedging.request.stop",
        "trace.event.created",
        "tools.call.start",
        "tools.call.stop",
    ]:
        assert expected in names, expected
    assert len(set(catalog.STANDARD_EVENTS)) == len(catalog.STANDARD_EVENTS)


def test_event_info_and_categories() -> None:
    info = catalog.event_info(("crucible", "train", "epoch", "stop"))
    assert info is not None
    assert info.category == "training"
    assert info.description == "Epoch completed with metrics"
    assert info.dotted == "crucible.train.epoch.stop"
    assert catalog.event_info(["crucible", "llm", "request", "stop"]) is not None
    assert catalog.event_info(("unknown", "event")) is None
    assert catalog.events_in("deployment") == (
        ("crucible", "deployment", "inference", "start"),
        ("crucible", "deployment", "inference", "stop"),
        ("crucible", "deployment", "inference", "exception"),
        ("crucible", "deployment", "health_check", "completed"),
    )
    for category in catalog.CATEGORIES:
        assert catalog.events_in(category)
    with pytest.raises(InvalidArgumentError):
        catalog.events_in("nope")
    assert catalog.category_of(("crucible", "llm", "custom")) == "llm"
    assert catalog.category_of(("myapp", "x")) == "custom"
    assert catalog.category_of(events.HANDLER_FAILURE) == "events"


def test_validate_reports_paths_and_codes() -> None:
    name = ("crucible", "train", "batch", "stop")
    assert catalog.validate(name, {"loss": 0.5, "extra": "kept"}, {"batch": 1}) == []
    (item,) = catalog.validate(name, {"loss": "bad"}, {"batch": 1})
    assert item.path == "/measurements/loss"
    assert item.code == "type"
    (item,) = catalog.validate(name, {"loss": 1.0}, {})
    assert item.path == "/metadata"
    assert item.code == "missing"
    assert "batch" in item.message
    assert len(catalog.validate(name, {"loss": None}, {"epoch": "x"})) == 2
    assert catalog.validate(("not", "catalogued"), {"x": object()}, {}) == []
    nested = ("crucible", "ensemble", "prediction", "start")
    (item,) = catalog.validate(nested, {}, {"models": ["a", 3]})
    assert item.path == "/metadata/models/1"


def test_emit_helpers_build_valid_events(seen: Seen) -> None:
    catalog.emit_training_start(run_id="r", model="m", total_epochs=3)
    catalog.emit_epoch_start(epoch=1)
    catalog.emit_batch_stop(batch=7, loss=0.25, epoch=1, learning_rate=1e-3)
    catalog.emit_epoch_stop(epoch=1, loss=0.2, accuracy=0.9, duration=5)
    catalog.emit_checkpoint_saved(checkpoint_path="/tmp/c.pt", epoch=1, size_bytes=10)
    catalog.emit_training_stop(duration=100, epochs=1, final_loss=0.2)
    catalog.emit_training_exception(duration=5, exception=RuntimeError("oom"))
    catalog.emit_inference_start(model_name="clf")
    catalog.emit_inference_stop(model_name="clf", duration=9, batch_size=4)
    catalog.emit_inference_exception(model_name="clf", duration=9, kind="Timeout")
    catalog.emit_health_check(status="healthy", model_name="clf")
    catalog.emit_pipeline_start(pipeline_id="p")
    catalog.emit_stage_start(pipeline_id="p", stage_name="load", stage_index=0)
    catalog.emit_stage_stop(pipeline_id="p", stage_name="load", duration=3, stage_index=0)
    catalog.emit_pipeline_stop(pipeline_id="p", duration=4)
    catalog.emit_explanation_generated(method="shap", num_features=5)
    catalog.emit_attack_executed(attack="fgsm", epsilon=0.1, success=True)
    catalog.emit_llm_request_start(model="gpt-4o")
    catalog.emit_llm_request_stop(model="gpt-4o", duration=7, input_tokens=3, output_tokens=4)
    catalog.emit_llm_request_exception(model="gpt-4o", duration=7, exception=TimeoutError())
    assert len(seen) == 20
    for name, m, md in seen:
        assert catalog.event_info(name) is not None, name
        assert catalog.validate(name, m, md) == [], name
        assert None not in m.values()
        assert None not in md.values()
    name, m, md = seen[2]
    assert name == ("crucible", "train", "batch", "stop")
    assert m == {"loss": 0.25, "learning_rate": 1e-3}
    assert md == {"batch": 7, "epoch": 1}
    assert seen[6][2] == {"kind": "RuntimeError", "reason": "oom"}


def test_emit_validates_and_raises(seen: Seen) -> None:
    with pytest.raises(ValidationError) as info:
        catalog.emit_batch_stop(batch="seven", loss=0.1)  # type: ignore[arg-type]
    assert info.value.items[0].path == "/metadata/batch"
    with pytest.raises(InvalidArgumentError):
        catalog.emit(("crucible", "made", "up"), {}, {})
    assert seen == []


def test_emit_without_handlers_costs_nothing_and_checks_nothing() -> None:
    catalog.emit_batch_stop(batch="seven", loss=0.1)  # type: ignore[arg-type]


def test_derive_rules() -> None:
    stop = ("crucible", "llm", "request", "stop")
    lat, cost, ok, model, *_ = derive(stop, "llm", {"duration": 3_000_000}, {"model": "x"})
    assert (lat, cost, ok, model) == (3.0, None, True, "x")
    assert derive(("a", "start"), "custom", {}, {})[2] is None
    assert derive(("a", "done"), "custom", {"latency_ms": 4}, {"status": "error"})[:3] == (
        4.0,
        None,
        False,
    )
    assert derive(("a", "done"), "custom", {"stop": 5e6, "start": 1e6}, {})[0] == 4.0
    assert derive(("a", "stop"), "custom", {}, {"success": False, "error": "bad"})[7] == "bad"
    nested = derive(stop, "llm", {}, {"model": "gpt-4o", "tokens": {"prompt": 10, "completion": 5}})
    assert nested[5:7] == (10, 5)
    assert nested[1] is not None
    assert derive(stop, "llm", {"cost_usd": 0.5, "input_tokens": 1}, {"model": "gpt-4o"})[1] == 0.5
    assert derive(("a", "stop"), "custom", {"duration": True}, {})[0] is None  # not a number


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(catalog.STANDARD_EVENTS),
    st.dictionaries(st.text(max_size=12), _json, max_size=5),
    st.dictionaries(st.text(max_size=12), _json, max_size=5),
)
def test_validate_and_derive_accept_any_payload(
    name: tuple[str, ...], m: dict[str, Any], md: dict[str, Any]
) -> None:
    for item in catalog.validate(name, m, md):
        assert item.path.startswith(("/measurements", "/metadata"))
        assert item.code in ("type", "missing")
    derived = derive(name, catalog.category_of(name), m, md)
    assert derived[0] is None or isinstance(derived[0], float)
    assert derived[2] in (None, True, False)
