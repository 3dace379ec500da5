"""The SQLite store's continuous aggregates: computed with NumPy from a segment's columns,
added to the ``rollups`` and ``rollup_hist`` tables in the transaction that stores the
segment, and read back as :class:`Rollup`.

Why NumPy: :func:`~crucible.telemetry.store.base.rollups_of` walks events one by one
(~1.4 µs each here), as much as the whole ingest budget; the writer already holds the
columns as arrays, so grouping by (event name, window) and summing with ``bincount`` costs
a few ms per 100,000 events. SQLite cannot store NaN (it becomes NULL), so non-finite
costs and weights are left out of the sums here, like non-finite latencies everywhere,
rather than fail the transaction and stall the writer. The latency histogram buckets are
computed with NumPy and re-checked with :func:`~crucible.telemetry.store.base.latency_bucket`
wherever the quotient is within 1e-6 of an integer (or the latency is tiny), so they agree
exactly with every other store.
"""

from __future__ import annotations

import math
import operator
import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from crucible.telemetry.store.base import (
    HISTOGRAM_GAMMA,
    ROLLUP_SUMS,
    CapturedEvent,
    Rollup,
    latency_bucket,
    merge_rollups,
    name_to_str,
    rollups_of,
)
from crucible.telemetry.store.segment import Batch, IntArray, is_constant

__all__ = ["ROLLUP_SCHEMA", "add_rollups", "read_rollups"]

ROLLUP_SCHEMA = [
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

_SUMS = ROLLUP_SUMS
_COLUMNS = (
    "experiment_id, window_start_us, event_name, count, weight_sum, success_count, error_count,"
    " latency_count, latency_sum, latency_sum_sq, latency_min, latency_max, cost_usd, tokens_in,"
    " tokens_out"
)
_UPSERT_ROLLUP = f"""
INSERT INTO rollups ({_COLUMNS}) VALUES ({", ".join("?" * 15)})
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
_UPSERT_HIST = """
INSERT INTO rollup_hist (experiment_id, window_start_us, event_name, bucket, count)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (experiment_id, window_start_us, event_name, bucket) DO UPDATE SET
    count = count + excluded.count
"""
_LOG_GAMMA = math.log(HISTOGRAM_GAMMA)
_OUTCOME = {True: 1, False: 2}  # success flag -> code (1 == True counts as True, as in rollups_of)

Floats = npt.NDArray[np.float64]


def _buckets(ms: Floats) -> IntArray:
    """:func:`latency_bucket` of finite latencies, vectorised (see the module docstring)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.log(ms) / _LOG_GAMMA
        near = ~(np.abs(q - np.rint(q)) > 1e-6) | ~(ms > 1e-3)
    out = np.ceil(q)
    recheck = np.flatnonzero(near)
    if recheck.size:
        out[recheck] = [latency_bucket(v) for v in ms[recheck].tolist()]
    return out.astype(np.int64)


def _codes(values: list[Any]) -> tuple[list[Any], IntArray]:
    first = values[0]
    if is_constant(values):
        return [first], np.zeros(len(values), dtype=np.int64)
    index: dict[Any, int] = {}
    codes = np.fromiter(map(index.setdefault, values, range(len(values))), np.int64, len(values))
    uniques, codes = np.unique(codes, return_inverse=True)
    return [values[i] for i in uniques.tolist()], codes.astype(np.int64)


def _sum(inv: IntArray, groups: int, values: npt.NDArray[Any]) -> Floats:
    out: Floats = np.bincount(inv, weights=values, minlength=groups).astype(np.float64)
    return out


def _rows_numpy(
    batch: Batch, take: IntArray, experiment_id: str, window: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]] | None:
    fields = ("latency_ms", "cost_usd", "weight", "tokens_in", "tokens_out")
    numeric = [batch.numeric(f) for f in fields]
    if any(x is None for x in numeric):
        return None
    (lat, lat_null), (cost, cost_null), (weight, _), (tin, _), (tout, _) = [
        (a[take], None if m is None else m[take]) for a, m in filter(None, numeric)
    ]
    names, name_code = _codes(batch.columns["event_name"])
    starts = batch.wall[take] // window * window
    if len(names) == 1 and int(starts.min()) == int(starts.max()):  # one name, one window
        windows = starts[:1]
        groups, inv = np.zeros(1, dtype=np.int64), np.zeros(len(take), dtype=np.int64)
    else:
        windows, window_code = np.unique(starts, return_inverse=True)
        groups, inv = np.unique(name_code[take] * len(windows) + window_code, return_inverse=True)
        inv = inv.astype(np.int64)
    g = len(groups)
    success = batch.columns["success"]
    outcome = np.fromiter(map(_OUTCOME.get, success, [0] * len(success)), np.int8, len(success))
    outcome = outcome[take]
    finite = np.isfinite(lat) if lat_null is None else np.isfinite(lat) & ~lat_null
    lat_ok = lat[finite]
    inv_ok = inv[finite]
    lmin = np.full(g, np.inf)
    lmax = np.full(g, -np.inf)
    np.minimum.at(lmin, inv_ok, lat_ok)
    np.maximum.at(lmax, inv_ok, lat_ok)
    cost = np.where(
        np.isfinite(cost) if cost_null is None else np.isfinite(cost) & ~cost_null, cost, 0.0
    )
    weight = np.where(np.isfinite(weight), weight, 0.0)
    columns = [
        np.bincount(inv, minlength=g),
        _sum(inv, g, weight),
        np.bincount(inv[outcome == 1], minlength=g),
        np.bincount(inv[outcome == 2], minlength=g),
        np.bincount(inv_ok, minlength=g),
        _sum(inv_ok, g, lat_ok),
        _sum(inv_ok, g, lat_ok * lat_ok),
        _sum(inv, g, cost),
        np.rint(_sum(inv, g, tin.astype(np.float64))),
        np.rint(_sum(inv, g, tout.astype(np.float64))),
    ]
    rows = []
    for k, key in enumerate(groups.tolist()):
        name, start = names[key // len(windows)], int(windows[key % len(windows)])
        c = [col[k].item() for col in columns]
        has = c[4] > 0
        low, high = (lmin[k].item(), lmax[k].item()) if has else (None, None)
        counts = (int(c[0]), c[1], int(c[2]), int(c[3]), int(c[4]), c[5], c[6])
        rows.append((experiment_id, start, name, *counts, low, high, c[7], int(c[8]), int(c[9])))
    hist = []
    if lat_ok.size:
        buckets = _buckets(lat_ok)
        low = int(buckets.min())
        span = int(buckets.max()) - low + 1
        keys, counts = np.unique(inv_ok * span + (buckets - low), return_counts=True)
        for key, n in zip(keys.tolist(), counts.tolist(), strict=True):
            row = rows[key // span]
            hist.append((experiment_id, row[1], row[2], key % span + low, n))
    return rows, hist


def _finite_or(value: Any, default: Any) -> Any:
    """The value if it is a finite number, else ``default`` (SQLite stores NaN as NULL)."""
    try:
        return value if math.isfinite(value) else default
    except TypeError:
        return value


def _rows_python(
    batch: Batch, take: IntArray, experiment_id: str, window: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The general path (values that are not plain numbers): through ``rollups_of``."""
    cols = batch.columns
    get = operator.itemgetter
    events = [
        CapturedEvent(
            event_id="",
            event_name=tuple(cols["event_name"][i].split(".")),
            experiment_id=experiment_id,
            experiment_name="",
            wall_time_us=int(batch.wall[i]),
            latency_ms=get(i)(cols["latency_ms"]),
            cost_usd=_finite_or(get(i)(cols["cost_usd"]), None),
            weight=_finite_or(get(i)(cols["weight"]), 0.0),
            success=get(i)(cols["success"]),
            tokens_in=get(i)(cols["tokens_in"]),
            tokens_out=get(i)(cols["tokens_out"]),
        )
        for i in take.tolist()
    ]
    rollups = rollups_of(events, window)
    return [_rollup_row(r) for r in rollups], [
        (r.experiment_id, r.window_start_us, r.event_name, b, n)
        for r in rollups
        for b, n in r.latency_hist.items()
    ]


def _rollup_row(r: Rollup) -> tuple[Any, ...]:
    sums = tuple(getattr(r, f) for f in _SUMS[:7])
    tail = (r.latency_min, r.latency_max, r.cost_usd, r.tokens_in, r.tokens_out)
    return (r.experiment_id, r.window_start_us, r.event_name, *sums, *tail)


def add_rollups(
    conn: sqlite3.Connection, batch: Batch, take: IntArray, experiment_id: str, window: int
) -> None:
    """Add the rows ``take`` of a batch (one experiment's) to the stored rollups."""
    found = _rows_numpy(batch, take, experiment_id, window)
    rows, hist = found if found is not None else _rows_python(batch, take, experiment_id, window)
    conn.executemany(_UPSERT_ROLLUP, rows)
    conn.executemany(_UPSERT_HIST, hist)


def _where(
    experiment_id: str,
    event_name: Sequence[str] | None,
    event_prefix: Sequence[str] | None,
    since_us: int | None,
    until_us: int | None,
) -> tuple[str, list[Any]]:
    clauses = ["experiment_id = ?"]
    params: list[Any] = [experiment_id]
    if event_name is not None:
        clauses.append("event_name = ?")
        params.append(name_to_str(event_name))
    if event_prefix:
        dotted = name_to_str(event_prefix)
        # the name itself, or names under it: "a.b." <= name < "a.b/" ('/' follows '.')
        clauses.append("(event_name = ? OR (event_name >= ? AND event_name < ?))")
        params.extend([dotted, dotted + ".", dotted + "/"])
    if since_us is not None:
        clauses.append("window_start_us >= ?")
        params.append(since_us)
    if until_us is not None:
        clauses.append("window_start_us < ?")
        params.append(until_us)
    return " WHERE " + " AND ".join(clauses), params


def read_rollups(
    conn: sqlite3.Connection,
    experiment_id: str,
    base_window: int,
    *,
    event_name: Sequence[str] | None,
    event_prefix: Sequence[str] | None,
    since_us: int | None,
    until_us: int | None,
    window_us: int | None,
) -> list[Rollup]:
    """The stored rollups (one snapshot of both tables), coarsened to ``window_us``."""
    where, params = _where(experiment_id, event_name, event_prefix, since_us, until_us)
    conn.execute("BEGIN")
    try:
        rows = conn.execute(
            f"SELECT window_start_us, event_name, {', '.join(_SUMS)}, latency_min, latency_max"
            f" FROM rollups{where} ORDER BY window_start_us, event_name",
            params,
        ).fetchall()
        hists: dict[tuple[int, str], dict[int, int]] = {}
        for start, name, bucket, n in conn.execute(
            "SELECT window_start_us, event_name, bucket, count FROM rollup_hist" + where, params
        ):
            hists.setdefault((start, name), {})[bucket] = n
    finally:
        conn.execute("COMMIT")
    found = [
        Rollup(
            experiment_id=experiment_id,
            event_name=row[1],
            window_start_us=row[0],
            window_us=base_window,
            latency_min=row[12],
            latency_max=row[13],
            latency_hist=hists.get((row[0], row[1]), {}),
            **dict(zip(_SUMS, row[2:12], strict=True)),
        )
        for row in rows
    ]
    return merge_rollups(found, base_window, window_us)
