"""The fields a captured event derives from its name, measurements and metadata.

Rules (the first that applies wins):

* ``latency_ms``: measurements ``duration`` (ns, as spans and the catalogue give it) / 1e6;
  else ``latency_ms``; else ``duration_ms``; else ``stop - start`` (ns) / 1e6.
* ``success``: an explicit boolean ``success`` (metadata, then measurements); ``False`` for
  an ``exception`` event, a truthy ``error``/``exception`` in metadata, or a ``status`` of
  ``error``/``failed``/``failure``/``unhealthy``; ``True`` for a ``status`` of
  ``ok``/``success``/``healthy`` or a ``stop`` event; otherwise ``None`` (not an outcome).
* ``error``: for failures, metadata ``kind`` (the exception class) or ``error``.
* ``model``/``provider``/``session_id``/``user_id``/``sample_id``/``cohort``: metadata keys of
  those names (``model_name`` for ``model`` too).
* ``tokens_in``/``tokens_out``: measurements ``input_tokens``/``tokens_in``/``prompt_tokens``
  (and the output spellings), or a ``tokens`` mapping ``{prompt, completion}``.
* ``cost_usd``: an explicit ``cost_usd``/``cost`` (measurements, then metadata); else, for
  events with a model and token counts, the price table of :mod:`crucible.telemetry.cost`
  (``None`` for a model it does not know).
* ``derived``: the category's own fields found in measurements or metadata
  (:data:`LIFTED`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crucible.telemetry.cost import (
    CACHED_TOKEN_KEYS,
    INPUT_TOKEN_KEYS,
    OUTPUT_TOKEN_KEYS,
    PriceTable,
    default_price_table,
)

__all__ = ["LIFTED", "Derived", "derive"]

LIFTED: dict[str, tuple[str, ...]] = {
    "training": (
        "run_id",
        "epoch",
        "batch",
        "step",
        "loss",
        "accuracy",
        "learning_rate",
        "gradient_norm",
        "checkpoint_path",
    ),
    "deployment": (
        "model_name",
        "model_version",
        "input_size",
        "output_size",
        "batch_size",
        "status",
    ),
    "framework": ("pipeline_id", "stage_name", "stage_index"),
    "xai": ("method", "model_name", "num_features"),
    "adversary": ("attack", "epsilon", "success_rate", "model_name"),
    "llm": ("request_id",),
    "tools": ("tool", "call_id"),
    "trace": ("chain_id", "event_type"),
    "telemetry": ("method", "metric"),
}
"""Per category, the keys copied into ``CapturedEvent.derived`` when present."""

_FAILED = frozenset({"error", "failed", "failure", "unhealthy"})
_OK = frozenset({"ok", "success", "healthy"})

Derived = tuple[
    float | None,  # latency_ms
    float | None,  # cost_usd
    bool | None,  # success
    str | None,  # model
    str | None,  # provider
    int | None,  # tokens_in
    int | None,  # tokens_out
    str | None,  # error
    str | None,  # session_id
    str | None,  # user_id
    str | None,  # sample_id
    str | None,  # cohort
    dict[str, Any],  # derived
]


def _num(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


_LATENCY_MS_KEYS = ("latency_ms", "duration_ms")


def _latency(m: Mapping[str, Any]) -> float | None:
    d = m.get("duration")
    if d is not None:
        d = _num(d)
        if d is not None:
            return d / 1e6
    for key in _LATENCY_MS_KEYS:
        if key in m:
            d = _num(m[key])
            if d is not None:
                return d
    if "start" in m and "stop" in m:
        start, stop = _num(m["start"]), _num(m["stop"])
        if start is not None and stop is not None:
            return (stop - start) / 1e6
    return None


def _success(action: str, m: Mapping[str, Any], md: Mapping[str, Any]) -> bool | None:
    flag = md.get("success") if md else None
    if flag.__class__ is not bool:
        flag = m.get("success") if m else None
    if flag.__class__ is bool:
        return bool(flag)
    if action == "exception" or (md and (md.get("error") or md.get("exception"))):
        return False
    status = md.get("status", m.get("status")) if md else (m.get("status") if m else None)
    if isinstance(status, str):
        low = status.lower()
        if low in _FAILED:
            return False
        if low in _OK:
            return True
    return True if action == "stop" else None


def _first(m: Mapping[str, Any], keys: tuple[str, ...]) -> int | None:
    """The first of ``keys`` present in ``m``, as an int (None if absent or not integral)."""
    for key in keys:
        if key in m:
            return _int(m[key])
    return None


def derive(
    name: tuple[str, ...],
    category: str,
    m: Mapping[str, Any],
    md: Mapping[str, Any],
    prices: PriceTable | None = None,
) -> Derived:
    """The derived fields of one event (see the module docstring). Hot path: it reads only
    what the event has."""
    action = name[-1] if name else ""
    success = _success(action, m, md)
    error: str | None = None
    if success is False:
        error = _str(md.get("kind")) or _str(md.get("error"))
        if error is None and action == "exception":
            error = "exception"
    model = provider = session = user = sample = cohort = None
    if md:
        get = md.get
        model = _str(get("model")) or _str(get("model_name"))
        provider, session = _str(get("provider")), _str(get("session_id"))
        user, sample, cohort = _str(get("user_id")), _str(get("sample_id")), _str(get("cohort"))
    tin = tout = None
    cost: float | None = None
    if m:
        tin, tout = _first(m, INPUT_TOKEN_KEYS), _first(m, OUTPUT_TOKEN_KEYS)
        if "cost_usd" in m or "cost" in m:
            cost = _num(m.get("cost_usd", m.get("cost")))
    if tin is None and tout is None and ("tokens" in m or "tokens" in md):
        nested = m.get("tokens", md.get("tokens"))
        if isinstance(nested, Mapping):
            tin, tout = _int(nested.get("prompt")), _int(nested.get("completion"))
    if cost is None and md and ("cost_usd" in md or "cost" in md):
        cost = _num(md.get("cost_usd", md.get("cost")))
    if cost is None and model is not None and (tin is not None or tout is not None):
        table = prices if prices is not None else default_price_table()
        cached = next((m[k] for k in CACHED_TOKEN_KEYS if m.get(k) is not None), 0)
        cost = table.cost(model, tin or 0, tout or 0, _int(cached) or 0)
    lifted: dict[str, Any] = {}
    keys = LIFTED.get(category)
    if keys and (m or md):
        for key in keys:
            if key in m:
                lifted[key] = m[key]
            elif key in md:
                lifted[key] = md[key]
    return (
        _latency(m) if m else None,
        cost,
        success,
        model,
        provider,
        tin,
        tout,
        error,
        session,
        user,
        sample,
        cohort,
        lifted,
    )
