"""The ``train.dpo`` stage through a real StageContext and Tracer: option errors with
JSON-pointer paths, the outputs contract, trace decisions, identical reruns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crucible.errors import ValidationError
from crucible.ir.experiment import BackendRef, Experiment, StageDef
from crucible.pipeline.models import load_model
from crucible.pipeline.stage import StageContext, decode_options
from crucible.pipeline.stages.dpo import DPOStage
from crucible.prng import default_rng
from crucible.trace import Tracer
from crucible.train.loggers import read_metrics

OPTIONS: dict[str, Any] = {
    "model": "numpy-lm-tiny",
    "learning_rate": 0.01,
    "max_steps": 12,
    "num_epochs": 3,
    "eval_every": 6,
    "val_fraction": 0.25,
    "lr_schedule": "constant",
}


def _context(run_dir: Path, options: dict[str, Any], seed: int = 5) -> tuple[StageContext, Any]:
    stage = StageDef(name="dpo", module="train.dpo", options=options)
    experiment = Experiment(id="exp", backend=BackendRef(id="numpy"), pipeline=[stage])
    ctx = StageContext(
        experiment=experiment,
        stage=stage,
        index=0,
        run_dir=run_dir,
        seed=seed,
        rng=default_rng(seed),
        tracer=Tracer("run"),
        telemetry=None,
    )
    return ctx, decode_options(DPOStage.Options, options, ctx.pointer)


def test_bad_options_fail_with_json_pointer_paths(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as err:
        _context(tmp_path, {"beta": -1.0})
    assert err.value.items[0].path == "/pipeline/0/options/beta"
    with pytest.raises(ValidationError) as err:
        _context(tmp_path, {"betta": 0.1})
    assert err.value.items[0].path.startswith("/pipeline/0/options")
    ctx, options = _context(
        tmp_path,
        {
            "from_model": "sft",
            "reference_model": "nowhere",
            "dataset": str(tmp_path / "missing.jsonl"),
            "model": "numpy-lm-huge",
        },
    )
    paths = sorted(e.path for e in DPOStage(options).check(ctx))
    assert paths == [
        "/pipeline/0/options/dataset",
        "/pipeline/0/options/from_model",
        "/pipeline/0/options/model",
        "/pipeline/0/options/reference_model",
    ]
    ctx, options = _context(tmp_path, {})
    assert DPOStage(options).check(ctx) == []


def test_stage_trains_saves_and_traces(tmp_path: Path) -> None:
    ctx, options = _context(tmp_path / "a", OPTIONS)
    progress: list[tuple[int, int | None]] = []
    ctx.progress = lambda done, total: progress.append((done, total))
    result = DPOStage(options).run(ctx)
    assert result.outputs["model_dir"] == "stages/dpo/model"
    assert result.outputs["metrics_file"] == "stages/dpo/metrics.jsonl"
    _, spec = load_model(tmp_path / "a" / result.outputs["model_dir"])
    assert spec.model == "numpy-lm-tiny"
    rows = read_metrics(tmp_path / "a" / "stages" / "dpo")
    assert [r["step"] for r in rows if "dpo/loss" in r] == list(range(12))
    evals = [r["val/dpo_accuracy"] for r in rows if "val/dpo_accuracy" in r]
    assert evals[0] == 0.5
    assert evals[-1] > 0.8
    assert result.metrics["val/dpo_accuracy"] == evals[-1]
    assert progress[-1] == (12, 12)
    types = [e.type for e in ctx.tracer.chain.events]
    for kind in ("model_loaded", "hyperparameter_tuned", "training_started", "validation_run"):
        assert kind in types
    assert types.index("training_completed") < types.index("model_saved") == len(types) - 1

    again, options = _context(tmp_path / "b", OPTIONS)
    repeat = DPOStage(options).run(again)
    assert repeat.metrics == result.metrics
    first = (tmp_path / "a" / "stages/dpo/metrics.jsonl").read_bytes()
    assert (tmp_path / "b" / "stages/dpo/metrics.jsonl").read_bytes() == first
