"""What the experiment-tracker loggers (W&B, MLflow, Neptune) have in common.

Trackers want flat, scalar hyperparameters and numeric metrics, while crucible configs are
nested Structs and the training loop's metric dicts may hold strings or ``None``. This module
turns one into the other the same way for every tracker, names the extra to install when a
tracker library is missing, and switches vendor telemetry off by default (a training run
should not phone home because it logs metrics; set the variable yourself to opt back in).
"""

from __future__ import annotations

import importlib
import json
import math
import numbers
import os
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

from crucible.errors import ConfigurationError
from crucible.train.loggers.base import dump_config

__all__ = [
    "ArtifactLogger",
    "ParamValue",
    "flatten_params",
    "import_tracker",
    "numeric_metrics",
    "safe_artifact_name",
]

ParamValue = str | int | float | bool | None


@runtime_checkable
class ArtifactLogger(Protocol):
    """A logger that can also keep files (checkpoints) with the run."""

    def log_artifact(self, path: str | Path, *, name: str | None = None) -> None: ...


def flatten_params(config: Any, *, sep: str = ".") -> dict[str, ParamValue]:
    """``{"optim": {"lr": 0.1}}`` -> ``{"optim.lr": 0.1}``. Lists of scalars become one JSON
    string (a tracker compares them as a whole); lists holding mappings are indexed
    (``stages.0.name``); empty containers are kept as ``"{}"``/``"[]"`` so no key vanishes."""
    dumped = dump_config(config)
    if not isinstance(dumped, dict):
        dumped = {"config": dumped}
    flat: dict[str, ParamValue] = {}
    _flatten_into(flat, "", dumped, sep)
    return flat


def _flatten_into(flat: dict[str, ParamValue], prefix: str, value: Any, sep: str) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten_into(flat, f"{prefix}{sep}{key}" if prefix else str(key), item, sep)
    elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        for index, item in enumerate(value):
            _flatten_into(flat, f"{prefix}{sep}{index}" if prefix else str(index), item, sep)
    elif isinstance(value, (dict, list)):
        flat[prefix] = json.dumps(value)
    else:
        flat[prefix] = value


def numeric_metrics(metrics: Mapping[str, Any], *, finite_only: bool = False) -> dict[str, float]:
    """The real-valued entries of ``metrics`` as floats (NumPy scalars included, booleans
    and strings left out); ``finite_only`` also drops NaN and infinities."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            continue
        number = float(value)
        if finite_only and not math.isfinite(number):
            continue
        out[str(key)] = number
    return out


def safe_artifact_name(name: str) -> str:
    """Letters, digits, ``-``, ``_`` and ``.`` only: what every tracker accepts as an
    artifact or file name."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".")
    return cleaned or "artifact"


def import_tracker(module: str, extra: str, telemetry_off: Mapping[str, str]) -> ModuleType:
    """Import a tracker library lazily, after defaulting its telemetry variables to off."""
    for variable, value in telemetry_off.items():
        os.environ.setdefault(variable, value)
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigurationError(
            f"the {extra} logger needs the {module!r} package: pip install 'crucible[{extra}]'"
        ) from None
