"""Synthetic captured events for the telemetry tests."""

from __future__ import annotations

from crucible.telemetry.store.base import CapturedEvent


def make_event(i: int, **fields: object) -> CapturedEvent:
    """A synthetic captured event number ``i`` (fields override the defaults)."""
    values: dict[str, object] = {
        "event_id": f"s-{i:x}",
        "event_name": ("crucible", "llm", "request", "stop" if i % 4 else "exception"),
        "experiment_id": "exp-1",
        "experiment_name": "exp",
        "condition": "A",
        "tags": ("t",),
        "stream_id": "s",
        "sequence": i,
        "wall_time_us": 1_700_000_000_000_000 + i * 1_000,
        "monotonic_ns": i * 1_000_000,
        "node_id": "n",
        "category": "llm",
        "measurements": {"duration": (i % 97 + 1) * 100_000, "input_tokens": i % 7},
        "metadata": {"model": "gpt-4o", "i": i},
        "latency_ms": (i % 97 + 1) / 10,
        "cost_usd": 0.001 * (i % 3),
        "success": bool(i % 4),
        "model": "gpt-4o",
        "tokens_in": i % 7,
        "tokens_out": 2 * (i % 5),
        "weight": 1.0 + (i % 2),
    }
    values.update(fields)
    return CapturedEvent(**values)  # type: ignore[arg-type]
