"""crucible.stats.ttest against scipy.stats, same data, same answer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.stats as ss

from crucible.stats.ttest import ttest_ind

A = np.random.default_rng(1).standard_normal(10_000)
B = np.random.default_rng(2).standard_normal(10_000) * 1.3 + 0.02

CALLS = {
    "crucible": lambda: ttest_ind(A, B, equal_var=False),
    "scipy": lambda: ss.ttest_ind(A, B, equal_var=False),
}


@pytest.mark.parametrize("library", list(CALLS))
def test_welch_ttest_n10000(benchmark: Any, library: str) -> None:
    benchmark.group = "Welch t-test n=10000"
    result = benchmark(CALLS[library])
    np.testing.assert_allclose(
        result.pvalue, ss.ttest_ind(A, B, equal_var=False).pvalue, rtol=1e-12
    )
