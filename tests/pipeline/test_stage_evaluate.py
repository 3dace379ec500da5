"""The evaluate stage on real saved models: contract-shaped samples.jsonl, metrics with
bootstrap intervals, one trace event per model, same seed same numbers, resume after a crash,
and dry-run checks located by JSON pointer."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from crucible.errors import ConfigurationError, ValidationError
from crucible.ir.experiment import BackendRef, Experiment, StageDef
from crucible.pipeline.models import ModelSpec, save_model
from crucible.pipeline.stage import StageContext, StageResult, decode_options
from crucible.pipeline.stages.dataset import DatasetStage
from crucible.pipeline.stages.evaluate import EvaluateStage
from crucible.prng import default_rng
from crucible.trace import Tracer
from crucible.train import SupervisedConfig, train
from crucible.train.adapters.numpy_lm import NumpyLMTrainingClient
from crucible.train.evaluation import read_eval_items, select_items
from crucible.train.tasks import get_task

SPEC = ModelSpec(model="numpy-lm-tiny")
CONTRACT_KEYS = ["model", "index", "id", "prompt", "reference", "prediction", "scores", "group"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A data set with metadata and a run directory holding a trained model saved by a
    ``sft`` stage, as the supervised stage leaves it."""
    root = tmp_path_factory.mktemp("evaluate_stage")
    data = root / "addition.jsonl"
    rows = [
        {
            "id": p.id,
            "prompt": p.question,
            "completion": p.answer,
            "metadata": {"carry": int(p.answer) >= 10},
        }
        for p in get_task("addition").problems(40, 0)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = SupervisedConfig(
        log_path=str(root / "log"),
        dataset=str(data),
        model=SPEC.model,
        num_epochs=30,
        batch_size=8,
        learning_rate=0.01,
        val_fraction=0.0,
        eval_every=0,
        loggers=[],
        seed=4,
    )
    client = train(cfg).client
    assert isinstance(client, NumpyLMTrainingClient)
    save_model(client, SPEC, cfg.seed, root / "model")
    return root, data


def context(
    run_dir: Path, trained: Path, options: dict[str, Any], *, seed: int = 9
) -> tuple[StageContext, EvaluateStage]:
    stage = StageDef(name="eval", module="evaluate", options=options)
    experiment = Experiment(
        id="exp",
        backend=BackendRef(id="numpy"),
        pipeline=[StageDef(name="sft", module="train.supervised"), stage],
    )
    model_dir = run_dir / "stages" / "sft" / "model"
    if not model_dir.exists():
        model_dir.parent.mkdir(parents=True)
        model_dir.symlink_to(trained / "model", target_is_directory=True)
    results = {"sft": StageResult(outputs={"model_dir": "stages/sft/model"})}
    ctx = _stage_context(experiment, stage, 1, run_dir, seed, results)
    return ctx, EvaluateStage(decode_options(EvaluateStage.Options, options, ctx.pointer))


def _stage_context(
    experiment: Experiment,
    stage: StageDef,
    index: int,
    run_dir: Path,
    seed: int,
    results: dict[str, StageResult],
) -> StageContext:
    return StageContext(
        experiment=experiment,
        stage=stage,
        index=index,
        run_dir=run_dir,
        seed=seed,
        rng=default_rng(seed),
        tracer=Tracer("test"),
        telemetry=None,
        results=results,
    )


def test_evaluates_baseline_and_trained_model(
    trained_run: tuple[Path, Path], tmp_path: Path
) -> None:
    root, data = trained_run
    options = {
        "models": ["init", "sft"],
        "dataset": str(data),
        "split": "all",
        "scorers": ["exact_match", "f1", "perplexity"],
        "max_tokens": 12,
    }
    ctx, stage = context(tmp_path / "run", root, options)
    progress: list[tuple[int, int | None]] = []
    ctx.progress = lambda done, total: progress.append((done, total))
    assert stage.check(ctx) == []
    result = stage.run(ctx)

    assert result.outputs == {
        "samples": "stages/eval/samples.jsonl",
        "models": ["init", "sft"],
        "scorers": ["exact_match", "f1", "perplexity"],
        "dataset": str(data),
        "num_samples": 40,
    }
    rows = [
        json.loads(x) for x in (ctx.run_dir / result.outputs["samples"]).read_text().splitlines()
    ]
    assert len(rows) == 80
    assert all(list(r) == CONTRACT_KEYS for r in rows)
    assert [r["model"] for r in rows] == ["init"] * 40 + ["sft"] * 40
    assert rows[40]["id"] == "addition-0-0"
    assert rows[40]["index"] == 0
    assert rows[40]["group"] == {"carry": "False"}
    m = result.metrics
    assert m["init/exact_match"] == 0.0 < 0.15 < m["sft/exact_match"]
    assert m["sft/perplexity"] < m["init/perplexity"] / 10
    for key in ("sft/exact_match", "sft/f1", "init/perplexity"):
        assert m[f"{key}_ci_low"] <= m[key] <= m[f"{key}_ci_high"]
    assert progress[-1] == (80, 80)

    events = [e for e in ctx.tracer.chain.events if e.type == "validation_run"]
    assert [e.metadata["source"] for e in events] == ["init", "sft"]
    assert events[1].metadata["means"]["exact_match"] == pytest.approx(m["sft/exact_match"])

    again_ctx, again = context(tmp_path / "again", root, options)
    assert again.run(again_ctx).metrics == m  # same seed, same numbers


def test_default_model_split_and_resume(trained_run: tuple[Path, Path], tmp_path: Path) -> None:
    root, data = trained_run
    options = {
        "dataset": str(data),
        "val_fraction": 0.5,
        "max_tokens": 6,
        "chunk_size": 5,
        "temperature": 1.0,
    }
    ctx, stage = context(tmp_path / "full", root, options)
    full = stage.run(ctx)
    assert full.outputs["models"] == ["sft"]  # the last earlier stage with a model
    assert full.outputs["num_samples"] == 20  # the validation half (split seed = sft's seed)
    full_file = (ctx.run_dir / full.outputs["samples"]).read_bytes()
    held_out = select_items(read_eval_items(str(data)), split="val", val_fraction=0.5, seed=4)
    ids = [json.loads(x)["id"] for x in full_file.splitlines()]
    assert ids == [item.id for item in held_out]

    ctx2, stage2 = context(tmp_path / "crashed", root, options)
    samples = ctx2.stage_dir / "samples.jsonl"
    lines = full_file.splitlines(keepends=True)
    samples.write_bytes(b"".join(lines[:7]) + lines[7][:30])  # killed mid-write
    resumed = stage2.run(ctx2)
    assert samples.read_bytes() == full_file
    assert resumed.metrics == full.metrics
    event = next(e for e in ctx2.tracer.chain.events if e.type == "validation_run")
    assert event.metadata["resumed"] == 7


def test_task_dataset(trained_run: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = trained_run
    options = {
        "models": ["sft"],
        "dataset": "task:addition",
        "limit": 12,
        "scorers": ["exact_match", "normalized"],
        "max_tokens": 12,
    }
    ctx, stage = context(tmp_path / "run", root, options)
    result = stage.run(ctx)
    rows = [
        json.loads(x) for x in (ctx.run_dir / result.outputs["samples"]).read_text().splitlines()
    ]
    assert len(rows) == 12
    assert rows[0]["group"] == {"task": "addition"}
    assert rows[0]["id"] == "addition-4-1000000"  # held out: past what RL draws, sft's seed
    assert 0.0 <= result.metrics["sft/exact_match"] <= 1.0


def test_check_reports_problems_by_pointer(trained_run: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = trained_run
    options = {
        "models": ["init", "later"],
        "dataset": str(tmp_path / "missing.jsonl"),
        "scorers": ["f1", "accuracy", "semantic_similarity"],
    }
    ctx, stage = context(tmp_path / "run", root, options)
    problems = {(e.path, e.code) for e in stage.check(ctx)}
    assert problems == {
        ("/pipeline/1/options/models/1", "unknown_source"),
        ("/pipeline/1/options/scorers/1", "unknown_scorer"),
        ("/pipeline/1/options/scorers/2", "needs_embedder"),
        ("/pipeline/1/options/dataset", "dataset"),
    }
    with pytest.raises(ValidationError) as info:
        decode_options(EvaluateStage.Options, {"confidence": 1.5}, "/pipeline/1")
    assert info.value.items[0].path == "/pipeline/1/options/confidence"
    ctx, stage = context(
        tmp_path / "emb", root, {"scorers": ["semantic_similarity"], "embedder": "no_such.mod:f"}
    )
    with pytest.raises(ConfigurationError, match="cannot load embedder"):
        stage.run(ctx)


def _dataset_stage_run(run_dir: Path, data: Path) -> StageResult:
    """Runs a real ``dataset`` stage named ``data`` over ``data`` into ``run_dir``."""
    stage = StageDef(name="data", module="dataset", options={"source": str(data)})
    experiment = Experiment(id="exp", backend=BackendRef(id="numpy"), pipeline=[stage])
    ctx = _stage_context(experiment, stage, 0, run_dir, 3, {})
    return DatasetStage(decode_options(DatasetStage.Options, stage.options, ctx.pointer)).run(ctx)


def _with_dataset_stage(
    run_dir: Path, trained: Path, data: Path, options: dict[str, Any]
) -> tuple[StageContext, EvaluateStage]:
    made = _dataset_stage_run(run_dir, data)
    ctx, _ = context(run_dir, trained, options)
    pipeline = [StageDef(name="data", module="dataset"), *ctx.experiment.pipeline]
    ctx = dataclasses.replace(
        ctx,
        experiment=msgspec.structs.replace(ctx.experiment, pipeline=pipeline),
        index=2,
        results={"data": made, **ctx.results},
    )
    return ctx, EvaluateStage(decode_options(EvaluateStage.Options, options, ctx.pointer))


@pytest.mark.parametrize("split", ["test", "val", "all"])
def test_an_earlier_dataset_stage_supplies_its_split_files(
    trained_run: tuple[Path, Path], tmp_path: Path, split: str
) -> None:
    root, data = trained_run
    options = {"models": ["sft"], "dataset": "data", "split": split, "max_tokens": 6}
    ctx, stage = _with_dataset_stage(tmp_path / split, root, data, options)
    assert stage.check(ctx) == []
    result = stage.run(ctx)
    splits = ctx.results["data"].outputs["splits"]
    wanted = ["train", "val", "test"] if split == "all" else [split]
    expected = [item.id for s in wanted for item in read_eval_items(str(ctx.run_dir / splits[s]))]
    rows = (ctx.run_dir / result.outputs["samples"]).read_text().splitlines()
    assert [json.loads(r)["id"] for r in rows] == expected
    assert result.outputs["num_samples"] == len(expected) > 0


def test_split_test_needs_a_dataset_stage(trained_run: tuple[Path, Path], tmp_path: Path) -> None:
    root, data = trained_run
    ctx, stage = context(tmp_path / "run", root, {"dataset": str(data), "split": "test"})
    assert {(e.path, e.code) for e in stage.check(ctx)} == {("/pipeline/1/options/split", "split")}
