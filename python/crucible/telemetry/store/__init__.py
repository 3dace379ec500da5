"""Telemetry stores behind one port (:class:`~crucible.telemetry.store.base.Store`)."""

from __future__ import annotations

from crucible.telemetry.store.base import (
    COLUMN_KINDS,
    CapturedEvent,
    ColumnBatch,
    EventName,
    ExperimentRecord,
    ExperimentStatus,
    Rollup,
    Store,
    name_from_str,
    name_to_str,
)

__all__ = [
    "COLUMN_KINDS",
    "CapturedEvent",
    "ColumnBatch",
    "EventName",
    "ExperimentRecord",
    "ExperimentStatus",
    "Rollup",
    "Store",
    "name_from_str",
    "name_to_str",
]
