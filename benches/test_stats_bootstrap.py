"""crucible.stats.bootstrap against scipy.stats.bootstrap, same seed, same answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.stats as ss

from crucible.stats.bootstrap import bootstrap

DATA = np.random.default_rng(2026).standard_normal(1_000)
OTHER = np.random.default_rng(2027).standard_normal(1_000) + 0.1


def _diff_means(x: Any, y: Any, axis: int) -> Any:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


CASES: dict[str, dict[str, Callable[[], Any]]] = {
    "bootstrap BCa mean n=1000 B=9999": {
        "crucible": lambda: bootstrap((DATA,), "mean", rng=1),
        "scipy": lambda: ss.bootstrap((DATA,), np.mean, rng=np.random.default_rng(1)),
    },
    "bootstrap percentile diff of means 2x1000": {
        "crucible": lambda: bootstrap((DATA, OTHER), "diff_means", method="percentile", rng=1),
        "scipy": lambda: ss.bootstrap(
            (DATA, OTHER), _diff_means, method="percentile", rng=np.random.default_rng(1)
        ),
    },
}


@pytest.mark.parametrize("library", ["crucible", "scipy"])
@pytest.mark.parametrize("case", list(CASES))
def test_bootstrap(benchmark: Any, case: str, library: str) -> None:
    benchmark.group = case
    result = benchmark.pedantic(CASES[case][library], rounds=5, warmup_rounds=1)
    reference = CASES[case]["scipy"]()
    np.testing.assert_array_equal(result.bootstrap_distribution, reference.bootstrap_distribution)
