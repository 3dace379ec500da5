"""One write transaction's events: exactly-once filtering, segments, rollups.

:func:`store_batch` runs inside the writer's ``BEGIN IMMEDIATE`` transaction: it asks
:mod:`.sqlite_ids` which events are new (recording them as stored), sorts each
experiment's new events by ``(wall_time_us, event_id)``, writes them as one segment
(:mod:`.segment`) and adds them to the rollups (:mod:`.sqlite_rollups`) -- all or nothing.

Small segments (a slow trickle of events commits a few at a time) make reads pay a
per-segment cost, so after a commit the writer folds an experiment's small segments into
one once there are :data:`COMPACT_AT` of them (:func:`compact`), in its own transaction;
ids and rollups do not change.
"""

from __future__ import annotations

import functools
import sqlite3
from collections import Counter

import msgspec
import numpy as np

from crucible.telemetry.store.base import CapturedEvent
from crucible.telemetry.store.segment import (
    Batch,
    IntArray,
    encode_segment,
    is_constant,
    time_id_order,
)
from crucible.telemetry.store.segment_view import Segment
from crucible.telemetry.store.sqlite_ids import new_rows
from crucible.telemetry.store.sqlite_rollups import add_rollups

__all__ = ["COMPACT_AT", "COMPACT_ROWS", "SMALL_SEGMENT", "compact", "store_batch"]

SMALL_SEGMENT = 2_048  # segments with fewer events are compacted...
COMPACT_AT = 32  # ...once an experiment has this many of them...
COMPACT_ROWS = 65_536  # ...into segments of at most this many events

_encode_json = msgspec.json.Encoder().encode
_INSERT = (
    "INSERT INTO segments (experiment_id, first_us, last_us, n, min_sequence, max_sequence,"
    " names, data, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _by_experiment(batch: Batch, rows: IntArray) -> dict[str, IntArray]:
    exps = batch.columns["experiment_id"]
    first = exps[int(rows[0])]
    if is_constant(exps):
        return {first: rows}
    groups: dict[str, list[int]] = {}
    for i in rows.tolist():
        groups.setdefault(exps[i], []).append(i)
    return {exp: np.array(pos, dtype=np.int64) for exp, pos in groups.items()}


def _name_counts(names: list[str], take: IntArray) -> dict[str, int]:
    if is_constant(names):
        return {names[0]: len(take)}
    return dict(Counter(names[i] for i in take.tolist()))


def write_segment(conn: sqlite3.Connection, batch: Batch, take: IntArray, experiment: str) -> None:
    """Insert the rows ``take`` of a batch (one experiment's, in time order) as a segment."""
    data, payload = encode_segment(batch, take)
    seqs = batch.sequence[take]
    conn.execute(
        _INSERT,
        (
            experiment,
            int(batch.wall[take[0]]),
            int(batch.wall[take[-1]]),
            len(take),
            int(seqs.min()),
            int(seqs.max()),
            _encode_json(_name_counts(batch.columns["event_name"], take)).decode(),
            data,
            payload,
        ),
    )


def _ids(batch: Batch, rows: IntArray) -> list[str]:
    ids = batch.columns["event_id"]
    return [ids[i] for i in rows.tolist()]


def store_batch(conn: sqlite3.Connection, batch: Batch, window: int | None) -> int:
    """Store the new events of a batch (inside a write transaction); returns how many were
    new. ``window``: the base rollup window, or None to leave the rollups alone."""
    cols = batch.columns
    kept = new_rows(conn, cols["event_id"], cols["stream_id"], batch.sequence)
    if not kept.size:
        return 0
    for experiment, rows in _by_experiment(batch, kept).items():
        take = rows[time_id_order(batch.wall[rows], functools.partial(_ids, batch, rows))]
        write_segment(conn, batch, take, experiment)
        if window is not None:
            add_rollups(conn, batch, take, experiment, window)
    return int(kept.size)


def compact(conn: sqlite3.Connection, experiment: str) -> bool:
    """Fold the experiment's small segments into one if there are enough of them (inside a
    write transaction); returns whether it did. At most :data:`COMPACT_ROWS` events are
    folded at a time."""
    small = conn.execute(
        "SELECT segment_id, n FROM segments WHERE experiment_id = ? AND n < ? ORDER BY segment_id",
        (experiment, SMALL_SEGMENT),
    ).fetchall()
    if len(small) < COMPACT_AT:
        return False
    chosen: list[int] = []
    total = 0
    for segment_id, n in small:
        if total + n > COMPACT_ROWS:
            break
        chosen.append(segment_id)
        total += n
    events: list[CapturedEvent] = []
    for segment_id in chosen:
        data, payload = conn.execute(
            "SELECT data, payload FROM segments WHERE segment_id = ?", (segment_id,)
        ).fetchone()
        segment = Segment(bytes(data), functools.partial(bytes, payload))
        events.extend(segment.events(np.arange(segment.n, dtype=np.int64)))
    batch = Batch.of(events)
    order = time_id_order(batch.wall, functools.partial(_ids, batch, np.arange(batch.n)))
    write_segment(conn, batch, order, experiment)
    conn.executemany("DELETE FROM segments WHERE segment_id = ?", [(i,) for i in chosen])
    return True
