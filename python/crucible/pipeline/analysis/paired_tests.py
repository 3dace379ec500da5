"""Named hypothesis tests of "candidate differs from baseline" on paired per-sample scores.

Test names are the IR's :class:`~crucible.ir.enums.StatTest` values plus three that paired
evaluation data calls for:

- ``ttest``: paired t-test; ``wilcoxon``: signed-rank test (zero differences dropped);
- ``permutation``: sign-flip permutation test of the mean difference (exact when the
  number of pairs is small enough to enumerate, else ``iterations`` random flips);
- ``bootstrap``: two-sided p-value read off the bootstrap distribution of the mean
  difference (twice the smaller tail share beyond zero, with the usual +1 correction);
- ``sign``: exact binomial sign test on the non-zero differences (statistic: how many
  favour the candidate);
- ``mcnemar``: exact McNemar test for 0/1 scores (statistic: the smaller discordant
  count, as statsmodels reports it); for scores that are not all 0/1 it is the sign test,
  which is what McNemar's exact test is on binary pairs;
- ``mannwhitney``, ``anova``, ``kruskal``: two-group tests that ignore the pairing, kept
  because an IR may name them.

All differences zero means no evidence at all: every test reports statistic 0, p-value 1
(the library tests would return NaN). Non-finite statistics become ``None``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Literal, NamedTuple, get_args

import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.stats import f_oneway, kruskal, mannwhitneyu, permutation_test, ttest_rel, wilcoxon

__all__ = ["PAIRED_TESTS", "PairedTest", "TestOutcome", "binomial_two_sided", "run_test"]

PairedTest = Literal[
    "ttest",
    "bootstrap",
    "anova",
    "mannwhitney",
    "wilcoxon",
    "kruskal",
    "permutation",
    "sign",
    "mcnemar",
]
PAIRED_TESTS: tuple[str, ...] = get_args(PairedTest)

_Floats = npt.NDArray[np.float64]


class TestOutcome(NamedTuple):
    test: str
    statistic: float | None
    pvalue: float | None
    note: str = ""


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def binomial_two_sided(successes: int, trials: int) -> float:
    """Exact two-sided p-value of ``successes`` out of ``trials`` under p = 1/2 (twice
    the smaller tail, capped at 1; exact big-integer arithmetic, then one rounding)."""
    if trials == 0:
        return 1.0
    smaller = min(successes, trials - successes)
    tail = sum(math.comb(trials, k) for k in range(smaller + 1))
    return float(min(1.0, 2 * tail / 2**trials))


def _sign(d: _Floats) -> TestOutcome:
    above = int(np.count_nonzero(d > 0))
    below = int(np.count_nonzero(d < 0))
    return TestOutcome("sign", float(above), binomial_two_sided(above, above + below))


def _mcnemar(candidate: _Floats, baseline: _Floats) -> TestOutcome:
    binary = np.all(np.isin(candidate, (0.0, 1.0))) and np.all(np.isin(baseline, (0.0, 1.0)))
    if not binary:
        outcome = _sign(candidate - baseline)
        return outcome._replace(test="mcnemar", note="scores are not 0/1: exact sign test")
    gained = int(np.count_nonzero((candidate == 1.0) & (baseline == 0.0)))
    lost = int(np.count_nonzero((candidate == 0.0) & (baseline == 1.0)))
    return TestOutcome(
        "mcnemar", float(min(gained, lost)), binomial_two_sided(gained, gained + lost)
    )


def _bootstrap_pvalue(replicates: _Floats) -> float:
    count = replicates.shape[0]
    below = int(np.count_nonzero(replicates <= 0.0))
    above = int(np.count_nonzero(replicates >= 0.0))
    return float(min(1.0, 2 * (min(below, above) + 1) / (count + 1)))


def run_test(
    name: str,
    candidate: _Floats,
    baseline: _Floats,
    *,
    replicates: _Floats,
    iterations: int,
    rng: Any,
) -> TestOutcome:
    """Run test ``name``; ``replicates`` is the bootstrap distribution of the mean
    difference (used by ``bootstrap``), ``rng`` feeds ``permutation``."""
    if name not in PAIRED_TESTS:
        raise InvalidArgumentError(f"unknown test {name!r}; expected one of {PAIRED_TESTS}")
    d = candidate - baseline
    if not np.any(d):
        return TestOutcome(name, 0.0, 1.0, "identical scores")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _dispatch(name, candidate, baseline, d, replicates, iterations, rng)


def _dispatch(
    name: str,
    candidate: _Floats,
    baseline: _Floats,
    d: _Floats,
    replicates: _Floats,
    iterations: int,
    rng: Any,
) -> TestOutcome:
    if name == "ttest":
        t = ttest_rel(candidate, baseline)
        return TestOutcome(name, _finite(t.statistic), _finite(t.pvalue))
    if name == "wilcoxon":
        w = wilcoxon(candidate, baseline)
        return TestOutcome(name, _finite(w.statistic), _finite(w.pvalue))
    if name == "permutation":
        p = permutation_test(
            [candidate, baseline],
            "mean_difference",
            permutation_type="samples",
            n_resamples=iterations,
            rng=rng,
        )
        how = "exact" if p.exact else f"{iterations} random sign flips"
        return TestOutcome(name, _finite(p.statistic), _finite(p.pvalue), how)
    if name == "bootstrap":
        return TestOutcome(name, float(np.mean(d)), _bootstrap_pvalue(replicates))
    if name == "sign":
        return _sign(d)
    if name == "mcnemar":
        return _mcnemar(candidate, baseline)
    unpaired = "ignores the pairing"
    if name == "mannwhitney":
        u = mannwhitneyu(candidate, baseline)
        return TestOutcome(name, _finite(u.statistic), _finite(u.pvalue), unpaired)
    if name == "anova":
        f = f_oneway(candidate, baseline)
        return TestOutcome(name, _finite(f.statistic), _finite(f.pvalue), unpaired)
    k = kruskal(candidate, baseline)
    return TestOutcome(name, _finite(k.statistic), _finite(k.pvalue), unpaired)
