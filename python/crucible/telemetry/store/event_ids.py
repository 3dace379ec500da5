"""The set of event ids a store holds, cheap for whole batches of one stream.

Captured events are named ``f"{stream_id}-{sequence:x}"`` and a finalised batch covers runs
of consecutive sequence numbers, so keeping one string per event (and hashing each on
append) would cost more than capturing it. :class:`EventIdSet` keeps ids of that form as
runs of sequence numbers per stream, and any other id as a string. The mapping between an
id of that form and its (stream, sequence) is one-to-one (the stream is everything before
the last ``-``; the rest is lower-case hex without leading zeros), so membership means
exactly "this id is stored", whichever way it arrived.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

__all__ = ["EventIdSet", "split_event_id"]

_HEX = frozenset("0123456789abcdef")


def split_event_id(event_id: str) -> tuple[str, int] | None:
    """``(stream, sequence)`` if ``event_id == f"{stream}-{sequence:x}"``, else None."""
    stream, dash, digits = event_id.rpartition("-")
    if not dash or not digits or (digits[0] == "0" and len(digits) > 1):
        return None
    if not _HEX.issuperset(digits):
        return None
    return stream, int(digits, 16)


class _Runs:
    """Disjoint half-open integer intervals, sorted."""

    __slots__ = ("ends", "starts")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def overlaps(self, lo: int, hi: int) -> bool:
        i = bisect_right(self.starts, lo) - 1
        if i >= 0 and self.ends[i] > lo:
            return True
        return i + 1 < len(self.starts) and self.starts[i + 1] < hi

    def add(self, lo: int, hi: int) -> None:
        """Add ``[lo, hi)``, which must not overlap what is there."""
        starts, ends = self.starts, self.ends
        i = bisect_left(starts, lo)
        left = i > 0 and ends[i - 1] == lo
        right = i < len(starts) and starts[i] == hi
        if left and right:
            ends[i - 1] = ends[i]
            del starts[i], ends[i]
        elif left:
            ends[i - 1] = hi
        elif right:
            starts[i] = lo
        else:
            starts.insert(i, lo)
            ends.insert(i, hi)

    def remove(self, lo: int, hi: int) -> None:
        """Remove ``[lo, hi)`` (whatever of it is there)."""
        starts, ends = self.starts, self.ends
        a = max(bisect_right(starts, lo) - 1, 0)
        b = bisect_left(starts, hi)
        pieces: list[tuple[int, int]] = []
        for s, e in zip(starts[a:b], ends[a:b], strict=True):
            if e <= lo:
                pieces.append((s, e))
                continue
            if s < lo:
                pieces.append((s, lo))
            if e > hi:
                pieces.append((hi, e))
        starts[a:b] = [p[0] for p in pieces]
        ends[a:b] = [p[1] for p in pieces]

    def __bool__(self) -> bool:
        return bool(self.starts)


class EventIdSet:
    """Event ids held by a store (see the module docstring)."""

    __slots__ = ("_other", "_runs")

    def __init__(self) -> None:
        self._runs: dict[str, _Runs] = {}
        self._other: set[str] = set()

    def __contains__(self, event_id: str) -> bool:
        parts = split_event_id(event_id)
        if parts is None:
            return event_id in self._other
        runs = self._runs.get(parts[0])
        return runs is not None and runs.overlaps(parts[1], parts[1] + 1)

    def add(self, event_id: str) -> bool:
        """Add one id; False if it was there already."""
        parts = split_event_id(event_id)
        if parts is None:
            if event_id in self._other:
                return False
            self._other.add(event_id)
            return True
        stream, seq = parts
        runs = self._runs.get(stream)
        if runs is None:
            runs = self._runs[stream] = _Runs()
        elif runs.overlaps(seq, seq + 1):
            return False
        runs.add(seq, seq + 1)
        return True

    def discard(self, event_id: str) -> None:
        parts = split_event_id(event_id)
        if parts is None:
            self._other.discard(event_id)
        else:
            self.discard_runs(parts[0], [(parts[1], parts[1] + 1)])

    def add_runs(self, stream: str, runs: list[tuple[int, int]]) -> bool:
        """Add the ids of ``stream`` with sequence numbers in ``runs`` (disjoint ``[lo, hi)``)
        if none of them is there yet; False (nothing added) otherwise."""
        held = self._runs.get(stream)
        if held is None:
            held = self._runs[stream] = _Runs()
        elif any(held.overlaps(lo, hi) for lo, hi in runs):
            return False
        for lo, hi in runs:
            held.add(lo, hi)
        return True

    def discard_runs(self, stream: str, runs: list[tuple[int, int]]) -> None:
        held = self._runs.get(stream)
        if held is None:
            return
        for lo, hi in runs:
            held.remove(lo, hi)
        if not held:
            del self._runs[stream]
