"""Property tests over every IR type.

* random valid instances round-trip through JSON and dicts unchanged;
* the structural checker and msgspec's decoder agree on every document, valid or mutated;
* ``errors(obj)`` and ``document_errors(raw)`` reach the same verdicts;
* random invalid input (mutated fields, wrong types, garbage, truncation, invalid UTF-8, deep
  nesting, huge numbers) raises typed errors, never anything else.
"""

from __future__ import annotations

import contextlib
import copy
from datetime import datetime
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ir_examples import DOCUMENT_EXAMPLES
from ir_strategies import ALL_TYPES, instances, json_values

import crucible.ir as ir
from crucible.errors import ErrorItem, SerializationError, ValidationError
from crucible.ir.structure import structural_errors

BIG = {"Experiment", "Run", "ModelVersion", "Config"}
TYPE_IDS = [f"{t.__module__.rsplit('.', 1)[-1]}.{t.__qualname__}" for t in ALL_TYPES]
TYPED_ERRORS = (SerializationError, ValidationError)


def _settings(tp: type[Any], small: int, big: int) -> settings:
    return settings(
        max_examples=big if tp.__qualname__ in BIG else small,
        deadline=None,
        derandomize=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


def _verdicts(items: list[ErrorItem]) -> list[tuple[str, str]]:
    return sorted((item.path, item.code) for item in items)


def _decodes(data: bytes, tp: type[Any]) -> bool:
    try:
        msgspec.json.decode(data, type=tp)
    except msgspec.ValidationError:
        return False
    return True


# --- valid instances ----------------------------------------------------------------------


@pytest.mark.parametrize("tp", ALL_TYPES, ids=TYPE_IDS)
def test_round_trip(tp: type[Any]) -> None:
    @_settings(tp, 60, 15)
    @given(instances(tp))
    def check(obj: Any) -> None:
        data = ir.to_json(obj)
        assert ir.from_json(data, tp) == obj
        assert ir.from_dict(ir.to_dict(obj), tp) == obj
        assert ir.to_json(ir.from_json(data, tp)) == data
        assert structural_errors(ir.to_dict(obj), tp) == []
        assert ir.fingerprint(ir.from_json(data, tp)) == ir.fingerprint(obj)
        assert _verdicts(ir.errors(obj)) == _verdicts(ir.document_errors(data, tp))
        assert {e.code for e in ir.errors(obj)} <= set(ir.rule_codes())

    check()


def _datetimes(value: Any) -> list[str]:
    """Every datetime inside ``value``, written with its offset."""
    if isinstance(value, datetime):
        return [value.isoformat()]
    if isinstance(value, msgspec.Struct):
        return [d for name in value.__struct_fields__ for d in _datetimes(getattr(value, name))]
    if isinstance(value, list):
        return [d for item in value for d in _datetimes(item)]
    return []


@pytest.mark.parametrize("tp", ALL_TYPES, ids=TYPE_IDS)
def test_datetimes_keep_offsets(tp: type[Any]) -> None:
    @_settings(tp, 20, 5)
    @given(instances(tp))
    def check(obj: Any) -> None:
        again = ir.from_json(ir.to_json(obj), tp)
        assert _datetimes(again) == _datetimes(obj)

    check()


# --- mutated documents --------------------------------------------------------------------


def _containers(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _containers(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += _containers(value, (*path, index))
    return found


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for token in path:
        doc = doc[token]
    return doc


@st.composite
def mutated(draw: st.DrawFn, tp: type[Any]) -> Any:
    doc = copy.deepcopy(ir.to_dict(draw(instances(tp))))
    for _ in range(draw(st.integers(1, 3))):
        paths = _containers(doc)
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["replace", "delete", "add", "wrap", "null"]))
        if not path:
            if kind == "replace":
                doc = draw(json_values())
            continue
        parent = _get(doc, path[:-1])
        key = path[-1]
        if kind == "replace":
            parent[key] = draw(json_values())
        elif kind == "delete" and isinstance(parent, dict):
            del parent[key]
        elif kind == "add" and isinstance(parent[key], dict):
            parent[key][draw(st.text(max_size=6))] = draw(json_values(max_leaves=2))
        elif kind == "wrap":
            parent[key] = [parent[key]]
        elif kind == "null":
            parent[key] = None
    return doc


@pytest.mark.parametrize("tp", ALL_TYPES, ids=TYPE_IDS)
def test_mutated_documents(tp: type[Any]) -> None:
    @_settings(tp, 50, 20)
    @given(mutated(tp))
    def check(doc: Any) -> None:
        data = msgspec.json.encode(doc)
        structural = structural_errors(doc, tp)
        assert (not structural) == _decodes(data, tp), structural
        if structural:
            with pytest.raises(ValidationError) as info:
                ir.from_json(data, tp)
            assert _verdicts(info.value.items) == _verdicts(structural)
            assert all(item.path == "" or item.path.startswith("/") for item in info.value.items)
        else:
            obj = ir.from_json(data, tp)
            assert _verdicts(ir.errors(obj)) == _verdicts(ir.document_errors(data, tp))
        found = ir.document_errors(data, tp)
        assert set(_verdicts(structural)) <= set(_verdicts(found))
        assert all(isinstance(item, ErrorItem) for item in found)

    check()


# --- garbage ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(max_size=200), st.sampled_from(ALL_TYPES))
def test_random_bytes(data: bytes, tp: type[Any]) -> None:
    with contextlib.suppress(TYPED_ERRORS):
        ir.from_json(data, tp)
    with contextlib.suppress(SerializationError):
        ir.document_errors(data, tp)


@pytest.mark.parametrize("name", list(DOCUMENT_EXAMPLES))
def test_every_truncation_fails_cleanly(name: str) -> None:
    obj = DOCUMENT_EXAMPLES[name]()
    data = ir.to_json(obj)
    step = max(1, len(data) // 400)
    for end in range(0, len(data) - 1, step):
        with pytest.raises(TYPED_ERRORS):
            ir.from_json(data[:end], type(obj))
        with pytest.raises(SerializationError):
            ir.peek(data[:end], "/nonexistent/key")


@pytest.mark.parametrize("name", list(DOCUMENT_EXAMPLES))
@pytest.mark.parametrize("bad", [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])
def test_invalid_utf8_inside_strings(name: str, bad: bytes) -> None:
    obj = DOCUMENT_EXAMPLES[name]()
    data = ir.to_json(obj)
    index = data.index(b'"id":"') + 6 if b'"id":"' in data else data.index(b'":"') + 3
    corrupted = data[:index] + bad + data[index:]
    with pytest.raises(SerializationError):
        ir.from_json(corrupted, type(obj))
    with pytest.raises(SerializationError):
        ir.document_errors(corrupted, type(obj))
    with pytest.raises(SerializationError):
        list(ir.decode_jsonl(corrupted + b"\n", type(obj)))


@pytest.mark.parametrize("depth", [200, 5_000, 200_000])
def test_deep_nesting(depth: int) -> None:
    nested = b'{"id":"e","input":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"
    try:
        event = ir.from_json(nested, ir.feedback.Event)
    except SerializationError:
        assert depth > 200
    else:
        assert depth == 200
        assert ir.errors(event) == []
        assert len(ir.fingerprint(event)) == 64
    arrays = b"[" * depth + b"]" * depth
    with pytest.raises(TYPED_ERRORS):
        ir.from_json(arrays, ir.feedback.Event)
    with contextlib.suppress(SerializationError):
        assert ir.document_errors(arrays, ir.feedback.Event)


def test_deeply_nested_fallbacks() -> None:
    backend = b'{"id":"a","fallback":' * 50_000 + b'{"id":"z"}' + b"}" * 50_000
    with pytest.raises(SerializationError):
        ir.from_json(backend, ir.BackendRef)
    with pytest.raises(SerializationError):
        ir.document_errors(backend, ir.BackendRef)


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("latency_ms", b"1e400"),
        ("latency_ms", b"-1e400"),
        ("latency_ms", b"1" + b"0" * 400),
        ("feedback_value", b"1e400"),
    ],
)
def test_huge_numbers_in_float_fields(field: str, text: bytes) -> None:
    data = b'{"id":"e","' + field.encode() + b'":' + text + b"}"
    with pytest.raises(TYPED_ERRORS):
        ir.from_json(data, ir.feedback.Event)


@pytest.mark.parametrize("text", [b"1" + b"0" * 400, b"-" + b"9" * 40, b"9223372036854775808"])
def test_huge_integers_are_out_of_range(text: bytes) -> None:
    data = b'{"id":"t","labels":["a"],"priority":' + text + b"}"
    with pytest.raises(ValidationError) as info:
        ir.from_json(data, ir.feedback.LabelingTask)
    assert _verdicts(info.value.items) == [("/priority", "range")]
    assert _verdicts(ir.document_errors(data, ir.feedback.LabelingTask)) == [("/priority", "range")]


def test_huge_integers_in_opaque_maps_are_kept_exactly() -> None:
    data = b'{"id":"e","metadata":{"n":' + b"9" * 50 + b"}}"
    event = ir.from_json(data, ir.feedback.Event)
    assert event.metadata == {"n": int("9" * 50)}
    assert ir.canonical_json(event).count(b"9" * 50) == 1


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_numbers_in_objects_are_reported(value: float) -> None:
    event = ir.feedback.Event(id="e", latency_ms=value, metadata={"x": [value]})
    assert _verdicts(ir.errors(event)) == [
        ("/latency_ms", "not_finite"),
        ("/metadata/x/0", "not_finite"),
    ]
