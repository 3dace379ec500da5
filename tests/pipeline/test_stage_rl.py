"""The ``train.rl`` stage through a real StageContext and Tracer: option errors with
JSON-pointer paths, the outputs contract, trace decisions, identical reruns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crucible.errors import ValidationError
from crucible.ir.experiment import BackendRef, Experiment, StageDef
from crucible.pipeline.models import load_model
from crucible.pipeline.stage import StageContext, decode_options
from crucible.pipeline.stages.rl import RLStage
from crucible.prng import default_rng
from crucible.trace import Tracer
from crucible.train.loggers import read_metrics

OPTIONS: dict[str, Any] = {"steps": 40, "eval_every": 20, "eval_problems": 16}


def _context(run_dir: Path, options: dict[str, Any], seed: int = 0) -> tuple[StageContext, Any]:
    stage = StageDef(name="rl", module="train.rl", options=options)
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
    return ctx, decode_options(RLStage.Options, options, ctx.pointer)


def test_bad_options_fail_with_json_pointer_paths(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as err:
        _context(tmp_path, {"group_size": 0})
    assert err.value.items[0].path == "/pipeline/0/options/group_size"
    with pytest.raises(ValidationError) as err:
        _context(tmp_path, {"loss": "reinforce"})
    assert err.value.items[0].path == "/pipeline/0/options/loss"
    with pytest.raises(ValidationError) as err:
        _context(tmp_path, {"kl_coeff": 0.1})
    assert err.value.items[0].path.startswith("/pipeline/0/options")
    ctx, options = _context(
        tmp_path,
        {
            "from_model": "sft",
            "model": "numpy-lm-huge",
            "task": "chess",
            "warmup_steps": 50,
            "steps": 10,
        },
    )
    problems = RLStage(options).check(ctx)
    paths = {p.path for p in problems}
    assert paths == {
        "/pipeline/0/options/from_model",
        "/pipeline/0/options/model",
        "/pipeline/0/options/task",
        "/pipeline/0/options/warmup_steps",
    }
    ctx, options = _context(tmp_path, {"task": "addition", "task_options": {"letters": 3}})
    assert [p.path for p in RLStage(options).check(ctx)] == ["/pipeline/0/options/task_options"]
    ctx, options = _context(tmp_path, {})
    assert RLStage(options).check(ctx) == []


def test_stage_trains_saves_model_and_traces_decisions(tmp_path: Path) -> None:
    ctx, options = _context(tmp_path, OPTIONS)
    progress: list[tuple[int, int | None]] = []
    ctx.progress = lambda done, total: progress.append((done, total))
    result = RLStage(options).run(ctx)
    assert result.outputs == {
        "model_dir": "stages/rl/model",
        "metrics_file": "stages/rl/metrics.jsonl",
    }
    rows = read_metrics(tmp_path / "stages" / "rl")
    assert [r["step"] for r in rows if "env/reward_mean" in r] == list(range(40))
    first = sum(r["env/reward_mean"] for r in rows[:5]) / 5
    assert result.metrics["env/reward_mean"] > first + 0.3
    evals = [r for r in rows if "eval/accuracy" in r]
    assert [r["step"] for r in evals] == [0, 20, 40]
    assert evals[-1]["eval/accuracy"] > evals[0]["eval/accuracy"]
    assert result.metrics["eval/accuracy"] == evals[-1]["eval/accuracy"]
    _client, spec = load_model(tmp_path / "stages" / "rl" / "model")
    assert spec.model == "numpy-lm-tiny"
    assert spec.model_overrides == {"context": 16}
    assert all((tmp_path / f).is_file() for f in result.files)
    assert progress[-1] == (40, 40)
    types = [e.type for e in ctx.tracer.chain.events]
    for expected in (
        "hyperparameter_tuned",
        "training_started",
        "policy_updated",
        "checkpoint_saved",
        "training_completed",
        "model_saved",
    ):
        assert expected in types, expected


def test_same_seed_same_metrics_file(tmp_path: Path) -> None:
    small = {"steps": 6, "group_size": 8, "eval_every": 3, "eval_problems": 4}
    for name in ("a", "b"):
        ctx, options = _context(tmp_path / name, small, seed=9)
        RLStage(options).run(ctx)
    files = [tmp_path / n / "stages" / "rl" / "metrics.jsonl" for n in ("a", "b")]
    assert files[0].read_bytes() == files[1].read_bytes()


def test_continues_from_an_earlier_stage_model(tmp_path: Path) -> None:
    ctx, options = _context(tmp_path, {"steps": 4, "group_size": 4, "eval_problems": 0})
    first = RLStage(options).run(ctx)
    stage = StageDef(name="rl2", module="train.rl", options={"from_model": "rl", "steps": 2})
    pipeline = [ctx.stage, stage]
    experiment = Experiment(id="exp", backend=BackendRef(id="numpy"), pipeline=pipeline)
    ctx2 = StageContext(
        experiment=experiment,
        stage=stage,
        index=1,
        run_dir=tmp_path,
        seed=0,
        rng=default_rng(0),
        tracer=Tracer("run"),
        telemetry=None,
        results={"rl": first},
    )
    options2 = decode_options(RLStage.Options, stage.options, ctx2.pointer)
    assert RLStage(options2).check(ctx2) == []
    result = RLStage(options2).run(ctx2)
    assert result.outputs["model_dir"] == "stages/rl2/model"
    rows = read_metrics(tmp_path / "stages" / "rl2")
    assert [r["step"] for r in rows if "env/reward_mean" in r] == [0, 1]
