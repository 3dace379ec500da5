"""crucible.telemetry: research-grade capture of bus events into experiments.

* :func:`start_experiment` attaches to the event bus (:mod:`crucible.events`) and captures
  events, enriched (experiment, condition, correlation id, sequence, timestamps, node,
  latency, cost, success, ...), into a store; :meth:`Experiment.stop` and :func:`archive`.
* :mod:`~crucible.telemetry.catalog`: the standard events, their schemas, ``emit_*``.
* Stores behind one protocol (:class:`Store`): :class:`SQLiteStore` (the default, one file
  under ``$CRUCIBLE_HOME`` or ``./.crucible``), :class:`MemoryStore`, and
  ``crucible.telemetry.store.postgres.PostgresStore``.
* :func:`export` / :func:`read_export`: CSV, JSONL and Parquet, streaming.
* :func:`correlation` / :func:`bind_context`: correlation ids across threads and tasks.

The analysis (metrics, comparisons), anomaly detectors, samplers and the cost model live in
:mod:`~crucible.telemetry.analysis`, :mod:`~crucible.telemetry.anomaly`,
:mod:`~crucible.telemetry.sampling` and :mod:`~crucible.telemetry.cost`.
"""

from __future__ import annotations

from crucible.telemetry.catalog import (
    STANDARD_EVENTS,
    EventInfo,
    emit,
    event_info,
    events_in,
    validate,
)
from crucible.telemetry.context import bind_context, correlation, correlation_id
from crucible.telemetry.experiment import (
    Candidate,
    CaptureStats,
    Experiment,
    Sampler,
    TelemetryValidationWarning,
    default_store,
    node_id,
    open_store,
    start_experiment,
    store_from,
)
from crucible.telemetry.export import archive, export, read_export
from crucible.telemetry.store import (
    CapturedEvent,
    ExperimentRecord,
    Rollup,
    Store,
)
from crucible.telemetry.store.memory import MemoryStore
from crucible.telemetry.store.sqlite import SQLiteStore, default_path

__all__ = [
    "STANDARD_EVENTS",
    "Candidate",
    "CaptureStats",
    "CapturedEvent",
    "EventInfo",
    "Experiment",
    "ExperimentRecord",
    "MemoryStore",
    "Rollup",
    "SQLiteStore",
    "Sampler",
    "Store",
    "TelemetryValidationWarning",
    "archive",
    "bind_context",
    "correlation",
    "correlation_id",
    "default_path",
    "default_store",
    "emit",
    "event_info",
    "events_in",
    "export",
    "node_id",
    "open_store",
    "read_export",
    "start_experiment",
    "store_from",
    "validate",
]
