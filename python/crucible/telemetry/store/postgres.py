"""A PostgreSQL telemetry store: several processes and machines write one experiment.

Needs psycopg 3 (``pip install 'crucible[postgres]'``); imported lazily.

Layout (every name starts with ``prefix``, default ``crucible``, inside ``schema``):

* ``{prefix}_events`` — one row per :class:`CapturedEvent`; payloads (``measurements``,
  ``metadata``, ``derived``, ``tags``) are ``json`` (kept verbatim, queryable with ``->>``).
  A TimescaleDB hypertable partitioned on ``wall_time_us`` (1-day chunks) when the extension
  can be created, a plain table otherwise; indexed by ``(experiment_id, wall_time_us,
  event_id)`` (btree) and ``wall_time_us`` (BRIN). ``event_id`` is unique (with
  ``wall_time_us`` on a hypertable, whose unique keys must hold the partition column; a
  re-sent event carries the same time, so duplicates are still caught).
* ``{prefix}_rollups`` and ``{prefix}_rollup_hist`` — the continuous aggregates per
  (experiment, base window, event name), and their latency histograms per bucket.
* ``{prefix}_experiments`` — experiment records; ``{prefix}_meta`` — layout and window.

Ingest: :meth:`PostgresStore.append` queues batches (blocking when ``max_pending`` events
are waiting); a writer thread coalesces them and, per transaction, binary-``COPY``\\ s them
into a temporary staging table, inserts the new ones (``ON CONFLICT DO NOTHING``, so a re-sent
event is stored once) and folds exactly the inserted rows into the rollups with upserts —
one statement, so events and rollups never disagree. Concurrent writers lock rollup rows in
key order and retry on a deadlock or a lost connection; nothing is dropped silently: a
batch that cannot be written is kept in :attr:`PostgresStore.failed` and :meth:`flush`
raises :class:`~crucible.errors.StorageError`.

Reads see every node's events: ``node_id`` tells them apart (:meth:`node_counts`).
"""

from __future__ import annotations

import atexit
import functools
import math
import queue
import re
import threading
import time
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from crucible.errors import ConfigurationError, InvalidArgumentError, StorageError
from crucible.telemetry.store.base import (
    _MIN_MS,
    HISTOGRAM_GAMMA,
    CapturedEvent,
)
from crucible.telemetry.store.payloads import portable
from crucible.telemetry.store.postgres_read import PostgresReads
from crucible.telemetry.store.postgres_sql import (
    COLUMNS,
    COPY_SQL,
    COPY_TYPES,
    EVENT_INDEXES,
    EXPERIMENTS_DDL,
    MERGE_SQL,
    META_DDL,
    ROLLUP_HIST_DDL,
    ROLLUPS_DDL,
    STAGING_DDL,
)

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql as _sql

__all__ = ["PostgresStore"]

DSN_ENV = "CRUCIBLE_POSTGRES_DSN"
DEFAULT_WINDOW_US = 1_000_000
_CHUNK_US = 86_400_000_000  # one day per hypertable chunk
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
_TABLES = ("events", "rollups", "rollup_hist", "experiments", "meta")
_FIELDS: tuple[str, ...] = tuple(CapturedEvent.__struct_fields__)
_NAME_POSITION = _FIELDS.index("event_name")
_COPY_TYPES = [COPY_TYPES[COLUMNS[f].split()[0]] for f in _FIELDS]
_encoder = msgspec.json.Encoder(enc_hook=portable)
_encode = _encoder.encode


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - depends on the environment
        raise ConfigurationError(
            "the PostgreSQL store needs psycopg 3: pip install 'crucible[postgres]'"
        ) from None
    return psycopg


def _copy_rows(events: list[CapturedEvent]) -> list[list[Any]]:
    """The binary COPY rows of a batch: the fields in order, the name dotted; payloads stay
    Python objects for the connection's json dumper (msgspec)."""
    rows = []
    astuple = msgspec.structs.astuple
    for event in events:
        row = list(astuple(event))
        row[_NAME_POSITION] = ".".join(event.event_name)
        rows.append(row)
    return rows


def _close_at_exit(ref: weakref.ReferenceType[PostgresStore]) -> None:
    store = ref()
    if store is not None:
        store.close()


class _Batch:
    __slots__ = ("events", "ticket")

    def __init__(self, events: list[CapturedEvent], ticket: int) -> None:
        self.events = events
        self.ticket = ticket


class PostgresStore(PostgresReads):
    """Telemetry store on PostgreSQL (see the module docstring for the layout).

    ``dsn`` is a libpq connection string or URI (``CRUCIBLE_POSTGRES_DSN`` when None).
    ``schema`` (created if missing) and ``prefix`` name where the tables live.
    ``rollup_window_us`` is the base rollup window; it is fixed when the tables are created
    and every later store on them must use the same (None: take what is there, else 1 s).
    ``timescale``: True requires TimescaleDB, False never uses it, None uses it when the
    extension can be created.
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        schema: str = "public",
        prefix: str = "crucible",
        rollup_window_us: int | None = None,
        timescale: bool | None = None,
        batch_size: int = 50_000,
        max_pending: int = 500_000,
        retries: int = 5,
        connect_timeout: float = 10.0,
    ) -> None:
        self._pg = _psycopg()
        import os

        dsn = dsn or os.environ.get(DSN_ENV)
        if not dsn:
            raise ConfigurationError(f"no PostgreSQL DSN given and {DSN_ENV} is not set")
        for what, value in (("schema", schema), ("prefix", prefix)):
            if not _IDENT.match(value):
                raise InvalidArgumentError(
                    f"`{what}` must be a lower-case SQL identifier ([a-z_][a-z0-9_]*), "
                    f"got {value!r}"
                )
        if rollup_window_us is not None and (
            isinstance(rollup_window_us, bool)
            or not isinstance(rollup_window_us, int)
            or rollup_window_us <= 0
        ):
            raise InvalidArgumentError("`rollup_window_us` must be a positive integer")
        if batch_size < 1 or max_pending < batch_size:
            raise InvalidArgumentError("need 1 <= batch_size <= max_pending")
        missing = set(_FIELDS) ^ set(COLUMNS)
        if missing:  # CapturedEvent grew a field this store does not know how to keep
            raise ConfigurationError(f"PostgresStore has no column for {sorted(missing)}")
        self._dsn = dsn
        self._connect_timeout = connect_timeout
        self.schema, self.prefix = schema, prefix
        self.batch_size, self.max_pending, self.retries = batch_size, max_pending, retries
        self._t = {name: self._pg.sql.Identifier(schema, f"{prefix}_{name}") for name in _TABLES}
        self._merge_sql: _sql.Composed | None = None
        self._copy_sql: _sql.Composed | None = None
        self._read_lock = threading.Lock()
        self._reader = self._connect()
        try:
            self.layout, self._window_us = self._create_schema(rollup_window_us, timescale)
        except BaseException:
            self._reader.close()
            raise

        # writer state
        self._state = threading.Condition()
        self._queue: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self._pending_events = 0
        self._issued = 0  # tickets handed to batches
        self._done = 0  # every ticket <= this one has been handled
        self._finished: set[int] = set()
        self._error: BaseException | None = None
        self.failed: list[CapturedEvent] = []
        self.inserted = 0  # rows this store inserted (duplicates excluded)
        self._closed = False
        self._writer = threading.Thread(
            target=self._write_loop, name=f"crucible-postgres-writer-{prefix}", daemon=True
        )
        self._writer.start()
        # A partial of its own, so that unregistering it leaves other stores' hooks alone.
        self._atexit_hook = functools.partial(_close_at_exit, weakref.ref(self))
        atexit.register(self._atexit_hook)

    # -- schema ---------------------------------------------------------------------------------

    def _create_schema(self, window_us: int | None, timescale: bool | None) -> tuple[str, int]:
        """Create the tables once (under an advisory lock, so concurrent first opens are
        safe) and return the layout and base window they were created with."""
        sql = self._pg.sql
        conn = self._reader
        with self._read_lock, conn.transaction():
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                (f"crucible-telemetry-schema:{self.schema}.{self.prefix}",),
            )
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
            )
            conn.execute(self._q(META_DDL))
            meta = dict(conn.execute(self._q("SELECT key, value FROM {meta}")).fetchall())
            if meta:
                stored = int(meta["window_us"])
                if window_us is not None and window_us != stored:
                    raise ConfigurationError(
                        f"tables {self.schema}.{self.prefix}_* keep {stored} µs rollup "
                        f"windows; cannot open them with rollup_window_us={window_us}"
                    )
                if timescale is True and meta["layout"] != "hypertable":
                    raise ConfigurationError("the events table exists and is not a hypertable")
                return meta["layout"], stored
            window = window_us or DEFAULT_WINDOW_US
            layout = "hypertable" if timescale is not False and self._timescale(conn) else "table"
            if timescale is True and layout != "hypertable":
                raise ConfigurationError("TimescaleDB was required but cannot be created here")
            columns = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
                for name, kind in COLUMNS.items()
            )
            key = sql.SQL("(event_id, wall_time_us)" if layout == "hypertable" else "(event_id)")
            conn.execute(
                self._q("CREATE TABLE {events} ({columns}, UNIQUE {key})", columns=columns, key=key)
            )
            if layout == "hypertable":
                conn.execute(
                    "SELECT create_hypertable(%s, 'wall_time_us', chunk_time_interval => %s)",
                    (f"{self.schema}.{self.prefix}_events", _CHUNK_US),
                )
            for suffix, spec in EVENT_INDEXES:
                conn.execute(
                    self._q(
                        "CREATE INDEX {index} ON {events} USING {spec}",
                        index=sql.Identifier(f"{self.prefix}_events_{suffix}"),
                        spec=sql.SQL(spec),
                    )
                )
            for ddl in (ROLLUPS_DDL, ROLLUP_HIST_DDL, EXPERIMENTS_DDL):
                conn.execute(self._q(ddl))
            conn.execute(
                self._q(
                    "CREATE INDEX {index} ON {experiments} (name, started_us)",
                    index=sql.Identifier(f"{self.prefix}_experiments_by_name"),
                )
            )
            conn.execute(
                self._q("INSERT INTO {meta} VALUES ('window_us', %s), ('layout', %s)"),
                (str(window), layout),
            )
            return layout, window

    def _timescale(self, conn: psycopg.Connection[Any]) -> bool:
        """Create the TimescaleDB extension if the server has it; False if it cannot."""
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
        ).fetchone()
        if not available:
            return False
        try:
            with conn.transaction():  # a savepoint: a failure leaves the outer one usable
                conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        except self._pg.Error:
            return False
        return True

    # -- Store: writing ------------------------------------------------------------------------

    @property
    def rollup_window_us(self) -> int:
        return self._window_us

    def append(self, events: Sequence[CapturedEvent]) -> None:
        if self._closed:
            raise StorageError("append to a closed PostgresStore")
        batch = list(events)
        if not batch:
            return
        for event in batch:
            if not isinstance(event, CapturedEvent):
                raise InvalidArgumentError(
                    f"append takes CapturedEvent items, got {type(event).__name__}"
                )
        with self._state:
            while self._pending_events and self._pending_events + len(batch) > self.max_pending:
                self._state.wait()  # back-pressure
            if self._closed:
                raise StorageError("append to a closed PostgresStore")
            self._issued += 1
            self._pending_events += len(batch)
            self._queue.put(_Batch(batch, self._issued))

    def flush(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._state:
            target = self._issued
            while self._done < target:
                if not self._writer.is_alive():
                    raise StorageError("the PostgreSQL writer thread has stopped")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise StorageError(f"flush timed out after {timeout} s")
                self._state.wait(remaining)
            error, self._error = self._error, None
        if error is not None:
            raise StorageError(
                f"{len(self.failed)} event(s) could not be written to PostgreSQL (kept in "
                f"PostgresStore.failed): {error}"
            ) from error

    def close(self) -> None:
        with self._state:
            if self._closed:
                return
            self._closed = True
        atexit.unregister(self._atexit_hook)
        try:
            self.flush()
        finally:
            self._queue.put(None)
            self._writer.join()
            with self._read_lock:
                self._reader.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write_loop(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batches = [first]
            size = len(first.events)
            while size < self.batch_size:  # coalesce what is already waiting
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batches.append(nxt)
                size += len(nxt.events)
            events = [e for b in batches for e in b.events]
            error: BaseException | None = None
            try:
                conn = self._write(conn, events)
            except Exception as exc:  # kept for flush(); the thread keeps going
                error = exc
            with self._state:
                if error is not None:
                    self._error = error
                    self.failed.extend(events)
                self._pending_events -= size
                self._finished.update(b.ticket for b in batches)
                while self._done + 1 in self._finished:
                    self._done += 1
                    self._finished.discard(self._done)
                self._state.notify_all()
        if conn is not None:
            conn.close()

    def _write(
        self, conn: psycopg.Connection[Any] | None, events: list[CapturedEvent]
    ) -> psycopg.Connection[Any]:
        errors = self._pg.errors
        transient = (errors.DeadlockDetected, errors.SerializationFailure)
        for attempt in range(self.retries + 1):
            try:
                if conn is None or conn.closed:
                    conn = self._connect(autocommit=False)
                    self._prepare_staging(conn)
                with conn.transaction():
                    self._copy(conn, events)
                return conn
            except transient:
                if attempt == self.retries:
                    raise
                time.sleep(0.01 * (2**attempt))
            except self._pg.OperationalError:
                if attempt == self.retries:
                    raise
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05 * (2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _prepare_staging(self, conn: psycopg.Connection[Any]) -> None:
        from psycopg.types.json import set_json_dumps

        set_json_dumps(_encode, context=conn)
        with conn.transaction():
            conn.execute(self._q(STAGING_DDL))
        if self._merge_sql is None:
            sql = self._pg.sql
            fields = sql.SQL(", ").join(sql.Identifier(f) for f in _FIELDS)
            self._copy_sql = self._q(COPY_SQL, fields=fields)
            self._merge_sql = self._q(
                MERGE_SQL,
                fields=fields,
                window=sql.Literal(self._window_us),
                log_gamma=sql.Literal(math.log(HISTOGRAM_GAMMA)),
                min_ms=sql.Literal(_MIN_MS),
            )

    def _copy(self, conn: psycopg.Connection[Any], events: list[CapturedEvent]) -> None:
        rows = _copy_rows(events)
        assert self._merge_sql is not None  # built by _prepare_staging
        with conn.cursor() as cur:
            assert self._copy_sql is not None
            with cur.copy(self._copy_sql) as copy:
                copy.set_types(_COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
            cur.execute(self._merge_sql)
            counts = cur.fetchone()
        self.inserted += int(counts[0]) if counts else 0

    def drop(self) -> None:
        """Drop this store's tables (tests and throw-away databases)."""
        with self._reading() as conn:
            for name in _TABLES:
                conn.execute(self._q("DROP TABLE IF EXISTS {t} CASCADE", t=self._t[name]))
