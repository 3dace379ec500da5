"""From the event bus into a trace: a handler that turns chosen bus events into trace events.

Telemetry measures; a trace explains. Some bus events are worth both: a pipeline stage
starting and stopping, a checkpoint saved, an LLM call with its tokens and cost.
:func:`attach` subscribes a :class:`~crucible.trace.tracer.Tracer` to such events and
records one trace event per bus event, through a converter you can replace.

The default converter maps the stage span ``("crucible", "framework", "stage", ...)`` to
``stage_started``/``stage_completed``/``stage_failed`` (the original attached to its
pipeline's stage start and stop the same way), and any other event to a custom type
``bus:<dotted name>`` with the measurements and metadata kept (made JSON-safe), the
``duration`` as ``latency_ms`` and token, cost and model fields where the telemetry
catalogue names them. Events under ``("crucible", "trace")`` are never converted, since
the trace announces its own events there and would feed on itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec

from crucible import events as bus
from crucible.trace.chain import make_event
from crucible.trace.event import Event
from crucible.trace.tracer import Tracer

__all__ = ["STAGE_SPAN", "Converter", "attach", "convert", "detach"]

STAGE_SPAN: bus.EventName = ("crucible", "framework", "stage")
Converter = Callable[[bus.EventName, Mapping[str, Any], Mapping[str, Any]], Event | None]
_OWN = ("crucible", "trace")
_UNSAFE = re.compile(r"[^a-z0-9_.\-]")
_TOKENS_IN = ("input_tokens", "tokens_in", "prompt_tokens")
_TOKENS_OUT = ("output_tokens", "tokens_out", "completion_tokens")


def _json_safe(value: Mapping[str, Any]) -> dict[str, Any]:
    try:
        out = msgspec.to_builtins(dict(value), enc_hook=repr, str_keys=True)
    except Exception:  # anything at all: a trace must not fail on odd metadata
        return {"repr": repr(value)[:2000]}
    return out if isinstance(out, dict) else {"value": out}


def _count(source: Mapping[str, Any], names: Iterable[str]) -> int | None:
    for name in names:
        value = source.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def convert(
    name: bus.EventName, measurements: Mapping[str, Any], metadata: Mapping[str, Any]
) -> Event | None:
    """The default converter (see the module docstring)."""
    if name[: len(_OWN)] == _OWN:
        return None
    duration = measurements.get("duration")
    latency = duration / 1e6 if isinstance(duration, (int, float)) and duration >= 0 else None
    if name[:3] == STAGE_SPAN and len(name) == 4:
        stage = str(metadata.get("stage_name") or metadata.get("stage") or "stage")
        kind = {"start": "stage_started", "stop": "stage_completed", "exception": "stage_failed"}
        event_type = kind.get(name[3])
        if event_type is not None:
            return make_event(
                event_type,
                f"stage {stage} {name[3]}",
                str(metadata.get("reason") or ""),
                stage=stage,
                latency_ms=latency if name[3] != "start" else None,
                confidence=0.0 if name[3] == "exception" else 1.0,
                metadata={"bus": _json_safe(metadata)},
            )
    dotted = ".".join(name)
    slug = _UNSAFE.sub("_", dotted.lower())[:128].lstrip("._-") or "event"
    model = metadata.get("model")
    cost = measurements.get("cost_usd", metadata.get("cost_usd"))
    return make_event(
        f"bus:{slug}",
        dotted,
        metadata=({"measurements": _json_safe(measurements), "metadata": _json_safe(metadata)}),
        latency_ms=latency,
        tokens_in=_count(measurements, _TOKENS_IN),
        tokens_out=_count(measurements, _TOKENS_OUT),
        cost_usd=float(cost) if isinstance(cost, (int, float)) and cost >= 0 else None,
        model=model if isinstance(model, str) else None,
    )


def attach(
    tracer: Tracer,
    names: Iterable[bus.EventName] | bus.EventName,
    *,
    prefix: bool = False,
    handler_id: str | None = None,
    converter: Converter = convert,
) -> str:
    """Record a trace event in ``tracer`` for each bus event named in ``names`` (prefixes
    with ``prefix=True``); returns the handler id (for :func:`detach`). Events the
    converter maps to None are skipped; the tracer's defaults (experiment, model, current
    stage) fill fields the converter leaves empty."""
    hid = handler_id or f"crucible.trace.bridge.{tracer.chain.id}.{id(converter):x}"

    def handle(
        name: bus.EventName, measurements: dict[str, Any], metadata: dict[str, Any], _: Any
    ) -> None:
        event = converter(name, measurements, metadata)
        if event is None:
            return
        fill = {
            "experiment_id": tracer.experiment_id,
            "model": tracer.model,
            "stage": tracer.current_stage.name if tracer.current_stage else None,
        }
        missing = {k: v for k, v in fill.items() if v is not None and getattr(event, k) is None}
        tracer.add(msgspec.structs.replace(event, **missing) if missing else event)

    bus.attach(hid, names, handle, prefix=prefix)
    return hid


def detach(handler_id: str) -> bool:
    """Stop converting (``True`` if the handler was attached)."""
    return bus.detach(handler_id)
