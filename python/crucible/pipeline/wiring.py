"""What a run records into: its trace (a JSONL chain in the run directory) and its
telemetry experiment (the home's SQLite store).

The trace is opened *by continuing the file*: a fresh run writes a new chain, a resumed
run reloads the chain from ``trace.jsonl`` (a line torn by a kill is set aside by the
writer), verifies it, and keeps appending, with the logical clock and seeded ids of
:mod:`crucible.pipeline.determinism` counting on from the events already there.

Telemetry is a *scoped* experiment: it captures only the events emitted inside the run's
own context, so runs in parallel threads of one process never see each other's events.
Each attempt of a run (first start, each resume) is its own telemetry experiment, named
after the IR experiment and tagged with the run id.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crucible.errors import IntegrityError
from crucible.ir.experiment import Experiment
from crucible.pipeline.determinism import LogicalClock, SeededIds
from crucible.pipeline.rundir import RunDir
from crucible.telemetry import Experiment as TelemetryExperiment
from crucible.telemetry import start_experiment
from crucible.trace import Chain, JsonlReader, JsonlWriter, Tracer

__all__ = ["RunTrace", "open_trace", "start_telemetry", "telemetry_path"]


@dataclass
class RunTrace:
    tracer: Tracer
    writer: JsonlWriter
    resumed_events: int

    @property
    def chain(self) -> Chain:
        return self.tracer.chain

    def close(self) -> None:
        self.writer.close()


def open_trace(run: RunDir, *, experiment_id: str, seed: int) -> RunTrace:
    """The run's tracer, writing to ``trace.jsonl`` (continued when it exists)."""
    if run.trace_file.is_file() and run.trace_file.stat().st_size > 0:
        writer = JsonlWriter(run.trace_file, fsync="interval")
        chain = JsonlReader(run.trace_file).load()
        verification = chain.verify()
        if not verification.ok:
            writer.close()
            raise IntegrityError(f"{run.trace_file}: the stored trace is broken: {verification}")
    else:
        chain = Chain(name=run.run_id, metadata={"run_id": run.run_id, "seed": seed})
        writer = JsonlWriter(run.trace_file, chain=chain, fsync="interval")
    done = len(chain.events)
    tracer = Tracer(
        chain,
        sinks=[writer],
        experiment_id=experiment_id,
        clock=LogicalClock(done),
        id_factory=SeededIds(seed, done),
    )
    return RunTrace(tracer, writer, done)


def telemetry_path(home: str | os.PathLike[str]) -> Path:
    return Path(home) / "telemetry.sqlite3"


def start_telemetry(
    home: str | os.PathLike[str], experiment: Experiment, *, run_id: str, attempt: int, seed: int
) -> TelemetryExperiment:
    metadata: dict[str, Any] = {"run_id": run_id, "attempt": attempt, "seed": seed}
    return start_experiment(
        experiment.id,
        hypothesis=experiment.description,
        tags=list(experiment.tags or []),
        metadata=metadata,
        store=telemetry_path(home),
        scoped=True,
        experiment_id=f"{run_id}.{attempt}",
    )
