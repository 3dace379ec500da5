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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np

from crucible.errors import ConfigurationError, InvalidArgumentError, NotFoundError, StorageError
from crucible.telemetry.store.base import (
    _MIN_MS,
    COLUMN_KINDS,
    HISTOGRAM_GAMMA,
    ROLLUP_SUMS,
    CapturedEvent,
    ColumnBatch,
    ExperimentRecord,
    Rollup,
    check_columns,
    name_from_str,
    name_to_str,
)
from crucible.telemetry.store.postgres_sql import (
    COLUMNS,
    COPY_SQL,
    COPY_TYPES,
    EVENT_INDEXES,
    EXPERIMENTS_DDL,
    MERGE_SQL,
    META_DDL,
    ROLLUP_HIST_DDL,
    ROLLUP_HIST_SQL,
    ROLLUP_SQL,
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
_JSON = frozenset(name for name, kind in COLUMNS.items() if kind.startswith("json"))
_NAME_POSITION = _FIELDS.index("event_name")
_JSON_FIELDS = tuple(f for f in _FIELDS if COLUMNS[f].startswith("json"))
_COPY_TYPES = [COPY_TYPES[COLUMNS[f].split()[0]] for f in _FIELDS]
_encoder = msgspec.json.Encoder()
_encode = _encoder.encode
_decode = msgspec.json.decode


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


class PostgresStore:
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

    # -- connections and schema -------------------------------------------------------------

    def _connect(self, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        try:
            conn: psycopg.Connection[Any] = self._pg.connect(
                self._dsn,
                autocommit=autocommit,
                connect_timeout=max(1, int(self._connect_timeout)),
                application_name="crucible-telemetry",
            )
        except self._pg.Error as exc:
            raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc
        return conn

    def _q(self, template: str, **extra: _sql.Composable) -> _sql.Composed:
        """``template`` with ``{events}``, ``{rollups}``... filled with the qualified names."""
        composed: _sql.Composed = self._pg.sql.SQL(template).format(**self._t, **extra)
        return composed

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

    # -- experiments ---------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Connection[Any]]:
        with self._read_lock:
            if self._reader.closed:
                if self._closed:
                    raise StorageError("the PostgresStore is closed")
                self._reader = self._connect()
            try:
                yield self._reader
            except self._pg.Error as exc:
                raise StorageError(f"PostgreSQL query failed: {exc}") from exc

    def save_experiment(self, record: ExperimentRecord) -> None:
        with self._reading() as conn:
            conn.execute(
                self._q(
                    """INSERT INTO {experiments} VALUES (%s, %s, %s, %s)
                    ON CONFLICT (experiment_id) DO UPDATE SET name = excluded.name,
                        started_us = excluded.started_us, record = excluded.record"""
                ),
                (
                    record.experiment_id,
                    record.name,
                    record.started_us,
                    _encode(record).decode(),
                ),
            )

    def experiment(self, key: str) -> ExperimentRecord:
        with self._reading() as conn:
            row = conn.execute(
                self._q("SELECT record::text FROM {experiments} WHERE experiment_id = %s"),
                (key,),
            ).fetchone()
            if row is None:
                row = conn.execute(
                    self._q(
                        """SELECT record::text FROM {experiments} WHERE name = %s
                        ORDER BY started_us DESC, experiment_id DESC LIMIT 1"""
                    ),
                    (key,),
                ).fetchone()
        if row is None:
            raise NotFoundError(f"no experiment with id or name {key!r}")
        return _decode(row[0], type=ExperimentRecord)

    def experiments(self) -> list[ExperimentRecord]:
        with self._reading() as conn:
            rows = conn.execute(
                self._q("SELECT record::text FROM {experiments} ORDER BY started_us, experiment_id")
            ).fetchall()
        return [_decode(r[0], type=ExperimentRecord) for r in rows]

    # -- reading events ------------------------------------------------------------------------

    def _where(
        self,
        experiment_id: str | None,
        event_name: Sequence[str] | None,
        event_prefix: Sequence[str] | None,
        since_us: int | None,
        until_us: int | None,
        *,
        time_column: str = "wall_time_us",
    ) -> tuple[_sql.Composable, list[Any]]:
        sql = self._pg.sql
        parts: list[_sql.Composable] = []
        params: list[Any] = []
        if experiment_id is not None:
            parts.append(sql.SQL("experiment_id = %s"))
            params.append(experiment_id)
        if event_name is not None:
            parts.append(sql.SQL("event_name = %s"))
            params.append(name_to_str(tuple(event_name)))
        if event_prefix is not None and len(event_prefix):
            dotted = name_to_str(tuple(event_prefix))
            escaped = dotted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            parts.append(sql.SQL("(event_name = %s OR event_name LIKE %s)"))
            params += [dotted, escaped + ".%"]
        if since_us is not None:
            parts.append(sql.SQL("{} >= %s").format(sql.Identifier(time_column)))
            params.append(int(since_us))
        if until_us is not None:
            parts.append(sql.SQL("{} < %s").format(sql.Identifier(time_column)))
            params.append(int(until_us))
        if not parts:
            return sql.SQL(""), params
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(parts), params

    def _stream(
        self, columns: _sql.Composable, where: _sql.Composable, params: list[Any], size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Rows in (wall_time_us, event_id) order through a server-side cursor on a
        connection of their own, so a half-read result blocks nobody."""
        if size < 1:
            raise InvalidArgumentError("`batch_size` must be positive")
        if self._closed:
            raise StorageError("the PostgresStore is closed")
        query = self._q(
            "SELECT {columns} FROM {events}{where} ORDER BY wall_time_us, event_id",
            columns=columns,
            where=where,
        )
        conn = self._connect(autocommit=False)
        try:
            with conn.transaction(), conn.cursor(name="crucible_stream") as cur:
                cur.itersize = size
                cur.execute(query, params)
                while True:
                    rows = cur.fetchmany(size)
                    if not rows:
                        break
                    yield rows
        except self._pg.Error as exc:
            raise StorageError(f"PostgreSQL query failed: {exc}") from exc
        finally:
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
        sql = self._pg.sql
        where, params = self._where(experiment_id, event_name, event_prefix, since_us, until_us)
        columns = sql.SQL(", ").join(
            sql.SQL("{}::text").format(sql.Identifier(f))
            if COLUMNS[f].startswith("json")
            else sql.Identifier(f)
            for f in _FIELDS
        )
        positions = {f: i for i, f in enumerate(_FIELDS)}
        for rows in self._stream(columns, where, params, batch_size):
            batch = []
            for row in rows:
                values = dict(zip(_FIELDS, row, strict=True))
                values["event_name"] = name_from_str(row[positions["event_name"]])
                for f in _JSON_FIELDS:
                    values[f] = _decode(row[positions[f]])
                values["tags"] = tuple(values["tags"])
                batch.append(CapturedEvent(**values))
            yield batch

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
        names = check_columns(columns)
        sql = self._pg.sql
        where, params = self._where(experiment_id, event_name, event_prefix, since_us, until_us)
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in names)
        for rows in self._stream(cols, where, params, batch_size):
            data = list(zip(*rows, strict=True))
            batch: ColumnBatch = {}
            for name, values in zip(names, data, strict=True):
                kind = COLUMN_KINDS[name]
                if kind == "s":
                    arr = np.empty(len(values), dtype=object)
                    arr[:] = values
                    batch[name] = arr
                elif kind == "i":
                    batch[name] = np.asarray(values, dtype=np.int64)
                else:  # "f" and "b": None -> NaN, True/False -> 1.0/0.0
                    batch[name] = np.asarray(values, dtype=np.float64)
            yield batch

    def count(
        self,
        *,
        experiment_id: str | None = None,
        event_name: Sequence[str] | None = None,
        event_prefix: Sequence[str] | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
    ) -> int:
        where, params = self._where(experiment_id, event_name, event_prefix, since_us, until_us)
        with self._reading() as conn:
            row = conn.execute(
                self._q("SELECT count(*) FROM {events}{where}", where=where), params
            ).fetchone()
        return int(row[0]) if row else 0

    def node_counts(self, experiment_id: str | None = None) -> dict[str, int]:
        """Stored events per ``node_id`` (of one experiment, or of all)."""
        where, params = self._where(experiment_id, None, None, None, None)
        with self._reading() as conn:
            rows = conn.execute(
                self._q(
                    "SELECT node_id, count(*) FROM {events}{where} "
                    "GROUP BY node_id ORDER BY node_id",
                    where=where,
                ),
                params,
            ).fetchall()
        return {str(node): int(n) for node, n in rows}

    # -- rollups -----------------------------------------------------------------------------

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
        base = self._window_us
        window = base if window_us is None else window_us
        if isinstance(window, bool) or not isinstance(window, int) or window <= 0 or window % base:
            raise InvalidArgumentError(
                f"`window_us` must be a positive multiple of the base window ({base} µs)"
            )
        sql = self._pg.sql
        where, params = self._where(
            experiment_id,
            event_name,
            event_prefix,
            since_us,
            until_us,
            time_column="window_start_us",
        )
        w = sql.Literal(window)
        sums = sql.SQL(", ").join(
            sql.SQL("sum({c})").format(c=sql.Identifier(c)) for c in ROLLUP_SUMS
        )
        with self._reading() as conn:
            rows = conn.execute(
                self._q(ROLLUP_SQL, window=w, sums=sums, where=where), params
            ).fetchall()
            hist_rows = conn.execute(
                self._q(ROLLUP_HIST_SQL, window=w, where=where), params
            ).fetchall()
        hists: dict[tuple[int, str], dict[int, int]] = {}
        for ws, name, bucket, n in hist_rows:
            hists.setdefault((int(ws), name), {})[int(bucket)] = int(n)
        out = []
        for row in rows:
            ws, name = int(row[0]), row[1]
            sums_row = dict(zip(ROLLUP_SUMS, row[2:12], strict=True))
            out.append(
                Rollup(
                    experiment_id=experiment_id,
                    event_name=name,
                    window_start_us=ws,
                    window_us=window,
                    count=int(sums_row["count"]),
                    weight_sum=float(sums_row["weight_sum"]),
                    success_count=int(sums_row["success_count"]),
                    error_count=int(sums_row["error_count"]),
                    latency_count=int(sums_row["latency_count"]),
                    latency_sum=float(sums_row["latency_sum"]),
                    latency_sum_sq=float(sums_row["latency_sum_sq"]),
                    latency_min=None if row[12] is None else float(row[12]),
                    latency_max=None if row[13] is None else float(row[13]),
                    latency_hist=hists.get((ws, name), {}),
                    cost_usd=float(sums_row["cost_usd"]),
                    tokens_in=int(sums_row["tokens_in"]),
                    tokens_out=int(sums_row["tokens_out"]),
                )
            )
        return out

    def drop(self) -> None:
        """Drop this store's tables (tests and throw-away databases)."""
        with self._reading() as conn:
            for name in _TABLES:
                conn.execute(self._q("DROP TABLE IF EXISTS {t} CASCADE", t=self._t[name]))
