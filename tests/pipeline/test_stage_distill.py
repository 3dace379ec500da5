"""The ``train.distill`` stage through a real StageContext and Tracer: the teacher is an
earlier stage's saved model, option problems carry JSON-pointer paths, and the student's
held-out reverse KL to the teacher falls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crucible.ir.experiment import BackendRef, Experiment, StageDef
from crucible.pipeline.models import ModelSpec, save_model
from crucible.pipeline.stage import StageContext, StageResult, decode_options
from crucible.pipeline.stages.distill import DistillStage
from crucible.prng import default_rng
from crucible.trace import Tracer
from crucible.train import SupervisedConfig, train
from crucible.train.adapters.numpy_lm import NumpyLMTrainingClient
from crucible.train.loggers import read_metrics

SPEC = ModelSpec(model="numpy-lm-tiny")
OPTIONS: dict[str, Any] = {
    "model": "numpy-lm-tiny",
    "learning_rate": 0.02,
    "max_steps": 24,
    "num_epochs": 5,
    "max_tokens": 16,
    "samples_per_prompt": 4,
    "eval_every": 12,
    "eval_prompts": 16,
    "lr_schedule": "constant",
}


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("teacher")
    cfg = SupervisedConfig(
        log_path=str(root / "log"), model="numpy-lm-tiny", num_epochs=3, learning_rate=0.01,
        eval_every=0, seed=7,
    )  # fmt: skip
    client = train(cfg).client
    assert isinstance(client, NumpyLMTrainingClient)
    return save_model(client, SPEC, 7, root / "model")


def _context(
    run_dir: Path, options: dict[str, Any], teacher_dir: Path | None, seed: int = 11
) -> tuple[StageContext, Any]:
    stage = StageDef(name="distill", module="train.distill", options=options)
    pipeline = [stage]
    results: dict[str, StageResult] = {}
    if teacher_dir is not None:
        pipeline = [StageDef(name="sft", module="train.supervised"), stage]
        target = run_dir / "stages" / "sft" / "model"
        target.mkdir(parents=True, exist_ok=True)
        for f in teacher_dir.iterdir():
            (target / f.name).write_bytes(f.read_bytes())
        results["sft"] = StageResult(outputs={"model_dir": "stages/sft/model"})
    experiment = Experiment(id="exp", backend=BackendRef(id="numpy"), pipeline=pipeline)
    ctx = StageContext(
        experiment=experiment,
        stage=stage,
        index=len(pipeline) - 1,
        run_dir=run_dir,
        seed=seed,
        rng=default_rng(seed),
        tracer=Tracer("run"),
        telemetry=None,
        results=results,
    )
    return ctx, decode_options(DistillStage.Options, options, ctx.pointer)


def test_teacher_problems_are_reported_at_their_option(tmp_path: Path) -> None:
    ctx, options = _context(tmp_path, {}, None)
    [problem] = DistillStage(options).check(ctx)
    assert problem.path == "/pipeline/0/options/teacher"
    ctx, options = _context(tmp_path, {"teacher": "init", "dataset": "nope.jsonl"}, None)
    paths = sorted(e.path for e in DistillStage(options).check(ctx))
    assert paths == ["/pipeline/0/options/dataset", "/pipeline/0/options/teacher"]


def test_student_moves_toward_the_earlier_stage_teacher(tmp_path: Path, teacher_dir: Path) -> None:
    ctx, options = _context(tmp_path, OPTIONS, teacher_dir)
    stage = DistillStage(options)
    assert stage.check(ctx) == []  # the teacher defaults to the earlier training stage
    result = stage.run(ctx)
    assert result.outputs["model_dir"] == "stages/distill/model"
    assert result.outputs["metrics_file"] == "stages/distill/metrics.jsonl"
    assert result.outputs["teacher"] == "sft"
    assert (tmp_path / "stages/distill/model/model.json").is_file()
    rows = read_metrics(tmp_path / "stages" / "distill")
    kl = [r["val/reverse_kl"] for r in rows if "val/reverse_kl" in r]
    assert len(kl) == 3
    assert kl[-1] < 0.75 * kl[0], kl
    assert result.metrics["val/reverse_kl"] == kl[-1]
    assert "distill/reverse_kl" in result.metrics
    types = [e.type for e in ctx.tracer.chain.events]
    assert types[:3] == ["model_loaded", "hyperparameter_tuned", "training_started"]
    assert types[-2:] == ["training_completed", "model_saved"]
