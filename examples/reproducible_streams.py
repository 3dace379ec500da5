"""Reproducible random streams that agree with NumPy, drawn fast.

Run: python examples/reproducible_streams.py

Shows the three ways crucible.prng is used: our Generator for the hot draws, NumPy's own
Generator on our bit generator for every other distribution, and independent child
streams for parallel workers, all equal to what NumPy would produce for the same seed.
"""

from __future__ import annotations

import numpy as np

from crucible import prng

SEED = 2026


def main() -> None:
    ours = prng.default_rng(SEED)
    theirs = np.random.default_rng(SEED)
    a, b = ours.standard_normal(1_000_000), theirs.standard_normal(1_000_000)
    print(f"1e6 normals identical to NumPy's: {np.array_equal(a, b)}")

    interop = np.random.Generator(prng.PCG64(SEED))
    gammas = interop.gamma(2.0, size=5)
    print(f"NumPy distributions on our PCG64: gamma(2.0) -> {np.round(gammas, 4)}")

    workers = prng.SeedSequence(SEED).spawn(3)
    firsts = [prng.default_rng(child).integers(0, 100, 3).tolist() for child in workers]
    print(f"three independent worker streams: {firsts}")


if __name__ == "__main__":
    main()
