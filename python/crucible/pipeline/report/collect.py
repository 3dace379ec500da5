"""What a report shows, gathered from a run directory.

Everything comes from files the runner and the stages wrote (``run.json``,
``experiment.json``, ``stages/*/result.json`` and the files results point to), following
the outputs contract: ``metrics_file`` (learning curves), ``verdicts`` and ``bootstrap``
(statistics), ``findings`` (fairness, guardrails, ensembles, hedging). A file that is
missing or unreadable is noted in ``problems``, never fatal: a report of a failed run is
still worth reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from crucible.pipeline.rundir import RunDir, RunRecord
from crucible.pipeline.stage import StageResult

__all__ = ["Curve", "Distribution", "Finding", "ReportData", "collect"]

MAX_CURVE_POINTS = 2000


@dataclass(frozen=True)
class Curve:
    """One metric of one stage over steps."""

    stage: str
    metric: str
    steps: list[float]
    values: list[float]


@dataclass(frozen=True)
class Distribution:
    """Bootstrap replicates of one metric, with the verdict that summarises them."""

    stage: str
    metric: str
    values: list[float]
    verdict: dict[str, Any] | None


@dataclass(frozen=True)
class Finding:
    stage: str
    kind: str
    severity: str
    message: str


@dataclass
class ReportData:
    run_dir: Path
    record: RunRecord
    experiment: dict[str, Any]
    results: dict[str, StageResult]
    curves: list[Curve] = field(default_factory=list)
    distributions: list[Distribution] = field(default_factory=list)
    verdicts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _inside(run_dir: Path, rel: object) -> Path | None:
    """``rel`` as a file inside the run directory, or None if it is not one."""
    if not isinstance(rel, str):
        return None
    path = (run_dir / rel).resolve()
    root = run_dir.resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


def _curves(stage: str, path: Path) -> list[Curve]:
    series: dict[str, tuple[list[float], list[float]]] = {}
    with path.open("rb") as f:
        for number, line in enumerate(f):
            if not line.strip():
                continue
            row = msgspec.json.decode(line)
            if not isinstance(row, dict):
                continue
            step = row.get("step", number)
            for key, value in row.items():
                if key == "step" or isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                steps, values = series.setdefault(key, ([], []))
                steps.append(float(step))
                values.append(float(value))
    out = []
    for metric, (steps, values) in series.items():
        stride = max(1, len(steps) // MAX_CURVE_POINTS)
        out.append(Curve(stage, metric, steps[::stride], values[::stride]))
    return out


def _distributions(stage: str, path: Path, verdicts: list[dict[str, Any]]) -> list[Distribution]:
    data = msgspec.json.decode(path.read_bytes())
    if not isinstance(data, dict):
        return []
    out = []
    for metric, values in data.items():
        if not isinstance(values, list):
            continue
        numbers = [float(v) for v in values if isinstance(v, (int, float))]
        verdict = next((v for v in verdicts if v.get("metric") == metric), None)
        out.append(Distribution(stage, str(metric), numbers, verdict))
    return out


def _read_results(run: RunDir, record: RunRecord) -> dict[str, StageResult]:
    return run.results(record)


def collect(run_dir: Path, results: Mapping[str, StageResult] | None = None) -> ReportData:
    """The report's data for the run in ``run_dir``; ``results`` (when a report stage runs
    inside the run) replaces the results read from disk."""
    run = RunDir(run_dir)
    record = run.read_record()
    experiment: dict[str, Any] = {}
    if run.experiment_file.is_file():
        experiment = msgspec.json.decode(run.experiment_file.read_bytes())
    data = ReportData(
        run_dir=run_dir,
        record=record,
        experiment=experiment,
        results=dict(results) if results is not None else _read_results(run, record),
    )
    for stage, result in data.results.items():
        outputs = result.outputs
        raw_verdicts = outputs.get("verdicts")
        verdicts = [v for v in raw_verdicts or [] if isinstance(v, dict)]
        data.verdicts.extend((stage, v) for v in verdicts)
        for key in ("metrics_file", "bootstrap"):
            rel = outputs.get(key)
            if rel is None:
                continue
            path = _inside(run_dir, rel)
            if path is None:
                data.problems.append(f"{stage}: {key} {rel!r} is not a file of the run")
                continue
            try:
                if key == "metrics_file":
                    data.curves.extend(_curves(stage, path))
                else:
                    data.distributions.extend(_distributions(stage, path, verdicts))
            except (msgspec.DecodeError, OSError, ValueError) as exc:
                data.problems.append(f"{stage}: cannot read {rel}: {exc}")
        for item in outputs.get("findings") or []:
            if isinstance(item, dict):
                data.findings.append(
                    Finding(
                        stage,
                        str(item.get("kind", "")),
                        str(item.get("severity", "info")),
                        str(item.get("message", "")),
                    )
                )
    return data
