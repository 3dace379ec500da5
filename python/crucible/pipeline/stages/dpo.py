"""The ``train.dpo`` stage: Direct Preference Optimization of the NumPy LM
(:func:`crucible.train.preference.train_dpo`) from fresh weights or an earlier stage's model.

Options are the :class:`~crucible.train.preference.DPOSettings` (the model to build when
``from_model`` is ``"init"``, the preference data ``dataset`` as ``"bundled:NAME"`` or a
JSONL file, and the loop's hyper-parameters) plus ``from_model`` and ``reference_model``:
the frozen reference is by default the policy's own starting weights, or another model
source (``"init"`` or an earlier training stage) with the same tokenizer. The seed is the
stage's. ``metrics.jsonl`` holds one row per step (no wall-clock columns, so identical seeds
give identical files); the final model goes to ``stages/<name>/model``.

The model-source checks, progress reporting and result assembly come from
:mod:`crucible.pipeline.stages.training` (re-exported here for older imports).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import msgspec

from crucible.errors import ErrorItem
from crucible.pipeline.models import INIT, ModelSpec, resolve_model
from crucible.pipeline.stage import StageContext, StageResult
from crucible.pipeline.stages.training import (
    ProgressLogger,
    check_model_fields,
    check_source,
    earlier_stages,
    same_vocabulary,
    spec_of,
    stage_logger,
    training_result,
)
from crucible.train.loggers import read_metrics
from crucible.train.preference import DPOConfig, DPOSettings, train_dpo
from crucible.train.preference.comparisons import BUNDLED_PREFERENCES

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
