"""The experiment runner: a validated plan executed stage by stage, resumably.

:func:`run` first prepares and checks everything (:mod:`crucible.pipeline.plan`); a dry run
stops there. A real run then creates (or reopens) its run directory
(:mod:`crucible.pipeline.rundir`) and executes the enabled stages in order, each inside
``tracer.stage(name)`` and a ``crucible.framework.stage`` telemetry span, the whole run
inside a ``crucible.framework.pipeline`` span under one correlation id (the run id).

After each stage its result is written and ``run.json`` updated, so a run killed at any
point resumes with the same run id: completed stages are loaded, not re-run, the trace
chain continues from ``trace.jsonl``, and execution restarts at the first incomplete stage.

Determinism: stage seeds come from the run seed and the stage name; the tracer uses a
logical clock and seeded ids. The same experiment and seed give the same metrics and the
same trace head. Nothing here is module-level state: runs in parallel threads (different
homes or run ids) share nothing but the module cache.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import msgspec

from crucible import events as bus
from crucible.errors import ConfigurationError, CrucibleError, ViolationError
from crucible.ir import canonical_json, fingerprint
from crucible.ir.experiment import Experiment
from crucible.pipeline.files import load_experiment
from crucible.pipeline.outcome import ProgressCallback, RunResult, StageProgress
from crucible.pipeline.plan import Plan, PlannedStage, make_context, prepare
from crucible.pipeline.report import render_report
from crucible.pipeline.rundir import (
    RunDir,
    RunRecord,
    StageState,
    check_run_id,
    claim,
    new_run_id,
    runs_root,
    utc_iso,
)
from crucible.pipeline.stage import StageResult
from crucible.pipeline.wiring import RunTrace, open_trace, start_telemetry
from crucible.telemetry import Experiment as TelemetryExperiment
from crucible.telemetry import correlation
from crucible.trace import SqliteStore, save_html

__all__ = ["default_seed", "run"]

PIPELINE_SPAN = ("crucible", "framework", "pipeline")
STAGE_SPAN = ("crucible", "framework", "stage")


def default_seed(experiment: Experiment) -> int:
    """The seed when none is given: the training configuration's, else 0."""
    config = experiment.training_config
    return config.seed if config is not None and config.seed is not None else 0


def run(
    experiment: Experiment | str | os.PathLike[str],
    *,
    home: str | os.PathLike[str] = ".crucible",
    seed: int | None = None,
    dry_run: bool = False,
    run_id: str | None = None,
    resume: bool = True,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Run ``experiment`` (an :class:`Experiment` or the path of a TOML/JSON/YAML file).

    Raises :class:`ValidationError` (every problem, with JSON pointers) before anything
    runs when the experiment, a stage's options or a stage's ``check`` is wrong. A stage
    that fails during the run does not raise: the result has ``status == "failed"`` (see
    :meth:`RunResult.raise_for_status`). ``run_id`` of an existing run resumes it (unless
    ``resume`` is False, which makes that an error); ``seed`` defaults to the resumed
    run's, else :func:`default_seed`.
    """
    if not isinstance(experiment, Experiment):
        experiment = load_experiment(experiment)
    if seed is not None and (isinstance(seed, bool) or not 0 <= seed < 2**63):
        raise ConfigurationError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    run_dir = RunDir(runs_root(home) / check_run_id(run_id)) if run_id is not None else None
    previous = run_dir.read_record() if run_dir is not None and run_dir.exists() else None
    if previous is not None and seed is None:
        seed = previous.seed
    seed = default_seed(experiment) if seed is None else seed
    plan = prepare(experiment, seed)
    names = [p.name for p in plan.stages]
    if dry_run:
        return RunResult("checked", seed, experiment.id, run_id=run_id, stages=names)
    if run_dir is None:
        run_dir = RunDir(runs_root(home) / new_run_id(experiment.id))
    record = _open_record(run_dir, experiment, seed, previous, resume=resume)
    if record.status == "completed":  # nothing left to do: report it, change nothing
        return RunResult(
            "completed",
            seed,
            experiment.id,
            run_id=record.run_id,
            run_dir=run_dir.path,
            results=run_dir.results(record),
            reused=names,
            stages=names,
            trace_head=record.trace_head,
        )
    return _Execution(plan, run_dir, record, Path(home), progress).execute()


def _open_record(
    run_dir: RunDir,
    experiment: Experiment,
    seed: int,
    previous: RunRecord | None,
    *,
    resume: bool,
) -> RunRecord:
    digest = fingerprint(experiment)
    if previous is not None:
        if not resume:
            raise ConfigurationError(f"run {run_dir.run_id} exists (resume it, or pick a new id)")
        if previous.fingerprint != digest:
            raise ConfigurationError(
                f"run {run_dir.run_id} was started from a different experiment "
                f"(fingerprint {previous.fingerprint[:12]}, this one {digest[:12]})"
            )
        if previous.seed != seed:
            raise ConfigurationError(
                f"run {run_dir.run_id} was started with seed {previous.seed}, not {seed}"
            )
        return previous
    run_dir.path.mkdir(parents=True, exist_ok=False)
    run_dir.experiment_file.write_bytes(canonical_json(experiment))
    stages = [
        StageState(
            name=s.name,
            reference=s.module or s.name,
            seed=0,
            status="pending" if s.enabled else "skipped",
        )
        for s in experiment.pipeline
    ]
    record = RunRecord(
        run_id=run_dir.run_id,
        experiment_id=experiment.id,
        fingerprint=digest,
        seed=seed,
        stages=stages,
    )
    run_dir.write_record(record)
    return record


def _finite(result: StageResult, trace: RunTrace) -> StageResult:
    """``result`` without non-finite metrics (JSON has no NaN); dropping one is traced."""
    bad = sorted(k for k, v in result.metrics.items() if not _is_finite(v))
    if not bad:
        return result
    trace.tracer.record(
        "ambiguity_flagged",
        f"dropped non-finite metrics {', '.join(bad)}",
        "metrics are stored as JSON numbers, which cannot be NaN or infinite",
        metadata={"metrics": bad},
    )
    kept = {k: float(v) for k, v in result.metrics.items() if k not in bad}
    return msgspec.structs.replace(result, metrics=kept)


def _fail_on_error_findings(stage: str, result: StageResult) -> None:
    """A finding of severity ``error`` means a limit the experiment set to fail on was
    broken: the stage's results are kept (the report shows them) but the stage, and so the
    run, fails."""
    findings = result.outputs.get("findings")
    errors = [f for f in findings or [] if isinstance(f, dict) and f.get("severity") == "error"]
    if errors:
        first = errors[0].get("message", "")
        raise ViolationError(
            f"stage {stage!r} reported {len(errors)} error finding(s); first: {first}"
        )


def _is_finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 1e308


class _Execution:
    """One attempt of a run (the first, or a resume)."""

    def __init__(
        self,
        plan: Plan,
        run_dir: RunDir,
        record: RunRecord,
        home: Path,
        progress: ProgressCallback | None,
    ) -> None:
        self.plan = plan
        self.run = run_dir
        self.record = record
        self.home = home
        self.progress = progress
        self.results: dict[str, StageResult] = {}
        self.reused: list[str] = []

    def notify(
        self, planned: PlannedStage, kind: str, done: int = 0, total: int | None = None
    ) -> None:
        if self.progress is not None:
            position = self.plan.stages.index(planned)
            self.progress(
                StageProgress(planned.name, position, len(self.plan.stages), kind, done, total)  # type: ignore[arg-type]
            )

    def execute(self) -> RunResult:
        record = self.record
        record.attempts += 1
        record.status, record.error, record.failed_stage = "running", None, None
        claim(record)
        self.results = self.run.results(record)
        self.run.write_record(record)
        trace = open_trace(self.run, experiment_id=record.experiment_id, seed=record.seed)
        telemetry: TelemetryExperiment | None = None
        try:
            telemetry = start_telemetry(
                self.home,
                self.plan.experiment,
                run_id=record.run_id,
                attempt=record.attempts,
                seed=record.seed,
            )
            record.telemetry.append(telemetry.id)
            with telemetry.activate(), correlation(record.run_id):
                self._stages(trace, telemetry)
            record.status = "completed"
        except CrucibleError as exc:  # a stage failed (recorded) or the wiring did
            record.status = "failed"
            record.error = record.error or f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            record.status = "failed"
            record.error = record.error or f"{type(exc).__name__}: {exc}"
        except BaseException:
            record.status = "interrupted"
            record.error = "interrupted"
            raise
        finally:
            self._close(trace, telemetry)
        self._refresh_reports()
        return RunResult(
            "completed" if record.status == "completed" else "failed",
            record.seed,
            record.experiment_id,
            run_id=record.run_id,
            run_dir=self.run.path,
            results=dict(self.results),
            reused=list(self.reused),
            stages=[p.name for p in self.plan.stages],
            error=record.error,
            failed_stage=record.failed_stage,
            trace_head=record.trace_head,
        )

    def _refresh_reports(self) -> None:
        """A report stage renders while its run is still going; render it again once the
        record is final, so the report shows the final status and trace head."""
        for state in self.record.stages:
            if state.reference == "report" and state.status == "completed":
                render_report(self.run.path, self.run.path / "stages" / state.name)

    def _stages(self, trace: RunTrace, telemetry: TelemetryExperiment) -> None:
        meta = {"pipeline_id": self.record.run_id, "name": self.record.experiment_id}
        with bus.span(PIPELINE_SPAN, meta):
            if trace.resumed_events:
                trace.tracer.record(
                    "state_recovered",
                    f"resume run {self.record.run_id} (attempt {self.record.attempts})",
                    f"{len(self.results)} completed stage(s) are reused, not re-run",
                    metadata={"reused": sorted(self.results), "attempt": self.record.attempts},
                )
            for planned in self.plan.stages:
                state = self.record.stage(planned.name)
                if state.status == "completed" and planned.name in self.results:
                    self.reused.append(planned.name)
                    self.notify(planned, "reused")
                    continue
                self._stage(planned, state, trace, telemetry)

    def _stage(
        self,
        planned: PlannedStage,
        state: StageState,
        trace: RunTrace,
        telemetry: TelemetryExperiment,
    ) -> None:
        ctx = make_context(
            self.plan,
            planned,
            run_dir=self.run.path,
            seed=self.record.seed,
            tracer=trace.tracer,
            telemetry=telemetry,
            results=dict(self.results),
            progress=lambda done, total: self.notify(planned, "progress", done, total),
        )
        state.status, state.started_at, state.error = "running", utc_iso(), None
        state.seed, state.attempts, state.finished_at = ctx.seed, state.attempts + 1, None
        self.run.write_record(self.record)
        self.notify(planned, "started")
        began = time.perf_counter()
        span_meta = {
            "pipeline_id": self.record.run_id,
            "stage_name": planned.name,
            "stage_index": planned.index,
        }
        try:
            with (
                bus.span(STAGE_SPAN, span_meta),
                trace.tracer.stage(planned.name, index=planned.index, stage=planned.reference),
            ):
                result = planned.stage.run(ctx)
                if not isinstance(result, StageResult):
                    raise ConfigurationError(
                        f"stage {planned.name!r} returned {type(result).__name__}, "
                        "not a StageResult"
                    )
                result = _finite(result, trace)
                self.run.write_result(planned.name, result)
                _fail_on_error_findings(planned.name, result)
        except Exception as exc:
            state.status, state.error = "failed", f"{type(exc).__name__}: {exc}"
            state.finished_at, state.seconds = utc_iso(), time.perf_counter() - began
            self.record.failed_stage, self.record.error = planned.name, state.error
            self.run.write_record(self.record)
            self.notify(planned, "failed")
            raise
        state.status, state.finished_at = "completed", utc_iso()
        state.seconds = time.perf_counter() - began
        self.results[planned.name] = result
        self.run.write_record(self.record)
        self.notify(planned, "completed")

    def _close(self, trace: RunTrace, telemetry: TelemetryExperiment | None) -> None:
        record = self.record
        try:
            if telemetry is not None:
                telemetry.stop()
        except CrucibleError as exc:
            warnings.warn(f"run {record.run_id}: telemetry not saved: {exc}", stacklevel=3)
        trace.close()
        record.trace_head = trace.chain.head
        record.trace_events = len(trace.chain.events)
        try:
            save_html(trace.chain, self.run.trace_html, title=f"run {record.run_id}")
            with SqliteStore(self.home / "trace.sqlite3") as store:
                store.save(trace.chain, note=f"run {record.run_id} attempt {record.attempts}")
        except (CrucibleError, OSError) as exc:
            warnings.warn(f"run {record.run_id}: trace views not saved: {exc}", stacklevel=3)
        self.run.write_record(record)
