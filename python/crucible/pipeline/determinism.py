"""What makes a run repeatable: per-stage seeds, a logical clock and seeded event ids.

Same experiment and seed must give the same metrics *and* the same trace, hash for hash.
Trace events normally carry a random id and the wall time, so a run's tracer gets these
instead:

* :class:`LogicalClock`: tick ``n`` is ``EPOCH + n`` milliseconds. Events keep their order
  and stage latencies count events, not seconds (wall times go to telemetry and
  ``run.json``);
* :class:`SeededIds`: event ``n`` gets the first 32 hex digits of
  ``SHA-256("crucible-run:{seed}:{n}")``;
* :func:`stage_seed`: a stage's seed comes from a ``SeedSequence`` of the run seed with a
  spawn key derived from the stage's *name*, so stages draw independent streams and adding
  or reordering stages never changes another stage's random numbers.

Both counters can start at ``n`` (the number of events already in a resumed chain), so a
resumed run continues its chain with fresh ids and later timestamps.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from datetime import datetime, timedelta, timezone

from crucible.prng import SeedSequence

__all__ = ["EPOCH", "LogicalClock", "SeededIds", "stage_seed"]

EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
_TICK = timedelta(milliseconds=1)
_SEED_MASK = (1 << 63) - 1


class LogicalClock:
    """A thread-safe clock that advances one millisecond per reading."""

    def __init__(self, start: int = 0) -> None:
        self._ticks = itertools.count(start)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return EPOCH + next(self._ticks) * _TICK


class SeededIds:
    """Event ids derived from the run seed and a sequence number (thread-safe)."""

    def __init__(self, seed: int, start: int = 0) -> None:
        self._prefix = f"crucible-run:{seed}:"
        self._numbers = itertools.count(start)
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            n = next(self._numbers)
        return hashlib.sha256(f"{self._prefix}{n}".encode()).hexdigest()[:32]


def _name_key(name: str) -> tuple[int, ...]:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def stage_seed(run_seed: int, stage_name: str) -> int:
    """The seed of stage ``stage_name`` in a run seeded with ``run_seed`` (63 bits)."""
    sequence = SeedSequence(run_seed, spawn_key=_name_key(stage_name))
    return int(sequence.generate_state(1, "uint64")[0]) & _SEED_MASK
