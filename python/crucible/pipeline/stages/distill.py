"""The ``train.distill`` stage: on-policy distillation of a teacher model into a student
(:func:`crucible.train.distillation.train_distill`).

Options are the :class:`~crucible.train.distillation.DistillSettings` (the student to build
when ``from_model`` is ``"init"``, sampling, the KL advantage and the loop's
hyper-parameters) plus ``from_model`` and ``teacher``: a model source that must be an
earlier training stage (by default the last earlier stage that produced a model) and must
share the student's tokenizer and renderer. ``dataset`` gives the prompts: the name of an
earlier ``dataset`` stage (its train split is distilled on, its val split held out),
``"bundled:NAME"`` or a file (split by ``val_fraction``). The
seed is the stage's; ``metrics.jsonl`` holds one row per step without wall-clock columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import msgspec

from crucible.errors import ConfigurationError, ErrorItem
from crucible.pipeline.models import INIT, ModelSpec, load_model, model_dir_of, resolve_model
from crucible.pipeline.stage import StageContext, StageResult
from crucible.pipeline.stages.dataset import split_files
from crucible.pipeline.stages.training import (
    check_model_fields,
    check_source,
    earlier_stages,
    same_vocabulary,
    spec_of,
    stage_logger,
    training_result,
)
from crucible.train.adapters.local_datasets import read_examples
from crucible.train.distillation import DistillConfig, DistillSettings, PromptSet, train_distill
from crucible.train.distillation.loop import build_prompt_sets
from crucible.train.renderers import get_renderer

__all__ = ["DistillOptions", "DistillStage"]


class DistillOptions(DistillSettings, frozen=True, kw_only=True, forbid_unknown_fields=True):
    from_model: str = INIT
    teacher: str | None = None


def _default_teacher_def(ctx: StageContext) -> str | None:
    """The last earlier enabled built-in training stage (``train.*``)."""
    for stage in reversed(ctx.experiment.pipeline[: ctx.index]):
        if stage.enabled and (stage.module or stage.name).startswith("train."):
            return stage.name
    return None


class DistillStage:
    """On-policy distillation (see the module docstring)."""

    name: ClassVar[str] = "train.distill"
    Options: ClassVar[type[msgspec.Struct]] = DistillOptions

    def __init__(self, options: DistillOptions) -> None:
        self.options = options

    def check(self, ctx: StageContext) -> list[ErrorItem]:
        o = self.options
        problems: list[ErrorItem] = []
        problems += check_source(ctx, "from_model", o.from_model)
        teacher = o.teacher if o.teacher is not None else _default_teacher_def(ctx)
        if teacher is None:
            problems.append(
                ErrorItem(
                    f"{ctx.pointer}/options/teacher",
                    "stage.model_source",
                    "no teacher: name an earlier training stage (none precedes this one)",
                )
            )
        else:
            problems += check_source(ctx, "teacher", teacher, allow_init=False)
        problems += check_model_fields(ctx, spec_of(o))
        data = o.dataset
        if (
            data not in earlier_stages(ctx)
            and not data.startswith("bundled:")
            and not Path(data).is_file()
        ):
            problems.append(
                ErrorItem(
                    f"{ctx.pointer}/options/dataset",
                    "stage.dataset",
                    f"{data!r} is neither an earlier stage, 'bundled:NAME' nor a file",
                )
            )
        return problems

    def _teacher_source(self, ctx: StageContext) -> str:
        if self.options.teacher is not None:
            if self.options.teacher == INIT:
                raise ConfigurationError("the teacher must be a trained model, not 'init'")
            return self.options.teacher
        for name in reversed(list(ctx.results)):
            if isinstance(ctx.results[name].outputs.get("model_dir"), str):
                return name
        raise ConfigurationError("no earlier stage produced a model to use as the teacher")

    def run(self, ctx: StageContext) -> StageResult:
        o = self.options
        student, spec = resolve_model(o.from_model, spec_of(o), ctx.seed, ctx.results, ctx.run_dir)
        teacher_source = self._teacher_source(ctx)
        teacher_model, teacher_spec = load_model(
            model_dir_of(teacher_source, ctx.results, ctx.run_dir)
        )
        same_vocabulary(spec, teacher_spec, "teacher")
        ctx.tracer.record(
            "model_loaded",
            f"student {spec.model} from {o.from_model}, teacher {teacher_spec.model} "
            f"from {teacher_source}",
            "teacher named in options" if o.teacher else "teacher = last earlier trained model",
            metadata={"from_model": o.from_model, "teacher": teacher_source},
        )
        settings = {f: getattr(o, f) for f in DistillSettings.__struct_fields__}
        splits = split_files(ctx, self.options.dataset)
        dataset = str(splits["train"]) if splits is not None else o.dataset
        config = DistillConfig(
            **{
                **settings,
                **{f: getattr(spec, f) for f in ModelSpec.__struct_fields__},
                "dataset": dataset,
                "val_fraction": 0.0 if splits is not None else o.val_fraction,
            },
            log_path=str(ctx.stage_dir),
            seed=ctx.seed,
        )
        train_prompts, val_prompts = build_prompt_sets(config, student.get_tokenizer())
        if splits is not None and "val" in splits:
            renderer = get_renderer(spec.renderer, student.get_tokenizer())
            held_out = read_examples(splits["val"])
            val_prompts = (
                PromptSet.from_examples(held_out, renderer, batch_size=1).prompts[: o.eval_prompts]
                if held_out
                else []
            )
        ctx.tracer.record(
            "hyperparameter_tuned",
            f"advantage = -{o.kl_coef} x per-token reverse KL, loss {o.loss_fn}",
            f"{o.samples_per_prompt} samples of {o.prompts_per_batch} prompts per step, "
            f"at most {o.max_tokens} tokens, temperature {o.temperature}",
            alternatives=["off-policy distillation (supervised on teacher samples)"],
            metadata={"kl_coef": o.kl_coef, "kl_discount": o.kl_discount, "loss_fn": o.loss_fn},
        )
        logger = stage_logger(ctx)
        try:
            outcome = train_distill(
                config,
                teacher=teacher_model.save_weights_and_get_sampling_client("teacher"),
                student=student,
                train_prompts=train_prompts,
                val_prompts=val_prompts,
                logger=logger,
                tracer=ctx.tracer,
            )
        finally:
            logger.close()
        extra: dict[str, Any] = {"steps": outcome.steps, "teacher": teacher_source}
        return training_result(ctx, student, spec, outcome.final_metrics, extra)
