"""What a run reports: progress while it runs (:class:`StageProgress`) and its outcome
(:class:`RunResult`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec

from crucible.errors import CrucibleError
from crucible.pipeline.stage import StageResult

__all__ = ["ProgressCallback", "RunFailedError", "RunResult", "StageProgress"]

ProgressKind = Literal["started", "progress", "completed", "reused", "failed"]
Outcome = Literal["checked", "completed", "failed"]


@dataclass(frozen=True)
class StageProgress:
    """One progress report: stage ``position`` of ``count`` enabled stages, and for
    ``"progress"`` how far it is (``done`` of ``total``, ``total`` None if unknown)."""

    stage: str
    position: int
    count: int
    kind: ProgressKind
    done: int = 0
    total: int | None = None


ProgressCallback = Callable[[StageProgress], None]


class RunFailedError(CrucibleError):
    """A run ended with a failed stage (raised by :meth:`RunResult.raise_for_status`)."""


@dataclass
class RunResult:
    """The outcome of :func:`crucible.pipeline.run`. ``status`` is ``"checked"`` for a dry
    run (nothing written), else ``"completed"`` or ``"failed"``; ``reused`` names the
    stages a resumed run loaded instead of running."""

    status: Outcome
    seed: int
    experiment_id: str
    run_id: str | None = None
    run_dir: Path | None = None
    results: dict[str, StageResult] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    error: str | None = None
    failed_stage: str | None = None
    trace_head: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        """Every stage's metrics, by stage name."""
        return {name: dict(result.metrics) for name, result in self.results.items()}

    def raise_for_status(self) -> RunResult:
        if self.status == "failed":
            raise RunFailedError(f"run {self.run_id} failed in {self.failed_stage}: {self.error}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "run_id": self.run_id,
            "run_dir": str(self.run_dir) if self.run_dir is not None else None,
            "experiment_id": self.experiment_id,
            "seed": self.seed,
            "stages": list(self.stages),
            "reused": list(self.reused),
            "error": self.error,
            "failed_stage": self.failed_stage,
            "trace_head": self.trace_head,
            "results": {k: msgspec.to_builtins(v) for k, v in self.results.items()},
        }
