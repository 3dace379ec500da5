"""crucible.stats against the libraries a user would otherwise call, same data, same answer.

Each case runs our function and the reference (NumPy or SciPy) in the same session and
checks that both give the same result before the timings are compared, so every ratio in
the summary compares equal work:

- BCa bootstrap of the mean, n=1,000, 9,999 resamples, vs ``scipy.stats.bootstrap``;
- percentile bootstrap of a difference of means, 2 x 1,000, vs SciPy;
- four percentiles of 10**6 floats vs ``numpy.percentile``;
- Welch's t-test and Mann-Whitney U at n=10,000 per sample vs SciPy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.stats as ss

from crucible.stats import bootstrap, mannwhitneyu, percentile, ttest_ind

SAMPLE = np.random.default_rng(2026).standard_normal(1_000)
OTHER = np.random.default_rng(2027).standard_normal(1_000) + 0.1
MILLION = np.random.default_rng(2026).standard_normal(10**6)
Q = [50, 90, 95, 99]
X = np.random.default_rng(3).standard_normal(10_000)
Y = np.random.default_rng(4).standard_normal(10_000) * 1.3 + 0.02


def _diff_means(x: Any, y: Any, axis: int) -> Any:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def _same_bootstrap(ours: Any, ref: Any) -> None:
    np.testing.assert_array_equal(ours.bootstrap_distribution, ref.bootstrap_distribution)
    np.testing.assert_allclose(
        [ours.confidence_interval.low, ours.confidence_interval.high],
        [ref.confidence_interval.low, ref.confidence_interval.high],
        rtol=1e-12,
    )


def _same_test(ours: Any, ref: Any) -> None:
    np.testing.assert_allclose(ours.statistic, ref.statistic, rtol=1e-12)
    np.testing.assert_allclose(ours.pvalue, ref.pvalue, rtol=1e-12)


# name -> (crucible call, reference call, equality check, rounds)
CASES: dict[str, tuple[Callable[[], Any], Callable[[], Any], Callable[[Any, Any], None], int]] = {
    "bootstrap BCa mean n=1000 B=9999": (
        lambda: bootstrap((SAMPLE,), "mean", rng=1),
        lambda: ss.bootstrap((SAMPLE,), np.mean, rng=np.random.default_rng(1)),
        _same_bootstrap,
        5,
    ),
    "bootstrap percentile diff of means 2x1000": (
        lambda: bootstrap((SAMPLE, OTHER), "diff_means", method="percentile", rng=1),
        lambda: ss.bootstrap(
            (SAMPLE, OTHER), _diff_means, method="percentile", rng=np.random.default_rng(1)
        ),
        _same_bootstrap,
        5,
    ),
    "percentile 1e6 at [50, 90, 95, 99]": (
        lambda: percentile(MILLION, Q, method="linear"),
        lambda: np.percentile(MILLION, Q, method="linear"),
        np.testing.assert_array_equal,
        15,
    ),
    "Welch t-test n=10000": (
        lambda: ttest_ind(X, Y, equal_var=False),
        lambda: ss.ttest_ind(X, Y, equal_var=False),
        _same_test,
        200,
    ),
    "Mann-Whitney U n=10000": (
        lambda: mannwhitneyu(X, Y),
        lambda: ss.mannwhitneyu(X, Y),
        _same_test,
        100,
    ),
}


@pytest.mark.parametrize("library", ["crucible", "reference"])
@pytest.mark.parametrize("case", list(CASES))
def test_stats(benchmark: Any, case: str, library: str) -> None:
    ours, reference, same, rounds = CASES[case]
    benchmark.group = case
    result = benchmark.pedantic(
        ours if library == "crucible" else reference, rounds=rounds, warmup_rounds=1
    )
    if library == "crucible":
        same(result, reference())
    else:
        same(ours(), result)
