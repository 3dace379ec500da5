"""Loggers write files their real readers accept: json for metrics.jsonl and config.json,
TensorBoard's own EventAccumulator for the event files."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from crucible.train.config import SupervisedConfig
from crucible.train.loggers import (
    ConsoleLogger,
    JsonLogger,
    Logger,
    MultiplexLogger,
    dump_config,
    read_metrics,
    rewind_metrics,
    setup_logger,
)


def test_json_logger_files(tmp_path: Path) -> None:
    log = JsonLogger(tmp_path)
    assert isinstance(log, Logger)
    cfg = SupervisedConfig(log_path=str(tmp_path))
    log.log_hparams(cfg)
    log.log_metrics({"train/nll": 1.5, "bad": math.nan}, step=0)
    log.log_metrics({"train/nll": 1.25}, step=1)
    log.log_long_text("sample/0", "hello")
    log.close()
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["train_on_what"] == "last_assistant_message"
    assert config["log_path"] == str(tmp_path)
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert lines == [{"step": 0, "train/nll": 1.5, "bad": None}, {"step": 1, "train/nll": 1.25}]
    assert (tmp_path / "sample_0.txt").read_text() == "hello"
    rewind_metrics(tmp_path, 1)
    assert read_metrics(tmp_path) == lines[:1]


def test_console_logger_table_and_progress() -> None:
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=False)
    log = ConsoleLogger(total_steps=3, every=2, console=console)
    log.log_hparams({"learning_rate": 0.001})
    for s in range(3):
        log.log_metrics({"train/nll": 2.0 - s, "loss:sum": 9.0}, step=s)
    log.log_long_text("sample", "text")
    log.close()
    text = out.getvalue()
    assert "learning_rate" in text
    assert "step 0" in text
    assert "step 2" in text
    assert "step 1" not in text
    assert "loss:sum" not in text
    assert "3/3" in text


def test_tensorboard_files_read_by_tensorboard(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log = setup_logger(["json", "tensorboard"], tmp_path)
    log.log_hparams({"lr": 0.1})
    for s in range(4):
        log.log_metrics({"train/nll": 1.0 / (s + 1), "note": "x"}, step=s)
    log.close()
    acc = EventAccumulator(str(tmp_path / "tensorboard"))
    acc.Reload()
    assert "train/nll" in acc.Tags()["scalars"]
    events = acc.Scalars("train/nll")
    assert [e.step for e in events] == [0, 1, 2, 3]
    assert [e.value for e in events] == pytest.approx([1.0, 0.5, 1 / 3, 0.25])
    assert len(read_metrics(tmp_path)) == 4


def test_multiplex_and_dump_config(tmp_path: Path) -> None:
    seen: list[Any] = []

    class Recorder:
        def log_hparams(self, config: Any) -> None:
            seen.append(("h", config))

        def log_metrics(self, metrics: Any, step: int | None = None) -> None:
            seen.append(("m", step))

        def log_long_text(self, key: str, text: str) -> None:
            seen.append(("t", key))

        def close(self) -> None:
            seen.append(("c", None))

    log = MultiplexLogger([Recorder(), Recorder()])
    log.log_hparams({})
    log.log_metrics({}, 3)
    log.log_long_text("k", "v")
    log.close()
    assert seen == [
        ("h", {}),
        ("h", {}),
        ("m", 3),
        ("m", 3),
        ("t", "k"),
        ("t", "k"),
        ("c", None),
        ("c", None),
    ]
    assert dump_config({"p": tmp_path, "x": (1, 2), "o": object()})["p"] == str(tmp_path)
    with pytest.raises(ValueError, match="unknown logger"):
        setup_logger(["comet"], tmp_path)
