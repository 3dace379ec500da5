"""crucible.stats.percentile against numpy.percentile, same data, same answer.

The headline case from the stats issue: four percentiles of 10**6 floats, method "linear".
Both sides return identical values (asserted, bit for bit), so the ratio compares equal work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from crucible.stats.quantile import percentile

DATA = np.random.default_rng(2026).standard_normal(10**6)
Q = [50, 90, 95, 99]

LIBRARIES: dict[str, Callable[[], Any]] = {
    "crucible": lambda: percentile(DATA, Q, method="linear"),
    "numpy": lambda: np.percentile(DATA, Q, method="linear"),
}


@pytest.mark.parametrize("library", list(LIBRARIES))
def test_percentile_1e6(benchmark: Any, library: str) -> None:
    benchmark.group = "percentile 1e6 at [50, 90, 95, 99]"
    result = benchmark.pedantic(LIBRARIES[library], rounds=15, warmup_rounds=2)
    np.testing.assert_array_equal(result, np.percentile(DATA, Q, method="linear"))
