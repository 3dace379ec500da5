"""Loggers: the :class:`Logger` port; JSON (``metrics.jsonl`` + ``config.json``), rich
console (table and progress bar), TensorBoard event files, the W&B, MLflow and Neptune
experiment trackers (each an optional extra, imported when built), and a multiplexer, built
from a config's names with :func:`setup_logger`."""

from __future__ import annotations

import importlib
import os
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
    "MlflowLogger",
    "MultiplexLogger",
    "NeptuneLogger",
    "TensorBoardLogger",
    "WandbLogger",
    "dump_config",
    "read_metrics",
    "rewind_metrics",
    "setup_logger",
]


_LAZY = {
    "TensorBoardLogger": "crucible.train.loggers.tensorboard",
    "WandbLogger": "crucible.train.loggers.wandb_logger",
    "MlflowLogger": "crucible.train.loggers.mlflow_logger",
    "NeptuneLogger": "crucible.train.loggers.neptune_logger",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:  # keep the optional libraries' imports lazy
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


def setup_logger(
    names: Sequence[str], log_dir: str | Path, *, total_steps: int | None = None
) -> MultiplexLogger:
    """``json`` writes under ``log_dir``, ``tensorboard`` under ``log_dir/tensorboard``;
    ``wandb``, ``mlflow`` and ``neptune`` start one run named after ``log_dir`` (W&B's mode
    from ``WANDB_MODE``, MLflow's store from ``MLFLOW_TRACKING_URI`` or a SQLite file in
    ``log_dir``, Neptune offline in ``log_dir/.neptune`` unless ``NEPTUNE_MODE`` is set)."""
    loggers: list[Logger] = []
    for name in names:
        if name == "json":
            loggers.append(JsonLogger(log_dir))
        elif name == "console":
            loggers.append(ConsoleLogger(total_steps))
        elif name == "tensorboard":
            from crucible.train.loggers.tensorboard import TensorBoardLogger

            loggers.append(TensorBoardLogger(Path(log_dir) / "tensorboard"))
        elif name in ("wandb", "mlflow", "neptune"):
            loggers.append(_tracker(name, Path(log_dir)))
        else:
            raise InvalidArgumentError(
                f"unknown logger {name!r}: use json, console, tensorboard, wandb, mlflow, neptune"
            )
    return MultiplexLogger(loggers)


def _tracker(name: str, log_dir: Path) -> Logger:
    run_name = log_dir.resolve().name
    if name == "wandb":
        from crucible.train.loggers.wandb_logger import WandbLogger

        project = os.environ.get("WANDB_PROJECT", "crucible")
        return WandbLogger(project, log_dir=log_dir, run_name=run_name)
    if name == "mlflow":
        from crucible.train.loggers.mlflow_logger import MlflowLogger

        experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME", "crucible")
        uri = os.environ.get("MLFLOW_TRACKING_URI")
        return MlflowLogger(experiment, log_dir=log_dir, tracking_uri=uri, run_name=run_name)
    from crucible.train.loggers.neptune_logger import NeptuneLogger

    project = os.environ.get("NEPTUNE_PROJECT", "crucible/crucible")
    return NeptuneLogger(project, log_dir=log_dir, run_name=run_name)
