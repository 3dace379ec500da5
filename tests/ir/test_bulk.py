"""Raw and bulk validation (``validate_json``, ``validate_jsonl``): the Rust structural pass
plus the semantic rules reach the verdicts of ``document_errors`` on every document."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ir_examples import DOCUMENT_EXAMPLES
from ir_strategies import ALL_TYPES, instances
from test_properties import mutated
from test_rules import CASES

import crucible.ir as ir
from crucible.errors import ErrorItem, InvalidArgumentError, SerializationError

TYPE_IDS = [f"{t.__module__.rsplit('.', 1)[-1]}.{t.__qualname__}" for t in ALL_TYPES]
BIG = {"Experiment", "Run", "ModelVersion", "Config"}


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


def _verdicts(items: list[Any]) -> set[tuple[str, str]]:
    return {(item[-3], item[-2]) for item in items}


def _reference(data: bytes, tp: type[Any]) -> set[tuple[str, str]]:
    """``document_errors`` verdicts; input that is not JSON is one ``json`` error."""
    try:
        return _verdicts(ir.document_errors(data, tp))
    except SerializationError:
        return {("", "json")}


def _reference_lines(data: bytes, tp: type[Any]) -> set[tuple[int, str, str]]:
    out: set[tuple[int, str, str]] = set()
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            out |= {(number, p, c) for p, c in _reference(line, tp)}
    return out


def _line_verdicts(items: list[ir.LineError]) -> set[tuple[int, str, str]]:
    return {(item.line, item.pointer, item.code) for item in items}


def _check_jsonl(data: bytes, tp: type[Any]) -> None:
    want = _reference_lines(data, tp)
    assert _line_verdicts(ir.validate_jsonl(data, tp)) == want
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "docs.jsonl"
        path.write_bytes(data)
        seen: list[int] = []
        found = ir.validate_jsonl(path, tp, threads=2, progress=seen.append)
        assert _line_verdicts(found) == want
        assert _line_verdicts(ir.validate_jsonl(str(path), tp, threads=1)) == want
        assert seen
        assert seen[-1] == len(data)
    lines = [item.line for item in found]
    assert lines == sorted(lines)


@pytest.mark.parametrize("tp", ALL_TYPES, ids=TYPE_IDS)
def test_valid_instances_agree(tp: type[Any]) -> None:
    @_settings(tp, 25, 10)
    @given(instances(tp))
    def check(obj: Any) -> None:
        data = ir.to_json(obj)
        found = ir.validate_json(data, tp)
        assert all(isinstance(item, ErrorItem) for item in found)
        assert _verdicts(found) == _verdicts(ir.document_errors(data, tp))
        assert _verdicts(found) == _verdicts(ir.errors(obj))

    check()


@pytest.mark.parametrize("tp", ALL_TYPES, ids=TYPE_IDS)
def test_mutated_documents_agree(tp: type[Any]) -> None:
    @_settings(tp, 40, 15)
    @given(mutated(tp))
    def check(doc: Any) -> None:
        data = msgspec.json.encode(doc)
        assert _verdicts(ir.validate_json(data, tp)) == _reference(data, tp)

    check()


@pytest.mark.parametrize("name", list(ir.DOCUMENT_TYPES))
def test_jsonl_of_mutated_documents(name: str) -> None:
    tp = ir.document_type(name)

    @_settings(tp, 10, 5)
    @given(st.lists(instances(tp) | mutated(tp), min_size=1, max_size=6), st.booleans())
    def check(docs: list[Any], crlf: bool) -> None:
        lines = [msgspec.json.encode(doc) for doc in docs]
        data = (b"\r\n" if crlf else b"\n").join([*lines, b"", b"{broken"])
        _check_jsonl(data, tp)

    check()


@pytest.mark.parametrize("code", list(CASES))
def test_rule_cases_agree(code: str) -> None:
    docs = [ir.to_json(obj) for obj in CASES[code][:2]]
    tp = type(CASES[code][0])
    for data in docs:
        assert _verdicts(ir.validate_json(data, tp)) == _reference(data, tp)
    _check_jsonl(b"\n".join(docs) + b"\n", tp)


def test_one_jsonl_of_every_example() -> None:
    for name, make in DOCUMENT_EXAMPLES.items():
        data = ir.to_json(make())
        assert ir.validate_json(data, ir.document_type(name)) == []
        assert ir.validate_jsonl((data + b"\n") * 3, ir.document_type(name)) == []
        assert ir.validate_jsonl(b"\n".join([data] * 3), ir.document_type(name)) == []


# --- hostile input ------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(max_size=200), st.sampled_from(ALL_TYPES))
def test_random_bytes_never_crash(data: bytes, tp: type[Any]) -> None:
    assert _verdicts(ir.validate_json(data, tp)) == _reference(data, tp)
    found = ir.validate_jsonl(data, tp)
    assert all(isinstance(item, ir.LineError) for item in found)


@pytest.mark.parametrize("name", list(DOCUMENT_EXAMPLES))
def test_truncation_and_invalid_utf8(name: str) -> None:
    obj = DOCUMENT_EXAMPLES[name]()
    tp = type(obj)
    data = ir.to_json(obj)
    step = max(1, len(data) // 50)
    for end in range(1, len(data) - 1, step):
        assert _verdicts(ir.validate_json(data[:end], tp)) == {("", "json")}
    index = data.index(b'":"') + 3
    for bad in (b"\xff", b"\xc3\x28", b"\xed\xa0\x80"):
        corrupted = data[:index] + bad + data[index:]
        assert _verdicts(ir.validate_json(corrupted, tp)) == {("", "json")}
        jsonl = data + b"\n" + corrupted + b"\n" + data
        assert _line_verdicts(ir.validate_jsonl(jsonl, tp)) == {(2, "", "json")}


@pytest.mark.parametrize("depth", [100, 200, 5_000, 200_000])
def test_deep_nesting(depth: int) -> None:
    nested = b'{"id":"e","input":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"
    arrays = b"[" * depth + b"]" * depth
    backend = b'{"id":"a","fallback":' * depth + b'{"id":"z"}' + b"}" * depth
    for data, tp in ((nested, ir.feedback.Event), (arrays, ir.feedback.Event)):
        assert _verdicts(ir.validate_json(data, tp)) == _reference(data, tp)
    assert _verdicts(ir.validate_json(backend, ir.BackendRef)) == _reference(backend, ir.BackendRef)
    jsonl = b'{"id":"e"}\n' + nested + b"\n" + arrays
    assert _line_verdicts(ir.validate_jsonl(jsonl, ir.feedback.Event)) == _reference_lines(
        jsonl, ir.feedback.Event
    )


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("latency_ms", b"1e400"),
        ("latency_ms", b"-1e400"),
        ("latency_ms", b"1" + b"0" * 400),
        ("latency_ms", b"1e308"),
        ("metadata", b'{"n":' + b"9" * 50 + b"}"),
    ],
)
def test_huge_numbers_in_events(field: str, text: bytes) -> None:
    data = b'{"id":"e","' + field.encode() + b'":' + text + b"}"
    assert _verdicts(ir.validate_json(data, ir.feedback.Event)) == _reference(
        data, ir.feedback.Event
    )


@pytest.mark.parametrize(
    "text", [b"1" + b"0" * 400, b"-" + b"9" * 40, b"9223372036854775808", b"1e3", b"2.5"]
)
def test_huge_integers(text: bytes) -> None:
    data = b'{"id":"t","labels":["a"],"priority":' + text + b"}"
    tp = ir.feedback.LabelingTask
    assert _verdicts(ir.validate_json(data, tp)) == _reference(data, tp)
    assert _line_verdicts(ir.validate_jsonl(data + b"\n" + data, tp)) == _reference_lines(
        data + b"\n" + data, tp
    )


# --- arguments ----------------------------------------------------------------------------


def test_text_and_memoryview_inputs() -> None:
    data = ir.to_json(DOCUMENT_EXAMPLES["feedback_event"]())
    assert ir.validate_json(data.decode(), ir.feedback.Event) == []
    assert ir.validate_json(memoryview(data), ir.feedback.Event) == []
    assert ir.validate_jsonl(bytearray(data), ir.feedback.Event) == []


def test_bad_arguments() -> None:
    with pytest.raises(InvalidArgumentError):
        ir.validate_json(123, ir.feedback.Event)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        ir.validate_jsonl(b"{}", ir.feedback.Event, threads=0)
    with pytest.raises(InvalidArgumentError):
        ir.validate_jsonl(os.path.join(tempfile.gettempdir(), "no-such-file.jsonl"), ir.Experiment)
    with pytest.raises(InvalidArgumentError):
        ir.validate_jsonl(42, ir.Experiment)  # type: ignore[arg-type]


def test_line_error_text() -> None:
    [error] = ir.validate_jsonl(b'{"id":"e"}\n{"id":1}\n', ir.feedback.Event)
    assert error == ir.LineError(2, "/id", "type", "expected string, got integer")
    assert str(error) == "2:/id: expected string, got integer [type]"
    assert ir.LineError._fields == ("line", "pointer", "code", "message")
