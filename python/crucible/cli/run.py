"""``crucible run FILE``: run an experiment file (TOML, JSON or YAML).

Validates everything first (the IR, every stage's options, every stage's own check) and
prints each problem as ``file:line: pointer: message``; ``--dry-run`` stops there. A run
lives in ``<home>/runs/<run id>/``; ``--run-id`` of an unfinished run resumes it at the
first incomplete stage. A progress bar per stage is shown on a terminal (not with
``--json``).

Exit codes (every ``crucible run``/``runs``/``show``/``report``/``compare`` command):
0 success, 1 the run failed (a stage raised), 2 invalid input or usage (a bad experiment
file, unknown run, bad option).
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from crucible.errors import CrucibleError, ValidationError
from crucible.pipeline.files import ExperimentFile, read_experiment_file
from crucible.pipeline.outcome import RunResult, StageProgress
from crucible.pipeline.runner import run as run_experiment

__all__ = ["HomeOption", "JsonOption", "default_home", "fail", "run", "to_json_text"]

EXIT_FAILED = 1
EXIT_INVALID = 2

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Where runs live (default: $CRUCIBLE_HOME, else ./.crucible)."),
]


def default_home(home: Path | None) -> Path:
    if home is not None:
        return home
    return Path(os.environ.get("CRUCIBLE_HOME") or Path.cwd() / ".crucible")


def fail(message: str, code: int = EXIT_INVALID, *, as_json: bool = False) -> typer.Exit:
    """Report an error (stderr, or a JSON object on stdout) and return the exit to raise."""
    if as_json:
        print(json.dumps({"status": "error", "error": message}))
    else:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"[red]error:[/] {message}", markup=True
        )
    return typer.Exit(code)


class _Bars:
    """A rich progress bar per stage (a no-op when disabled)."""

    def __init__(self, enabled: bool) -> None:
        self.progress = (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[state]}"),
                console=Console(stderr=True),
            )
            if enabled
            else None
        )
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, event: StageProgress) -> None:
        if self.progress is None:
            return
        task = self.tasks.get(event.stage)
        label = f"[{event.position + 1}/{event.count}] {event.stage}"
        if task is None:
            task = self.progress.add_task(label, total=None, state="")
            self.tasks[event.stage] = task
        if event.kind == "progress":
            self.progress.update(task, completed=event.done, total=event.total, state="running")
        elif event.kind in ("completed", "reused"):
            done = self.progress.tasks[self.tasks[event.stage]].total or 1
            self.progress.update(task, completed=done, total=done, state=event.kind)
        else:
            self.progress.update(task, state=event.kind)


def _problems(source: ExperimentFile | None, exc: ValidationError) -> list[str]:
    if source is not None:
        return source.describe_all(exc.items)
    return [str(item) for item in exc.items]


def _verdict_lines(result: RunResult) -> list[str]:
    """One line per statistical verdict (the answer a user ran the experiment for)."""
    lines = []
    for stage in result.results.values():
        for v in stage.outputs.get("verdicts") or []:
            if not isinstance(v, dict) or v.get("baseline") is None:
                continue
            mark = "[green]significant[/]" if v.get("significant") else "not significant"
            lines.append(
                f"{v.get('metric')}: {v.get('candidate')} {v.get('estimate', 0):.4g} vs "
                f"{v.get('baseline')} {v.get('baseline_estimate', 0):.4g}, difference "
                f"{v.get('difference', 0):.4g} "
                f"[{v.get('ci_low', 0):.4g}, {v.get('ci_high', 0):.4g}]"
                f" ({v.get('test')}, adjusted p={v.get('adjusted_pvalue', 1):.3g}): {mark}"
            )
    return lines


def _summary(result: RunResult) -> None:
    console = Console(highlight=False, soft_wrap=True)
    table = Table(title=f"run {result.run_id}: {result.status}")
    table.add_column("stage")
    table.add_column("metrics")
    for name in result.stages:
        metrics = result.metrics.get(name, {})
        shown = ", ".join(f"{k}={v:.4g}" for k, v in list(metrics.items())[:6])
        more = f" (+{len(metrics) - 6})" if len(metrics) > 6 else ""
        reused = " (reused)" if name in result.reused else ""
        table.add_row(name + reused, shown + more)
    console.print(table)
    for line in _verdict_lines(result):
        console.print(line)
    if result.run_dir is not None:
        console.print(f"run directory: {result.run_dir}")
        for stage in result.results.values():
            html = stage.outputs.get("html")
            if isinstance(html, str):
                console.print(f"report: {result.run_dir / html}")
        console.print(f"trace: {result.run_dir / 'trace.html'} (head {result.trace_head})")
    if result.error:
        console.print(f"[red]failed in {result.failed_stage}:[/] {result.error}")


def run(
    file: Annotated[Path, typer.Argument(help="Experiment file (.toml, .json, .yaml).")],
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed", help="Run seed (default: resumed run's, else the experiment's, else 0)."
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and check only.")] = False,
    home: HomeOption = None,
    run_id: Annotated[
        str | None, typer.Option("--run-id", help="Run id; an existing unfinished run is resumed.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run an experiment: validate, then execute its stages (resumable)."""
    source: ExperimentFile | None = None
    try:
        source = read_experiment_file(file)
        experiment = source.experiment()
        bars = _Bars(enabled=not as_json and sys.stderr.isatty())
        if bars.progress is not None:
            with bars.progress:
                result = _execute(experiment, home, seed, dry_run, run_id, bars)
        else:
            result = _execute(experiment, home, seed, dry_run, run_id, None)
    except ValidationError as exc:
        lines = _problems(source, exc)
        if as_json:
            items = [{"path": i.path, "code": i.code, "message": i.message} for i in exc.items]
            print(json.dumps({"status": "invalid", "problems": lines, "items": items}))
        else:
            err = Console(stderr=True, highlight=False, soft_wrap=True)
            err.print(f"[red]invalid experiment[/] {file}: {len(exc.items)} problem(s)")
            for line in lines:
                err.print(line, markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    except CrucibleError as exc:
        raise fail(str(exc), as_json=as_json) from None
    if as_json:
        print(to_json_text(result.to_dict()))
    elif result.status == "checked":
        Console(highlight=False, soft_wrap=True).print(
            f"[green]ok[/] {file}: {len(result.stages)} stage(s) checked "
            f"({', '.join(result.stages)}), seed {result.seed}"
        )
    else:
        _summary(result)
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def _execute(
    experiment: Any,
    home: Path | None,
    seed: int | None,
    dry_run: bool,
    run_id: str | None,
    progress: _Bars | None,
) -> RunResult:
    return run_experiment(
        experiment,
        home=default_home(home),
        seed=seed,
        dry_run=dry_run,
        run_id=run_id,
        progress=progress,
    )


def to_json_text(value: Any) -> str:
    """``value`` as strict JSON: non-finite floats become null, unknown objects strings."""
    return json.dumps(_finite(value), default=str)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
