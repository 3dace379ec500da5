"""The ``train.dpo`` stage: Direct Preference Optimization of the NumPy LM
(:func:`crucible.train.preference.train_dpo`) from fresh weights or an earlier stage's model.

Options are the :class:`~crucible.train.preference.DPOSettings` (the model to build when
``from_model`` is ``"init"``, the preference data ``dataset`` as ``"bundled:NAME"`` or a
JSONL file, and the loop's hyper-parameters) plus ``from_model`` and ``reference_model``:
the frozen reference is by default the policy's own starting weights, or another model
source (``"init"`` or an earlier training stage) with the same tokenizer. The seed is the
stage's. ``metrics.jsonl`` holds one row per step (no wall-clock columns, so identical seeds
give identical files); the final model goes to ``stages/<name>/model``.

The model-source checks, progress reporting and result assembly here are shared with the
``train.distill`` stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import msgspec

from crucible.errors import ConfigurationError, ErrorItem
from crucible.pipeline.models import INIT, ModelSpec, resolve_model, save_model
from crucible.pipeline.stage import StageContext, StageResult
from crucible.train.adapters import numpy_lm
from crucible.train.adapters.numpy_lm import NumpyLMTrainingClient
from crucible.train.loggers import JsonLogger, MultiplexLogger, read_metrics
from crucible.train.preference import DPOConfig, DPOSettings, train_dpo
from crucible.train.preference.comparisons import BUNDLED_PREFERENCES
from crucible.train.renderers.registry import renderer_names

__all__ = [
    "DPOOptions",
    "DPOStage",
    "ProgressLogger",
    "check_model_fields",
    "check_source",
    "earlier_stages",
    "same_vocabulary",
    "spec_of",
    "stage_logger",
    "training_result",
]


class DPOOptions(DPOSettings, frozen=True, kw_only=True, forbid_unknown_fields=True):
    from_model: str = INIT
    reference_model: str | None = None


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


def stage_logger(ctx: StageContext) -> MultiplexLogger:
    """``metrics.jsonl`` in the stage directory plus progress reports (close it after)."""
    return MultiplexLogger([JsonLogger(ctx.stage_dir), ProgressLogger(ctx)])


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


def _check_dataset(ctx: StageContext, dataset: str) -> list[ErrorItem]:
    if dataset.startswith("bundled:"):
        ok = dataset.removeprefix("bundled:") in BUNDLED_PREFERENCES
        hint = f"bundled preference sets: {', '.join(sorted(BUNDLED_PREFERENCES))}"
    else:
        ok = Path(dataset).is_file()
        hint = "no such file"
    if ok:
        return []
    return [ErrorItem(f"{ctx.pointer}/options/dataset", "stage.dataset", f"{dataset!r}: {hint}")]


class DPOStage:
    """DPO on preference pairs (see the module docstring)."""

    name: ClassVar[str] = "train.dpo"
    Options: ClassVar[type[msgspec.Struct]] = DPOOptions

    def __init__(self, options: DPOOptions) -> None:
        self.options = options

    def check(self, ctx: StageContext) -> list[ErrorItem]:
        o = self.options
        problems: list[ErrorItem] = []
        problems += check_source(ctx, "from_model", o.from_model)
        problems += check_source(ctx, "reference_model", o.reference_model)
        problems += check_model_fields(ctx, spec_of(o))
        problems += _check_dataset(ctx, o.dataset)
        return problems

    def run(self, ctx: StageContext) -> StageResult:
        o = self.options
        client, spec = resolve_model(o.from_model, spec_of(o), ctx.seed, ctx.results, ctx.run_dir)
        ctx.tracer.record(
            "model_loaded",
            f"policy {spec.model} from {o.from_model}",
            "fresh weights from the stage seed" if o.from_model == INIT else "continue training",
            metadata={"from_model": o.from_model, "model": spec.model},
        )
        reference = None
        if o.reference_model is not None:
            reference, ref_spec = resolve_model(
                o.reference_model, spec, ctx.seed, ctx.results, ctx.run_dir
            )
            same_vocabulary(spec, ref_spec, "reference model")
        ctx.tracer.record(
            "hyperparameter_tuned",
            f"DPO with beta {o.beta}, label smoothing {o.label_smoothing}",
            "frozen reference: "
            + (o.reference_model if o.reference_model else "the policy's starting weights"),
            alternatives=["plain DPO (label smoothing 0)"] if o.label_smoothing else [],
            metadata={"beta": o.beta, "label_smoothing": o.label_smoothing},
        )
        settings = {f: getattr(o, f) for f in DPOSettings.__struct_fields__}
        config = DPOConfig(
            **{**settings, **{f: getattr(spec, f) for f in ModelSpec.__struct_fields__}},
            log_path=str(ctx.stage_dir),
            seed=ctx.seed,
        )
        logger = stage_logger(ctx)
        try:
            outcome = train_dpo(
                config, client=client, reference=reference, logger=logger, tracer=ctx.tracer
            )
        finally:
            logger.close()
        for row in read_metrics(ctx.stage_dir):
            if "val/dpo_accuracy" in row:
                ctx.tracer.record(
                    "validation_run",
                    f"held-out preference accuracy {row['val/dpo_accuracy']:.3f} "
                    f"at step {row['step']}",
                    metadata={k: v for k, v in row.items() if k.startswith("val/")},
                )
        return training_result(ctx, client, spec, outcome.final_metrics, {"steps": outcome.steps})
