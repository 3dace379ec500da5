"""The ``train.rl`` stage: reinforcement learning of the NumPy LM on a bundled verifiable
task (:func:`crucible.train.rl.train_rl`), from fresh weights or an earlier stage's model.

Options are a :class:`~crucible.pipeline.models.ModelSpec` (the model to build when
``from_model`` is ``"init"``), the task, and the loop's hyper-parameters. The defaults
are the recipe that learns ``next_letter`` from random weights by RL alone (see
:class:`~crucible.train.rl.RLConfig`); note the widened context window (16), without
which the model cannot see the question from the answer position.

Every ``eval_every`` steps (and at the end) the policy answers ``eval_problems`` held-out
problems greedily; ``eval/accuracy`` is their exact-match rate. The loop writes
``stages/<name>/metrics.jsonl`` directly: its rows hold no wall-clock values, so they are
identical for identical seeds. A run killed mid-training resumes from the last periodic
checkpoint (``save_every``).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar

import msgspec

from crucible.errors import CrucibleError, ErrorItem
from crucible.pipeline.models import ModelSpec, renderer_for, resolve_model, save_model
from crucible.pipeline.stage import StageContext, StageResult
from crucible.pipeline.stages.training import (
    TrainingStageOptions,
    check_from_model,
    check_model_spec,
    spec_of,
)
from crucible.train.rl import RLConfig, RLLoss, train_rl
from crucible.train.run_settings import NonNegFloat, NonNegInt, PosInt
from crucible.train.schedule import LRSchedule
from crucible.train.tasks import TaskAccuracyEvaluator, get_task

__all__ = ["RLOptions", "RLStage"]

EVAL_SEED_OFFSET = 7919
"""Held-out problems come from another stream than training's (seed + this offset)."""


class RLOptions(TrainingStageOptions, frozen=True, kw_only=True, forbid_unknown_fields=True):
    model: str = "numpy-lm-tiny"
    model_overrides: dict[str, Any] = msgspec.field(default_factory=lambda: {"context": 16})
    task: str = "next_letter"
    task_options: dict[str, Any] = msgspec.field(default_factory=dict)
    partial_credit: bool = True
    steps: PosInt = 120
    group_size: PosInt = 16
    groups_per_batch: PosInt = 8
    loss: RLLoss = "importance_sampling"
    clip_low: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] = 0.8
    clip_high: Annotated[float, msgspec.Meta(ge=1.0)] = 1.2
    kl_coef: NonNegFloat = 0.1
    normalize_advantages: bool = False
    drop_degenerate_groups: bool = False
    num_substeps: PosInt = 1
    learning_rate: Annotated[float, msgspec.Meta(gt=0.0)] = 1e-2
    lr_schedule: LRSchedule = "constant"
    max_tokens: PosInt = 1
    temperature: Annotated[float, msgspec.Meta(gt=0.0)] = 1.0
    eval_every: NonNegInt = 0
    eval_problems: NonNegInt = 32


class RLStage:
    """RL on a bundled task (see the module docstring)."""

    name: ClassVar[str] = "train.rl"
    Options: ClassVar[type[msgspec.Struct]] = RLOptions

    def __init__(self, options: RLOptions) -> None:
        self.options = options

    def check(self, ctx: StageContext) -> list[ErrorItem]:
        opts, where = self.options, f"{ctx.pointer}/options"
        problems = check_from_model(ctx, opts.from_model)
        problems += check_model_spec(ctx, spec_of(opts))
        try:
            get_task(opts.task, partial_credit=opts.partial_credit, **opts.task_options)
        except CrucibleError as exc:
            field = (
                "task_options" if opts.task_options and "unknown task" not in str(exc) else "task"
            )
            problems.append(ErrorItem(f"{where}/{field}", "stage.task", str(exc)))
        if opts.warmup_steps > opts.steps:
            problems.append(
                ErrorItem(
                    f"{where}/warmup_steps",
                    "stage.schedule",
                    f"warmup_steps ({opts.warmup_steps}) exceeds steps ({opts.steps})",
                )
            )
        return problems

    def _config(self, ctx: StageContext, spec: ModelSpec) -> RLConfig:
        opts = self.options
        return RLConfig(
            log_path=str(ctx.stage_dir),
            model=spec.model,
            model_overrides=dict(spec.model_overrides),
            tokenizer=spec.tokenizer,
            renderer=spec.renderer,
            task=opts.task,
            task_options=dict(opts.task_options),
            partial_credit=opts.partial_credit,
            steps=opts.steps,
            groups_per_batch=opts.groups_per_batch,
            group_size=opts.group_size,
            max_tokens=opts.max_tokens,
            temperature=opts.temperature,
            loss_fn=opts.loss,
            clip_low=opts.clip_low,
            clip_high=opts.clip_high,
            kl_coef=opts.kl_coef,
            normalize_advantages=opts.normalize_advantages,
            drop_degenerate_groups=opts.drop_degenerate_groups,
            num_substeps=opts.num_substeps,
            learning_rate=opts.learning_rate,
            lr_schedule=opts.lr_schedule,
            warmup_steps=opts.warmup_steps,
            eval_every=opts.eval_every,
            save_every=opts.save_every,
            seed=ctx.seed,
            loggers=["json"],
        )

    def run(self, ctx: StageContext) -> StageResult:
        opts = self.options
        client, spec = resolve_model(
            opts.from_model, spec_of(opts), ctx.seed, ctx.results, ctx.run_dir
        )
        config = self._config(ctx, spec)
        task = get_task(opts.task, partial_credit=opts.partial_credit, **opts.task_options)
        renderer = renderer_for(spec, client.get_tokenizer())
        evaluators = []
        if opts.eval_problems:
            held_out = task.problems(opts.eval_problems, ctx.seed + EVAL_SEED_OFFSET)
            evaluators.append(
                TaskAccuracyEvaluator(task, renderer, held_out, max_tokens=opts.max_tokens)
            )
        ctx.tracer.record(
            "hyperparameter_tuned",
            f"RL on {opts.task} with {opts.loss}, lr {opts.learning_rate:g}, "
            f"kl_coef {opts.kl_coef:g}",
            f"{opts.groups_per_batch} groups x {opts.group_size} samples per step, "
            f"{opts.steps} steps, from {opts.from_model!r}",
            metadata={
                "task": opts.task,
                "loss": opts.loss,
                "learning_rate": opts.learning_rate,
                "kl_coef": opts.kl_coef,
                "group_size": opts.group_size,
                "groups_per_batch": opts.groups_per_batch,
                "steps": opts.steps,
                "max_tokens": opts.max_tokens,
                "from_model": opts.from_model,
            },
        )
        result = train_rl(
            config,
            client=client,
            evaluators=evaluators,
            tracer=ctx.tracer,
            progress=ctx.report_progress,
        )
        model_dir = save_model(client, spec, ctx.seed, ctx.stage_dir / "model")
        base = f"stages/{ctx.stage.name}"
        ctx.tracer.record(
            "model_saved",
            f"save the RL policy to {base}/model",
            metadata={"model_dir": f"{base}/model", "steps": result.steps},
        )
        metrics = {k: float(v) for k, v in result.final_metrics.items() if math.isfinite(float(v))}
        files = [f"{base}/metrics.jsonl", f"{base}/config.json"]
        files += [f"{base}/model/{p.name}" for p in sorted(model_dir.iterdir())]
        return StageResult(
            metrics=metrics,
            outputs={"model_dir": f"{base}/model", "metrics_file": f"{base}/metrics.jsonl"},
            files=files,
        )
