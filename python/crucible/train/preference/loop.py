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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crucible.errors import InvalidArgumentError
from crucible.train.adapters.numpy_lm.custom_loss import forward_backward_custom
from crucible.train.datasets.order import split_indices
from crucible.train.evaluation import Evaluator
from crucible.train.instrumentation import RunInstruments, Tracer
from crucible.train.loggers import Logger
from crucible.train.ports.training import TrainingClient
from crucible.train.preference.comparisons import load_comparisons
from crucible.train.preference.config import DPOConfig, dpo_fingerprint
from crucible.train.preference.dataset import PreferenceDataset
from crucible.train.preference.evaluation import PreferenceEvaluator
from crucible.train.preference.loss import dpo_loss_fn
from crucible.train.preference.reference import ReferenceScores, reference_scores
from crucible.train.renderers import get_renderer
from crucible.train.steps import EpochOutcome, EpochRun, fresh_client
from crucible.train.tokenizers import Tokenizer

__all__ = ["DPOResult", "build_preference_data", "train_dpo"]


@dataclass
class DPOResult(EpochOutcome):
    """How the DPO run ended: steps done, every logged row, the trained client."""


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


class _DPORun(EpochRun[DPOConfig]):
    def __init__(
        self,
        config: DPOConfig,
        client: TrainingClient,
        data: PreferenceDataset,
        reference: ReferenceScores,
        evaluators: list[Evaluator],
        instruments: RunInstruments,
    ) -> None:
        super().__init__(
            config,
            client,
            steps_per_epoch=len(data),
            fingerprint=dpo_fingerprint(config),
            evaluators=evaluators,
            instruments=instruments,
        )
        self.data = data
        self.reference = reference

    def train_step(self) -> dict[str, Any]:
        epoch, index = divmod(self.step, self.steps_per_epoch)
        self.data.set_epoch(epoch)
        rows = self.data.batch_rows(index)
        batch = self.data.datums(rows)
        ref_chosen, ref_rejected = self.reference.take(rows)
        loss_fn = dpo_loss_fn(
            ref_chosen, ref_rejected, beta=self.cfg.beta, label_smoothing=self.cfg.label_smoothing
        )
        hp = self.adam()
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
        client = fresh_client(config, config.seed)
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
    if tracer is not None:
        tracer.record(
            "training_started",
            f"DPO on {train_data.num_pairs} pairs for {run.total} steps",
            "reference = " + ("a separate model" if reference is not None else "starting weights"),
            metadata={"total_steps": run.total, "resumed_from": run.resumed_from},
        )
    final = run.drive(logger, "dpo", "dpo/loss")
    if tracer is not None:
        tracer.record(
            "training_completed",
            f"DPO finished after {run.step} steps",
            f"beta {config.beta}, label smoothing {config.label_smoothing}",
            metadata={k: v for k, v in final.items() if np.isfinite(v)},
        )
    return DPOResult.of(run, final)
