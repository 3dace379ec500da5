"""Comparing two runs: is run B better than run A, and by how much?

When both runs have evaluate samples (``outputs["samples"]``, the pipeline's per-sample
rows), the comparison is *paired*: rows are matched by sample id for one model of each run
(default: each run's last evaluated model that is not ``"init"``), and for each chosen
scorer the per-sample differences B - A get a percentile bootstrap CI of their mean and a
bootstrap p-value (how often the resampled mean lands on the other side of zero), plus a
paired t-test. Without samples, the runs' scalar metrics are compared by difference only:
one number per run has no sampling distribution to test.

Everything is seeded (``seed``), so the same two runs compare the same way every time.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from crucible.errors import ConfigurationError
from crucible.pipeline.rundir import RunDir
from crucible.pipeline.stage import StageResult

__all__ = ["MetricComparison", "RunComparison", "compare_runs"]

INIT = "init"


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    a: float
    b: float
    difference: float
    n: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float | None = None
    bootstrap_pvalue: float | None = None
    ttest_pvalue: float | None = None


@dataclass(frozen=True)
class RunComparison:
    run_a: str
    run_b: str
    mode: str  # "paired" (per-sample scores) or "scalar" (stage metrics)
    model_a: str | None
    model_b: str | None
    metrics: list[MetricComparison]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _samples(run: RunDir, results: dict[str, StageResult]) -> list[dict[str, Any]] | None:
    """The rows of the run's last evaluate stage, or None."""
    for result in reversed(list(results.values())):
        rel = result.outputs.get("samples")
        if isinstance(rel, str) and (run.path / rel).is_file():
            rows = []
            with (run.path / rel).open("rb") as f:
                for line in f:
                    if line.strip():
                        row = msgspec.json.decode(line)
                        if isinstance(row, dict):
                            rows.append(row)
            return rows
    return None


def _default_model(rows: list[dict[str, Any]]) -> str:
    models = list(dict.fromkeys(str(r.get("model")) for r in rows))
    trained = [m for m in models if m != INIT]
    return trained[-1] if trained else models[-1]


def _scores(rows: list[dict[str, Any]], model: str, scorer: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for row in rows:
        if row.get("model") != model:
            continue
        value = (row.get("scores") or {}).get(scorer)
        if isinstance(value, (int, float)) and math.isfinite(value):
            out[str(row.get("id", row.get("index")))] = float(value)
    return out


def _paired(
    metric: str, a: dict[str, float], b: dict[str, float], seed: int, confidence: float
) -> MetricComparison:
    from crucible import stats

    keys = sorted(set(a) & set(b))
    if len(keys) < 2:
        raise ConfigurationError(f"{metric}: fewer than 2 samples are shared by the two runs")
    xa = np.array([a[k] for k in keys])
    xb = np.array([b[k] for k in keys])
    diff = xb - xa
    mean_a, mean_b, mean_d = float(xa.mean()), float(xb.mean()), float(diff.mean())
    if np.all(diff == diff[0]):  # no spread: the difference is exact
        return MetricComparison(
            metric, mean_a, mean_b, mean_d, len(keys), mean_d, mean_d, confidence, None, None
        )
    boot = stats.bootstrap(
        [diff],
        "mean",
        n_resamples=2000,
        confidence_level=confidence,
        method="percentile",
        rng=seed,
    )
    reps = boot.bootstrap_distribution
    share = min(float(np.mean(reps <= 0.0)), float(np.mean(reps >= 0.0)))
    ttest = stats.ttest_rel(xb, xa)
    return MetricComparison(
        metric,
        mean_a,
        mean_b,
        mean_d,
        len(keys),
        float(boot.confidence_interval.low),
        float(boot.confidence_interval.high),
        confidence,
        min(1.0, 2.0 * share),
        float(ttest.pvalue),
    )


def _scalar_metrics(results: dict[str, StageResult]) -> dict[str, float]:
    return {f"{s}/{k}": float(v) for s, r in results.items() for k, v in r.metrics.items()}


def _select(available: list[str], wanted: list[str] | None) -> list[str]:
    if not wanted:
        return available
    chosen: list[str] = []
    for name in wanted:
        matches = [m for m in available if m == name or m.endswith("/" + name)]
        if not matches:
            raise ConfigurationError(
                f"metric {name!r} is in neither run's comparable metrics: "
                f"{', '.join(available[:20])}"
            )
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


def compare_runs(
    run_a: Path,
    run_b: Path,
    *,
    metrics: list[str] | None = None,
    model_a: str | None = None,
    model_b: str | None = None,
    seed: int = 0,
    confidence: float = 0.95,
) -> RunComparison:
    """B against A (see the module docstring); ``metrics`` picks scorers (paired mode) or
    ``stage/metric`` names, a bare name matching any stage (scalar mode)."""
    dirs = RunDir(run_a), RunDir(run_b)
    results = [d.results(d.read_record()) for d in dirs]
    rows = [_samples(d, r) for d, r in zip(dirs, results, strict=True)]
    if rows[0] and rows[1]:
        ma = model_a or _default_model(rows[0])
        mb = model_b or _default_model(rows[1])
        scorers_a = {k for r in rows[0] if r.get("model") == ma for k in r.get("scores") or {}}
        scorers_b = {k for r in rows[1] if r.get("model") == mb for k in r.get("scores") or {}}
        chosen = _select(sorted(scorers_a & scorers_b), metrics)
        out = [
            _paired(m, _scores(rows[0], ma, m), _scores(rows[1], mb, m), seed, confidence)
            for m in chosen
        ]
        return RunComparison(dirs[0].run_id, dirs[1].run_id, "paired", ma, mb, out)
    scalars = [_scalar_metrics(r) for r in results]
    shared = [k for k in scalars[0] if k in scalars[1]]
    chosen = _select(shared, metrics)
    out = [
        MetricComparison(m, scalars[0][m], scalars[1][m], scalars[1][m] - scalars[0][m])
        for m in chosen
    ]
    return RunComparison(dirs[0].run_id, dirs[1].run_id, "scalar", None, None, out)
