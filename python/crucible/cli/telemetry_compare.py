"""``crucible telemetry compare A B --metric latency_ms``: the comparison of
:func:`crucible.telemetry.analysis.compare` as a table and a verdict."""

from __future__ import annotations

import math
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from crucible.errors import CrucibleError
from crucible.telemetry.analysis import Comparison, compare
from crucible.telemetry.experiment import store_from

__all__ = ["compare_command", "comparison_table"]


def _num(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}g}"


def comparison_table(c: Comparison) -> Table:
    """A rich table of a comparison (the verdict goes below it)."""
    table = Table(title=f"{c.a.label} vs {c.b.label}: {c.metric}", show_header=True)
    table.add_column("")
    table.add_column(c.a.label, justify="right")
    table.add_column(c.b.label, justify="right")
    for group_field in ("n", "mean", "median", "std"):
        table.add_row(
            group_field,
            _num(getattr(c.a, group_field)) if group_field != "n" else f"{c.a.n:,}",
            _num(getattr(c.b, group_field)) if group_field != "n" else f"{c.b.n:,}",
        )
    ci = c.confidence_interval
    rows = [
        ("B - A", f"{_num(c.difference)} ({c.relative_difference:+.1%})"),
        (
            f"{c.confidence_level:.0%} CI",
            f"[{_num(ci.low)}, {_num(ci.high)}] ({c.ci_method}"
            + (f", {c.n_resamples:,} resamples)" if c.n_resamples else ")"),
        ),
        (
            "Welch t",
            f"t = {_num(c.welch_statistic)}, df = {_num(c.welch_df)}, "
            f"p = {_num(c.welch_pvalue, 3)}",
        ),
        ("Mann-Whitney", f"U = {_num(c.mannwhitney_u, 8)}, p = {_num(c.mannwhitney_pvalue, 3)}"),
        ("Cohen's d", f"{_num(c.cohens_d, 3)} ({c.cohens_d_magnitude or '-'})"),
        ("Cliff's δ", f"{_num(c.cliffs_delta, 3)} ({c.cliffs_delta_magnitude})"),
    ]
    for label, text in rows:
        table.add_row(label, text, "")
    return table


def compare_command(
    a: Annotated[str, typer.Argument(help="Experiment A, the baseline (id or name).")],
    b: Annotated[str, typer.Argument(help="Experiment B (id or name).")],
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="latency_ms, cost_usd, success, tokens_in, tokens_out, or a measurement "
            "or derived field name.",
        ),
    ] = "latency_ms",
    event: Annotated[
        str | None,
        typer.Option("--event", help="Only events under this dotted name prefix."),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option("--store", help="SQLite file or postgresql:// DSN (default: the default)."),
    ] = None,
    confidence: Annotated[float, typer.Option(help="Confidence level.")] = 0.95,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 9999,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare a metric between two experiments: difference with a bootstrap CI, Welch and
    Mann-Whitney tests, effect sizes, and a verdict."""
    console = Console()
    try:
        db = store_from(store, must_exist=True)
    except CrucibleError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    try:
        result = compare(
            a,
            b,
            metric,
            store=db,
            event_prefix=tuple(event.split(".")) if event else None,
            labels=(a, b),
            confidence_level=confidence,
            n_resamples=resamples,
            seed=seed,
        )
    except CrucibleError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    finally:
        db.close()
    if json_output:
        typer.echo(msgspec.json.encode(result).decode())
        return
    console.print(comparison_table(result))
    console.print(result.verdict)
