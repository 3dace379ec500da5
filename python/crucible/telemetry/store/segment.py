"""Columnar segments: how the SQLite store packs a committed batch of events into one row.

Why: inserting one SQLite row per event costs ~13 µs here (the plain ``executemany``
reference tops out near 75k rows/s on the 2-core development machine), so per-row layouts
cannot ingest 300k events/s. A segment is one experiment's share of one committed batch
(up to ``batch_rows`` events), stored as one ``segments`` row whose BLOBs hold the columns.

Encoding, per column of :class:`CapturedEvent` (chosen per segment, from the values):

* ``["c", value]``: every event has exactly this value (experiment, node, model, ... and
  often metadata); numbers compare bitwise, dicts by their msgpack bytes;
* ``["i", bytes, mask, None | [base, dtype]]`` and ``["f", bytes, mask]``: little-endian
  int64/float64 arrays for ``numpy.frombuffer``; integers whose steps fit a narrower
  dtype (sequences, wall and monotonic times) are stored as ``base`` plus the steps; the
  optional packed mask marks ``None``, so ``None`` and NaN stay distinct;
* ``["d", values, codes bytes, dtype]``: dictionary-encoded hashable values (names, tags,
  strings, ``success``) when at most half of them are distinct;
* ``["o", [msgpack bytes, ...]]``: anything else (ids, measurements, metadata, derived),
  as msgspec msgpack arrays of :data:`BLOCK` events each.

The small columns form the ``data`` BLOB (a msgpack map: column -> encoding); ``"o"``
columns go to a second ``payload`` BLOB, so ``select`` never reads or decodes them unless
asked (:mod:`.segment_view` reads segments back). Events inside a segment are sorted by
``(wall_time_us, event_id)``, the order every read returns; readers merge segments whose
time spans overlap (:mod:`.segment_read`). No general-purpose compression: the narrow
encodings above already shrink the typical segment to ~10-40 bytes per event plus its
payload, and zlib would add more CPU per event than the whole SQLite write costs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.telemetry.store.base import CapturedEvent
from crucible.telemetry.store.payloads import pack

__all__ = ["BLOCK", "FIELDS", "Batch", "encode_segment", "is_constant", "time_id_order"]

FIELDS: tuple[str, ...] = CapturedEvent.__struct_fields__
_INT_FIELDS = frozenset({"sequence", "wall_time_us", "monotonic_ns", "tokens_in", "tokens_out"})
_FLOAT_FIELDS = frozenset({"latency_ms", "cost_usd", "weight"})
_DICT_FIELDS = frozenset(  # hashable values that usually repeat: dictionary-encode them
    {"event_name", "experiment_id", "experiment_name", "condition", "tags", "correlation_id"}
    | {"stream_id", "node_id", "category", "success", "model", "provider", "error"}
    | {"session_id", "user_id", "sample_id", "cohort"}
)
_KEY_INTS = ("sequence", "wall_time_us", "monotonic_ns")
_I64 = np.dtype("<i8")
_F64 = np.dtype("<f8")

BLOCK = 1024  # events per msgpack block of an "o" column: readers decode only what they return


IntArray = npt.NDArray[np.int64]
Numeric = tuple[npt.NDArray[Any], npt.NDArray[np.bool_] | None]


class Batch:
    """The events of one ``append``, as columns (extracted in the appending thread).

    ``event_name`` is kept dotted (as stores index it); ``sequence``, ``wall_time_us`` and
    ``monotonic_ns`` are checked to be 64-bit integers here, so bad input fails in
    ``append`` instead of in the writer thread."""

    __slots__ = ("_numeric", "columns", "monotonic", "n", "sequence", "wall")

    def __init__(
        self,
        columns: dict[str, list[Any]],
        n: int,
        keys: tuple[IntArray, IntArray, IntArray] | None = None,
    ) -> None:
        self.columns = columns
        self.n = n
        if keys is None:
            keys = tuple(_int64(columns[f], f) for f in _KEY_INTS)  # type: ignore[assignment]
        assert keys is not None
        self.sequence, self.wall, self.monotonic = keys
        self._numeric: dict[str, Numeric | None] = {
            f: (arr, None) for f, arr in zip(_KEY_INTS, keys, strict=True)
        }

    def numeric(self, name: str) -> Numeric | None:
        """(values, None mask) of an int or float field as NumPy (None -> 0 in the values),
        or None when its values are not all numbers of that kind (they are then stored as
        they are)."""
        if name not in self._numeric:
            self._numeric[name] = _numeric(self.columns[name], "i" if name in _INT_FIELDS else "f")
        return self._numeric[name]

    @classmethod
    def of(cls, events: Sequence[CapturedEvent]) -> Batch:
        """The events' columns; a captured batch gives them without building the events
        (its ``field_lists``), any other sequence has its fields read event by event."""
        field_lists = getattr(events, "field_lists", None)
        if field_lists is not None:
            cols: dict[str, list[Any]] = field_lists()
        else:
            cols = _columns_of(events[:_CHUNK])
            for k in range(_CHUNK, len(events), _CHUNK):
                for name, values in _columns_of(events[k : k + _CHUNK]).items():
                    cols[name] += values
        names = cols["event_name"]
        first = names[0]
        if is_constant(names):  # one name: join once
            cols["event_name"] = [".".join(first)] * len(names)
        else:
            cols["event_name"] = list(map(".".join, names))
        return cls(cols, len(events))

    @classmethod
    def concat(cls, parts: Sequence[Batch]) -> Batch:
        if len(parts) == 1:
            return parts[0]
        cols: dict[str, list[Any]] = {}
        for f in FIELDS:
            joined: list[Any] = []
            for p in parts:
                joined += p.columns[f]
            cols[f] = joined
        keys = (
            np.concatenate([p.sequence for p in parts]),
            np.concatenate([p.wall for p in parts]),
            np.concatenate([p.monotonic for p in parts]),
        )
        return cls(cols, sum(p.n for p in parts), keys)


_CHUNK = 512  # events whose fields are read together (see _columns_of)


def _columns_of(ev: Sequence[CapturedEvent]) -> dict[str, list[Any]]:
    """The fields of the events as lists, one comprehension per field: CPython's
    specialised attribute loads make this ~30 % faster than ``map(attrgetter(f), ...)``.
    It is the largest single cost of an ``append``, and memory-bound: 29 passes over
    100,000 events stream them from RAM 29 times, so :meth:`Batch.of` reads chunks of
    :data:`_CHUNK` events that stay in cache (1.5-3x faster, more when the events are
    scattered in memory). Checked against ``FIELDS`` below."""
    return {
        "event_id": [e.event_id for e in ev],
        "event_name": [e.event_name for e in ev],
        "experiment_id": [e.experiment_id for e in ev],
        "experiment_name": [e.experiment_name for e in ev],
        "condition": [e.condition for e in ev],
        "tags": [e.tags for e in ev],
        "correlation_id": [e.correlation_id for e in ev],
        "stream_id": [e.stream_id for e in ev],
        "sequence": [e.sequence for e in ev],
        "wall_time_us": [e.wall_time_us for e in ev],
        "monotonic_ns": [e.monotonic_ns for e in ev],
        "node_id": [e.node_id for e in ev],
        "category": [e.category for e in ev],
        "measurements": [e.measurements for e in ev],
        "metadata": [e.metadata for e in ev],
        "latency_ms": [e.latency_ms for e in ev],
        "cost_usd": [e.cost_usd for e in ev],
        "success": [e.success for e in ev],
        "model": [e.model for e in ev],
        "provider": [e.provider for e in ev],
        "tokens_in": [e.tokens_in for e in ev],
        "tokens_out": [e.tokens_out for e in ev],
        "error": [e.error for e in ev],
        "session_id": [e.session_id for e in ev],
        "user_id": [e.user_id for e in ev],
        "sample_id": [e.sample_id for e in ev],
        "cohort": [e.cohort for e in ev],
        "derived": [e.derived for e in ev],
        "weight": [e.weight for e in ev],
    }


if tuple(_columns_of([])) != FIELDS:  # pragma: no cover - guards schema drift
    raise ImportError("segment._columns_of does not list the fields of CapturedEvent")


def is_constant(values: Sequence[Any]) -> bool:
    """Whether every value equals the first (two spot checks reject most columns early)."""
    first = values[0]
    return (
        values[-1] == first
        and values[len(values) // 2] == first
        and values.count(first) == len(values)
    )


def _int64(values: list[Any], name: str) -> IntArray:
    """The column as int64; anything but integers (floats included: no silent truncation)
    raises :class:`InvalidArgumentError`."""
    try:
        arr = np.array(values)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidArgumentError(f"{name} must be a 64-bit integer: {exc}") from exc
    if arr.ndim != 1 or arr.dtype != np.int64:
        raise InvalidArgumentError(f"{name} must be a 64-bit integer, got {arr.dtype} values")
    return arr


# --- order ----------------------------------------------------------------------------------


def time_id_order(wall: IntArray, ids: Callable[[], Sequence[str]]) -> IntArray:
    """The permutation sorting rows by ``(wall, id)``; ``ids`` is only called (and the ids
    only compared) when some wall times are equal."""
    n = len(wall)
    if n < 2 or bool(np.all(wall[1:] > wall[:-1])):
        return np.arange(n, dtype=np.int64)
    order = np.argsort(wall, kind="stable").astype(np.int64)
    ranked = wall[order]
    tied = np.flatnonzero(ranked[1:] == ranked[:-1])
    if tied.size:
        pos = np.union1d(tied, tied + 1)  # runs of equal times are contiguous in `order`
        names = ids()
        walls = wall.tolist()
        members = order[pos].tolist()
        members.sort(key=lambda i: (walls[i], names[i]))
        order[pos] = members
    return order


# --- writing --------------------------------------------------------------------------------


def _numeric(values: list[Any], kind: str) -> Numeric | None:
    """(array, None mask) of an int ("i") or float ("f") column, or None when the values
    are not all numbers of that kind (they are then stored exactly as they are)."""
    dtype = np.float64 if kind == "f" else None
    try:
        arr = np.array(values, dtype=dtype)  # floats: None -> NaN
    except (TypeError, ValueError, OverflowError):
        arr = None
    if arr is not None and arr.ndim == 1:
        if kind == "f" and not bool(np.isnan(arr).any()):
            return arr, None
        if kind == "i" and arr.dtype == np.int64:
            return arr, None
    nulls = values.count(None)
    if not nulls:
        return (arr, None) if kind == "f" and arr is not None and arr.ndim == 1 else None
    mask = np.fromiter(map(operator.is_, values, [None] * len(values)), bool, len(values))
    try:
        arr = np.array([0 if v is None else v for v in values], dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        return None
    if arr.ndim != 1 or arr.dtype != (np.float64 if kind == "f" else np.int64):
        return None
    return arr, mask


def _narrow(top: int) -> str:
    """The smallest little-endian signed dtype holding 0..top and -top..top."""
    for dtype, limit in (("<i1", 127), ("<i2", 32_767), ("<i4", 2_147_483_647)):
        if top <= limit:
            return dtype
    return "<i8"


def _encode_column(batch: Batch, name: str, take: IntArray | None) -> tuple[list[Any], bool]:
    """The encoding of one column (see the module docstring) and whether it is heavy.

    Constants must be exact: numbers go through their NumPy array (bitwise equal, no
    None), dicts through their msgpack bytes (so ``1``, ``1.0`` and ``True`` differ)."""
    values = batch.columns[name]
    first = values[0]
    kind = "i" if name in _INT_FIELDS else "f" if name in _FLOAT_FIELDS else ""
    found = batch.numeric(name) if kind else None
    if found is not None:
        arr, mask = found
        if take is not None:
            arr = arr[take]
            mask = None if mask is None else mask[take]
        bits = arr.view(np.int64)
        if mask is None and int(bits.min()) == int(bits.max()):
            return ["c", arr[0].item()], False
        packed = None if mask is None else np.packbits(mask).tobytes()
        if kind == "f":
            return ["f", arr.astype(_F64, copy=False).tobytes(), packed], False
        steps = np.diff(arr)  # int64 wraps, and the cumulative sum wraps back: exact
        top = int(np.abs(steps).max()) if steps.size and int(steps.min()) > -(2**63) else 2**63
        width = _narrow(top)
        if width == "<i8":
            return ["i", arr.astype(_I64, copy=False).tobytes(), packed, None], False
        return ["i", steps.astype(width).tobytes(), packed, [int(arr[0]), width]], False
    maybe_same = isinstance(first, dict) and is_constant(values)
    if not isinstance(first, dict) and name in _DICT_FIELDS:
        if is_constant(values):
            return ["c", first], False
        try:
            uniques = dict.fromkeys(values)
        except TypeError:  # unhashable values: store them as they are
            uniques = {}
        if 0 < len(uniques) <= max(1, len(values) // 2):
            index = {v: i for i, v in enumerate(uniques)}
            codes = np.fromiter(map(index.__getitem__, values), np.int32, len(values))
            if take is not None:
                codes = codes[take]
            width = _narrow(len(uniques))
            return ["d", list(uniques), codes.astype(width).tobytes(), width], False
    if take is not None:
        picked = operator.itemgetter(*take.tolist())(values)
        values = list(picked) if len(take) > 1 else [picked]
    blocks = [pack(values[k : k + BLOCK]) for k in range(0, len(values), BLOCK)]
    if maybe_same and _all_encode_as(blocks, pack(first), len(values)):
        return ["c", first], False
    return ["o", blocks], True


def _all_encode_as(blocks: list[bytes], one: bytes, n: int) -> bool:
    """Whether every value in these msgpack array blocks encodes exactly as ``one``: each
    block must be an array header followed by ``one`` repeated (encodings are
    self-delimiting, so equal bytes mean equal values, types included)."""
    for k, block in enumerate(blocks):
        m = min(BLOCK, n - k * BLOCK)
        header = 1 if m < 16 else 3 if m < 65_536 else 5
        if len(block) != header + m * len(one) or not block.endswith(one * m):
            return False
    return True


def encode_segment(batch: Batch, take: IntArray) -> tuple[bytes, bytes]:
    """The ``data`` and ``payload`` BLOBs of the rows ``take`` of a batch, in that order."""
    identity = len(take) == batch.n and bool(np.all(take == np.arange(batch.n)))
    light: dict[str, list[Any]] = {"n": [len(take)]}
    heavy: dict[str, list[Any]] = {}
    for name in FIELDS:
        enc, is_heavy = _encode_column(batch, name, None if identity else take)
        (heavy if is_heavy else light)[name] = enc
    return pack(light), pack(heavy)
