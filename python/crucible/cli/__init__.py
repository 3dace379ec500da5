"""The ``crucible`` command line. Each command group lives in its own module."""

from __future__ import annotations

import typer

from crucible.cli.info import info
from crucible.cli.ir import app as ir_app
from crucible.cli.run import run
from crucible.cli.runs import compare, report, runs, show
from crucible.cli.telemetry import app as telemetry_app
from crucible.cli.trace import app as trace_app

app = typer.Typer(
    name="crucible",
    help="Reliable ML experiments: run, trace, measure and prove.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(info)
app.command()(run)
app.command()(runs)
app.command()(show)
app.command()(report)
app.command()(compare)
app.add_typer(ir_app, name="ir")
app.add_typer(telemetry_app, name="telemetry")
app.add_typer(trace_app, name="trace")


@app.callback()
def _root() -> None:
    """Reliable ML experiments: run, trace, measure and prove."""


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
