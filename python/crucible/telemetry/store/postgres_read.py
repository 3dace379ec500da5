"""The read side of the PostgreSQL telemetry store: its connections, experiment records,
events, columns, counts and rollups.

A mixin of :class:`~crucible.telemetry.store.postgres.PostgresStore`, which sets the
attributes declared here. Reads go through one connection kept for them (reopened if the
server dropped it), under a lock, so they never wait for the writer thread's transactions.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np

from crucible.errors import InvalidArgumentError, NotFoundError, StorageError
from crucible.telemetry.store.base import (
    COLUMN_KINDS,
    ROLLUP_SUMS,
    CapturedEvent,
    ColumnBatch,
    ExperimentRecord,
    Rollup,
    check_columns,
    name_from_str,
    name_to_str,
)
from crucible.telemetry.store.postgres_sql import COLUMNS, ROLLUP_HIST_SQL, ROLLUP_SQL

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql as _sql

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode
_FIELDS: tuple[str, ...] = tuple(CapturedEvent.__struct_fields__)
_JSON = frozenset(name for name, kind in COLUMNS.items() if kind.startswith("json"))
_JSON_FIELDS = tuple(f for f in _FIELDS if COLUMNS[f].startswith("json"))


class PostgresReads:
    """Connections and every read of a :class:`PostgresStore`."""

    _pg: Any
    _dsn: str
    _connect_timeout: float
    _t: dict[str, Any]
    _read_lock: threading.Lock
    _reader: psycopg.Connection[Any]
    _closed: bool
    _window_us: int

    # -- connections --------------------------------------------------------------------------

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
