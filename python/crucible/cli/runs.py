"""``crucible runs``, ``show``, ``report`` and ``compare``: looking at runs after the fact.

A ``RUN`` is a run id, a unique prefix of one, or a run directory. Exit codes as for
``crucible run``: 0 success, 2 an unknown run or bad option (1 is never used here: these
commands do not run anything).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from crucible.cli.run import HomeOption, JsonOption, default_home, fail, to_json_text
from crucible.errors import CrucibleError
from crucible.pipeline.compare import compare_runs
from crucible.pipeline.report import render_report
from crucible.pipeline.rundir import RunDir, list_runs, open_run

__all__ = ["compare", "report", "runs", "show"]

_Run = Annotated[str, typer.Argument(help="Run id, unique id prefix, or run directory.")]


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _open(home: Path | None, ref: str, as_json: bool) -> RunDir:
    try:
        return open_run(default_home(home), ref)
    except CrucibleError as exc:
        raise fail(str(exc), as_json=as_json) from None


def runs(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """List the runs under the home directory, oldest first, with their status."""
    records = list_runs(default_home(home))
    if as_json:
        print(to_json_text([msgspec.to_builtins(r) for r in records]))
        return
    table = Table(title=f"runs in {default_home(home)}")
    for column in ("run", "experiment", "status", "stages", "seed", "started"):
        table.add_column(column)
    for r in records:
        done = sum(s.status == "completed" for s in r.stages)
        enabled = sum(s.status != "skipped" for s in r.stages)
        color = {"completed": "green", "failed": "red"}.get(r.status, "yellow")
        table.add_row(
            r.run_id,
            r.experiment_id,
            f"[{color}]{r.status}[/]",
            f"{done}/{enabled}",
            str(r.seed),
            r.created_at,
        )
    _console().print(table)


def show(run: _Run, home: HomeOption = None, as_json: JsonOption = False) -> None:
    """A run's state, stages and metrics."""
    run_dir = _open(home, run, as_json)
    try:
        record = run_dir.read_record()
        results = run_dir.results(record)
    except CrucibleError as exc:
        raise fail(str(exc), as_json=as_json) from None
    if as_json:
        payload = {
            "run_dir": str(run_dir.path),
            "record": msgspec.to_builtins(record),
            "results": {k: msgspec.to_builtins(v) for k, v in results.items()},
        }
        print(to_json_text(payload))
        return
    console = _console()
    console.print(f"run [bold]{record.run_id}[/] of {record.experiment_id}: {record.status}")
    console.print(f"directory {run_dir.path}, seed {record.seed}, attempts {record.attempts}")
    if record.error:
        console.print(f"[red]error[/] in {record.failed_stage}: {record.error}", markup=True)
    table = Table()
    for column in ("stage", "status", "seconds", "metric", "value"):
        table.add_column(column)
    for state in record.stages:
        seconds = f"{state.seconds:.2f}" if state.seconds is not None else "-"
        metrics = sorted(results[state.name].metrics.items()) if state.name in results else []
        if not metrics:
            table.add_row(state.name, state.status, seconds, "", "")
        for i, (key, value) in enumerate(metrics):
            first = i == 0
            table.add_row(
                state.name if first else "",
                state.status if first else "",
                seconds if first else "",
                key,
                f"{value:.4g}",
            )
    console.print(table)


def report(
    run: _Run,
    home: HomeOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output directory (default: the run's).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """(Re-)render a run's report: Markdown with plots, and self-contained HTML."""
    run_dir = _open(home, run, as_json)
    try:
        files = render_report(run_dir.path, out)
    except CrucibleError as exc:
        raise fail(str(exc), as_json=as_json) from None
    if as_json:
        payload = {
            "markdown": str(files.markdown),
            "html": str(files.html),
            "plots": [str(p) for p in files.plots],
        }
        print(to_json_text(payload))
        return
    console = _console()
    console.print(f"report: {files.html}")
    console.print(f"markdown: {files.markdown} ({len(files.plots)} plot(s))")


def compare(
    run_a: Annotated[str, typer.Argument(help="The reference run (A).")],
    run_b: Annotated[str, typer.Argument(help="The run compared with it (B).")],
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", help="A scorer or stage/metric name (repeatable)."),
    ] = None,
    home: HomeOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Compare run B with run A: paired bootstrap of per-sample scores when both runs have
    evaluate samples, else the difference of their scalar metrics."""
    a, b = _open(home, run_a, as_json), _open(home, run_b, as_json)
    try:
        result = compare_runs(a.path, b.path, metrics=metric or None, seed=seed)
    except CrucibleError as exc:
        raise fail(str(exc), as_json=as_json) from None
    if as_json:
        print(to_json_text(result.to_dict()))
        return
    models = f" ({result.model_a} vs {result.model_b})" if result.model_a else ""
    table = Table(title=f"{result.run_b} vs {result.run_a}: {result.mode}{models}")
    for column in ("metric", "A", "B", "B - A", "CI", "p (bootstrap)", "p (t-test)", "n"):
        table.add_column(column)

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.4g}"

    for m in result.metrics:
        ci = f"[{cell(m.ci_low)}, {cell(m.ci_high)}]" if m.ci_low is not None else "-"
        table.add_row(
            m.metric,
            cell(m.a),
            cell(m.b),
            cell(m.difference),
            ci,
            cell(m.bootstrap_pvalue),
            cell(m.ttest_pvalue),
            str(m.n) if m.n is not None else "-",
        )
    _console().print(table)
