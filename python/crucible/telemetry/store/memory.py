"""An in-memory telemetry store: columnar, bounded, for tests and notebooks.

Each appended batch is one chunk. A batch finalised by an experiment
(:class:`~crucible.telemetry.batch.CapturedBatch`) is kept as its columns: filters and
counts read them in Rust, rollups fold from them, and :class:`CapturedEvent` objects are
built only when a query first reads the chunk (then kept). Any other batch of events is
kept as the objects it came as, beside the columns the filters scan. Event ids are kept as
sequence runs per stream (:mod:`crucible.telemetry.store.event_ids`), so a finalised batch is
checked for duplicates without an id string per event. At most ``max_events`` are kept:
beyond that, the oldest events are evicted; the store counts them
(:attr:`MemoryStore.evicted`) and warns once, so nothing disappears silently. Rollups are
kept for every event ever appended, evicted or not.
"""

from __future__ import annotations

import math
import operator
import os
import threading
import warnings
import weakref
from collections import deque
from collections.abc import Iterator, Sequence

from crucible.errors import InvalidArgumentError, NotFoundError, StorageError
from crucible.telemetry.batch import CapturedBatch
from crucible.telemetry.store.base import (
    CapturedEvent,
    ColumnBatch,
    EventName,
    ExperimentRecord,
    Rollup,
    check_columns,
    columns_to_arrays,
    merge_rollups,
    name_matches,
    rollups_of,
)
from crucible.telemetry.store.event_ids import EventIdSet

__all__ = ["MemoryStore", "StoreCapacityWarning"]


_Filter = tuple["str | None", "EventName | None", "EventName | None", "int | None", "int | None"]
"""(experiment_id, event_name, event_prefix, since_us, until_us)."""


class _Objects:
    """An appended batch of event objects and the key columns the filters scan."""

    __slots__ = ("events", "exps", "names", "walls")

    def __init__(self, events: list[CapturedEvent]) -> None:
        self.events = events
        self.exps = [e.experiment_id for e in events]
        self.names = [e.event_name for e in events]
        self.walls = [e.wall_time_us for e in events]

    def __len__(self) -> int:
        return len(self.events)

    def matching(self, f: _Filter) -> list[CapturedEvent]:
        experiment_id, name, prefix, since_us, until_us = f
        lo = -math.inf if since_us is None else since_us
        hi = math.inf if until_us is None else until_us
        exps, names, walls = self.exps, self.names, self.walls
        return [
            event
            for i, event in enumerate(self.events)
            if (experiment_id is None or exps[i] == experiment_id)
            and lo <= walls[i] < hi
            and name_matches(names[i], name, prefix)
        ]

    def count(self, f: _Filter) -> int:
        return len(self.matching(f))

    def drop_head(self, n: int, ids: EventIdSet) -> None:
        for event in self.events[:n]:
            ids.discard(event.event_id)
        for column in (self.events, self.exps, self.names, self.walls):
            del column[:n]


class _Columns:
    """A finalised batch kept as columns (events built on first read)."""

    __slots__ = ("batch", "experiment_id", "names", "stream_id")

    def __init__(self, batch: CapturedBatch) -> None:
        self.batch = batch
        self.experiment_id = batch.experiment_id
        self.stream_id = batch.stream_id
        self.names: list[EventName] = [tuple(n) for n in batch.columns.names]

    def __len__(self) -> int:
        return len(self.batch)

    def _rows(self, f: _Filter) -> list[int] | None:
        """Matching rows; None for all of them."""
        experiment_id, name, prefix, since_us, until_us = f
        if experiment_id is not None and experiment_id != self.experiment_id:
            return []
        codes = None
        if name is not None or prefix is not None:
            codes = [i for i, n in enumerate(self.names) if name_matches(n, name, prefix)]
            if not codes:
                return []
        if codes is None and since_us is None and until_us is None:
            return None
        return self.batch.columns.matching(codes, since_us, until_us)

    def matching(self, f: _Filter) -> list[CapturedEvent]:
        rows = self._rows(f)
        events = self.batch.events()
        return list(events) if rows is None else [events[i] for i in rows]

    def count(self, f: _Filter) -> int:
        rows = self._rows(f)
        return len(self) if rows is None else len(rows)

    def drop_head(self, n: int, ids: EventIdSet) -> None:
        ids.discard_runs(self.stream_id, self.batch.columns.seq_runs(n))
        self.batch = self.batch.tail(n)


_ORDER = operator.attrgetter("wall_time_us", "event_id")


class StoreCapacityWarning(RuntimeWarning):
    """A bounded store evicted its oldest events to make room."""


_stores: weakref.WeakSet[MemoryStore] = weakref.WeakSet()


def _after_fork_in_child() -> None:  # another thread may have held a store's lock at the fork
    for store in list(_stores):
        store._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _window_of(r: Rollup) -> dict[str, int]:
    return {"window_start_us": r.window_start_us, "window_us": r.window_us}


class MemoryStore:
    """Columnar, bounded in-memory store (see the module docstring)."""

    def __init__(self, *, max_events: int = 1_000_000, rollup_window_us: int = 1_000_000) -> None:
        if max_events < 1 or rollup_window_us < 1:
            raise InvalidArgumentError("max_events and rollup_window_us must be positive")
        self.max_events = max_events
        self._window = rollup_window_us
        self._lock = threading.Lock()
        _stores.add(self)
        self._chunks: deque[_Objects | _Columns] = deque()
        self._size = 0
        self._ids = EventIdSet()
        self._experiments: dict[str, ExperimentRecord] = {}
        self._rollups: dict[tuple[str, int, str], Rollup] = {}
        self._closed = False
        self.evicted = 0

    @property
    def rollup_window_us(self) -> int:
        return self._window

    def __len__(self) -> int:
        return self._size

    # -- writing --------------------------------------------------------------------------------

    def append(self, events: Sequence[CapturedEvent]) -> None:
        if not events:
            return
        with self._lock:
            if self._closed:
                raise StorageError("the memory store is closed")
            ids = self._ids
            chunk: _Objects | _Columns
            if isinstance(events, CapturedBatch) and ids.add_runs(
                events.stream_id, events.columns.seq_runs(len(events))
            ):
                chunk, rollups = _Columns(events), events.rollups(self._window)
            else:  # other events, or a batch some of whose events are here already
                fresh = [e for e in events if ids.add(e.event_id)]
                if not fresh:
                    return
                chunk, rollups = _Objects(fresh), rollups_of(fresh, self._window)
            self._chunks.append(chunk)
            self._size += len(chunk)
            self._fold(rollups)
            if self._size > self.max_events:
                self._evict()

    def _fold(self, rollups: list[Rollup]) -> None:
        """Update the rollups with a new chunk's (caller holds the lock)."""
        kept = self._rollups
        for r in rollups:
            key = (r.experiment_id, r.window_start_us, r.event_name)
            prev = kept.get(key)
            kept[key] = r if prev is None else prev.merge(r, **_window_of(r))

    def _evict(self) -> None:
        dropped = 0
        while self._size > self.max_events:
            chunk = self._chunks[0]
            n = min(len(chunk), self._size - self.max_events)
            chunk.drop_head(n, self._ids)
            if not len(chunk):
                self._chunks.popleft()
            self._size -= n
            dropped += n
        if dropped and not self.evicted:
            warnings.warn(
                f"MemoryStore(max_events={self.max_events}) is full: evicting the oldest "
                "events (see .evicted; rollups still count them)",
                StoreCapacityWarning,
                stacklevel=4,
            )
        self.evicted += dropped

    def flush(self, timeout: float | None = None) -> None:
        """Nothing to do: appended events are visible at once."""

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def save_experiment(self, record: ExperimentRecord) -> None:
        with self._lock:
            self._experiments[record.experiment_id] = record

    # -- reading --------------------------------------------------------------------------------

    def experiment(self, key: str) -> ExperimentRecord:
        with self._lock:
            found = self._experiments.get(key)
            if found is None:
                named = [r for r in self._experiments.values() if r.name == key]
                if named:
                    found = max(named, key=lambda r: r.started_us)
        if found is None:
            raise NotFoundError(f"no experiment with id or name {key!r}")
        return found

    def experiments(self) -> list[ExperimentRecord]:
        with self._lock:
            return sorted(self._experiments.values(), key=lambda r: (r.started_us, r.name))

    @staticmethod
    def _filter(
        experiment_id: str | None,
        event_name: Sequence[str] | None,
        event_prefix: Sequence[str] | None,
        since_us: int | None,
        until_us: int | None,
    ) -> _Filter:
        name = tuple(event_name) if event_name is not None else None
        prefix = tuple(event_prefix) if event_prefix is not None else None
        return (experiment_id, name, prefix, since_us, until_us)

    def _matching(
        self,
        experiment_id: str | None,
        event_name: Sequence[str] | None,
        event_prefix: Sequence[str] | None,
        since_us: int | None,
        until_us: int | None,
    ) -> list[CapturedEvent]:
        """The matching events, in order."""
        f = self._filter(experiment_id, event_name, event_prefix, since_us, until_us)
        found: list[CapturedEvent] = []
        with self._lock:
            for chunk in self._chunks:
                found.extend(chunk.matching(f))
        found.sort(key=_ORDER)
        return found

    def query(
        self,
        *,
        experiment_id: str | None = None,
        event_name: Sequence[str] | None = None,
        event_prefix: Sequence[str] | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
        batch_size: int = 10_000,
    ) -> Iterator[list[CapturedEvent]]:
        found = self._matching(experiment_id, event_name, event_prefix, since_us, until_us)
        step = max(1, batch_size)
        for start in range(0, len(found), step):
            yield found[start : start + step]

    def select(
        self,
        columns: Sequence[str],
        *,
        experiment_id: str | None = None,
        event_name: Sequence[str] | None = None,
        event_prefix: Sequence[str] | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
        batch_size: int = 100_000,
    ) -> Iterator[ColumnBatch]:
        cols = check_columns(columns)
        found = self._matching(experiment_id, event_name, event_prefix, since_us, until_us)
        step = max(1, batch_size)
        for start in range(0, len(found), step):
            part = found[start : start + step]
            values = []
            for c in cols:
                if c == "event_name":
                    values.append([e.name for e in part])
                else:
                    values.append([getattr(e, c) for e in part])
            yield columns_to_arrays(cols, values)

    def count(
        self,
        *,
        experiment_id: str | None = None,
        event_name: Sequence[str] | None = None,
        event_prefix: Sequence[str] | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
    ) -> int:
        f = self._filter(experiment_id, event_name, event_prefix, since_us, until_us)
        with self._lock:
            return sum(chunk.count(f) for chunk in self._chunks)

    def rollups(
        self,
        experiment_id: str,
        *,
        event_name: Sequence[str] | None = None,
        event_prefix: Sequence[str] | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
        window_us: int | None = None,
    ) -> list[Rollup]:
        name = tuple(event_name) if event_name is not None else None
        prefix = tuple(event_prefix) if event_prefix is not None else None
        with self._lock:
            found = [
                r
                for (exp, start, dotted), r in self._rollups.items()
                if exp == experiment_id
                and (since_us is None or start >= since_us)
                and (until_us is None or start < until_us)
                and name_matches(tuple(dotted.split(".")), name, prefix)
            ]
        found.sort(key=lambda r: (r.window_start_us, r.event_name))
        return merge_rollups(found, self._window, window_us)
