"""Candidate versus baseline on one metric: estimates, a bootstrap CI, tests, effect size.

For paired per-sample scores the quantity of interest is the mean of the differences
(candidate minus baseline); its bootstrap distribution gives the confidence interval (BCa
by default, percentile when BCa is undefined, e.g. for nearly constant differences) and
the ``bootstrap`` test's p-value. With no baseline, the CI is that of the candidate's
mean and no test runs.

Effect sizes follow the IR's :class:`~crucible.ir.enums.EffectSizeType`: ``cohens_d`` is
the paired d_z (mean difference over the SD of the differences), ``eta_squared`` and
``omega_squared`` treat the two score lists as two groups. An undefined effect size
(constant differences) is ``None``.

Multiple testing: every (metric, test) p-value of a run is one hypothesis; they are
adjusted together with :func:`crucible.stats.adjust_pvalues` (IR ``fdr`` is
Benjamini-Hochberg) and a verdict is significant when its hypothesis is rejected at
``alpha``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import CrucibleError
from crucible.pipeline.analysis.findings import json_number
from crucible.pipeline.analysis.paired_tests import run_test
from crucible.stats import (
    BootstrapResult,
    adjust_pvalues,
    bootstrap,
    cohens_d_paired,
    eta_squared,
    omega_squared,
)
from crucible.stats.corrections import CorrectionMethod as LibraryCorrection

__all__ = [
    "CORRECTIONS",
    "CiMethod",
    "ComparisonSettings",
    "Correction",
    "EffectSizeKind",
    "MetricComparison",
    "apply_correction",
    "compare_metric",
    "effect_size",
]

Correction = Literal["bonferroni", "holm", "fdr", "none"]
EffectSizeKind = Literal["cohens_d", "eta_squared", "omega_squared"]
CiMethod = Literal["bca", "percentile", "basic"]
CORRECTIONS: dict[str, LibraryCorrection] = {
    "bonferroni": "bonferroni",
    "holm": "holm",
    "fdr": "fdr_bh",
}
MAX_STORED_REPLICATES = 2000

_Floats = npt.NDArray[np.float64]


class ComparisonSettings(msgspec.Struct, frozen=True, kw_only=True):
    tests: tuple[str, ...]
    confidence: float
    alpha: float
    correction: Correction
    iterations: int
    effect_size: EffectSizeKind
    ci_method: CiMethod


class MetricComparison(msgspec.Struct, kw_only=True):
    """One metric's numbers before correction; ``verdicts`` gain ``adjusted_pvalue`` and
    ``significant`` in :func:`apply_correction`."""

    metric: str
    n: int
    ci_low: float | None
    ci_high: float | None
    ci_method: str
    replicates: list[float]
    verdicts: list[dict[str, Any]]


def _interval(values: _Floats, settings: ComparisonSettings, rng: Any) -> BootstrapResult:
    """Bootstrap CI of the mean; falls back to the percentile interval when BCa is NaN."""
    method = settings.ci_method
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = bootstrap(
            [values],
            "mean",
            n_resamples=settings.iterations,
            confidence_level=settings.confidence,
            method=method,
            rng=rng,
        )
    ci = result.confidence_interval
    if method != "percentile" and not (np.isfinite(ci.low) and np.isfinite(ci.high)):
        ordered = np.sort(result.bootstrap_distribution)
        tail = (1.0 - settings.confidence) / 2.0
        low, high = np.quantile(ordered, [tail, 1.0 - tail])
        return msgspec.structs.replace(
            result,
            confidence_interval=msgspec.structs.replace(ci, low=float(low), high=float(high)),
            method="percentile",
        )
    return result


def effect_size(kind: EffectSizeKind, candidate: _Floats, baseline: _Floats) -> float | None:
    """The paired or two-group effect size named by the IR, or ``None`` when undefined."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "cohens_d":
                return json_number(cohens_d_paired(candidate, baseline))
            if kind == "eta_squared":
                return json_number(eta_squared(candidate, baseline))
            return json_number(omega_squared(candidate, baseline))
    except (CrucibleError, ZeroDivisionError, FloatingPointError):
        return None


def compare_metric(
    metric: str,
    candidate: tuple[str, _Floats],
    baseline: tuple[str, _Floats] | None,
    settings: ComparisonSettings,
    rng: Any,
) -> MetricComparison:
    """Everything about one metric. ``candidate``/``baseline`` are (model, paired scores);
    the arrays are aligned by sample index. ``rng`` draws the resamples."""
    name, cand = candidate
    values = cand if baseline is None else cand - baseline[1]
    constant = bool(np.all(values == values[0]))
    if constant:  # every resample equals the data: the interval is a point, no draws
        replicates = np.full(min(settings.iterations, MAX_STORED_REPLICATES), values[0])
        ci_low = ci_high = float(values[0])
        method = "degenerate"
    else:
        result = _interval(values, settings, rng)
        replicates = result.bootstrap_distribution
        ci_low = result.confidence_interval.low
        ci_high = result.confidence_interval.high
        method = result.method
    comparison = MetricComparison(
        metric=metric,
        n=int(values.shape[0]),
        ci_low=json_number(ci_low),
        ci_high=json_number(ci_high),
        ci_method=method,
        replicates=[float(v) for v in replicates[:MAX_STORED_REPLICATES]],
        verdicts=[],
    )
    base_verdict: dict[str, Any] = {
        "metric": metric,
        "candidate": name,
        "baseline": None if baseline is None else baseline[0],
        "estimate": float(np.mean(cand)),
        "baseline_estimate": None if baseline is None else float(np.mean(baseline[1])),
        "difference": None if baseline is None else float(np.mean(values)),
        "ci_low": comparison.ci_low,
        "ci_high": comparison.ci_high,
        "confidence": settings.confidence,
        "n": comparison.n,
    }
    if baseline is None:
        comparison.verdicts.append(
            base_verdict
            | {
                "test": "bootstrap_ci",
                "statistic": None,
                "pvalue": None,
                "adjusted_pvalue": None,
                "effect_size": None,
                "effect_size_type": None,
                "significant": False,
            }
        )
        return comparison
    base = baseline[1]
    size = effect_size(settings.effect_size, cand, base)
    for test in settings.tests:
        outcome = run_test(
            test, cand, base, replicates=replicates, iterations=settings.iterations, rng=rng
        )
        comparison.verdicts.append(
            base_verdict
            | {
                "test": test,
                "statistic": json_number(outcome.statistic),
                "pvalue": json_number(outcome.pvalue),
                "adjusted_pvalue": None,
                "effect_size": size,
                "effect_size_type": settings.effect_size,
                "significant": False,
                "note": outcome.note,
            }
        )
    return comparison


def apply_correction(
    verdicts: Sequence[dict[str, Any]], correction: Correction, alpha: float
) -> int:
    """Fill ``adjusted_pvalue`` and ``significant`` in place across all verdicts with a
    p-value; returns the number of hypotheses corrected together."""
    tested = [v for v in verdicts if v["pvalue"] is not None]
    if not tested:
        return 0
    pvalues = np.array([v["pvalue"] for v in tested], dtype=np.float64)
    if correction == "none":
        adjusted = pvalues
        reject = pvalues <= alpha
    else:
        result = adjust_pvalues(pvalues, CORRECTIONS[correction], alpha)
        adjusted = np.asarray(result.pvalues_adjusted)
        reject = np.asarray(result.reject)
    for verdict, p, rejected in zip(tested, adjusted, reject, strict=True):
        verdict["adjusted_pvalue"] = float(p)
        verdict["significant"] = bool(rejected)
    return len(tested)
