"""JSON logger: ``config.json`` once, then one ``metrics.jsonl`` line per call (the
tinker-cookbook layout, read back with ``json.loads`` line by line or pandas)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from crucible.train.loggers.base import dump_config

__all__ = ["JsonLogger", "read_metrics", "rewind_metrics"]

METRICS = "metrics.jsonl"
CONFIG = "config.json"


def _enc_hook(value: Any) -> Any:
    if hasattr(value, "item"):  # NumPy scalars
        return value.item()
    raise TypeError(f"cannot log a {type(value).__name__} as JSON")


# msgspec writes NaN and infinities as null (JSON has neither), and is ~8x faster than the
# json module: this runs every step, inside the loop's overhead budget.
_encode = msgspec.json.Encoder(enc_hook=_enc_hook).encode


class JsonLogger:
    def __init__(self, log_dir: str | Path) -> None:
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.metrics_path = self.log_dir / METRICS
        self._file = self.metrics_path.open("ab")

    def log_hparams(self, config: Any) -> None:
        text = json.dumps(dump_config(config), indent=2, sort_keys=True)
        (self.log_dir / CONFIG).write_text(text + "\n", encoding="utf-8")

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        entry: dict[str, Any] = {} if step is None else {"step": step}
        entry.update(metrics)
        self._file.write(_encode(entry) + b"\n")
        self._file.flush()

    def log_long_text(self, key: str, text: str) -> None:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)
        (self.log_dir / f"{safe}.txt").write_text(text, encoding="utf-8")

    def close(self) -> None:
        self._file.close()


def read_metrics(log_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(log_dir) / METRICS
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def rewind_metrics(log_dir: str | Path, step: int) -> None:
    """Drop the rows of steps ``>= step`` (a resumed run redoes them), atomically."""
    path = Path(log_dir) / METRICS
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as f:
        keep = [line for line in f if line.strip() and json.loads(line).get("step", -1) < step]
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.writelines(keep)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
