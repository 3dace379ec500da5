"""Case tables shared by the parity tests (needed at collection time, so not fixtures).

Imported by plain name: pytest puts this directory on ``sys.path`` (it has no
``__init__.py``), and the name is unique across the test tree.
"""

from __future__ import annotations

from typing import Any

# Seeds that exercise every entropy shape SeedSequence accepts: zero, word edges, 64- and
# 128-bit edges, ints far beyond 128 bits, and lists of ints (including multi-word ones).
SEEDS: list[Any] = [
    0,
    1,
    12345,
    2**32 - 1,
    2**32,
    2**64 - 1,
    2**64,
    2**128 - 1,
    2**128 + 7,
    2**200 + 3,
    3**300,
    [0],
    [1, 2, 3],
    [2**32 - 1, 2**40, 7],
    [2**130 + 1, 0, 5],
]

# Above the parallel fill threshold (2**18 elements), and odd, so the multi-threaded chunked
# path and its odd tail are compared as well.
BIG = 300_001


def seed_id(seed: Any) -> str:
    text = repr(seed)
    return text if len(text) <= 24 else f"{text[:10]}..{text[-8:]}"
