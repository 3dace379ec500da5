"""The DPO loop: pairs in, optimizer steps out, every step's numbers in ``metrics.jsonl``.

Before anything trains, the reference (by default the policy's own starting weights) scores
every train and validation pair once. Per step ``s``: evaluate first when due (the numbers
describe the weights after ``s`` steps and share row ``s``), take batch ``s`` of the epoch,
run the DPO loss through ``forward_backward_custom`` (one forward for the logprobs, one
weighted backward), one ``optim_step`` at the scheduled rate, log, checkpoint when due. The
last row holds a final evaluation. Batches are a pure function of (seed, epoch, index), so a
resumed run (newest checkpoint: weights, Adam state, step) repeats the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crucible.errors import InvalidArgumentError
from crucible.train.adapters import numpy_lm
from crucible.train.adapters.numpy_lm.custom_loss import forward_backward_custom
from crucible.train.checkpoint import CheckpointManager
from crucible.train.datasets.order import split_indices
from crucible.train.evaluation import Evaluator
from crucible.train.instrumentation import RunInstruments, Tracer
from crucible.train.loggers import Logger, dump_config, read_metrics, rewind_metrics, setup_logger
from crucible.train.ports.training import TrainingClient
from crucible.train.preference.comparisons import load_comparisons
from crucible.train.preference.config import DPOConfig, dpo_fingerprint
from crucible.train.preference.dataset import PreferenceDataset
from crucible.train.preference.evaluation import PreferenceEvaluator
from crucible.train.preference.loss import dpo_loss_fn
from crucible.train.preference.reference import ReferenceScores, reference_scores
from crucible.train.renderers import get_renderer, renderer_special_tokens
from crucible.train.schedule import lr_multiplier
from crucible.train.tokenizers import Tokenizer, get_tokenizer
from crucible.train.types import AdamParams

__all__ = ["DPOResult", "build_preference_data", "train_dpo"]


@dataclass
class DPOResult:
    """How the run ended: steps done, every logged row, the trained client."""

    steps: int
    total_steps: int
    history: list[dict[str, Any]] = field(default_factory=list)
    final_metrics: dict[str, float] = field(default_factory=dict)
    resumed_from: int | None = None
    client: TrainingClient | None = None


def build_preference_data(
    config: DPOConfig, tokenizer: Tokenizer
) -> tuple[PreferenceDataset, PreferenceDataset | None]:
    """The train and held-out pair sets of ``config.dataset`` (split by ``config.seed``)."""
    renderer = get_renderer(config.renderer, tokenizer)
    comparisons = load_comparisons(config.dataset)
    train_idx, val_idx = split_indices(len(comparisons), config.val_fraction, config.seed)

    def dataset(indices: Any, shuffle: bool) -> PreferenceDataset:
        return PreferenceDataset.from_comparisons(
            [comparisons[int(i)] for i in indices],
            renderer,
            batch_size=config.batch_size,
            max_length=config.max_length,
            seed=config.seed,
            shuffle=shuffle,
        )

    return dataset(train_idx, True), dataset(val_idx, False) if val_idx.size else None


def _adam(config: DPOConfig, step: int, total: int) -> AdamParams:
    mult = lr_multiplier(config.lr_schedule, step, total, config.warmup_steps, config.min_lr_ratio)
    return AdamParams(
        learning_rate=config.learning_rate * mult,
        beta1=config.adam_beta1,
        beta2=config.adam_beta2,
        eps=config.adam_eps,
        weight_decay=config.weight_decay,
        grad_clip_norm=config.grad_clip_norm,
    )


class _DPORun:
    def __init__(
        self,
        config: DPOConfig,
        client: TrainingClient,
        data: PreferenceDataset,
        reference: ReferenceScores,
        evaluators: list[Evaluator],
        instruments: RunInstruments,
    ) -> None:
        self.cfg = config
        self.client = client
        self.data = data
        self.reference = reference
        self.evaluators = evaluators
        self.inst = instruments
        self.steps_per_epoch = len(data)
        total = self.steps_per_epoch * config.num_epochs
        self.total = min(total, config.max_steps) if config.max_steps else total
        self.ckpts = CheckpointManager(
            Path(config.log_path) / "checkpoints", keep_last=config.keep_last, keep_best=False
        )
        self.fingerprint = dpo_fingerprint(config)
        self.step = 0
        self.completed = False
        self.resumed_from: int | None = None

    def resume(self) -> None:
        ckpt = self.ckpts.load_latest(self.client)
        if ckpt is None or ckpt.manifest.config_fingerprint != self.fingerprint:
            return  # nothing saved, or saved by another configuration: start afresh
        self.step = int(ckpt.manifest.loop_state.get("step", 0))
        self.completed = bool(ckpt.manifest.loop_state.get("completed", False))
        self.resumed_from = self.step
        if not self.completed:
            rewind_metrics(self.cfg.log_path, self.step)
        self.inst.resumed(self.step, str(ckpt.path))

    def save(self, kind: str, metrics: Mapping[str, Any]) -> None:
        ckpt = self.ckpts.save(
            self.client,
            kind=kind,  # type: ignore[arg-type]
            step=self.step,
            metrics={k: v for k, v in metrics.items() if isinstance(v, float)},
            config_fingerprint=self.fingerprint,
            loop_state={"step": self.step, "completed": self.completed},
        )
        size = sum(f.stat().st_size for f in ckpt.path.iterdir())
        self.inst.checkpoint_saved(str(ckpt.path), step=self.step, kind=kind, size_bytes=size)

    def evaluate(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for evaluator in self.evaluators:
            out.update(evaluator(self.client))
        return out

    def train_step(self) -> dict[str, Any]:
        epoch, index = divmod(self.step, self.steps_per_epoch)
        self.data.set_epoch(epoch)
        rows = self.data.batch_rows(index)
        batch = self.data.datums(rows)
        ref_chosen, ref_rejected = self.reference.take(rows)
        loss_fn = dpo_loss_fn(
            ref_chosen, ref_rejected, beta=self.cfg.beta, label_smoothing=self.cfg.label_smoothing
        )
        hp = _adam(self.cfg, self.step, self.total)
        out = forward_backward_custom(self.client, batch, loss_fn)
        opt = self.client.optim_step(hp)
        return {
            "epoch": epoch,
            "progress": (self.step + 1) / self.total,
            "learning_rate": hp.learning_rate,
            **out.metrics,
            "grad_norm": opt.metrics.get("grad_norm", float("nan")),
            "num_pairs": int(rows.size),
            "num_tokens": sum(d.model_input.length for d in batch),
        }

    def run(self, logger: Logger) -> dict[str, float]:
        final: dict[str, float] = {}
        last: dict[str, Any] = {}
        while self.step < self.total and not self.completed:
            metrics: dict[str, Any] = {}
            if self.evaluators and self.cfg.eval_every and self.step % self.cfg.eval_every == 0:
                metrics.update(self.evaluate())
            metrics.update(self.train_step())  # no wall time here: rows must be reproducible
            logger.log_metrics(metrics, self.step)
            self.step += 1
            last = metrics
            due = self.cfg.save_every and self.step % self.cfg.save_every == 0
            if due and self.step < self.total:
                self.save("periodic", metrics)
        if not self.completed:
            final = self.evaluate()
            if final:
                logger.log_metrics(final, self.step)
            self.completed = True
            self.save("final", {**last, **final})
        elif not last:  # resumed a finished run: report its numbers again, log nothing
            final = self.evaluate()
        numeric = {k: float(v) for k, v in {**last, **final}.items() if isinstance(v, (int, float))}
        return numeric


def train_dpo(
    config: DPOConfig,
    *,
    client: TrainingClient | None = None,
    reference: TrainingClient | None = None,
    train_data: PreferenceDataset | None = None,
    val_data: PreferenceDataset | None = None,
    evaluators: list[Evaluator] | None = None,
    logger: Logger | None = None,
    tracer: Tracer | None = None,
) -> DPOResult:
    """Run (or resume) DPO. ``reference`` defaults to ``client``'s weights before the first
    step; anything else not passed is built from ``config`` (the bundled preference set, the
    byte tokenizer with the renderer's special tokens, a fresh NumPy LM)."""
    if client is None:
        tokenizer = get_tokenizer(config.tokenizer, renderer_special_tokens(config.renderer))
        client = numpy_lm.create(
            config.model, tokenizer, seed=config.seed, **config.model_overrides
        )
    if train_data is None:
        train_data, built_val = build_preference_data(config, client.get_tokenizer())
        val_data = built_val if val_data is None else val_data
    if len(train_data) == 0:
        raise InvalidArgumentError("the training pairs make no full batch")
    scorer = reference or client  # scored now, before any update or resume
    ref_train = reference_scores(scorer, train_data)
    evals = list(evaluators or [])
    if val_data is not None:
        evals.append(
            PreferenceEvaluator(
                val_data,
                reference_scores(scorer, val_data),
                beta=config.beta,
                label_smoothing=config.label_smoothing,
            )
        )
    # Telemetry only: the run's trace decisions are recorded below, in DPO's own words.
    inst = RunInstruments(Path(config.log_path).name, None, config.model)
    run = _DPORun(config, client, train_data, ref_train, evals, inst)
    if config.resume:
        run.resume()
    own_logger = logger is None
    log = logger or setup_logger(config.loggers, config.log_path, total_steps=run.total)
    hparams = {"config": dump_config(config), "total_steps": run.total, "objective": "dpo"}
    if tracer is not None:
        tracer.record(
            "training_started",
            f"DPO on {train_data.num_pairs} pairs for {run.total} steps",
            "reference = " + ("a separate model" if reference is not None else "starting weights"),
            metadata={"total_steps": run.total, "resumed_from": run.resumed_from},
        )
    try:
        log.log_hparams(hparams)
        inst.started(hparams, total_steps=run.total, epochs=config.num_epochs)
        final = run.run(log)
        inst.completed(
            steps=run.step,
            epochs=-(-run.step // max(run.steps_per_epoch, 1)),
            final_loss=final.get("dpo/loss"),
        )
    except BaseException as exc:
        inst.failed(exc)
        raise
    finally:
        if own_logger:
            log.close()
    if tracer is not None:
        tracer.record(
            "training_completed",
            f"DPO finished after {run.step} steps",
            f"beta {config.beta}, label smoothing {config.label_smoothing}",
            metadata={k: v for k, v in final.items() if np.isfinite(v)},
        )
    return DPOResult(
        steps=run.step,
        total_steps=run.total,
        history=read_metrics(config.log_path),
        final_metrics=final,
        resumed_from=run.resumed_from,
        client=client,
    )
