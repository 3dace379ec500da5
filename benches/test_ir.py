"""IR decoding and validation, each beside the reference a user would otherwise call.

* One ``Experiment`` document (the complete golden example, every optional field set, 18 kB
  as indented on disk) from bytes. crucible: ``from_json(..., validate=True)``: msgspec
  decodes into the frozen Structs (kinds, required, enums, bounds, patterns, time zones)
  while every semantic rule runs in Rust on the same bytes on the second core.
  References: pydantic v2 ``model_validate_json`` on an equivalent model (derived field by
  field from the same msgspec type information: same kinds, constraints, enums,
  ``extra="forbid"``, aware datetimes; no semantic rules), and msgspec decoding alone (no
  semantic rules).
* JSON Lines of feedback events (``CRUCIBLE_BENCH_IR_EVENTS``, default 1,000,000).
  crucible: ``validate_jsonl`` (structure and rules in Rust, on all cores; valid lines never
  become Python objects). Reference: msgspec decoding line by line into ``feedback.Event``
  plus the rules of a feedback event written in Python (below), as a user would otherwise
  write them. MB/s of both in ``extra_info``.
"""

from __future__ import annotations

import math
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import msgspec
import msgspec.inspect as mi
import pydantic
import pytest

import crucible.ir as ir
from crucible.ir import feedback
from crucible.ir.structure import type_info

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "ir" / "golden"
EXPERIMENT = (GOLDEN / "experiment.json").read_bytes()
N_EVENTS = int(os.environ.get("CRUCIBLE_BENCH_IR_EVENTS", "1000000"))

# --- an equivalent pydantic model, derived from the msgspec type information -------------

_models: dict[type, type[pydantic.BaseModel]] = {}
_building: set[type] = set()


def _name(cls: type) -> str:
    return f"P{cls.__qualname__.replace('.', '')}_{cls.__module__.rsplit('.', 1)[-1]}"


def _annotation(t: mi.Type) -> Any:
    constraints: dict[str, Any] = {}
    while isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.StructType):
        # a type inside its own definition (BackendRef.fallback): a forward reference
        return _name(t.cls) if t.cls in _building else _model(t.cls)
    if isinstance(t, mi.UnionType):
        members = tuple(_annotation(m) for m in t.types)
        return members[0] if len(members) == 1 else _union(members)
    if isinstance(t, (mi.IntType, mi.FloatType)):
        for name in ("ge", "gt", "le", "lt", "multiple_of"):
            if getattr(t, name) is not None:
                constraints[name] = getattr(t, name)
        base: Any = pydantic.StrictInt if isinstance(t, mi.IntType) else float
        return Annotated[base, pydantic.Field(**constraints)] if constraints else base
    if isinstance(t, mi.StrType):
        for name, key in (("min_length", "min_length"), ("max_length", "max_length")):
            if getattr(t, name) is not None:
                constraints[key] = getattr(t, name)
        if t.pattern is not None:
            constraints["pattern"] = t.pattern
        base = pydantic.StrictStr
        return Annotated[base, pydantic.Field(**constraints)] if constraints else base
    if isinstance(t, mi.BoolType):
        return pydantic.StrictBool
    if isinstance(t, mi.EnumType):
        return t.cls
    if isinstance(t, mi.LiteralType):
        return Literal[tuple(t.values)]
    if isinstance(t, mi.DateTimeType):
        return pydantic.AwareDatetime if t.tz else datetime
    if isinstance(t, mi.NoneType):
        return type(None)
    if isinstance(t, mi.ListType):
        item = _annotation(t.item_type)
        if t.min_length is not None or t.max_length is not None:
            field = pydantic.Field(min_length=t.min_length, max_length=t.max_length)
            return Annotated[list[item], field]  # type: ignore[valid-type]
        return list[item]  # type: ignore[valid-type]
    if isinstance(t, mi.DictType):
        return dict[_annotation(t.key_type), _annotation(t.value_type)]  # type: ignore[misc]
    return Any


def _union(members: tuple[Any, ...]) -> Any:
    return Union[members]  # noqa: UP007 (members may be forward references)


def _model(cls: type) -> type[pydantic.BaseModel]:
    if cls in _models:
        return _models[cls]
    info = type_info(cls)
    assert isinstance(info, mi.StructType)
    _building.add(cls)
    fields: dict[str, Any] = {}
    for field in info.fields:
        annotation = _annotation(field.type)
        if field.required:
            fields[field.encode_name] = (annotation, ...)
        elif field.default_factory is not msgspec.NODEFAULT:
            fields[field.encode_name] = (
                annotation,
                pydantic.Field(default_factory=field.default_factory),
            )
        else:
            fields[field.encode_name] = (annotation, field.default)
    model = pydantic.create_model(  # type: ignore[call-overload]
        _name(cls),
        __config__=pydantic.ConfigDict(extra="forbid", frozen=True),
        **fields,
    )
    _building.discard(cls)
    _models[cls] = model
    return model  # type: ignore[no-any-return]


def _pydantic_experiment() -> type[pydantic.BaseModel]:
    root = _model(ir.Experiment)
    namespace = {_name(cls): model for cls, model in _models.items()}
    for model in _models.values():
        model.model_rebuild(_types_namespace=namespace)
    return root


PydanticExperiment = _pydantic_experiment()


def _crucible_experiment(data: bytes) -> Any:
    return ir.from_json(data, ir.Experiment, validate=True)


# --- one document ---------------------------------------------------------------------------


def test_reference_models_accept_the_document() -> None:
    assert PydanticExperiment.model_validate_json(EXPERIMENT)
    assert ir.validate_json(EXPERIMENT, ir.Experiment) == []
    assert _crucible_experiment(EXPERIMENT) == msgspec.json.decode(EXPERIMENT, type=ir.Experiment)


@pytest.mark.benchmark(group="ir: Experiment from bytes vs pydantic")
@pytest.mark.parametrize("library", ["crucible", "pydantic", "msgspec-decode-alone-no-rules"])
def test_experiment_vs_pydantic(benchmark: Any, library: str) -> None:
    """The third row is not a competitor: msgspec decoding the same document with no rules
    at all, the fastest way known to build these objects, so its ratio to pydantic is the
    ceiling of any decoder that returns them."""
    if library == "crucible":
        benchmark(_crucible_experiment, EXPERIMENT)
    elif library == "pydantic":
        benchmark(PydanticExperiment.model_validate_json, EXPERIMENT)
    else:
        benchmark(msgspec.json.Decoder(ir.Experiment).decode, EXPERIMENT)


@pytest.mark.benchmark(group="ir: Experiment from bytes vs msgspec decode")
@pytest.mark.parametrize("library", ["crucible", "msgspec"])
def test_experiment_vs_msgspec(benchmark: Any, library: str) -> None:
    if library == "crucible":
        benchmark(_crucible_experiment, EXPERIMENT)
    else:
        decoder = msgspec.json.Decoder(ir.Experiment)
        benchmark(decoder.decode, EXPERIMENT)


@pytest.mark.benchmark(group="ir: Experiment validate_json vs pydantic")
@pytest.mark.parametrize("library", ["crucible", "pydantic"])
def test_validate_json_vs_pydantic(benchmark: Any, library: str) -> None:
    if library == "crucible":
        benchmark(ir.validate_json, EXPERIMENT, ir.Experiment)
    else:
        benchmark(PydanticExperiment.model_validate_json, EXPERIMENT)


# --- JSON Lines -------------------------------------------------------------------------------


def _events(n: int) -> bytes:
    kinds = [
        ('"thumbs"', '"up"'),
        ('"rating"', "4.5"),
        ('"label"', '["spam","ham"]'),
        ('"flag"', "true"),
    ]
    lines = []
    for i in range(n):
        kind, value = kinds[i % 4]
        lines.append(
            f'{{"schema_version":"0.3.0","id":"fb-{i:08d}","deployment_id":"dep-7",'
            f'"model_version":"1.4.2","feedback_type":{kind},"feedback_value":{value},'
            f'"user_id":"u{i % 9973}","session_id":"s{i % 100003}","latency_ms":{i % 997}.5,'
            f'"timestamp":"2025-06-01T12:{i // 60 % 60:02d}:{i % 60:02d}+02:00",'
            f'"metadata":{{"region":"eu-west-1","ab":"{"ab"[i % 2]}"}}}}'
        )
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def events() -> bytes:
    return _events(N_EVENTS)


def _python_event_rules(event: feedback.Event) -> list[tuple[str, str]]:
    """The rules of a feedback event (schema version, value suits type) in plain Python: the
    reference a user without crucible's engine would write."""
    out = []
    parts = event.schema_version.split(".")
    current = len(parts) == 3 and all(p.isdecimal() for p in parts)
    if not current or (int(parts[0]), int(parts[1])) != (0, 3):
        out.append(("/schema_version", "schema_version.unsupported"))
    kind, value = event.feedback_type, event.feedback_value
    fits = (
        value is None
        or (kind == "thumbs" and (isinstance(value, bool) or value in ("up", "down")))
        or (
            kind == "rating"
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
            and math.isfinite(value)
        )
        or (
            kind == "label"
            and (
                isinstance(value, str)
                or (isinstance(value, list) and all(isinstance(v, str) for v in value))
            )
        )
        or (kind == "correction" and isinstance(value, (str, dict)))
        or (kind == "flag" and isinstance(value, (bool, str)))
    )
    if not fits:
        out.append(("/feedback_value", "feedback_event.value_mismatch"))
    return out


def _reference_jsonl(data: bytes) -> list[tuple[int, str, str]]:
    decoder = msgspec.json.Decoder(feedback.Event)
    out: list[tuple[int, str, str]] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = decoder.decode(line)
        except msgspec.MsgspecError as exc:
            out.append((number, "", str(exc)))
            continue
        out.extend((number, path, code) for path, code in _python_event_rules(event))
    return out


def test_python_reference_rules_agree() -> None:
    lines = [
        b'{"id":"a","feedback_type":"rating","feedback_value":"five"}',
        b'{"id":"b","schema_version":"0.2.0","feedback_type":"thumbs","feedback_value":"up"}',
        b'{"id":"c","feedback_type":"label","feedback_value":["x",1]}',
        b'{"id":"d","feedback_type":"flag","feedback_value":true}',
    ]
    data = b"\n".join(lines) + b"\n"
    found = [(e.line, e.pointer, e.code) for e in ir.validate_jsonl(data, feedback.Event)]
    assert _reference_jsonl(data) == found
    assert len(found) == 3


@pytest.mark.benchmark(group="ir: validate_jsonl feedback events vs msgspec + Python rules")
@pytest.mark.parametrize("library", ["crucible", "msgspec"])
def test_jsonl_events(benchmark: Any, library: str, events: bytes) -> None:
    run = (
        (lambda: ir.validate_jsonl(events, feedback.Event))
        if library == "crucible"
        else (lambda: _reference_jsonl(events))
    )
    started = time.perf_counter()
    found = benchmark.pedantic(run, rounds=3, iterations=1)
    assert found == []
    mb = len(events) / 1e6
    benchmark.extra_info["events"] = N_EVENTS
    benchmark.extra_info["MB"] = round(mb, 1)
    if benchmark.stats is not None:  # None in --benchmark-disable smoke runs
        benchmark.extra_info["MB/s (best round)"] = round(mb / benchmark.stats.stats.min, 1)
    benchmark.extra_info["wall s (3 rounds)"] = round(time.perf_counter() - started, 2)
