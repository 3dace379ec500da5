"""Before anything runs: the experiment validated, every stage resolved and its options
decoded, every stage's own ``check`` asked — and every problem reported at once.

A dry run is exactly this. A real run does it too before creating its directory, so an
experiment that cannot finish (a typo in the tenth stage's options, a stage that names a
model no earlier stage trains) fails in a second, not after an hour of training.

Problems carry JSON pointers into the experiment (``/pipeline/2/options/lr``); the CLI
maps them to lines of the experiment file.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crucible import ir
from crucible.errors import CrucibleError, ErrorItem, ValidationError
from crucible.ir.experiment import Experiment, StageDef
from crucible.pipeline.determinism import stage_seed
from crucible.pipeline.registry import load_stage, stage_reference
from crucible.pipeline.stage import Stage, StageContext, StageResult, decode_options
from crucible.prng import default_rng

__all__ = ["Plan", "PlannedStage", "check_plan", "make_context", "pipeline_errors", "prepare"]

_STAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class PlannedStage:
    """One enabled stage, ready to run."""

    index: int
    definition: StageDef
    reference: str
    stage: Stage

    @property
    def name(self) -> str:
        return self.definition.name


@dataclass(frozen=True)
class Plan:
    experiment: Experiment
    stages: list[PlannedStage]


def pipeline_errors(experiment: Experiment) -> list[ErrorItem]:
    """Rules of a runnable pipeline, beyond the IR's: stage names are unique and usable
    as directory names."""
    out: list[ErrorItem] = []
    seen: set[str] = set()
    for index, stage in enumerate(experiment.pipeline):
        where = f"/pipeline/{index}/name"
        if not _STAGE_NAME.match(stage.name) or stage.name in (".", ".."):
            out.append(
                ErrorItem(
                    where,
                    "pipeline.stage_name",
                    f"stage name {stage.name!r} must be letters, digits, '.', '_' or '-' "
                    "(it names the stage's directory)",
                )
            )
        if stage.name in seen:
            out.append(
                ErrorItem(
                    where, "pipeline.duplicate_stage", f"stage name {stage.name!r} is used twice"
                )
            )
        seen.add(stage.name)
    return out


def prepare(experiment: Experiment, seed: int) -> Plan:
    """Validate ``experiment`` (the Rust structural validator, the IR's semantic rules and
    the pipeline rules), resolve every enabled stage, decode its options and run its
    ``check`` (:func:`check_plan`). Raises one :class:`ValidationError` listing every
    problem of every stage."""
    problems = ir.validate_json(ir.to_json(experiment), Experiment)
    problems += pipeline_errors(experiment)
    stages: list[PlannedStage] = []
    for index, definition in enumerate(experiment.pipeline):
        if not definition.enabled:
            continue
        pointer = f"/pipeline/{index}"
        reference = stage_reference(definition)
        try:
            cls = load_stage(reference)
        except CrucibleError as exc:
            field = "module" if definition.module else "name"
            problems.append(ErrorItem(f"{pointer}/{field}", "pipeline.unknown_stage", str(exc)))
            continue
        try:
            options = decode_options(cls.Options, definition.options, pointer)
        except ValidationError as exc:
            problems.extend(exc.items)
            continue
        try:
            stage = cls(options)
        except CrucibleError as exc:
            problems.append(ErrorItem(f"{pointer}/options", "stage_option", str(exc)))
            continue
        stages.append(PlannedStage(index, definition, reference, stage))
    problems += check_plan(Plan(experiment, stages), seed)
    if problems:
        raise ValidationError(problems, f"experiment {experiment.id!r}: {len(problems)} problem(s)")
    return Plan(experiment, stages)


def make_context(
    plan: Plan,
    planned: PlannedStage,
    *,
    run_dir: Path,
    seed: int,
    tracer: Any,
    telemetry: Any,
    results: dict[str, StageResult],
    progress: Callable[[int, int | None], None] | None = None,
) -> StageContext:
    """The context a stage runs (or is checked) in; its seed depends on the run seed and
    the stage's name only."""
    own_seed = stage_seed(seed, planned.name)
    return StageContext(
        experiment=plan.experiment,
        stage=planned.definition,
        index=planned.index,
        run_dir=run_dir,
        seed=own_seed,
        rng=default_rng(own_seed),
        tracer=tracer,
        telemetry=telemetry,
        results=results,
        progress=progress,
    )


def check_plan(plan: Plan, seed: int) -> list[ErrorItem]:
    """Every problem the stages' ``check`` methods report (run against a scratch run
    directory and an in-memory tracer, so checking writes nothing that lasts). A check that
    raises is reported as a problem of its stage, not raised."""
    from crucible.trace import Tracer

    problems: list[ErrorItem] = []
    with tempfile.TemporaryDirectory(prefix="crucible-check-") as scratch:
        tracer = Tracer("check")
        for planned in plan.stages:
            ctx = make_context(
                plan,
                planned,
                run_dir=Path(scratch),
                seed=seed,
                tracer=tracer,
                telemetry=None,
                results={},
            )
            try:
                problems.extend(planned.stage.check(ctx))
            except CrucibleError as exc:
                problems.append(ErrorItem(f"/pipeline/{planned.index}", "stage_check", str(exc)))
    return problems
