"""TensorBoard logger: scalar summaries in real TensorBoard event files (the ``tensorboard``
package writes them; it is an optional extra, imported when the logger is built). Scalars
use ``simple_value``, which TensorBoard's scalar dashboard and its EventAccumulator read; the
config is written once as a text summary."""

from __future__ import annotations

import json
import numbers
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crucible.errors import ConfigurationError
from crucible.train.loggers.base import dump_config

__all__ = ["TensorBoardLogger"]


def _import() -> tuple[Any, Any, Any, Any]:
    try:
        from tensorboard.compat.proto import (  # type: ignore[import-untyped]
            event_pb2,
            summary_pb2,
            tensor_pb2,
        )
        from tensorboard.summary.writer.event_file_writer import (  # type: ignore[import-untyped]
            EventFileWriter,
        )
    except ImportError:  # pragma: no cover - depends on the environment
        raise ConfigurationError(
            "the TensorBoard logger needs the 'tensorboard' package: "
            "pip install 'crucible[tensorboard]'"
        ) from None
    return EventFileWriter, event_pb2, summary_pb2, tensor_pb2


class TensorBoardLogger:
    def __init__(self, log_dir: str | Path) -> None:
        writer_cls, self._event, self._summary, self._tensor = _import()
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._writer = writer_cls(str(self.log_dir), flush_secs=30)

    def _text(self, tag: str, text: str, step: int = 0) -> None:
        s = self._summary
        meta = s.SummaryMetadata(plugin_data=s.SummaryMetadata.PluginData(plugin_name="text"))
        tensor = self._tensor.TensorProto(dtype=7, string_val=[text.encode("utf-8")])  # DT_STRING
        value = s.Summary.Value(tag=tag, metadata=meta, tensor=tensor)
        self._writer.add_event(
            self._event.Event(wall_time=time.time(), step=step, summary=s.Summary(value=[value]))
        )

    def log_hparams(self, config: Any) -> None:
        self._text("config", "```\n" + json.dumps(dump_config(config), indent=2) + "\n```")

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        values = [
            self._summary.Summary.Value(tag=k, simple_value=float(v))
            for k, v in metrics.items()
            if isinstance(v, numbers.Real) and not isinstance(v, bool)
        ]
        if values:
            summary = self._summary.Summary(value=values)
            event = self._event.Event(wall_time=time.time(), step=step or 0, summary=summary)
            self._writer.add_event(event)

    def log_long_text(self, key: str, text: str) -> None:
        self._text(key, text)

    def close(self) -> None:
        self._writer.close()
