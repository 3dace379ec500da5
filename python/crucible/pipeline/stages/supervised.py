"""The ``train.supervised`` stage: supervised fine-tuning of the NumPy LM
(:func:`crucible.train.train`), from fresh weights or an earlier stage's model.

Options are a :class:`~crucible.pipeline.models.ModelSpec` (the model to build when
``from_model`` is ``"init"``), the data, and the loop's hyper-parameters (the fields of
:class:`~crucible.train.SupervisedConfig` that shape training). ``dataset`` is the name of
an earlier ``dataset`` stage (its train split is trained on, its val split evaluated), a
``"bundled:NAME"`` set or a file (split by ``val_fraction``); by default the last earlier
stage that produced splits, else ``bundled:conversations``.

The loop writes its own log (with timings) under ``stages/<name>/train/``; the stage's
``metrics.jsonl`` holds the same rows without the wall-clock columns, so it is identical
for identical seeds. A stage killed mid-training resumes from the loop's last checkpoint
(``save_every``) when the run is resumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar

import msgspec

from crucible.errors import ErrorItem
from crucible.pipeline.models import INIT, ModelSpec, build_client, renderer_for, resolve_model
from crucible.pipeline.stage import StageContext, StageResult
from crucible.pipeline.stages.dataset import split_files
from crucible.pipeline.stages.training import (
    TrainingStageOptions,
    check_from_model,
    check_model_spec,
    earlier_stages,
    spec_of,
    stage_logger,
    training_result,
)
from crucible.train import EarlyStopping, SupervisedConfig, TrainOnWhat, train
from crucible.train.adapters.local_datasets import read_examples
from crucible.train.datasets import SupervisedDataset
from crucible.train.run_settings import NonNegFloat, PosInt
from crucible.train.tasks import TASKS

__all__ = ["SupervisedOptions", "SupervisedStage", "deterministic_row"]

_WALL_CLOCK = ("time/", "throughput/")


class SupervisedOptions(
    TrainingStageOptions, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    dataset: str | None = None
    train_on_what: TrainOnWhat = TrainOnWhat.LAST_ASSISTANT_MESSAGE
    max_length: PosInt | None = 512
    val_fraction: Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)] = 0.1
    batch_size: PosInt = 32
    num_epochs: PosInt = 1
    max_steps: PosInt | None = None
    min_lr_ratio: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.0
    weight_decay: NonNegFloat = 0.0
    grad_accumulation_steps: PosInt = 1
    grad_clip_norm: NonNegFloat = 1.0
    early_stopping: EarlyStopping | None = None


def deterministic_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A metrics row without its wall-clock columns."""
    return {k: v for k, v in row.items() if not k.startswith(_WALL_CLOCK)}


class SupervisedStage:
    """Supervised fine-tuning (see the module docstring)."""

    name: ClassVar[str] = "train.supervised"
    Options: ClassVar[type[msgspec.Struct]] = SupervisedOptions

    def __init__(self, options: SupervisedOptions) -> None:
        self.options = options

    def check(self, ctx: StageContext) -> list[ErrorItem]:
        earlier = earlier_stages(ctx)
        problems = check_from_model(ctx, self.options.from_model)
        problems += check_model_spec(ctx, spec_of(self.options))
        data = self.options.dataset
        if (
            data is not None
            and data not in earlier
            and not data.startswith("bundled:")
            and not (data.startswith("task:") and data.removeprefix("task:") in TASKS)
            and not Path(data).is_file()
        ):
            problems.append(
                ErrorItem(
                    f"{ctx.pointer}/options/dataset",
                    "stage.dataset",
                    f"{data!r} is neither an earlier stage, 'bundled:NAME', 'task:NAME' "
                    f"(one of {', '.join(TASKS)}) nor a file",
                )
            )
        return problems

    def _data_splits(self, ctx: StageContext) -> dict[str, str] | None:
        """The earlier stage's split files (absolute), or None for a file/bundled set."""
        wanted = self.options.dataset
        candidates = [wanted] if wanted is not None else list(reversed(list(ctx.results)))
        for name in candidates:
            splits = split_files(ctx, name)
            if splits is not None:
                return {k: str(v) for k, v in splits.items()}
        return None

    def run(self, ctx: StageContext) -> StageResult:
        o = self.options
        client, spec = resolve_model(o.from_model, spec_of(o), ctx.seed, ctx.results, ctx.run_dir)
        if o.from_model == INIT:
            client = build_client(spec, ctx.seed)
        splits = self._data_splits(ctx)
        dataset = splits["train"] if splits else (o.dataset or "bundled:conversations")
        config = SupervisedConfig(
            log_path=str(ctx.stage_dir / "train"),
            dataset=dataset,
            val_fraction=0.0 if splits else o.val_fraction,
            seed=ctx.seed,
            loggers=["json"],
            **{f: getattr(o, f) for f in _LOOP_FIELDS},
            **{f: getattr(spec, f) for f in ModelSpec.__struct_fields__},
        )
        val_data = None
        if splits and "val" in splits and read_examples(splits["val"]):
            val_data = SupervisedDataset.from_examples(
                read_examples(splits["val"]),
                renderer_for(spec, client.get_tokenizer()),
                batch_size=o.batch_size,
                train_on_what=o.train_on_what,
                max_length=o.max_length,
                seed=ctx.seed,
                shuffle=False,
            )
        ctx.tracer.record(
            "training_started",
            f"train {spec.model} from {o.from_model} on {Path(dataset).name}",
            f"supervised fine-tuning, learning rate {o.learning_rate}, batch {o.batch_size}",
            metadata={"from_model": o.from_model, "epochs": o.num_epochs, "max_steps": o.max_steps},
        )
        logger = stage_logger(ctx, config.log_path)
        try:
            outcome = train(config, client=client, val_data=val_data, logger=logger)
        finally:
            logger.close()
        rows = [deterministic_row(r) for r in outcome.history]
        metrics_file = ctx.stage_dir / "metrics.jsonl"
        metrics_file.write_bytes(b"".join(msgspec.json.encode(r) + b"\n" for r in rows))
        final = _final_metrics(rows)
        final["train/steps"] = float(outcome.steps)
        for row in rows:
            if "val/nll" in row:
                ctx.tracer.record(
                    "validation_run",
                    f"val/nll {row['val/nll']:.4f} at step {row.get('step')}",
                    metadata={"step": row.get("step"), "val/nll": row["val/nll"]},
                )
        source = dataset if not splits else self._dataset_stage(ctx)
        extra = {"dataset": source, "steps": outcome.steps}
        result = training_result(ctx, client, spec, final, extra)
        ctx.tracer.record(
            "training_completed",
            f"finished after {outcome.steps} steps",
            "early stopping" if outcome.stopped_early else "planned steps done",
            metadata={k: v for k, v in final.items() if k.startswith(("train/", "val/"))},
        )
        return result

    def _dataset_stage(self, ctx: StageContext) -> str | None:
        wanted = self.options.dataset
        if wanted is not None:
            return wanted
        return next(
            (n for n in reversed(list(ctx.results)) if "splits" in ctx.results[n].outputs), None
        )


_LOOP_FIELDS = (
    "train_on_what",
    "max_length",
    "batch_size",
    "num_epochs",
    "max_steps",
    "learning_rate",
    "lr_schedule",
    "warmup_steps",
    "min_lr_ratio",
    "weight_decay",
    "grad_accumulation_steps",
    "grad_clip_norm",
    "eval_every",
    "save_every",
    "early_stopping",
)
_SKIP_FINAL = ("step", "epoch", "progress", "batch_size", "num_tokens", "num_loss_tokens")


def _final_metrics(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Each metric's last value over the rows."""
    final: dict[str, float] = {}
    for row in rows:
        for key, value in row.items():
            if key in _SKIP_FINAL or isinstance(value, bool):
                continue
            if isinstance(value, (int, float)):
                final[key] = float(value)
    return final
