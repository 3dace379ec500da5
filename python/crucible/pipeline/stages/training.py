"""What the training stages (``train.supervised``, ``train.dpo``, ``train.distill``,
``train.rl``) have in common: the options that pick the model to start from, the checks of
model sources and specs, progress reporting from the loop's rows, and the outputs contract
of a trained model (``model_dir``, ``metrics_file``).

Each stage keeps only what is particular to its objective; a fix to how a model source is
validated or a trained model recorded lands here once, for all four.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec

from crucible.errors import ConfigurationError, CrucibleError, ErrorItem
from crucible.pipeline.models import INIT, ModelSpec, build_client, save_model
from crucible.pipeline.stage import StageContext, StageResult
from crucible.train.adapters import numpy_lm
from crucible.train.adapters.numpy_lm import NumpyLMTrainingClient
from crucible.train.loggers import JsonLogger, MultiplexLogger
from crucible.train.renderers.registry import renderer_names
from crucible.train.run_settings import NonNegInt
from crucible.train.schedule import LRSchedule

__all__ = [
    "ProgressLogger",
    "TrainingStageOptions",
    "check_from_model",
    "check_model_fields",
    "check_model_spec",
    "check_source",
    "earlier_stages",
    "same_vocabulary",
    "spec_of",
    "stage_logger",
    "training_result",
]


class TrainingStageOptions(ModelSpec, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The model to build (when ``from_model`` is ``"init"``) or the earlier stage whose
    model to continue, and the schedule options of the supervised and RL stages."""

    from_model: str = INIT
    learning_rate: Annotated[float, msgspec.Meta(gt=0.0)] = 1e-3
    lr_schedule: LRSchedule = "linear"
    warmup_steps: NonNegInt = 0
    eval_every: NonNegInt = 10
    save_every: NonNegInt = 0


def earlier_stages(ctx: StageContext) -> list[str]:
    """Names of the enabled stages before this one."""
    return [s.name for s in ctx.experiment.pipeline[: ctx.index] if s.enabled]


def check_source(
    ctx: StageContext, option: str, source: str | None, *, allow_init: bool = True
) -> list[ErrorItem]:
    """A problem if ``source`` is neither ``"init"`` (when allowed) nor an earlier stage."""
    earlier = earlier_stages(ctx)
    if source is None or source in earlier or (allow_init and source == INIT):
        return []
    allowed = "an earlier enabled stage" if not allow_init else "'init' nor an earlier stage"
    return [
        ErrorItem(
            f"{ctx.pointer}/options/{option}",
            "stage.model_source",
            f"model source {source!r} is not {allowed} (earlier: {', '.join(earlier) or 'none'})",
        )
    ]


def check_from_model(ctx: StageContext, source: str) -> list[ErrorItem]:
    """A problem if ``from_model`` is neither ``"init"`` nor an earlier enabled stage."""
    earlier = earlier_stages(ctx)
    if source == INIT or source in earlier:
        return []
    return [
        ErrorItem(
            f"{ctx.pointer}/options/from_model",
            "stage.model_source",
            f"model source {source!r} is neither 'init' nor an earlier enabled stage "
            f"({', '.join(earlier) or 'none'})",
        )
    ]


def check_model_spec(ctx: StageContext, spec: ModelSpec) -> list[ErrorItem]:
    """A problem if the spec does not build a model (unknown preset, bad overrides, ...)."""
    try:
        build_client(spec, 0)
    except (CrucibleError, msgspec.ValidationError, TypeError) as exc:
        return [ErrorItem(f"{ctx.pointer}/options/model", "stage.model_spec", str(exc))]
    return []


def check_model_fields(ctx: StageContext, spec: ModelSpec) -> list[ErrorItem]:
    """Problems with the preset and renderer names of a spec built from options."""
    problems = []
    if spec.model not in numpy_lm.PRESETS:
        problems.append(
            ErrorItem(
                f"{ctx.pointer}/options/model",
                "stage.model",
                f"unknown NumPy LM preset {spec.model!r}; known: {', '.join(numpy_lm.PRESETS)}",
            )
        )
    if spec.renderer not in renderer_names():
        problems.append(
            ErrorItem(
                f"{ctx.pointer}/options/renderer",
                "stage.renderer",
                f"unknown renderer {spec.renderer!r}; known: {', '.join(renderer_names())}",
            )
        )
    return problems


def spec_of(options: Any) -> ModelSpec:
    """The :class:`ModelSpec` named by an options struct's model fields."""
    return ModelSpec(**{f: getattr(options, f) for f in ModelSpec.__struct_fields__})


def same_vocabulary(a: ModelSpec, b: ModelSpec, what: str) -> None:
    """Two models must share token ids to compare logprobs token by token."""
    if (a.tokenizer, a.renderer) != (b.tokenizer, b.renderer):
        raise ConfigurationError(
            f"the {what} uses tokenizer {b.tokenizer!r} with renderer {b.renderer!r}, the "
            f"policy {a.tokenizer!r} with {a.renderer!r}: their token ids differ"
        )


class ProgressLogger:
    """Reports each training row (rows with ``progress``) as ``(step + 1, total)``."""

    def __init__(self, ctx: StageContext) -> None:
        self.ctx = ctx
        self.total: int | None = None

    def log_hparams(self, config: Any) -> None:
        total = config.get("total_steps") if isinstance(config, dict) else None
        self.total = total if isinstance(total, int) else None

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        if step is not None and "progress" in metrics:
            self.ctx.report_progress(step + 1, self.total)

    def log_long_text(self, key: str, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def stage_logger(ctx: StageContext, log_dir: str | Path | None = None) -> MultiplexLogger:
    """``metrics.jsonl`` in ``log_dir`` (by default the stage directory) plus progress
    reports (close it after)."""
    return MultiplexLogger([JsonLogger(log_dir or ctx.stage_dir), ProgressLogger(ctx)])


def training_result(
    ctx: StageContext,
    client: NumpyLMTrainingClient,
    spec: ModelSpec,
    final: Mapping[str, float],
    extra_outputs: Mapping[str, Any] | None = None,
) -> StageResult:
    """Save the model, record it, and return the training-stage outputs contract."""
    model_dir = save_model(client, spec, ctx.seed, ctx.stage_dir / "model")
    rel_model = model_dir.relative_to(ctx.run_dir).as_posix()
    metrics_file = (ctx.stage_dir / "metrics.jsonl").relative_to(ctx.run_dir).as_posix()
    ctx.tracer.record("model_saved", f"saved the trained model to {rel_model}")
    return StageResult(
        metrics={k: float(v) for k, v in final.items()},
        outputs={"model_dir": rel_model, "metrics_file": metrics_file, **(extra_outputs or {})},
        files=[metrics_file],
    )
