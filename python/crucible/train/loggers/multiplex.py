"""Forward every call to several loggers (JSON + console + TensorBoard at once)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crucible.train.loggers.base import Logger

__all__ = ["MultiplexLogger"]


class MultiplexLogger:
    def __init__(self, loggers: Sequence[Logger]) -> None:
        self.loggers = list(loggers)

    def log_hparams(self, config: Any) -> None:
        for logger in self.loggers:
            logger.log_hparams(config)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        for logger in self.loggers:
            logger.log_metrics(metrics, step)

    def log_long_text(self, key: str, text: str) -> None:
        for logger in self.loggers:
            logger.log_long_text(key, text)

    def close(self) -> None:
        for logger in self.loggers:
            logger.close()
