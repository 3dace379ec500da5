"""The SQLite store's file layout, its creation, and the upgrade of older files.

Schema version 2 (this one):

* ``segments``: one row per experiment per committed batch (:mod:`.segment`): the
  experiment, first/last wall time, event count, min/max sequence, the JSON count of
  events per name, the ``data`` BLOB (small columns) and the ``payload`` BLOB (ids,
  measurements, metadata, derived). Indexed by ``(experiment_id, first_us)``.
* ``id_ranges`` and ``event_ids``: which event ids are stored (:mod:`.sqlite_ids`).
* ``rollups`` and ``rollup_hist``: the continuous aggregates (:mod:`.sqlite_rollups`),
  unchanged from version 1.
* ``experiments`` (one JSON :class:`ExperimentRecord` each) and ``meta`` (schema version,
  base rollup window).

Version 1 kept one ``events`` row per event. Opening a version-1 file upgrades it in
place, in one transaction (a crash leaves it at version 1): its events are re-written as
segments in chunks of 50,000 rows, the ``events`` table is dropped, and its rollups are
kept as they are (they count the same events). Files of any other version are refused
with :class:`~crucible.errors.StorageError`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from crucible.errors import InvalidArgumentError, StorageError
from crucible.telemetry.store.base import CapturedEvent
from crucible.telemetry.store.segment import FIELDS, Batch
from crucible.telemetry.store.sqlite_ids import IDS_SCHEMA
from crucible.telemetry.store.sqlite_rollups import ROLLUP_SCHEMA

__all__ = ["SCHEMA_VERSION", "create_or_open"]

SCHEMA_VERSION = 2
_MIGRATION_CHUNK = 50_000

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS experiments (experiment_id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " started_us INTEGER NOT NULL, record TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS experiments_by_name ON experiments (name, started_us)",
    "CREATE TABLE IF NOT EXISTS segments (segment_id INTEGER PRIMARY KEY,"
    " experiment_id TEXT NOT NULL, first_us INTEGER NOT NULL, last_us INTEGER NOT NULL,"
    " n INTEGER NOT NULL, min_sequence INTEGER NOT NULL, max_sequence INTEGER NOT NULL,"
    " names TEXT NOT NULL, data BLOB NOT NULL, payload BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS segments_by_experiment ON segments (experiment_id, first_us)",
    *IDS_SCHEMA,
    *ROLLUP_SCHEMA,
]

_decode_tags = msgspec.json.Decoder(tuple[str, ...]).decode
_decode_dict = msgspec.json.Decoder(dict[str, Any]).decode

WriteEvents = Callable[[sqlite3.Connection, Batch], int]


def _v1_event(row: Sequence[Any]) -> CapturedEvent:
    """An event of a version-1 ``events`` row (columns in field order, JSON payloads)."""
    values = dict(zip(FIELDS, row, strict=True))
    values["event_name"] = tuple(values["event_name"].split("."))
    values["tags"] = _decode_tags(values["tags"])
    for name in ("measurements", "metadata", "derived"):
        values[name] = _decode_dict(values[name])
    success = values["success"]
    values["success"] = None if success is None else bool(success)
    return CapturedEvent(**values)


def _upgrade_v1(conn: sqlite3.Connection, write: WriteEvents) -> None:
    last = 0
    while True:
        rows = conn.execute(
            f"SELECT rowid, {', '.join(FIELDS)} FROM events WHERE rowid > ? ORDER BY rowid"
            f" LIMIT {_MIGRATION_CHUNK}",
            (last,),
        ).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        write(conn, Batch.of([_v1_event(r[1:]) for r in rows]))
    conn.execute("DROP TABLE events")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))


def create_or_open(
    conn: sqlite3.Connection, path: object, window_us: int | None, write: WriteEvents
) -> int:
    """Create the tables (or check and upgrade an existing file) in one write transaction;
    returns the file's base rollup window. ``write`` stores a batch without touching the
    rollups (used by the upgrade)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        meta = {}
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        version = int(meta.get("schema_version", SCHEMA_VERSION))
        if version not in (1, SCHEMA_VERSION):
            raise StorageError(
                f"{path} has telemetry schema {version}; this crucible reads schema"
                f" {SCHEMA_VERSION} and upgrades schema 1"
            )
        for statement in SCHEMA:
            conn.execute(statement)
        if not meta:
            stored = window_us or 1_000_000
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [("schema_version", str(SCHEMA_VERSION)), ("window_us", str(stored))],
            )
        else:
            stored = int(meta["window_us"])
            if window_us is not None and window_us != stored:
                raise InvalidArgumentError(
                    f"{path} keeps {stored} µs rollup windows; cannot open it "
                    f"with rollup_window_us={window_us}"
                )
            if version == 1:
                _upgrade_v1(conn, write)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return stored
