"""JSON in and out: documents, dicts, errors with pointers, peek, JSONL streams."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
import pytest
from ir_examples import DOCUMENT_EXAMPLES, experiment, feedback_event, training_run

import crucible.ir as ir
from crucible.errors import (
    InvalidTypeError,
    NotFoundError,
    SerializationError,
    ValidationError,
)
from crucible.ir import feedback, reliability, training
from crucible.ir.dataset import DatasetRef
from crucible.ir.experiment import BackendRef, Experiment, OutputSpec, StageDef
from crucible.ir.serialization import item_from_msgspec, pointer_from_msgspec_path


def _exp(**changes: Any) -> Experiment:
    base = Experiment(id="test", backend=BackendRef(id="gpt4"), pipeline=[StageDef(name="run")])
    return msgspec.structs.replace(base, **changes)


# --- to_json / from_json (the original's serialization ground) ----------------------------


def test_encodes_backend_ref() -> None:
    data = ir.to_json(BackendRef(id="gpt4"))
    assert isinstance(data, bytes)
    assert json.loads(data)["id"] == "gpt4"
    assert json.loads(data)["profile"] == "default"


def test_encodes_every_field_with_nulls_in_definition_order() -> None:
    data = json.loads(ir.to_json(StageDef(name="inference")))
    assert list(data) == ["name", "module", "options", "enabled"]
    assert data == {"name": "inference", "module": None, "options": None, "enabled": True}


def test_encodes_nested_reliability() -> None:
    exp = _exp(
        reliability=reliability.Config(
            ensemble=reliability.Ensemble(strategy="majority", execution_mode="parallel"),
            hedging=reliability.Hedging(strategy="fixed", delay_ms=100),
            stats=reliability.Stats(alpha=0.01, tests=["ttest"]),
        )
    )
    doc = json.loads(ir.to_json(exp))
    assert doc["schema_version"] == "0.3.0"
    assert doc["reliability"]["ensemble"]["strategy"] == "majority"
    assert doc["reliability"]["hedging"]["delay_ms"] == 100
    assert doc["reliability"]["stats"] == {
        "tests": ["ttest"],
        "alpha": 0.01,
        "confidence_level": None,
        "effect_size_type": None,
        "multiple_testing_correction": None,
        "bootstrap_iterations": None,
        "options": None,
    }


def test_decodes_backend_ref() -> None:
    backend = ir.from_json(b'{"id":"gpt4","profile":"default"}', BackendRef)
    assert backend == BackendRef(id="gpt4")
    backend = ir.from_json(
        '{"id":"gpt4","profile":"fast","options":{"temperature":0.7}}', BackendRef
    )
    assert backend.profile == "fast"
    assert backend.options == {"temperature": 0.7}


def test_decodes_stage_def() -> None:
    stage = ir.from_json(
        b'{"name":"preprocessing","enabled":false,"options":{"normalize":true}}', StageDef
    )
    assert stage == StageDef(name="preprocessing", enabled=False, options={"normalize": True})


def test_decodes_dataset_names_with_spaces() -> None:
    dataset = ir.from_json(b'{"name":"Custom Dataset 2024","provider":"custom"}', DatasetRef)
    assert dataset.name == "Custom Dataset 2024"
    assert dataset.provider == "custom"


def test_decodes_experiment_with_nested_reliability() -> None:
    data = b"""{
        "id": "complex_exp",
        "backend": {"id": "gpt4"},
        "pipeline": [{"name": "run"}],
        "reliability": {
            "ensemble": {"strategy": "majority", "execution_mode": "parallel"},
            "hedging": {"strategy": "fixed", "delay_ms": 100},
            "stats": {"alpha": 0.01, "tests": ["ttest"]}
        }
    }"""
    exp = ir.from_json(data, Experiment)
    assert exp.reliability is not None
    assert exp.reliability.ensemble == reliability.Ensemble(strategy="majority")
    assert exp.reliability.hedging == reliability.Hedging(strategy="fixed", delay_ms=100)
    assert exp.reliability.stats == reliability.Stats(alpha=0.01, tests=["ttest"])
    assert isinstance(exp.reliability.ensemble.strategy, ir.enums.EnsembleStrategy)


@pytest.mark.parametrize("name", list(DOCUMENT_EXAMPLES))
def test_round_trip_every_document(name: str) -> None:
    obj = DOCUMENT_EXAMPLES[name]()
    assert ir.from_json(ir.to_json(obj), type(obj)) == obj
    assert ir.from_dict(ir.to_dict(obj), type(obj)) == obj
    assert ir.to_json(ir.from_json(ir.to_json(obj), type(obj))) == ir.to_json(obj)


@pytest.mark.parametrize(
    "obj",
    [
        BackendRef(id="gpt4", profile="fast", options={"temp": 0.7}),
        StageDef(
            name="preprocessing", enabled=False, options={"normalize": True, "steps": ["trim"]}
        ),
        DatasetRef(
            name="Custom Dataset 2025",
            provider="custom",
            split="validation",
            version="v2",
            format="parquet",
            schema={"fields": ["id", "text"]},
            options={"limit": 10},
        ),
        OutputSpec(name="results", formats=["json", "csv"], sink="s3", options={"path": "/tmp/r"}),
        reliability.Config(
            ensemble=reliability.Ensemble(
                strategy="weighted",
                models=["gpt4", "claude"],
                weights={"gpt4": 0.6, "claude": 0.4},
                timeout_ms=3000,
            ),
            feedback=feedback.Config(enabled=True, sampling_rate=0.1, storage="s3"),
        ),
        _exp(description="Test", tags=["ml", "test"]),
    ],
    ids=lambda o: type(o).__qualname__,
)
def test_round_trip_original_cases(obj: Any) -> None:
    assert ir.from_json(ir.to_json(obj), type(obj)) == obj


def test_to_dict_is_json_shaped() -> None:
    doc = ir.to_dict(feedback_event())
    assert doc["feedback_type"] == "thumbs"
    assert type(doc["feedback_type"]) is str
    assert doc["timestamp"] == "2025-12-26T12:10:00-05:00"
    assert json.loads(json.dumps(doc)) == doc


def test_from_dict_with_string_keys() -> None:
    backend = ir.from_dict({"id": "gpt4", "profile": "default"}, BackendRef)
    assert backend == BackendRef(id="gpt4")
    exp = ir.from_dict(
        {
            "id": "test",
            "backend": {"id": "gpt4"},
            "pipeline": [{"name": "run"}],
            "reliability": {"ensemble": {"strategy": "majority"}, "stats": {"alpha": 0.01}},
        },
        Experiment,
    )
    assert exp.reliability is not None
    assert exp.reliability.stats is not None
    assert exp.reliability.stats.alpha == 0.01


def test_map_keys_are_sorted_for_stability() -> None:
    a = StageDef(name="s", options={"b": 1, "a": 2})
    b = StageDef(name="s", options={"a": 2, "b": 1})
    assert ir.to_json(a) == ir.to_json(b)
    assert ir.to_json(a).index(b'"a"') < ir.to_json(a).index(b'"b"')


# --- date-times ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (timezone.utc, "2025-12-26T12:00:00Z"),
        (timezone(timedelta(hours=2)), "2025-12-26T12:00:00+02:00"),
        (timezone(timedelta(hours=-5)), "2025-12-26T12:00:00-05:00"),
        (timezone(timedelta(hours=5, minutes=30)), "2025-12-26T12:00:00+05:30"),
    ],
)
def test_datetimes_keep_their_offset(offset: timezone, text: str) -> None:
    moment = datetime(2025, 12, 26, 12, 0, tzinfo=offset)
    event = feedback.Event(id="e", timestamp=moment)
    assert json.loads(ir.to_json(event))["timestamp"] == text
    decoded = ir.from_json(ir.to_json(event), feedback.Event)
    assert decoded.timestamp is not None
    assert decoded.timestamp.utcoffset() == moment.utcoffset()
    assert decoded.timestamp.isoformat() == moment.isoformat()


def test_microseconds_survive() -> None:
    moment = datetime(2025, 12, 26, 12, 0, 0, 123456, tzinfo=timezone.utc)
    event = ir.from_json(ir.to_json(feedback.Event(id="e", timestamp=moment)), feedback.Event)
    assert event.timestamp == moment


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        ir.from_json(b'{"id":"e","timestamp":"2025-12-26T12:00:00"}', feedback.Event)
    assert info.value.items[0][:2] == ("/timestamp", "timezone")
    naive = feedback.Event(id="e", timestamp=datetime(2025, 12, 26, 12))
    assert [(e.path, e.code) for e in ir.errors(naive)] == [("/timestamp", "timezone")]


def test_bad_datetime_text() -> None:
    with pytest.raises(ValidationError) as info:
        ir.from_json(b'{"id":"e","timestamp":"yesterday"}', feedback.Event)
    assert info.value.items[0][:2] == ("/timestamp", "format")


# --- errors -------------------------------------------------------------------------------


def test_malformed_json_is_a_serialization_error() -> None:
    with pytest.raises(SerializationError):
        ir.from_json(b"invalid json", BackendRef)
    with pytest.raises(SerializationError):
        ir.from_json(b'{"id": "gpt4"', BackendRef)


def test_missing_required_field() -> None:
    with pytest.raises(ValidationError) as info:
        ir.from_json(b'{"profile":"default"}', BackendRef)
    assert [(e.path, e.code) for e in info.value.items] == [("/id", "required")]


def test_every_error_is_reported_with_its_pointer() -> None:
    data = b"""{"id": "", "backend": {"id": 5}, "pipeline": [{"name": "a", "foo": 1}],
        "reliability": {"stats": {"alpha": 2}, "ensemble": {"strategy": "x"},
                        "hedging": {"delay_ms": -1}}}"""
    with pytest.raises(ValidationError) as info:
        ir.from_json(data, Experiment)
    assert sorted((e.path, e.code) for e in info.value.items) == [
        ("/backend/id", "type"),
        ("/id", "length"),
        ("/pipeline/0/foo", "unknown_field"),
        ("/reliability/ensemble/strategy", "enum"),
        ("/reliability/hedging/delay_ms", "range"),
        ("/reliability/stats/alpha", "range"),
    ]
    # document_errors runs the Rust validator, whose structural messages are worded apart
    # from crucible.ir.structure's (enum values in schema order, say): same verdicts.
    raw = ir.document_errors(data, Experiment)
    assert [(e.path, e.code) for e in raw] == [(e.path, e.code) for e in info.value.items]


def test_wrong_top_level_kind() -> None:
    with pytest.raises(ValidationError) as info:
        ir.from_json(b"[1, 2]", BackendRef)
    assert info.value.items[0][:2] == ("", "type")


def test_map_keys_in_pointers_are_escaped() -> None:
    ensemble = b'{"strategy": "weighted", "weights": {"a/b": -1, "c~d": 1}}'
    with pytest.raises(ValidationError) as info:
        ir.from_json(ensemble, reliability.Ensemble)
    assert [(e.path, e.code) for e in info.value.items] == [("/weights/a~1b", "range")]


@pytest.mark.parametrize(
    ("path", "pointer"),
    [
        ("$", ""),
        ("$.id", "/id"),
        ("$.pipeline[2].name", "/pipeline/2/name"),
        ("$.reliability.ensemble.weights[...]", "/reliability/ensemble/weights"),
        ("$[0]", "/0"),
    ],
)
def test_pointer_from_msgspec_path(path: str, pointer: str) -> None:
    assert pointer_from_msgspec_path(path) == pointer


@pytest.mark.parametrize(
    ("doc", "tp", "expected"),
    [
        (b'{"profile":"x"}', BackendRef, ("/id", "required")),
        (b'{"id":"x","zzz":1}', BackendRef, ("/zzz", "unknown_field")),
        (b'{"pipeline":[{"name":"a","zzz":1}]}', Experiment, ("/pipeline/0/zzz", "unknown_field")),
        (b'{"strategy":"x"}', reliability.Ensemble, ("/strategy", "enum")),
        (b'{"alpha":3}', reliability.Stats, ("/alpha", "range")),
        (b'{"name":""}', StageDef, ("/name", "length")),
        (b'{"id":"v","model_id":"m","version":"x"}', ir.ModelVersion, ("/version", "pattern")),
        (
            b'{"id":"e","timestamp":"2025-01-01T00:00:00"}',
            feedback.Event,
            ("/timestamp", "timezone"),
        ),
        (b'{"id":"e","timestamp":"never"}', feedback.Event, ("/timestamp", "format")),
        (b'{"id":1}', BackendRef, ("/id", "type")),
    ],
)
def test_msgspec_errors_become_items(doc: bytes, tp: type[Any], expected: tuple[str, str]) -> None:
    with pytest.raises(msgspec.ValidationError) as info:
        msgspec.json.decode(doc, type=tp)
    assert item_from_msgspec(info.value)[:2] == expected


def test_unencodable_value_is_a_serialization_error() -> None:
    with pytest.raises(SerializationError):
        ir.to_json(StageDef(name="s", options={"x": object()}))
    with pytest.raises(SerializationError):
        ir.to_dict(StageDef(name="s", options={"x": object()}))
    with pytest.raises(SerializationError):
        ir.errors(StageDef(name="s", options={"x": object()}))


# --- peek ---------------------------------------------------------------------------------


def test_peek_reads_one_field() -> None:
    data = ir.to_json(experiment())
    assert ir.peek(data, "id") == "gpt4_benchmark"
    assert ir.peek(data, "schema_version") == "0.3.0"
    assert ir.peek(data, "/backend/id") == "openai_gpt4"
    assert ir.peek(data, "/backend/fallback/id") == "anthropic_claude"
    assert ir.peek(data, "/reliability/stats") == ir.to_dict(experiment())["reliability"]["stats"]
    assert ir.peek(data, "/pipeline/1/name") == "inference"


def test_peek_missing_fields() -> None:
    data = b'{"id": "e", "backend": null, "nested": {"a": 1}}'
    assert ir.peek(data, "owner", None) is None
    assert ir.peek(data, "/backend/id", "none") == "none"
    assert ir.peek(data, "/nested/b", 0) == 0
    assert ir.peek(data, "/nested/a") == 1
    with pytest.raises(NotFoundError):
        ir.peek(data, "owner")


def test_peek_odd_keys() -> None:
    data = b'{"a/b": 1, "c~d": {"e": 2}, "with space": 3}'
    assert ir.peek(data, "/a~1b") == 1
    assert ir.peek(data, "/c~0d/e") == 2
    assert ir.peek(data, "with space") == 3


def test_peek_malformed() -> None:
    with pytest.raises(SerializationError):
        ir.peek(b'{"id": ', "id")


# --- JSONL --------------------------------------------------------------------------------


def _events(n: int) -> list[feedback.Event]:
    return [
        feedback.Event(id=f"evt_{i}", feedback_type="rating", feedback_value=i % 5, latency_ms=i)
        for i in range(n)
    ]


def test_encode_jsonl_yields_lines() -> None:
    lines = list(ir.encode_jsonl(_events(3)))
    assert len(lines) == 3
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in lines)


def test_jsonl_round_trip_from_bytes() -> None:
    events = _events(100)
    data = b"".join(ir.encode_jsonl(events))
    assert list(ir.decode_jsonl(data, feedback.Event)) == events


def test_jsonl_round_trip_through_a_file(tmp_path: Path) -> None:
    events = _events(5_000)
    path = tmp_path / "events.jsonl"
    assert ir.write_jsonl(events, path) == 5_000
    decoded = ir.decode_jsonl(path, feedback.Event)
    assert next(decoded) == events[0]  # a generator: nothing read beyond what is asked
    assert list(decoded) == events[1:]
    assert list(ir.decode_jsonl(str(path), feedback.Event)) == events
    with path.open("rb") as handle:
        assert sum(1 for _ in ir.decode_jsonl(handle, feedback.Event)) == 5_000


def test_jsonl_writes_to_a_binary_file() -> None:
    buffer = io.BytesIO()
    assert ir.write_jsonl(_events(3), buffer) == 3
    assert list(ir.decode_jsonl(buffer.getvalue(), feedback.Event)) == _events(3)


def test_jsonl_skips_blank_lines_and_crlf() -> None:
    data = b'{"id":"a"}\r\n\r\n   \n{"id":"b"}'
    assert [e.id for e in ir.decode_jsonl(data, feedback.Event)] == ["a", "b"]


def test_jsonl_from_an_iterable_of_lines() -> None:
    lines = ['{"id":"a"}', '{"id":"b"}\n']
    assert [e.id for e in ir.decode_jsonl(lines, feedback.Event)] == ["a", "b"]


def test_jsonl_bad_line_reports_its_number() -> None:
    data = b'{"id":"a"}\n{"id":"b","latency_ms":-1}\n{"id":"c"}\n'
    decoded = ir.decode_jsonl(data, feedback.Event)
    assert next(decoded).id == "a"
    with pytest.raises(ValidationError) as info:
        next(decoded)
    assert info.value.line == 2  # type: ignore[attr-defined]
    assert str(info.value).startswith("line 2:")
    assert [(e.path, e.code) for e in info.value.items] == [("/latency_ms", "range")]


def test_jsonl_malformed_line() -> None:
    with pytest.raises(SerializationError) as info:
        list(ir.decode_jsonl(b'{"id":"a"}\n{"id":\n', feedback.Event))
    assert info.value.line == 2  # type: ignore[attr-defined]


def test_jsonl_rejects_odd_sources() -> None:
    with pytest.raises(InvalidTypeError):
        list(ir.decode_jsonl(42, feedback.Event))  # type: ignore[arg-type]


def test_jsonl_with_nested_documents(tmp_path: Path) -> None:
    runs = [training_run(), msgspec.structs.replace(training_run(), id="run_002")]
    path = tmp_path / "runs.jsonl"
    ir.write_jsonl(runs, str(path))
    assert list(ir.decode_jsonl(path, training.Run)) == runs


# --- schema -------------------------------------------------------------------------------


def test_schema_is_msgspecs() -> None:
    assert ir.schema(Experiment) == msgspec.json.schema(Experiment)
