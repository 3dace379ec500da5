"""Reproducible random numbers, bit-for-bit NumPy's, with the hot loops in Rust.

* :class:`SeedSequence` — NumPy's entropy mixer (``spawn`` for independent streams).
* :class:`PCG64` — NumPy's default bit generator; usable as
  ``numpy.random.Generator(PCG64(seed))`` with identical streams for every distribution.
* :class:`Generator` / :func:`default_rng` — ``random``, ``integers``, ``standard_normal``,
  ``normal``, ``standard_exponential``, ``exponential``, ``permutation``, ``shuffle``,
  ``choice`` and ``bytes``, each equal to NumPy's method of the same name, filled in Rust
  with the GIL released (fixed-width streams on several threads, still bit-exact).
"""

from __future__ import annotations

from crucible.prng.generator import Generator, default_rng
from crucible.prng.pcg64 import PCG64, SeedLike
from crucible.prng.seed_sequence import DEFAULT_POOL_SIZE, SeedSequence

__all__ = ["DEFAULT_POOL_SIZE", "PCG64", "Generator", "SeedLike", "SeedSequence", "default_rng"]
