"""A stored segment, read back column by column (the encodings are in :mod:`.segment`).

Why a view and not a decode: ``select`` wants a few columns as NumPy arrays, ``query``
wants a batch of events, and neither should pay for the rest. Small columns are kept as
their compact form (NumPy arrays over the BLOB, dictionary codes) and indexed by the rows
asked for; heavy columns (``"o"``: ids, measurements, metadata, derived) are msgpack
blocks of :data:`~crucible.telemetry.store.segment.BLOCK` events, decoded a block at a
time and only the latest block kept, so a ``query`` in small batches holds a few blocks,
not the segment. The payload BLOB is only fetched when a heavy column is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import StorageError
from crucible.telemetry.store.base import COLUMN_KINDS, CapturedEvent, columns_to_arrays
from crucible.telemetry.store.payloads import ext_hook, pack
from crucible.telemetry.store.segment import BLOCK, FIELDS, IntArray

__all__ = ["Segment"]

_I64 = np.dtype("<i8")
_F64 = np.dtype("<f8")
_NAME_POS = FIELDS.index("event_name")
_SUCCESS_POS = FIELDS.index("success")
_decode = msgspec.msgpack.Decoder(ext_hook=ext_hook).decode
_decode_map = msgspec.msgpack.Decoder(dict[str, list[Any]], ext_hook=ext_hook).decode


def _numbers(enc: list[Any]) -> npt.NDArray[Any]:
    """The int64/float64 values of an ``"i"``/``"f"`` encoding."""
    if enc[0] == "f":
        return np.frombuffer(enc[1], _F64)
    if enc[3] is None:
        return np.frombuffer(enc[1], _I64)
    base, width = enc[3]  # deltas from `base`, in a narrow dtype
    out = np.empty(len(enc[1]) // np.dtype(width).itemsize + 1, dtype=np.int64)
    out[0] = base
    np.cumsum(np.frombuffer(enc[1], width), out=out[1:])
    out[1:] += base
    return out


def _unmask(packed: bytes | None, n: int) -> npt.NDArray[np.bool_] | None:
    if packed is None:
        return None
    return np.unpackbits(np.frombuffer(packed, np.uint8), count=n).astype(bool)


def _python(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class Segment:
    """One stored segment, decoded on demand (see the module docstring)."""

    __slots__ = ("_arrays", "_block", "_columns", "_load_payload", "n")

    def __init__(self, data: bytes, load_payload: Callable[[], bytes]) -> None:
        try:
            self._columns = _decode_map(data)
            self.n = int(self._columns.pop("n")[0])
        except (msgspec.DecodeError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise StorageError(f"corrupt telemetry segment: {exc}") from exc
        self._load_payload = load_payload
        self._arrays: dict[str, npt.NDArray[Any]] = {}
        self._block: dict[str, tuple[int, list[Any]]] = {}  # column -> (block, values)

    def _encoding(self, name: str) -> list[Any]:
        enc = self._columns.get(name)
        if enc is None:
            try:
                self._columns.update(_decode_map(self._load_payload()))
            except (msgspec.DecodeError, TypeError, ValueError) as exc:
                raise StorageError(f"corrupt telemetry segment payload: {exc}") from exc
            enc = self._columns.get(name)
            if enc is None:
                raise StorageError(f"telemetry segment has no column {name!r}")
        if enc[0] not in ("c", "i", "f", "d", "o"):
            raise StorageError(f"unknown telemetry column encoding {enc[0]!r}")
        return enc

    def _compact(self, name: str) -> npt.NDArray[Any]:
        """Numbers (``"i"``/``"f"``) or dictionary codes (``"d"``), cached."""
        got = self._arrays.get(name)
        if got is None:
            enc = self._encoding(name)
            got = _numbers(enc) if enc[0] in ("i", "f") else np.frombuffer(enc[2], enc[3])
            if len(got) != self.n:
                raise StorageError(f"telemetry column {name!r} has {len(got)} rows, not {self.n}")
            self._arrays[name] = got
        return got

    def array(self, name: str) -> npt.NDArray[Any]:
        """The whole column with :data:`COLUMN_KINDS` dtypes (``select``'s arrays)."""
        key = "=" + name
        got = self._arrays.get(key)
        if got is not None:
            return got
        enc = self._encoding(name)
        tag = enc[0]
        out: npt.NDArray[Any]
        if tag == "c":
            out = np.repeat(columns_to_arrays([name], [[enc[1]]])[name], self.n)
        elif tag in ("i", "f") and COLUMN_KINDS[name] in ("i", "f"):
            out = self._compact(name)
            mask = _unmask(enc[2], self.n)
            if COLUMN_KINDS[name] == "f" or mask is not None:
                out = out.astype(np.float64)
                if mask is not None:
                    out[mask] = np.nan
        elif tag == "d":
            out = columns_to_arrays([name], [enc[1]])[name][self._compact(name)]
        else:
            out = columns_to_arrays([name], [self.pick(name, np.arange(self.n))])[name]
        self._arrays[key] = out
        return out

    def _heavy(self, name: str, enc: list[Any], picks: list[int]) -> list[Any]:
        blocks: list[bytes] = enc[1]
        out: list[Any] = []
        start = 0
        while start < len(picks):
            index = picks[start] // BLOCK
            cached = self._block.get(name)
            if cached is None or cached[0] != index:
                if index >= len(blocks):
                    raise StorageError(f"telemetry column {name!r} is missing block {index}")
                cached = (index, _decode(blocks[index]))
                self._block[name] = cached
            stop = start
            lo = index * BLOCK
            values = cached[1]
            while stop < len(picks) and picks[stop] // BLOCK == index:
                stop += 1
            out.extend(values[p - lo] for p in picks[start:stop])
            start = stop
        return out

    def pick(self, name: str, rows: IntArray) -> list[Any]:
        """The values at these rows (ascending), as the events hold them (names dotted)."""
        enc = self._encoding(name)
        tag = enc[0]
        picks = rows.tolist()
        if tag == "c":
            if isinstance(enc[1], dict):  # every event gets its own (mutable) copy
                raw = pack(enc[1])
                return [_decode(raw) for _ in picks]
            return [_python(enc[1])] * len(picks)
        if tag == "o":
            out = self._heavy(name, enc, picks)
            return [tuple(v) for v in out] if name == "tags" else out
        compact = self._compact(name)[rows]
        if tag == "d":
            values = [_python(v) for v in enc[1]]
            return [values[c] for c in compact.tolist()]
        numbers: list[Any] = compact.tolist()
        mask = _unmask(enc[2], self.n)
        if mask is not None:
            for k in np.flatnonzero(mask[rows]).tolist():
                numbers[k] = None
        return numbers

    def events(self, rows: IntArray) -> list[CapturedEvent]:
        """The events at these rows (ascending), rebuilt."""
        if not len(rows):
            return []
        cols = [self.pick(f, rows) for f in FIELDS]
        cols[_NAME_POS] = [tuple(n.split(".")) if n else () for n in cols[_NAME_POS]]
        cols[_SUCCESS_POS] = [None if s is None else bool(s) for s in cols[_SUCCESS_POS]]
        return [
            CapturedEvent(**dict(zip(FIELDS, row, strict=True))) for row in zip(*cols, strict=True)
        ]
