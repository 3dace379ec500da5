"""Reading segments back: pruning, filtering, and merging them into one ordered stream.

Each segment row carries what pruning needs without touching its BLOBs: the experiment,
the first and last wall time, the event count and the count per event name. A read asks
SQLite for the candidate segments' metadata, drops those whose names cannot match, and
loads the rest one at a time, in order of their first wall time.

Segments of one experiment overlap in time when several writers (threads, processes,
machines) interleave, so the stream is a k-way merge, done in chunks: with the loaded
segments' next rows and the first wall time ``F`` of the next unloaded segment, every
loaded row before ``F`` can go out (no unloaded row can precede it); segments are loaded
while ``F`` is not after the smallest pending row. Rows of one segment are already in
``(wall_time_us, event_id)`` order; rows of several are interleaved by wall time, and ids
are compared only among equal times. Only the overlapping segments are in memory at once.

A batch is a list of :class:`Take` (rows of one segment and where they go in the batch),
so ``select`` gathers NumPy columns and ``query`` builds only the events it returns.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.telemetry.store.base import COLUMN_KINDS, CapturedEvent, ColumnBatch, name_to_str
from crucible.telemetry.store.segment import IntArray, time_id_order
from crucible.telemetry.store.segment_view import Segment

__all__ = ["Filters", "Take", "column_batches", "count_events", "event_batches"]

_decode_names = msgspec.json.Decoder(dict[str, int]).decode
_EMPTY = {"s": object, "i": np.int64, "f": np.float64, "b": np.float64}


class Filters(NamedTuple):
    experiment_id: str | None
    event_name: Sequence[str] | None
    event_prefix: Sequence[str] | None
    since_us: int | None
    until_us: int | None

    def name_ok(self, dotted: str) -> bool:
        if self.event_name is not None and dotted != name_to_str(self.event_name):
            return False
        if self.event_prefix:
            prefix = name_to_str(self.event_prefix)
            return dotted == prefix or dotted.startswith(prefix + ".")
        return True

    @property
    def names_filtered(self) -> bool:
        return self.event_name is not None or bool(self.event_prefix)


class _Meta(NamedTuple):
    segment_id: int
    first_us: int
    last_us: int
    n: int
    names_json: str

    def names(self) -> dict[str, int]:
        """Events per dotted name in the segment."""
        return _decode_names(self.names_json)


class Take(NamedTuple):
    """Rows of one segment in a batch; ``where``: their positions in the batch (None: the
    batch is exactly these rows, in this order)."""

    segment: Segment
    rows: IntArray
    where: IntArray | None


def _candidates(conn: sqlite3.Connection, f: Filters) -> list[_Meta]:
    clauses: list[str] = []
    params: list[Any] = []
    if f.experiment_id is not None:
        clauses.append("experiment_id = ?")
        params.append(f.experiment_id)
    if f.since_us is not None:
        clauses.append("last_us >= ?")
        params.append(f.since_us)
    if f.until_us is not None:
        clauses.append("first_us < ?")
        params.append(f.until_us)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    metas = [
        _Meta(*row)
        for row in conn.execute(
            f"SELECT segment_id, first_us, last_us, n, names FROM segments{where}"
            " ORDER BY first_us, segment_id",
            params,
        )
    ]
    if f.names_filtered:
        metas = [m for m in metas if any(f.name_ok(name) for name in m.names())]
    return metas


def _load(conn: sqlite3.Connection, segment_id: int) -> Segment:
    (data,) = conn.execute(
        "SELECT data FROM segments WHERE segment_id = ?", (segment_id,)
    ).fetchone()

    def payload() -> bytes:
        row = conn.execute(
            "SELECT payload FROM segments WHERE segment_id = ?", (segment_id,)
        ).fetchone()
        return bytes(row[0])

    return Segment(bytes(data), payload)


def _rows(segment: Segment, f: Filters) -> IntArray:
    """The rows of a segment that pass the filters (ascending = in time order)."""
    wall = segment.array("wall_time_us")
    lo = 0 if f.since_us is None else int(np.searchsorted(wall, f.since_us, side="left"))
    hi = len(wall) if f.until_us is None else int(np.searchsorted(wall, f.until_us, side="left"))
    rows = np.arange(lo, max(lo, hi), dtype=np.int64)
    if f.names_filtered and rows.size:
        names = segment.array("event_name")[rows]
        ok = {name: f.name_ok(name) for name in set(names.tolist())}
        rows = rows[np.fromiter(map(ok.__getitem__, names), bool, len(names))]
    return rows


class _Cursor:
    __slots__ = ("pos", "rows", "segment", "walls")

    def __init__(self, segment: Segment, rows: IntArray) -> None:
        self.segment = segment
        self.rows = rows
        self.walls = segment.array("wall_time_us")[rows]
        self.pos = 0


def _chunks(conn: sqlite3.Connection, f: Filters) -> Iterator[list[tuple[_Cursor, int, int]]]:
    """Runs of rows to emit together: (cursor, start, stop) per segment, every row of a
    chunk before every row of the next."""
    pending = deque(_candidates(conn, f))
    active: list[_Cursor] = []
    while True:
        while pending and (
            not active or pending[0].first_us <= min(int(c.walls[c.pos]) for c in active)
        ):
            segment = _load(conn, pending.popleft().segment_id)
            rows = _rows(segment, f)
            if rows.size:
                active.append(_Cursor(segment, rows))
        if not active:
            return
        bound = pending[0].first_us if pending else None
        chunk = []
        for c in active:
            stop = len(c.rows)
            if bound is not None:
                stop = c.pos + int(np.searchsorted(c.walls[c.pos :], bound, side="left"))
            if stop > c.pos:
                chunk.append((c, c.pos, stop))
                c.pos = stop
        active = [c for c in active if c.pos < len(c.rows)]
        yield chunk


def _pieces(chunk: list[tuple[_Cursor, int, int]]) -> tuple[int, Callable[[int, int], list[Take]]]:
    """A chunk as a sliceable sequence: its length, and positions [k0, k1) as takes whose
    ``where`` counts from k0 (None: one segment's consecutive rows)."""
    if len(chunk) == 1:
        c, start, stop = chunk[0]
        return stop - start, lambda k0, k1: [Take(c.segment, c.rows[start + k0 : start + k1], None)]
    walls = np.concatenate([c.walls[a:b] for c, a, b in chunk])
    offsets = np.cumsum([0] + [b - a for _, a, b in chunk])

    def ids() -> list[str]:
        return [i for c, a, b in chunk for i in c.segment.pick("event_id", c.rows[a:b])]

    order = time_id_order(walls, ids)

    def part(k0: int, k1: int) -> list[Take]:
        positions = order[k0:k1]
        owner = np.searchsorted(offsets, positions, side="right") - 1
        takes = []
        for j, (c, a, _) in enumerate(chunk):
            where = np.flatnonzero(owner == j)
            if where.size:
                takes.append(Take(c.segment, c.rows[a + positions[where] - offsets[j]], where))
        return takes

    return len(order), part


def _shifted(take: Take, offset: int) -> Take:
    where = np.arange(len(take.rows)) if take.where is None else take.where
    return Take(take.segment, take.rows, where + offset)


def _batches(conn: sqlite3.Connection, f: Filters, batch_size: int) -> Iterator[list[Take]]:
    """Batches of exactly ``batch_size`` rows (the last one may be shorter), across chunks."""
    size = max(1, batch_size)
    batch: list[Take] = []
    filled = 0
    for chunk in _chunks(conn, f):
        length, part = _pieces(chunk)
        at = 0
        while at < length:
            step = min(size - filled, length - at)
            takes = part(at, at + step)
            batch.extend(takes if not filled else [_shifted(t, filled) for t in takes])
            filled += step
            at += step
            if filled == size:
                yield batch if len(batch) == 1 else [_shifted(t, 0) for t in batch]
                batch, filled = [], 0
    if batch:
        yield batch if len(batch) == 1 else [_shifted(t, 0) for t in batch]


def _size(takes: list[Take]) -> int:
    return sum(len(t.rows) for t in takes)


def event_batches(
    conn: sqlite3.Connection, f: Filters, batch_size: int
) -> Iterator[list[CapturedEvent]]:
    """``query``: the matching events, in batches, in order."""
    for takes in _batches(conn, f, batch_size):
        if len(takes) == 1 and takes[0].where is None:
            yield takes[0].segment.events(takes[0].rows)
            continue
        out: list[Any] = [None] * _size(takes)
        for t in takes:
            assert t.where is not None
            for pos, event in zip(t.where.tolist(), t.segment.events(t.rows), strict=True):
                out[pos] = event
        yield out


def _gather(column: npt.NDArray[Any], rows: IntArray) -> npt.NDArray[Any]:
    """``column[rows]``; a contiguous run of rows (the usual case) is sliced, not gathered,
    and only copied when the column is a read-only view of the stored bytes."""
    if len(rows) and int(rows[-1]) - int(rows[0]) + 1 == len(rows):
        part = column[int(rows[0]) : int(rows[-1]) + 1]
        return part if part.flags.writeable else part.copy()
    return column[rows]


def column_batches(
    conn: sqlite3.Connection, f: Filters, columns: list[str], batch_size: int
) -> Iterator[ColumnBatch]:
    """``select``: the matching rows' columns, in batches, in order."""
    for takes in _batches(conn, f, batch_size):
        if len(takes) == 1 and takes[0].where is None:
            t = takes[0]
            yield {c: _gather(t.segment.array(c), t.rows) for c in columns}
            continue
        n = _size(takes)
        batch: ColumnBatch = {}
        for c in columns:
            out: npt.NDArray[Any] = np.empty(n, dtype=_EMPTY[COLUMN_KINDS[c]])
            for t in takes:
                out[t.where] = t.segment.array(c)[t.rows]
            batch[c] = out
        yield batch


def count_events(conn: sqlite3.Connection, f: Filters) -> int:
    """``count``: from the segments' metadata, loading only segments cut by the time range."""
    if not f.names_filtered and f.since_us is None and f.until_us is None:
        where, params = (
            ("", [])
            if f.experiment_id is None
            else (
                " WHERE experiment_id = ?",
                [f.experiment_id],
            )
        )
        return int(conn.execute(f"SELECT total(n) FROM segments{where}", params).fetchone()[0])
    total = 0
    for meta in _candidates(conn, f):
        inside = (f.since_us is None or meta.first_us >= f.since_us) and (
            f.until_us is None or meta.last_us < f.until_us
        )
        if inside:
            total += sum(n for name, n in meta.names().items() if f.name_ok(name))
        else:
            total += len(_rows(_load(conn, meta.segment_id), f))
    return total
