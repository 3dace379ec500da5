"""Summaries of per-sample scores: a mean with a bootstrap confidence interval.

:func:`summarize_scores` gives one scorer's mean over samples with a BCa bootstrap interval
from :func:`crucible.stats.bootstrap` (seeded, so the same scores give the same interval).
When every score is the same the bootstrap distribution is a single point and BCa is
undefined; the interval is then that point, which is what resampling would give. When BCa
fails on other skewed data, the percentile interval is used.

:func:`summarize_records` does that per model and scorer for a list of
:class:`~crucible.train.evaluation.records.SampleRecord`; :func:`summarize_runs` treats
several runs (seeds) of the same evaluation as the unit: each run's mean is one observation
and the interval is over the mean of means, so it reflects run-to-run variation rather than
sample-to-sample.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Mapping, Sequence

import msgspec
import numpy as np

from crucible import prng
from crucible.errors import DegenerateDataWarning, InvalidArgumentError
from crucible.stats import bootstrap
from crucible.train.evaluation.records import SampleRecord

__all__ = [
    "EvalSummary",
    "RunsSummary",
    "ScoreSummary",
    "summarize_records",
    "summarize_runs",
    "summarize_scores",
]


class ScoreSummary(msgspec.Struct, frozen=True, kw_only=True):
    scorer: str
    mean: float
    ci_low: float
    ci_high: float
    std: float
    n: int
    confidence: float


class RunsSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Mean of per-run means, the interval over runs, and each run's mean."""

    scorer: str
    mean: float
    ci_low: float
    ci_high: float
    run_means: list[float]
    confidence: float


class EvalSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Per model, per scorer summaries; :meth:`metrics` flattens them the way the pipeline
    reports them (``"<model>/<scorer>"``, ``..._ci_low``, ``..._ci_high``)."""

    models: dict[str, dict[str, ScoreSummary]]

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for model, scores in self.models.items():
            for name, s in scores.items():
                out[f"{model}/{name}"] = s.mean
                out[f"{model}/{name}_ci_low"] = s.ci_low
                out[f"{model}/{name}_ci_high"] = s.ci_high
        return out


def _stable_seed(seed: int, *labels: str) -> prng.Generator:
    """A generator for one (seed, labels) pair: the same on every run and resume."""
    return prng.default_rng([seed & 0xFFFFFFFFFFFFFFFF, *(zlib.crc32(x.encode()) for x in labels)])


def _interval(
    values: np.ndarray, confidence: float, n_resamples: int, rng: prng.Generator
) -> tuple[float, float]:
    first = float(values[0])
    if values.size == 1 or bool(np.all(values == first)):
        return first, first
    state = rng.bit_generator.state
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        result = bootstrap(
            [values], "mean", n_resamples=n_resamples, confidence_level=confidence, rng=rng
        )
        ci = result.confidence_interval
        if math.isnan(ci.low) or math.isnan(ci.high):
            rng.bit_generator.state = state
            ci = bootstrap(
                [values],
                "mean",
                n_resamples=n_resamples,
                confidence_level=confidence,
                method="percentile",
                rng=rng,
            ).confidence_interval
    return float(ci.low), float(ci.high)


def summarize_scores(
    values: Sequence[float],
    *,
    scorer: str = "score",
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> ScoreSummary:
    """Mean of ``values`` with a bootstrap interval at ``confidence``."""
    if not 0 < confidence < 1:
        raise InvalidArgumentError(f"confidence must be in (0, 1), not {confidence}")
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidArgumentError(f"no scores to summarize for {scorer!r}")
    if not np.all(np.isfinite(arr)):
        raise InvalidArgumentError(f"scores of {scorer!r} must be finite")
    low, high = _interval(arr, confidence, n_resamples, _stable_seed(seed, scorer))
    return ScoreSummary(
        scorer=scorer,
        mean=float(arr.mean()),
        ci_low=low,
        ci_high=high,
        std=float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
        n=int(arr.size),
        confidence=confidence,
    )


def summarize_records(
    records: Sequence[SampleRecord],
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> EvalSummary:
    """Per model (in order of first appearance) and scorer: mean and interval."""
    columns: dict[str, dict[str, list[float]]] = {}
    for record in records:
        per_model = columns.setdefault(record.model, {})
        for name, value in record.scores.items():
            per_model.setdefault(name, []).append(value)
    models = {
        model: {
            name: summarize_scores(
                values,
                scorer=name,
                confidence=confidence,
                n_resamples=n_resamples,
                seed=zlib.crc32(model.encode()) ^ seed,
            )
            for name, values in scores.items()
        }
        for model, scores in columns.items()
    }
    return EvalSummary(models=models)


def summarize_runs(
    runs: Sequence[Mapping[str, Sequence[float]]],
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> dict[str, RunsSummary]:
    """Across runs (each ``{scorer: per-sample scores}``): mean of means with an interval
    over runs. Every run must have the same scorers; two runs at least."""
    if len(runs) < 2:
        raise InvalidArgumentError("summarizing across runs needs two or more runs")
    names = list(runs[0])
    for i, run in enumerate(runs):
        if set(run) != set(names):
            raise InvalidArgumentError(f"run {i} has scorers {sorted(run)}, run 0 {sorted(names)}")
    out: dict[str, RunsSummary] = {}
    for name in names:
        means = []
        for i, run in enumerate(runs):
            values = np.asarray(run[name], dtype=np.float64)
            if values.size == 0:
                raise InvalidArgumentError(f"run {i} has no {name!r} scores")
            means.append(float(values.mean()))
        summary = summarize_scores(
            means, scorer=name, confidence=confidence, n_resamples=n_resamples, seed=seed
        )
        out[name] = RunsSummary(
            scorer=name,
            mean=summary.mean,
            ci_low=summary.ci_low,
            ci_high=summary.ci_high,
            run_means=means,
            confidence=confidence,
        )
    return out
