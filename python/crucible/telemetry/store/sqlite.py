"""The default telemetry store: one SQLite file, written by a background thread.

Where: ``$CRUCIBLE_HOME/telemetry.sqlite3``, or ``./.crucible/telemetry.sqlite3`` when
``CRUCIBLE_HOME`` is not set (:func:`default_path`).

Layout (schema version 1):

* ``events``: one row per :class:`CapturedEvent`, one column per field (same names and
  order); ``event_name`` dotted; ``tags``, ``measurements``, ``metadata`` and ``derived`` as
  msgspec JSON text; ``success`` 1/0/NULL. ``event_id`` is unique (a re-sent event is stored
  once). Indexed by ``(experiment_id, wall_time_us, event_id)`` and ``(experiment_id,
  event_name, wall_time_us)``.
* ``rollups`` (per experiment, base window and event name) and ``rollup_hist`` (their latency
  histogram, per bucket): continuous aggregates, updated in the same transaction as the
  events they count, from exactly the rows that transaction inserted.
* ``experiments`` (one JSON :class:`ExperimentRecord` per experiment) and ``meta``
  (schema version and the base rollup window).

Writing: :meth:`SQLiteStore.append` queues a batch and returns; a writer thread coalesces
queued batches into transactions (``BEGIN IMMEDIATE``, so several processes can share a
file: they take turns, waiting up to ``busy_timeout``). The queue is bounded by
``max_pending`` events: ``append`` blocks while it is full (back-pressure). A transaction
that fails is retried with backoff; if it keeps failing, the events stay queued in memory,
the error is kept, and :meth:`flush`/:meth:`close` raise :class:`StorageError` saying how many
events are unwritten — nothing is dropped silently.

Durability: the file is in WAL mode with ``synchronous=NORMAL`` by default: a committed
transaction survives the process being killed (even ``kill -9``); pass
``synchronous="FULL"`` to survive power loss too. :meth:`flush` returns once every event
appended before it is committed. Stores are flushed and closed at interpreter exit.
Readers (any thread or process) see committed data while the writer works.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing.util
import os
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import msgspec

from crucible.errors import InvalidArgumentError, NotFoundError, StorageError
from crucible.telemetry.store.base import (
    HISTOGRAM_GAMMA,
    CapturedEvent,
    ColumnBatch,
    ExperimentRecord,
    Rollup,
    check_columns,
    columns_to_arrays,
    merge_rollups,
    name_to_str,
    rollups_of,
)

__all__ = ["DEFAULT_FILENAME", "SCHEMA_VERSION", "SQLiteStore", "default_path"]

SCHEMA_VERSION = 1
DEFAULT_FILENAME = "telemetry.sqlite3"
HOME_ENV = "CRUCIBLE_HOME"


def default_path() -> Path:
    """``$CRUCIBLE_HOME/telemetry.sqlite3`` or ``./.crucible/telemetry.sqlite3``."""
    return Path(os.environ.get(HOME_ENV) or ".crucible") / DEFAULT_FILENAME


FIELDS: tuple[str, ...] = CapturedEvent.__struct_fields__
_SQL_TYPES: dict[str, str] = {
    "event_id": "TEXT NOT NULL UNIQUE",
    "event_name": "TEXT NOT NULL",
    "experiment_id": "TEXT NOT NULL",
    "experiment_name": "TEXT NOT NULL",
    "condition": "TEXT",
    "tags": "TEXT NOT NULL",
    "correlation_id": "TEXT",
    "stream_id": "TEXT NOT NULL",
    "sequence": "INTEGER NOT NULL",
    "wall_time_us": "INTEGER NOT NULL",
    "monotonic_ns": "INTEGER NOT NULL",
    "node_id": "TEXT NOT NULL",
    "category": "TEXT NOT NULL",
    "measurements": "TEXT NOT NULL",
    "metadata": "TEXT NOT NULL",
    "latency_ms": "REAL",
    "cost_usd": "REAL",
    "success": "INTEGER",
    "model": "TEXT",
    "provider": "TEXT",
    "tokens_in": "INTEGER",
    "tokens_out": "INTEGER",
    "error": "TEXT",
    "session_id": "TEXT",
    "user_id": "TEXT",
    "sample_id": "TEXT",
    "cohort": "TEXT",
    "derived": "TEXT NOT NULL",
    "weight": "REAL NOT NULL",
}
if set(_SQL_TYPES) != set(FIELDS):  # pragma: no cover - guards schema drift
    raise ImportError(f"SQLiteStore has no column for {sorted(set(FIELDS) ^ set(_SQL_TYPES))}")
_JSON_FIELDS = ("tags", "measurements", "metadata", "derived")
_JSON_POS = tuple(FIELDS.index(f) for f in _JSON_FIELDS)
_NAME_POS = FIELDS.index("event_name")
_SUCCESS_POS = FIELDS.index("success")
_COLS = ", ".join(FIELDS)
_INSERT = f"INSERT OR IGNORE INTO events ({_COLS}) VALUES ({', '.join('?' * len(FIELDS))})"
_ROLLUP_SUMS = (
    "count",
    "weight_sum",
    "success_count",
    "error_count",
    "latency_count",
    "latency_sum",
    "latency_sum_sq",
    "cost_usd",
    "tokens_in",
    "tokens_out",
)
_FINITE = "latency_ms BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308"

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS experiments (experiment_id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " started_us INTEGER NOT NULL, record TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS experiments_by_name ON experiments (name, started_us)",
    "CREATE TABLE IF NOT EXISTS events ("
    + ", ".join(f"{name} {_SQL_TYPES[name]}" for name in FIELDS)
    + ")",
    "CREATE INDEX IF NOT EXISTS events_by_experiment"
    " ON events (experiment_id, wall_time_us, event_id)",
    "CREATE INDEX IF NOT EXISTS events_by_name ON events (experiment_id, event_name, wall_time_us)",
    "CREATE TABLE IF NOT EXISTS rollups (experiment_id TEXT NOT NULL,"
    " window_start_us INTEGER NOT NULL, event_name TEXT NOT NULL, count INTEGER NOT NULL,"
    " weight_sum REAL NOT NULL, success_count INTEGER NOT NULL, error_count INTEGER NOT NULL,"
    " latency_count INTEGER NOT NULL, latency_sum REAL NOT NULL, latency_sum_sq REAL NOT NULL,"
    " latency_min REAL, latency_max REAL, cost_usd REAL NOT NULL, tokens_in INTEGER NOT NULL,"
    " tokens_out INTEGER NOT NULL, PRIMARY KEY (experiment_id, window_start_us, event_name))"
    " WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS rollup_hist (experiment_id TEXT NOT NULL,"
    " window_start_us INTEGER NOT NULL, event_name TEXT NOT NULL, bucket INTEGER NOT NULL,"
    " count INTEGER NOT NULL,"
    " PRIMARY KEY (experiment_id, window_start_us, event_name, bucket)) WITHOUT ROWID",
]

_ROLLUP_COLUMNS = (
    "experiment_id, window_start_us, event_name, count, weight_sum, success_count, error_count,"
    " latency_count, latency_sum, latency_sum_sq, latency_min, latency_max, cost_usd, tokens_in,"
    " tokens_out"
)
_HIST_COLUMNS = "experiment_id, window_start_us, event_name, bucket, count"
# Adding rollups (or histogram counts) to the ones stored: sums add, extremes combine.
_ADD_ROLLUP = """
ON CONFLICT (experiment_id, window_start_us, event_name) DO UPDATE SET
    count = count + excluded.count,
    weight_sum = weight_sum + excluded.weight_sum,
    success_count = success_count + excluded.success_count,
    error_count = error_count + excluded.error_count,
    latency_count = latency_count + excluded.latency_count,
    latency_sum = latency_sum + excluded.latency_sum,
    latency_sum_sq = latency_sum_sq + excluded.latency_sum_sq,
    latency_min = coalesce(min(latency_min, excluded.latency_min), latency_min,
        excluded.latency_min),
    latency_max = coalesce(max(latency_max, excluded.latency_max), latency_max,
        excluded.latency_max),
    cost_usd = cost_usd + excluded.cost_usd,
    tokens_in = tokens_in + excluded.tokens_in,
    tokens_out = tokens_out + excluded.tokens_out
"""
_ADD_HIST = """
ON CONFLICT (experiment_id, window_start_us, event_name, bucket) DO UPDATE SET
    count = count + excluded.count
"""

# The rollups of a batch are computed in Python (base.rollups_of) and added with these...
_UPSERT_ROLLUP = (
    f"INSERT INTO rollups ({_ROLLUP_COLUMNS}) VALUES ({', '.join('?' * 15)})" + _ADD_ROLLUP
)
_UPSERT_HIST = f"INSERT INTO rollup_hist ({_HIST_COLUMNS}) VALUES (?, ?, ?, ?, ?)" + _ADD_HIST

# ...unless the batch held duplicates: then exactly the rows the transaction inserted
# (rowid > :lo) are folded here, in SQL.
_FOLD_ROLLUPS = f"""
INSERT INTO rollups ({_ROLLUP_COLUMNS})
SELECT experiment_id, (wall_time_us / :w) * :w, event_name, count(*), total(weight),
    count(CASE WHEN success = 1 THEN 1 END), count(CASE WHEN success = 0 THEN 1 END),
    count(CASE WHEN {_FINITE} THEN 1 END),
    total(CASE WHEN {_FINITE} THEN latency_ms END),
    total(CASE WHEN {_FINITE} THEN latency_ms * latency_ms END),
    min(CASE WHEN {_FINITE} THEN latency_ms END), max(CASE WHEN {_FINITE} THEN latency_ms END),
    total(cost_usd), coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0)
FROM events WHERE rowid > :lo GROUP BY 1, 2, 3
{_ADD_ROLLUP}"""
_FOLD_HIST = f"""
INSERT INTO rollup_hist ({_HIST_COLUMNS})
SELECT experiment_id, (wall_time_us / :w) * :w, event_name,
    CAST(ceil(ln(max(latency_ms, 1e-6)) / :lg) AS INTEGER), count(*)
FROM events WHERE rowid > :lo AND {_FINITE} GROUP BY 1, 2, 3, 4
{_ADD_HIST}"""


def _rollup_row(r: Rollup) -> tuple[Any, ...]:
    return (
        r.experiment_id,
        r.window_start_us,
        r.event_name,
        r.count,
        r.weight_sum,
        r.success_count,
        r.error_count,
        r.latency_count,
        r.latency_sum,
        r.latency_sum_sq,
        r.latency_min,
        r.latency_max,
        r.cost_usd,
        r.tokens_in,
        r.tokens_out,
    )


_encode = msgspec.json.Encoder().encode
_decode_tags = msgspec.json.Decoder(tuple[str, ...]).decode
_decode_dict = msgspec.json.Decoder(dict[str, Any]).decode
_decode_record = msgspec.json.Decoder(ExperimentRecord).decode


def _json(value: Any) -> str:
    return _encode(value).decode() if value else ("[]" if isinstance(value, tuple) else "{}")


def _row(event: CapturedEvent) -> list[Any]:
    """The ``events`` row of an event (columns in field order)."""
    values = list(msgspec.structs.astuple(event))
    values[_NAME_POS] = ".".join(event.event_name)
    for i in _JSON_POS:
        values[i] = _json(values[i])
    return values


def _event(row: Sequence[Any]) -> CapturedEvent:
    values = dict(zip(FIELDS, row, strict=True))
    values["event_name"] = tuple(row[_NAME_POS].split("."))
    values["tags"] = _decode_tags(values["tags"])
    for name in ("measurements", "metadata", "derived"):
        values[name] = _decode_dict(values[name])
    success = values["success"]
    values["success"] = None if success is None else bool(success)
    return CapturedEvent(**values)


def _where(
    experiment_id: str | None,
    event_name: Sequence[str] | None,
    event_prefix: Sequence[str] | None,
    since_us: int | None,
    until_us: int | None,
    time_column: str = "wall_time_us",
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if experiment_id is not None:
        clauses.append("experiment_id = ?")
        params.append(experiment_id)
    if event_name is not None:
        clauses.append("event_name = ?")
        params.append(name_to_str(event_name))
    if event_prefix:
        dotted = name_to_str(event_prefix)
        # the name itself, or names under it: "a.b." <= name < "a.b/" ('/' follows '.')
        clauses.append("(event_name = ? OR (event_name >= ? AND event_name < ?))")
        params.extend([dotted, dotted + ".", dotted + "/"])
    if since_us is not None:
        clauses.append(f"{time_column} >= ?")
        params.append(since_us)
    if until_us is not None:
        clauses.append(f"{time_column} < ?")
        params.append(until_us)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class _Item:
    """A queued unit of work: rows to insert or an experiment record to save."""

    __slots__ = ("record", "rollups", "rows", "ticket")

    def __init__(
        self,
        ticket: int,
        rows: list[list[Any]],
        rollups: list[Rollup],
        record: ExperimentRecord | None = None,
    ) -> None:
        self.ticket = ticket
        self.rows = rows
        self.rollups = rollups
        self.record = record


_open_stores: weakref.WeakSet[SQLiteStore] = weakref.WeakSet()  # closed at exit
_all_stores: weakref.WeakSet[SQLiteStore] = weakref.WeakSet()  # quiesced around fork()


def _close_all_at_exit() -> None:
    for store in list(_open_stores):
        try:
            store.close()
        except StorageError as exc:  # report, but let the other stores close
            import warnings

            warnings.warn(f"telemetry store {store.path} could not flush: {exc}", stacklevel=1)


atexit.register(_close_all_at_exit)


def _register_exit_hook(_: object = None) -> None:
    """multiprocessing children leave through ``os._exit``, skipping atexit; they run their
    Finalize hooks instead (registered again in each forked child, which starts empty)."""
    multiprocessing.util.Finalize(None, _close_all_at_exit, exitpriority=10)


_register_exit_hook()
multiprocessing.util.register_after_fork(_open_stores, _register_exit_hook)


# fork() copies only the forking thread: a child whose parent had another thread inside
# SQLite (holding SQLite's own mutexes) deadlocks on its first SQLite call. So every use of
# SQLite by these stores holds the store's `_io` lock, and fork() waits for all of them.
_held: list[SQLiteStore] = []


def _before_fork() -> None:
    _held[:] = list(_all_stores)
    for store in _held:
        store._io.acquire()


def _after_fork_in_parent() -> None:
    for store in _held:
        store._io.release()
    _held.clear()


def _after_fork_in_child() -> None:
    for store in _held:  # the child's copies, held by this (its only) thread
        store._io.release()
    _held.clear()
    for store in list(_open_stores):
        store._forked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )


class SQLiteStore:
    """Telemetry store in one SQLite file (see the module docstring).

    ``path``: the file (created with its directory), default :func:`default_path`;
    ``":memory:"`` is not supported (readers need the file). ``rollup_window_us``: base
    rollup window, fixed when the file is created (None: what the file has, else 1 s).
    ``max_pending``: events queued before ``append`` blocks. ``batch_rows``: most events per
    transaction. ``synchronous``: ``"NORMAL"`` (survives process crashes) or ``"FULL"``
    (survives power loss). ``busy_timeout``: seconds to wait for another writer's lock.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        rollup_window_us: int | None = None,
        max_pending: int = 1_000_000,
        batch_rows: int = 50_000,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        busy_timeout: float = 60.0,
        retries: int = 5,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise InvalidArgumentError("synchronous must be 'NORMAL' or 'FULL'")
        if max_pending < 1 or batch_rows < 1 or retries < 0 or busy_timeout < 0:
            raise InvalidArgumentError("max_pending, batch_rows must be >= 1, retries >= 0")
        if rollup_window_us is not None and rollup_window_us < 1:
            raise InvalidArgumentError("rollup_window_us must be positive")
        self._io = threading.Lock()  # held around every SQLite call (see _before_fork)
        self.path = Path(path) if path is not None else default_path()
        if str(self.path) == ":memory:":
            raise InvalidArgumentError("SQLiteStore needs a file; use MemoryStore in memory")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_pending = max_pending
        self.batch_rows = batch_rows
        self.synchronous = synchronous
        self.busy_timeout = busy_timeout
        self.retries = retries
        _all_stores.add(self)
        with self._io:
            self._window = self._create(rollup_window_us)
        self._start_writer()
        _open_stores.add(self)

    # -- connections ------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open {self.path}: {exc}") from exc
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: index pages stay cached
        conn.execute("PRAGMA temp_store = MEMORY")  # the rollup GROUP BYs sort in memory
        try:
            conn.execute("SELECT ln(2.0)")
        except sqlite3.OperationalError:  # SQLite built without its math functions
            conn.create_function("ln", 1, math.log, deterministic=True)
        return conn

    def _create(self, window_us: int | None) -> int:
        conn = self._connect()
        try:
            conn.execute("PRAGMA page_size = 16384")  # new files only: ~450-byte rows
            for attempt in range(50):
                try:
                    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    break
                except sqlite3.OperationalError:  # another process is switching it
                    time.sleep(0.01 * (attempt + 1))
            else:
                raise StorageError(f"cannot switch {self.path} to WAL mode")
            if str(mode).lower() != "wal":
                raise StorageError(f"{self.path} does not support WAL mode (got {mode})")
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA:
                    conn.execute(statement)
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
                if not meta:
                    stored = window_us or 1_000_000
                    conn.executemany(
                        "INSERT INTO meta (key, value) VALUES (?, ?)",
                        [("schema_version", str(SCHEMA_VERSION)), ("window_us", str(stored))],
                    )
                else:
                    if int(meta.get("schema_version", "0")) != SCHEMA_VERSION:
                        raise StorageError(
                            f"{self.path} has telemetry schema {meta.get('schema_version')}, "
                            f"this crucible reads {SCHEMA_VERSION}"
                        )
                    stored = int(meta["window_us"])
                    if window_us is not None and window_us != stored:
                        raise InvalidArgumentError(
                            f"{self.path} keeps {stored} µs rollup windows; cannot open it "
                            f"with rollup_window_us={window_us}"
                        )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return stored
        except sqlite3.Error as exc:
            raise StorageError(f"cannot initialise {self.path}: {exc}") from exc
        finally:
            conn.close()

    def _start_writer(self) -> None:
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._queue: deque[_Item] = deque()
        self._pending = 0  # events queued, not yet committed
        self._issued = 0  # last ticket handed out
        self._done = 0  # every ticket <= this is committed
        self._error: BaseException | None = None
        self._closing = False
        self._closed = False
        self.inserted = 0  # rows this store committed (duplicates excluded)
        self._writer = threading.Thread(
            target=self._write_loop, name=f"crucible-sqlite-writer:{self.path.name}", daemon=True
        )
        self._writer.start()

    def _forked(self) -> None:
        """In a forked child: the parent's queue is the parent's to write; start afresh."""
        if self._pid != os.getpid() and not self._closed:
            self._start_writer()

    @property
    def rollup_window_us(self) -> int:
        return self._window

    # -- writing ----------------------------------------------------------------------------

    def _enqueue(
        self, rows: list[list[Any]], rollups: list[Rollup], record: ExperimentRecord | None
    ) -> int:
        n = len(rows)
        self._forked()
        with self._cond:
            if self._closing or self._closed:
                raise StorageError(f"telemetry store {self.path} is closed")
            while self._pending > 0 and self._pending + n > self.max_pending:
                if self._error is not None:
                    raise StorageError(
                        f"telemetry store {self.path} cannot write ({self._error}); "
                        f"{self._pending} events are waiting"
                    )
                self._cond.wait(0.5)
            self._issued += 1
            self._queue.append(_Item(self._issued, rows, rollups, record))
            self._pending += n
            self._cond.notify_all()
            return self._issued

    def append(self, events: Sequence[CapturedEvent]) -> None:
        """Queue events. Their rows and rollups are computed here, in the caller's thread,
        so that work overlaps the writer's SQLite work on earlier batches."""
        if events:
            self._enqueue([_row(e) for e in events], rollups_of(events, self._window), None)

    def save_experiment(self, record: ExperimentRecord) -> None:
        self._wait(self._enqueue([], [], record), None)

    def flush(self, timeout: float | None = None) -> None:
        with self._cond:
            ticket = self._issued
        self._wait(ticket, timeout)

    def _wait(self, ticket: int, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._done < ticket:
                if self._error is not None:
                    raise StorageError(
                        f"telemetry store {self.path} cannot write ({self._error}); "
                        f"{self._pending} events are waiting"
                    )
                if not self._writer.is_alive():
                    raise StorageError(f"telemetry store {self.path}: the writer has stopped")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise StorageError(
                        f"flush of {self.path} timed out with {self._pending} events waiting"
                    )
                self._cond.wait(0.5 if left is None else min(left, 0.5))

    def close(self) -> None:
        """Flush, stop the writer and release the file; idempotent."""
        self._forked()
        with self._cond:
            if self._closed:
                return
            self._closing = True
            self._cond.notify_all()
        try:
            self._wait(self._issued, None)
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()
            self._writer.join()
            _open_stores.discard(self)

    def _take(self) -> list[_Item] | None:
        """The next items to write (up to ``batch_rows`` events); None when done."""
        with self._cond:
            while not self._queue:
                if self._closing or self._closed:
                    return None
                self._cond.wait(0.5)
            items: list[_Item] = []
            rows = 0
            while self._queue and (not items or rows + len(self._queue[0].rows) <= self.batch_rows):
                item = self._queue.popleft()
                items.append(item)
                rows += len(item.rows)
            return items

    def _write_loop(self) -> None:
        conn: sqlite3.Connection | None = None
        while (items := self._take()) is not None:
            rows = [row for item in items for row in item.rows]
            rollups = [r for item in items for r in item.rollups]
            records = [item.record for item in items if item.record is not None]
            error: BaseException | None = None
            for attempt in range(self.retries + 1):
                try:
                    with self._io:
                        conn = conn or self._connect()
                        inserted = self._commit(conn, rows, rollups, records)
                except (sqlite3.Error, OSError, StorageError) as exc:
                    error = exc
                    if conn is not None:
                        with self._io:
                            conn.close()
                        conn = None
                    time.sleep(min(2.0, 0.05 * 2**attempt))
                else:
                    error = None
                    break
            with self._cond:
                if error is None:
                    self._done = items[-1].ticket
                    self._pending -= len(rows)
                    self.inserted += inserted
                    self._error = None
                else:  # keep them queued, in order; flush/close/append report the error
                    self._queue.extendleft(reversed(items))
                    self._error = error
                    # wait, then try again (locks and full disks clear), unless closing
                    self._cond.wait(1.0)
                    if self._closing:
                        break
                self._cond.notify_all()
        if conn is not None:
            with self._io:
                conn.close()

    def _commit(
        self,
        conn: sqlite3.Connection,
        rows: list[list[Any]],
        rollups: list[Rollup],
        records: list[ExperimentRecord],
    ) -> int:
        conn.execute("BEGIN IMMEDIATE")
        try:
            inserted = 0
            if rows:
                lo = conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0]
                before = conn.total_changes
                conn.executemany(_INSERT, rows)
                inserted = conn.total_changes - before
                if inserted == len(rows):  # no duplicates: the precomputed rollups are exact
                    conn.executemany(_UPSERT_ROLLUP, [_rollup_row(r) for r in rollups])
                    conn.executemany(
                        _UPSERT_HIST,
                        [
                            (r.experiment_id, r.window_start_us, r.event_name, bucket, n)
                            for r in rollups
                            for bucket, n in r.latency_hist.items()
                        ],
                    )
                elif inserted:  # fold exactly the rows this transaction inserted
                    params = {"w": self._window, "lo": lo, "lg": math.log(HISTOGRAM_GAMMA)}
                    conn.execute(_FOLD_ROLLUPS, params)
                    conn.execute(_FOLD_HIST, params)
            for record in records:
                conn.execute(
                    "INSERT OR REPLACE INTO experiments (experiment_id, name, started_us, record)"
                    " VALUES (?, ?, ?, ?)",
                    (record.experiment_id, record.name, record.started_us, _json(record)),
                )
            conn.execute("COMMIT")
            return inserted
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- reading ----------------------------------------------------------------------------

    def _read(self) -> sqlite3.Connection:
        conn = self._connect()
        conn.execute("PRAGMA query_only = 1")
        return conn

    def experiment(self, key: str) -> ExperimentRecord:
        with self._io:
            row = self._find_record(key)
        if row is None:
            raise NotFoundError(f"no experiment with id or name {key!r} in {self.path}")
        return _decode_record(row[0])

    def _find_record(self, key: str) -> Any:
        conn = self._read()
        try:
            row = conn.execute(
                "SELECT record FROM experiments WHERE experiment_id = ?", (key,)
            ).fetchone()
            if row is None:
                row = conn.execute(
                    "SELECT record FROM experiments WHERE name = ?"
                    " ORDER BY started_us DESC LIMIT 1",
                    (key,),
                ).fetchone()
            return row
        finally:
            conn.close()

    def experiments(self) -> list[ExperimentRecord]:
        with self._io:
            conn = self._read()
            try:
                rows = conn.execute(
                    "SELECT record FROM experiments ORDER BY started_us, name"
                ).fetchall()
            finally:
                conn.close()
        return [_decode_record(r[0]) for r in rows]

    def _stream(self, sql: str, params: Sequence[Any], batch_size: int) -> Iterator[list[Any]]:
        """Rows in batches; the `_io` lock is held per step, never across a yield."""
        with self._io:
            conn = self._read()
        try:
            with self._io:
                cursor = conn.execute(sql, params)
            while True:
                with self._io:
                    rows = cursor.fetchmany(max(1, batch_size))
                if not rows:
                    break
                yield rows
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read {self.path}: {exc}") from exc
        finally:
            with self._io:
                conn.close()

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
        where, params = _where(experiment_id, event_name, event_prefix, since_us, until_us)
        sql = f"SELECT {_COLS} FROM events{where} ORDER BY wall_time_us, event_id"
        for rows in self._stream(sql, params, batch_size):
            yield [_event(r) for r in rows]

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
        where, params = _where(experiment_id, event_name, event_prefix, since_us, until_us)
        sql = f"SELECT {', '.join(cols)} FROM events{where} ORDER BY wall_time_us, event_id"
        for rows in self._stream(sql, params, batch_size):
            yield columns_to_arrays(cols, list(zip(*rows, strict=True)))

    def count(
        self,
        *,
        experiment_id: str | None = None,
        event_name: Sequence[str] | None = None,
        event_prefix: Sequence[str] | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
    ) -> int:
        where, params = _where(experiment_id, event_name, event_prefix, since_us, until_us)
        with self._io:
            conn = self._read()
            try:
                return int(
                    conn.execute(f"SELECT count(*) FROM events{where}", params).fetchone()[0]
                )
            finally:
                conn.close()

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
        where, params = _where(
            experiment_id, event_name, event_prefix, since_us, until_us, "window_start_us"
        )
        with self._io:
            conn = self._read()
            try:
                conn.execute("BEGIN")  # one snapshot for both tables
                rows = conn.execute(
                    "SELECT window_start_us, event_name, "
                    + ", ".join(_ROLLUP_SUMS)
                    + ", latency_min, latency_max FROM rollups"
                    + where
                    + " ORDER BY window_start_us, event_name",
                    params,
                ).fetchall()
                hists: dict[tuple[int, str], dict[int, int]] = {}
                for start, name, bucket, n in conn.execute(
                    "SELECT window_start_us, event_name, bucket, count FROM rollup_hist" + where,
                    params,
                ):
                    hists.setdefault((start, name), {})[bucket] = n
                conn.execute("COMMIT")
            finally:
                conn.close()
        found = []
        for row in rows:
            start, name = row[0], row[1]
            sums = dict(zip(_ROLLUP_SUMS, row[2:12], strict=True))
            found.append(
                Rollup(
                    experiment_id=experiment_id,
                    event_name=name,
                    window_start_us=start,
                    window_us=self._window,
                    latency_min=row[12],
                    latency_max=row[13],
                    latency_hist=hists.get((start, name), {}),
                    **sums,
                )
            )
        return merge_rollups(found, self._window, window_us)

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"
