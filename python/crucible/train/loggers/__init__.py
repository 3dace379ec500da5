"""Loggers: the :class:`Logger` port; JSON (``metrics.jsonl`` + ``config.json``), rich
console (table and progress bar), TensorBoard event files, and a multiplexer, built from a
config's names with :func:`setup_logger`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from crucible.errors import InvalidArgumentError
from crucible.train.loggers.base import Logger, dump_config
from crucible.train.loggers.console import ConsoleLogger
from crucible.train.loggers.jsonl import JsonLogger, read_metrics, rewind_metrics
from crucible.train.loggers.multiplex import MultiplexLogger

__all__ = [
    "ConsoleLogger",
    "JsonLogger",
    "Logger",
    "MultiplexLogger",
    "TensorBoardLogger",
    "dump_config",
    "read_metrics",
    "rewind_metrics",
    "setup_logger",
]


def __getattr__(name: str) -> object:
    if name == "TensorBoardLogger":  # keep the tensorboard import lazy
        from crucible.train.loggers.tensorboard import TensorBoardLogger

        return TensorBoardLogger
    raise AttributeError(name)


def setup_logger(
    names: Sequence[str], log_dir: str | Path, *, total_steps: int | None = None
) -> MultiplexLogger:
    """``json`` writes under ``log_dir``, ``tensorboard`` under ``log_dir/tensorboard``."""
    loggers: list[Logger] = []
    for name in names:
        if name == "json":
            loggers.append(JsonLogger(log_dir))
        elif name == "console":
            loggers.append(ConsoleLogger(total_steps))
        elif name == "tensorboard":
            from crucible.train.loggers.tensorboard import TensorBoardLogger

            loggers.append(TensorBoardLogger(Path(log_dir) / "tensorboard"))
        else:
            raise InvalidArgumentError(f"unknown logger {name!r}: use json, console, tensorboard")
    return MultiplexLogger(loggers)
