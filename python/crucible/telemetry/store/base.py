"""The store port: what every telemetry store (memory, SQLite, PostgreSQL) provides.

A store keeps three things:

* **events**: :class:`CapturedEvent` records, the bus event enriched with its experiment,
  correlation id, sequence number, timestamps, node and the fields derived from the
  standard catalogue (latency, cost, success, model, ...);
* **experiments**: one :class:`ExperimentRecord` per experiment (name, hypothesis,
  condition, status, start and stop times);
* **rollups**: :class:`Rollup` rows, per experiment, event name and time window, updated
  on ingest (continuous aggregates), so counts, rates, latency summaries and token and cost
  totals over time are read without scanning the events.

Contract shared by all implementations (the tests in ``tests/telemetry`` run each store
through it):

* ``append`` accepts a batch and may return before the batch is durable; it blocks when
  the store's write queue is full (back-pressure) and never drops an event silently. After
  ``flush()`` returns, every event appended before the call is durable and visible to
  ``query``/``count``/``select``/``rollups`` from any reader of the same store.
* An event is identified by ``event_id``; appending an id that is already stored is a no-op
  (at-least-once delivery from a producer gives exactly-once storage).
* ``query`` and ``select`` stream in batches ordered by ``(wall_time_us, event_id)`` and
  never hold the whole result in memory; filters combine with AND.
* Rollups count every stored event once; ``weight`` sums let estimators undo sampling.
* ``close`` flushes, is idempotent, and ``append`` after ``close`` raises
  :class:`~crucible.errors.StorageError`.

Event names are tuples of strings on the bus; stores index them as the dotted string
(:func:`name_to_str`), so name parts must not contain ``"."``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError

__all__ = [
    "COLUMN_KINDS",
    "HISTOGRAM_GAMMA",
    "ROLLUP_SUMS",
    "CapturedEvent",
    "ColumnBatch",
    "EventName",
    "ExperimentRecord",
    "ExperimentStatus",
    "Rollup",
    "Store",
    "bucket_lower_ms",
    "bucket_value_ms",
    "check_columns",
    "columns_to_arrays",
    "histogram_quantile",
    "latency_bucket",
    "latency_buckets",
    "merge_rollups",
    "name_from_str",
    "name_matches",
    "name_to_str",
    "rollups_of",
]

EventName = tuple[str, ...]
"""An event name, as on the bus: ``("crucible", "train", "epoch", "stop")``."""

ExperimentStatus = Literal["running", "stopped", "archived"]


def name_to_str(name: Sequence[str]) -> str:
    """The dotted form stores index: ``("a", "b")`` -> ``"a.b"``."""
    return ".".join(name)


def name_from_str(name: str) -> EventName:
    """Inverse of :func:`name_to_str`."""
    return tuple(name.split(".")) if name else ()


class CapturedEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One captured event: the bus event plus its enrichment. Stable schema, shared by all
    stores and the analysis; new fields are only ever added at the end with a default.

    Identity and order
        ``event_id``: globally unique opaque string (``"{stream_id}-{sequence:x}"`` for
        events captured by :mod:`crucible.telemetry`). ``stream_id``: random id of the
        capturing stream (one per experiment handle and process); ``sequence``: 0, 1, 2, ...
        within that stream, with no gaps among stored events, so loss and duplication are
        checkable (``(stream_id, sequence)`` is unique). Events dropped by a sampler do
        not consume a sequence number; see ``weight``.
    Time
        ``wall_time_us``: Unix time in microseconds (for humans and cross-node order);
        ``monotonic_ns``: ``time.monotonic_ns()`` of the capturing process (for durations
        within one stream; not comparable across processes).
    Where
        ``node_id``: the capturing machine or worker (``CRUCIBLE_NODE_ID`` or the host
        name); ``category``: the catalogue category (``"llm"``, ``"training"``, ...), or
        ``"custom"`` for names outside the catalogue.
    Experiment
        ``experiment_id``, ``experiment_name``, ``condition`` (the arm, e.g. ``"treatment"``),
        ``tags``; ``correlation_id`` ties related events across components (contextvar).
    Payload
        ``measurements`` and ``metadata``: as passed to ``execute`` (JSON-compatible values;
        stores keep them as msgspec JSON).
    Derived (``None`` when not applicable)
        ``latency_ms`` (from a ``duration`` in ns, or ``latency_ms``/``duration_ms``),
        ``cost_usd`` (from tokens and model, via the cost model), ``success`` (False for
        ``exception`` events or ``success=False``/an ``error`` in metadata), ``model``,
        ``provider``, ``tokens_in``, ``tokens_out``, ``error`` (the error kind),
        ``session_id``, ``user_id``, ``sample_id``, ``cohort``; ``derived``: the
        category-specific fields lifted from measurements/metadata (training: epoch, batch,
        loss, accuracy, learning_rate, gradient_norm, checkpoint_path; deployment:
        model_name, model_version, input_size, output_size, batch_size; framework:
        pipeline_id, stage_name, stage_index; ...).
    Sampling
        ``weight``: the inverse inclusion probability given by the sampler (1.0 when every
        event is kept), so weighted sums estimate population totals without bias.
    """

    event_id: str
    event_name: EventName
    experiment_id: str
    experiment_name: str
    condition: str | None = None
    tags: tuple[str, ...] = ()
    correlation_id: str | None = None
    stream_id: str = ""
    sequence: int = 0
    wall_time_us: int = 0
    monotonic_ns: int = 0
    node_id: str = ""
    category: str = "custom"
    measurements: dict[str, Any] = msgspec.field(default_factory=dict)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    latency_ms: float | None = None
    cost_usd: float | None = None
    success: bool | None = None
    model: str | None = None
    provider: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    error: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    sample_id: str | None = None
    cohort: str | None = None
    derived: dict[str, Any] = msgspec.field(default_factory=dict)
    weight: float = 1.0

    @property
    def name(self) -> str:
        """The dotted event name (``"crucible.train.epoch.stop"``)."""
        return ".".join(self.event_name)


# The scalar fields of CapturedEvent that ``Store.select`` returns as NumPy columns, with the
# dtype of the column: "f" float64 (None -> NaN), "i" int64, "b" float64 1.0/0.0/NaN for
# optional booleans (so None survives), "s" object array of str | None.
COLUMN_KINDS: Mapping[str, Literal["f", "i", "b", "s"]] = {
    "event_id": "s",
    "event_name": "s",  # dotted
    "experiment_id": "s",
    "experiment_name": "s",
    "condition": "s",
    "correlation_id": "s",
    "stream_id": "s",
    "sequence": "i",
    "wall_time_us": "i",
    "monotonic_ns": "i",
    "node_id": "s",
    "category": "s",
    "latency_ms": "f",
    "cost_usd": "f",
    "success": "b",
    "model": "s",
    "provider": "s",
    "tokens_in": "f",
    "tokens_out": "f",
    "error": "s",
    "session_id": "s",
    "user_id": "s",
    "sample_id": "s",
    "cohort": "s",
    "weight": "f",
}

ColumnBatch = dict[str, npt.NDArray[Any]]
"""A batch of rows as columns: field name -> NumPy array (dtypes per :data:`COLUMN_KINDS`)."""


class ExperimentRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An experiment as stored: what was asked, under which condition, and when it ran."""

    experiment_id: str
    name: str
    hypothesis: str | None = None
    condition: str | None = None
    tags: tuple[str, ...] = ()
    sample_size: int | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    status: ExperimentStatus = "running"
    started_us: int = 0
    stopped_us: int | None = None
    node_id: str = ""
    archive_path: str | None = None


# --- latency histogram of the rollups ---------------------------------------------------------
#
# A sparse log-bucketed histogram (DDSketch-style): latency x > 0 ms falls in bucket
# i = ceil(log(x) / log(gamma)), covering (gamma**(i-1), gamma**i]; the bucket's value
# 2 * gamma**i / (gamma + 1) is within 1 % of every x in it. Histograms of two windows merge by
# adding counts, so percentiles over any span come from the rollups without a scan.

HISTOGRAM_ALPHA = 0.01
HISTOGRAM_GAMMA = (1.0 + HISTOGRAM_ALPHA) / (1.0 - HISTOGRAM_ALPHA)
_LOG_GAMMA = math.log(HISTOGRAM_GAMMA)
_MIN_MS = 1e-6  # latencies at or below 1 ns share the lowest bucket


def latency_bucket(ms: float) -> int:
    """The histogram bucket of a latency in milliseconds (see module notes)."""
    return math.ceil(math.log(max(ms, _MIN_MS)) / _LOG_GAMMA)


def latency_buckets(ms: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """:func:`latency_bucket` of every element (finite input), computed with the same
    ``math.log`` so the buckets agree exactly with the scalar function and the stores."""
    values = np.asarray(ms, dtype=np.float64).ravel().tolist()
    return np.fromiter(map(latency_bucket, values), dtype=np.int64, count=len(values))


def bucket_lower_ms(index: int) -> float:
    """Exclusive lower bound of bucket ``index``."""
    return float(HISTOGRAM_GAMMA ** (index - 1))


def bucket_value_ms(index: int) -> float:
    """The representative latency of bucket ``index`` (relative error <= 1 %)."""
    return float(2.0 * HISTOGRAM_GAMMA**index / (HISTOGRAM_GAMMA + 1.0))


def histogram_quantile(hist: Mapping[int, int], q: float) -> float | None:
    """The ``q``-quantile (0 <= q <= 1) of a latency histogram, within 1 % (relative) of the
    exact lower-median-style quantile of the values counted; ``None`` when empty."""
    if not 0.0 <= q <= 1.0:
        raise InvalidArgumentError(f"quantile must be in [0, 1], got {q}")
    total = sum(hist.values())
    if total <= 0:
        return None
    rank = q * (total - 1)  # 0-based rank of the wanted value
    seen = 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        if seen > rank:
            return bucket_value_ms(bucket)
    return bucket_value_ms(max(hist))


ROLLUP_SUMS = (
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
"""The :class:`Rollup` fields that add up when rollups merge (stores keep them as columns)."""


class Rollup(msgspec.Struct, frozen=True, kw_only=True):
    """Aggregates of one (experiment, event name, time window), kept up to date on ingest.

    ``window_start_us`` is a multiple of ``window_us`` (Unix µs). Counts are of stored
    events; ``weight_sum`` is the sum of their sampling weights (the estimated population
    count). ``success_count``/``error_count`` count events whose ``success`` is True/False.
    ``latency_*`` cover events with a ``latency_ms``; ``latency_hist`` maps histogram bucket
    (:func:`latency_bucket`) to count. ``cost_usd``/``tokens_*`` are plain sums (unweighted).
    """

    experiment_id: str
    event_name: str  # dotted
    window_start_us: int
    window_us: int
    count: int = 0
    weight_sum: float = 0.0
    success_count: int = 0
    error_count: int = 0
    latency_count: int = 0
    latency_sum: float = 0.0
    latency_sum_sq: float = 0.0
    latency_min: float | None = None
    latency_max: float | None = None
    latency_hist: dict[int, int] = msgspec.field(default_factory=dict)
    cost_usd: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0

    def merge(self, other: Rollup, *, window_start_us: int, window_us: int) -> Rollup:
        """The rollup of both (same experiment); the result covers the given window and
        keeps this rollup's event name (callers merging across names pass what they want
        in ``msgspec.structs.replace`` afterwards)."""
        hist = dict(self.latency_hist)
        for bucket, n in other.latency_hist.items():
            hist[bucket] = hist.get(bucket, 0) + n
        mins = [v for v in (self.latency_min, other.latency_min) if v is not None]
        maxs = [v for v in (self.latency_max, other.latency_max) if v is not None]
        return Rollup(
            experiment_id=self.experiment_id,
            event_name=self.event_name,
            window_start_us=window_start_us,
            window_us=window_us,
            count=self.count + other.count,
            weight_sum=self.weight_sum + other.weight_sum,
            success_count=self.success_count + other.success_count,
            error_count=self.error_count + other.error_count,
            latency_count=self.latency_count + other.latency_count,
            latency_sum=self.latency_sum + other.latency_sum,
            latency_sum_sq=self.latency_sum_sq + other.latency_sum_sq,
            latency_min=min(mins) if mins else None,
            latency_max=max(maxs) if maxs else None,
            latency_hist=hist,
            cost_usd=self.cost_usd + other.cost_usd,
            tokens_in=self.tokens_in + other.tokens_in,
            tokens_out=self.tokens_out + other.tokens_out,
        )


def rollups_of(events: Sequence[CapturedEvent], window_us: int) -> list[Rollup]:
    """The rollups of a batch of events: one per (experiment, window, event name), in order
    of first appearance. Stores fold these into what they keep (:meth:`Rollup.merge`)."""
    if not events:
        return []
    starts = [e.wall_time_us // window_us * window_us for e in events]
    keys = list(
        zip([e.experiment_id for e in events], starts, [e.event_name for e in events], strict=True)
    )
    groups: dict[tuple[str, int, EventName], Sequence[CapturedEvent]]
    if keys.count(keys[0]) == len(keys):
        groups = {keys[0]: events}  # the common case: one experiment, name and window
    else:
        grouped: dict[tuple[str, int, EventName], list[CapturedEvent]] = {}
        for key, event in zip(keys, events, strict=True):
            same_key = grouped.get(key)
            if same_key is None:
                grouped[key] = [event]
            else:
                same_key.append(event)
        groups = dict(grouped)
    out = []
    for (exp, start, name), members in groups.items():
        outcomes = [e.success for e in members]
        lat = [x for x in [e.latency_ms for e in members] if x is not None and x - x == 0.0]
        hist: dict[int, int] = {}
        for bucket in map(latency_bucket, lat):
            hist[bucket] = hist.get(bucket, 0) + 1
        out.append(
            Rollup(
                experiment_id=exp,
                event_name=".".join(name),
                window_start_us=start,
                window_us=window_us,
                count=len(members),
                weight_sum=sum([e.weight for e in members]),
                success_count=outcomes.count(True),
                error_count=outcomes.count(False),
                latency_count=len(lat),
                latency_sum=sum(lat),
                latency_sum_sq=sum(map(operator.mul, lat, lat)),
                latency_min=min(lat) if lat else None,
                latency_max=max(lat) if lat else None,
                latency_hist=hist,
                cost_usd=sum([e.cost_usd for e in members if e.cost_usd is not None]),
                tokens_in=sum([e.tokens_in for e in members if e.tokens_in is not None]),
                tokens_out=sum([e.tokens_out for e in members if e.tokens_out is not None]),
            )
        )
    return out


@runtime_checkable
class Store(Protocol):
    """A telemetry store. See the module docstring for the contract."""

    @property
    def rollup_window_us(self) -> int:
        """The base window of the rollups (µs); coarser windows are multiples of it."""
        ...

    def append(self, events: Sequence[CapturedEvent]) -> None:
        """Queue a batch for storage (blocks while the write queue is full)."""
        ...

    def flush(self, timeout: float | None = None) -> None:
        """Return once every event appended before the call is durable and visible.

        Raises :class:`~crucible.errors.StorageError` on timeout or a failed write."""
        ...

    def close(self) -> None:
        """Flush and release resources; idempotent."""
        ...

    def save_experiment(self, record: ExperimentRecord) -> None:
        """Insert or replace the record with this ``experiment_id`` (durable on return)."""
        ...

    def experiment(self, key: str) -> ExperimentRecord:
        """The experiment with this id, or else the latest one with this name.

        Raises :class:`~crucible.errors.NotFoundError`."""
        ...

    def experiments(self) -> list[ExperimentRecord]:
        """All experiments, oldest first."""
        ...

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
        """Stored events matching every given filter, as batches of at most ``batch_size``,
        ordered by ``(wall_time_us, event_id)``. ``event_name`` matches exactly,
        ``event_prefix`` matches names starting with those parts; the time range is
        ``since_us <= wall_time_us < until_us``."""
        ...

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
        """Like :meth:`query` but only the named scalar columns (keys of
        :data:`COLUMN_KINDS`), as NumPy arrays: the fast path for analysis."""
        ...

    def count(
        self,
        *,
        experiment_id: str | None = None,
        event_name: Sequence[str] | None = None,
        event_prefix: Sequence[str] | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
    ) -> int:
        """Number of stored events matching the filters."""
        ...

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
        """The rollups of an experiment, ordered by (window_start_us, event_name).

        ``window_us`` (a multiple of :attr:`rollup_window_us`, default the base window)
        coarsens by merging; time filters select windows whose start lies in
        ``[since_us, until_us)``."""
        ...


# --- helpers every store's read path shares ----------------------------------------------------


def columns_to_arrays(columns: Sequence[str], values: Sequence[Sequence[Any]]) -> ColumnBatch:
    """NumPy arrays of scalar columns (dtypes per :data:`COLUMN_KINDS`)."""
    out: ColumnBatch = {}
    for name, col in zip(columns, values, strict=True):
        kind = COLUMN_KINDS[name]
        if kind == "s":
            arr = np.empty(len(col), dtype=object)
            arr[:] = list(col)
            out[name] = arr
        elif kind == "i":
            out[name] = np.fromiter(col, dtype=np.int64, count=len(col))
        else:  # "f" and "b": None -> NaN, booleans -> 1.0/0.0
            out[name] = np.fromiter(
                (math.nan if v is None else float(v) for v in col), dtype=np.float64, count=len(col)
            )
    return out


def check_columns(columns: Sequence[str]) -> list[str]:
    """The requested columns, checked against :data:`COLUMN_KINDS`."""
    cols = list(columns)
    unknown = [c for c in cols if c not in COLUMN_KINDS]
    if unknown or not cols:
        raise InvalidArgumentError(
            f"select needs scalar columns among {sorted(COLUMN_KINDS)}; got {cols!r}"
        )
    return cols


def merge_rollups(
    rollups: Sequence[Rollup], base_window_us: int, window_us: int | None
) -> list[Rollup]:
    """Coarsen base-window rollups to ``window_us`` (a multiple of the base window)."""
    if window_us is None or window_us == base_window_us:
        return list(rollups)
    if window_us <= 0 or window_us % base_window_us:
        raise InvalidArgumentError(
            f"window_us must be a positive multiple of the base window {base_window_us} µs"
        )
    merged: dict[tuple[int, str], Rollup] = {}
    for r in rollups:
        start = r.window_start_us // window_us * window_us
        key = (start, r.event_name)
        prev = merged.get(key)
        if prev is None:
            merged[key] = msgspec.structs.replace(r, window_start_us=start, window_us=window_us)
        else:
            merged[key] = prev.merge(r, window_start_us=start, window_us=window_us)
    return [merged[k] for k in sorted(merged)]


def name_matches(
    name: tuple[str, ...],
    event_name: tuple[str, ...] | None,
    event_prefix: tuple[str, ...] | None,
) -> bool:
    if event_name is not None and name != event_name:
        return False
    return event_prefix is None or name[: len(event_prefix)] == event_prefix
