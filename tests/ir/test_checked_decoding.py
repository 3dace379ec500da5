"""``from_json(data, T, validate=True)``: decoding plus the semantic rules read from the input
bytes (on a second core for large documents) gives the verdict ``validate`` gives the
decoded object, whichever path ran and whatever fields the document leaves to defaults."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from ir_examples import DOCUMENT_EXAMPLES
from ir_strategies import ALL_TYPES, instances
from test_rules import CASES

import crucible.ir as ir
from crucible.errors import SerializationError, ValidationError
from crucible.ir import validation

TYPE_IDS = [f"{t.__module__.rsplit('.', 1)[-1]}.{t.__qualname__}" for t in ALL_TYPES]


def _verdict(data: bytes, tp: type[Any]) -> list[tuple[str, str]] | None:
    """None when ``from_json(validate=True)`` accepts, else its findings (pointer, code:
    messages may quote a map in either key order)."""
    try:
        ir.from_json(data, tp, validate=True)
    except ValidationError as exc:
        return sorted((i.path, i.code) for i in exc.items)
    return None


def _expected(obj: Any) -> list[tuple[str, str]] | None:
    found = ir.errors(obj)
    return sorted((i.path, i.code) for i in found) if found else None


_REQUIRED = object()


def _defaults(tp: type[Any]) -> dict[str, Any]:
    """JSON key -> the JSON form of the field's default (required fields left out)."""
    out = {}
    for f in msgspec.structs.fields(tp):
        if f.default is not msgspec.NODEFAULT:
            out[f.encode_name] = msgspec.to_builtins(f.default)
        elif f.default_factory is not msgspec.NODEFAULT:
            out[f.encode_name] = msgspec.to_builtins(f.default_factory())
    return out


@pytest.fixture(params=[0, 10**9], ids=["parallel", "inline"])
def parallel_from(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Forces every document through the worker-thread path, or none."""
    monkeypatch.setattr(validation, "_PARALLEL_FROM", request.param)
    return int(request.param)


@pytest.mark.parametrize("code", list(CASES))
def test_every_rule_case(code: str, parallel_from: int) -> None:
    for obj in CASES[code][:2]:
        assert _verdict(ir.to_json(obj), type(obj)) == _expected(obj)


@pytest.mark.parametrize("tp", ALL_TYPES, ids=TYPE_IDS)
def test_random_instances_full_and_sparse(tp: type[Any], parallel_from: int) -> None:
    sparse = msgspec.json.Encoder()

    @settings(
        max_examples=10,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(instances(tp))
    def check(obj: Any) -> None:
        want = _expected(obj)
        assert _verdict(ir.to_json(obj), tp) == want
        # the same object with every default-valued field left out of the document
        doc = msgspec.json.decode(sparse.encode(obj))
        thin = {k: v for k, v in doc.items() if _defaults(tp).get(k, _REQUIRED) != v}
        assert _verdict(msgspec.json.encode(thin), tp) == want

    check()


def test_examples_accepted_from_bytes_text_and_memoryview() -> None:
    for name, make in DOCUMENT_EXAMPLES.items():
        obj = make()
        data = ir.to_json(obj)
        tp = ir.document_type(name)
        for given_ in (data, data.decode(), memoryview(data), bytearray(data)):
            assert ir.from_json(given_, tp, validate=True) == obj


def test_structural_and_syntax_errors_come_first(parallel_from: int) -> None:
    with pytest.raises(ValidationError) as caught:
        ir.from_json(b'{"id": 5}', ir.Experiment, validate=True)
    assert {e.code for e in caught.value.items} <= {"type", "required"}
    with pytest.raises(SerializationError):
        ir.from_json(b'{"id": "e",', ir.Experiment, validate=True)


def test_upgrade_then_validate() -> None:
    bad = CASES["experiment.duplicate_output_name"][1]
    with pytest.raises(ValidationError):
        ir.from_json(ir.to_json(bad), type(bad), upgrade=True, validate=True)


def test_pending_rules_equal_the_inline_rules_whoever_runs_them() -> None:
    """Many jobs at once: some are claimed by the pool, some by the waiter (the pool is
    busy); every answer is the inline one, and an answer is handed out once."""
    validator = validation.schema_validator(ir.Experiment)
    docs = [
        ir.to_json(example) for example in DOCUMENT_EXAMPLES if isinstance(example, ir.Experiment)
    ]
    docs += [msgspec.json.encode({"id": "", "backend": {"id": ""}, "pipeline": []})]
    pending = [(doc, validator.semantic_later(doc)) for doc in docs * 50]
    for doc, job in reversed(pending):
        assert job.wait() == validator.semantic(doc)
    _, job = pending[0]
    with pytest.raises(ValueError, match="already taken"):
        job.wait()
