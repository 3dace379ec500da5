"""``crucible telemetry``: list, show and export captured experiments.

Every command reads the default store (``$CRUCIBLE_HOME/telemetry.sqlite3``, else
``./.crucible/telemetry.sqlite3``) unless ``--store`` names a SQLite file or a
``postgresql://`` DSN. ``--json`` prints machine-readable output instead of tables.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from crucible.errors import CrucibleError, NotFoundError
from crucible.telemetry.experiment import store_from
from crucible.telemetry.export import export as export_events
from crucible.telemetry.store.base import ExperimentRecord, Rollup, Store, histogram_quantile

app = typer.Typer(
    name="telemetry",
    help="Captured experiments: list, show and export them.",
    no_args_is_help=True,
    add_completion=False,
)

_STORE_HELP = (
    "SQLite file or postgresql:// DSN "
    "(default: $CRUCIBLE_HOME/telemetry.sqlite3, else ./.crucible/telemetry.sqlite3)"
)


_StoreOption = Annotated[str | None, typer.Option("--store", help=_STORE_HELP)]
_ExperimentArgument = Annotated[
    str, typer.Argument(help="Experiment id or name (latest of that name).")
]


class ExportFormat(str, enum.Enum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


def _fail(console: Console, message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]error:[/] {message}")
    return typer.Exit(code)


def open_store(store: str | None, console: Console) -> Store:
    """The store a command reads (exits with code 2 if there is none)."""
    try:
        return store_from(store, must_exist=True)
    except CrucibleError as exc:
        raise _fail(console, str(exc), 2) from None


def _time(us: int | None) -> str:
    if us is None:
        return ""
    return dt.datetime.fromtimestamp(us / 1e6, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _duration(record: ExperimentRecord) -> float | None:
    if record.stopped_us is None:
        return None
    return (record.stopped_us - record.started_us) / 1e6


def _per_event(rollups: list[Rollup]) -> dict[str, Rollup]:
    """Rollups merged over time, per event name."""
    merged: dict[str, Rollup] = {}
    for r in rollups:
        prev = merged.get(r.event_name)
        merged[r.event_name] = (
            r if prev is None else prev.merge(r, window_start_us=0, window_us=r.window_us)
        )
    return dict(sorted(merged.items()))


def _summary(r: Rollup) -> dict[str, Any]:
    outcomes = r.success_count + r.error_count
    return {
        "count": r.count,
        "success_rate": r.success_count / outcomes if outcomes else None,
        "latency_mean_ms": r.latency_sum / r.latency_count if r.latency_count else None,
        "latency_p50_ms": histogram_quantile(r.latency_hist, 0.50),
        "latency_p95_ms": histogram_quantile(r.latency_hist, 0.95),
        "latency_p99_ms": histogram_quantile(r.latency_hist, 0.99),
        "cost_usd": r.cost_usd,
        "tokens_in": r.tokens_in,
        "tokens_out": r.tokens_out,
    }


def _num(value: float | None, fmt: str = "{:.3g}") -> str:
    return (
        ""
        if value is None or (isinstance(value, float) and math.isnan(value))
        else fmt.format(value)
    )


@app.command("list")
def list_experiments(
    store: _StoreOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON lines instead of a table.")
    ] = False,
) -> None:
    """List the experiments in the store, oldest first."""
    console = Console()
    db = open_store(store, console)
    try:
        rows = []
        for record in db.experiments():
            events = sum(r.count for r in db.rollups(record.experiment_id, window_us=None))
            rows.append((record, events))
    finally:
        db.close()
    if as_json:
        for record, events in rows:
            print(
                json.dumps(
                    {
                        "experiment_id": record.experiment_id,
                        "name": record.name,
                        "condition": record.condition,
                        "status": record.status,
                        "started_us": record.started_us,
                        "stopped_us": record.stopped_us,
                        "events": events,
                    }
                )
            )
        return
    table = Table(title=f"experiments ({len(rows)})")
    for column in ("name", "id", "condition", "status", "started (UTC)", "seconds", "events"):
        table.add_column(column, justify="right" if column in ("seconds", "events") else "left")
    for record, events in rows:
        table.add_row(
            record.name,
            record.experiment_id[:12],
            record.condition or "",
            record.status,
            _time(record.started_us),
            _num(_duration(record), "{:.1f}"),
            f"{events:,}",
        )
    console.print(table)


@app.command()
def show(
    experiment: _ExperimentArgument,
    store: _StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show an experiment: its record and, per event, counts, success rate, latency
    percentiles (from the rollups, within 1 %), cost and tokens."""
    console = Console()
    db = open_store(store, console)
    try:
        try:
            record = db.experiment(experiment)
        except NotFoundError as exc:
            raise _fail(console, str(exc)) from None
        per_event = _per_event(db.rollups(record.experiment_id))
    finally:
        db.close()
    summaries = {name: _summary(r) for name, r in per_event.items()}
    if as_json:
        out = {
            "experiment_id": record.experiment_id,
            "name": record.name,
            "hypothesis": record.hypothesis,
            "condition": record.condition,
            "tags": list(record.tags),
            "status": record.status,
            "started_us": record.started_us,
            "stopped_us": record.stopped_us,
            "node_id": record.node_id,
            "archive_path": record.archive_path,
            "events": summaries,
        }
        print(json.dumps(out))
        return
    about = Table(title=f"experiment {record.name}", show_header=False)
    facts = {
        "id": record.experiment_id,
        "hypothesis": record.hypothesis or "",
        "condition": record.condition or "",
        "tags": ", ".join(record.tags),
        "status": record.status,
        "started (UTC)": _time(record.started_us),
        "stopped (UTC)": _time(record.stopped_us),
        "node": record.node_id,
        "sample size": "" if record.sample_size is None else str(record.sample_size),
        "archived to": record.archive_path or "",
    }
    for key, value in facts.items():
        if value:
            about.add_row(key, value)
    console.print(about)
    table = Table(title="events")
    columns = ("event", "count", "success", "mean ms", "p50 ms", "p95 ms", "p99 ms", "cost $")
    for column in columns:
        if column == "event":
            table.add_column(column, overflow="fold")
        else:
            table.add_column(column, justify="right")
    for name, s in summaries.items():
        rate = s["success_rate"]
        table.add_row(
            name,
            f"{s['count']:,}",
            "" if rate is None else f"{rate:.1%}",
            _num(s["latency_mean_ms"]),
            _num(s["latency_p50_ms"]),
            _num(s["latency_p95_ms"]),
            _num(s["latency_p99_ms"]),
            _num(s["cost_usd"] or None, "{:.4f}"),
        )
    console.print(table)


@app.command()
def export(
    experiment: _ExperimentArgument,
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="Output format.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    store: _StoreOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Export an experiment's events to CSV, JSONL or Parquet (streaming)."""
    console = Console(stderr=True)
    db = open_store(store, console)
    try:
        try:
            record = db.experiment(experiment)
        except NotFoundError as exc:
            raise _fail(console, str(exc)) from None
        total = db.count(experiment_id=record.experiment_id)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=quiet,
        ) as progress:
            task = progress.add_task(f"export {record.name}", total=total)
            written = export_events(
                db,
                record.experiment_id,
                output,
                format=format.value,
                progress=lambda n: progress.update(task, completed=n),
            )
    except CrucibleError as exc:
        raise _fail(console, str(exc)) from None
    finally:
        db.close()
    console.print(f"wrote {written:,} events to {output}")


from crucible.cli.telemetry_compare import compare_command  # noqa: E402  (after `app`)

app.command("compare")(compare_command)
