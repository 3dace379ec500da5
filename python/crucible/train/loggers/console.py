"""Console logger: a rich progress bar over the run's steps, and a table of the latest
metrics every ``every`` steps (tables cost milliseconds to render, so not every step)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from crucible.train.loggers.base import dump_config

__all__ = ["ConsoleLogger"]

_HIDDEN_SUFFIXES = (":sum", ":count")


class ConsoleLogger:
    def __init__(
        self,
        total_steps: int | None = None,
        *,
        every: int = 10,
        console: Console | None = None,
        show_progress: bool = True,
    ) -> None:
        self.console = console or Console()
        self.every = max(every, 1)
        self._progress: Progress | None = None
        self._task: Any = None
        if show_progress and total_steps:
            self._progress = Progress(
                TextColumn("[bold cyan]training"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[status]}"),
                console=self.console,
                transient=False,
            )
            self._task = self._progress.add_task("train", total=total_steps, status="")
            self._progress.start()

    def log_hparams(self, config: Any) -> None:
        table = Table(title="configuration", show_header=False)
        table.add_column("key", style="cyan")
        table.add_column("value")
        dumped = dump_config(config)
        items = dumped.items() if isinstance(dumped, dict) else [("config", dumped)]
        for key, value in items:
            text = repr(value)
            table.add_row(str(key), text if len(text) < 120 else text[:117] + "...")
        self.console.print(table)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        if self._progress is not None and step is not None:
            loss = metrics.get("train/nll")
            status = f"nll {loss:.4f}" if isinstance(loss, float) else ""
            self._progress.update(self._task, completed=step + 1, status=status)
        if (
            step is not None
            and step % self.every != 0
            and not any(k.startswith("val/") for k in metrics)
        ):
            return
        table = Table(title=f"step {step}" if step is not None else None)
        table.add_column("metric", style="cyan")
        table.add_column("value", style="green", justify="right")
        for key in sorted(metrics):
            if key.endswith(_HIDDEN_SUFFIXES):
                continue
            value = metrics[key]
            table.add_row(key, f"{value:.6g}" if isinstance(value, float) else str(value))
        self.console.print(table)

    def log_long_text(self, key: str, text: str) -> None:
        self.console.rule(key)
        self.console.print(text, markup=False, highlight=False)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
