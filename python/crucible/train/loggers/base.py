"""The logger port and the one way configs become JSON."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import msgspec

__all__ = ["Logger", "dump_config"]


@runtime_checkable
class Logger(Protocol):
    """Where a run's hyperparameters and metrics go. ``step`` is the optimizer step."""

    def log_hparams(self, config: Any) -> None: ...

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None: ...

    def log_long_text(self, key: str, text: str) -> None: ...

    def close(self) -> None: ...


def dump_config(config: Any) -> Any:
    """A JSON-ready copy of a config: Structs and dataclass-like objects become dicts,
    enums their values, paths strings, anything else its ``repr``."""
    if isinstance(config, msgspec.Struct):
        return dump_config(msgspec.to_builtins(config))
    if isinstance(config, Mapping):
        return {str(k): dump_config(v) for k, v in config.items()}
    if isinstance(config, (list, tuple)):
        return [dump_config(v) for v in config]
    if isinstance(config, enum.Enum):
        return dump_config(config.value)
    if isinstance(config, Path):
        return str(config)
    if config is None or isinstance(config, (str, int, float, bool)):
        return config
    if hasattr(config, "__dict__"):
        return {k: dump_config(v) for k, v in vars(config).items() if not k.startswith("_")}
    return repr(config)
