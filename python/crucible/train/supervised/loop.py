"""The supervised training loop: batches in, optimizer steps out, everything recorded.

Per optimizer step ``s``: evaluate first when due (so the numbers describe the weights after
``s`` steps, tinker-cookbook's convention, and share the row of step ``s``), then take
``grad_accumulation_steps`` batches, scale their weights by ``1 / total weight`` so the
gradient is that of the mean NLL per trained token whatever the accumulation, run
``forward_backward`` on each and one ``optim_step``, log the row, and checkpoint when due.

Resuming loads the newest loadable checkpoint (weights, Adam state, RNG state, loop state),
drops the ``metrics.jsonl`` rows it will redo, and continues at the same step; batches are a
pure function of (seed, epoch, index), so every following row is identical.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crucible.errors import InvalidArgumentError
from crucible.train.checkpoint import CheckpointManager, Kind
from crucible.train.config import SupervisedConfig, config_fingerprint
from crucible.train.datasets.supervised import SupervisedDataset
from crucible.train.evaluation import Evaluator, NLLEvaluator
from crucible.train.instrumentation import RunInstruments, Tracer
from crucible.train.loggers import (
    Logger,
    dump_config,
    read_metrics,
    rewind_metrics,
    setup_logger,
)
from crucible.train.ports.training import SupportsModelInfo, TrainingClient
from crucible.train.steps import adam_params, evaluate_all, save_checkpoint
from crucible.train.supervised.build import build_client, build_parts
from crucible.train.supervised.state import LoopState
from crucible.train.tokenizers import Tokenizer

__all__ = ["TrainResult", "train"]


@dataclass
class TrainResult:
    """How a run ended, and where the time went (``backend_seconds`` is time inside the
    training client during steps; the rest of ``step_seconds`` is the loop's own work)."""

    steps: int
    total_steps: int
    history: list[dict[str, Any]] = field(default_factory=list)
    best_value: float | None = None
    best_step: int | None = None
    stopped_early: bool = False
    resumed_from: int | None = None
    step_seconds: float = 0.0
    backend_seconds: float = 0.0
    client: TrainingClient | None = None

    @property
    def overhead_fraction(self) -> float:
        return 1.0 - self.backend_seconds / self.step_seconds if self.step_seconds else 0.0


class _Run:
    def __init__(
        self,
        config: SupervisedConfig,
        client: TrainingClient,
        data: SupervisedDataset,
        evaluators: list[Evaluator],
        logger: Logger,
        instruments: RunInstruments,
    ) -> None:
        self.cfg = config
        self.client = client
        self.data = data
        self.evaluators = evaluators
        self.logger = logger
        self.inst = instruments
        self.accum = config.grad_accumulation_steps
        self.steps_per_epoch = len(data) // self.accum
        if self.steps_per_epoch == 0:
            raise InvalidArgumentError(
                f"{data.num_examples} examples make no full step of "
                f"{config.batch_size} x {self.accum} examples"
            )
        total = self.steps_per_epoch * config.num_epochs
        self.total = min(total, config.max_steps) if config.max_steps else total
        self.ckpts = CheckpointManager(
            Path(config.log_path) / "checkpoints",
            keep_last=config.keep_last,
            keep_best=config.keep_best,
        )
        self.fingerprint = config_fingerprint(config)
        rule = config.early_stopping
        self.monitor = rule.monitor if rule else "val/nll"
        self.mode = rule.mode if rule else "min"
        self.state = LoopState()
        self.result = TrainResult(steps=0, total_steps=self.total, client=client)

    # --- pieces ---------------------------------------------------------------------------

    def resume(self) -> None:
        ckpt = self.ckpts.load_latest(self.client)
        if ckpt is None:
            return
        if ckpt.manifest.config_fingerprint != self.fingerprint:
            warnings.warn(f"resuming {ckpt.path} under a different training config", UserWarning, 3)
        self.state = LoopState.from_builtins(ckpt.manifest.loop_state)
        self.result.resumed_from = self.state.step
        if not self.state.completed:
            rewind_metrics(self.cfg.log_path, self.state.step)
        self.inst.resumed(self.state.step, str(ckpt.path))

    def save(self, kind: Kind, metrics: dict[str, Any]) -> None:
        if kind == "best" and not self.cfg.keep_best:
            return
        epoch = self.state.step // self.steps_per_epoch
        loop_state = {**self.state.to_builtins(), "epoch": epoch}
        numeric = {k: v for k, v in metrics.items() if isinstance(v, float)}
        ckpt, size = save_checkpoint(
            self.ckpts,
            self.client,
            kind=kind,
            step=self.state.step,
            metrics=numeric,
            fingerprint=self.fingerprint,
            loop_state=loop_state,
        )
        self.inst.checkpoint_saved(str(ckpt.path), step=self.state.step, kind=kind, size_bytes=size)

    def evaluate(self, metrics: dict[str, Any]) -> None:
        metrics.update(evaluate_all(self.evaluators, self.client))
        value = metrics.get(self.monitor)
        if not isinstance(value, float):
            return
        if self.state.observe(value, self.state.step, self.cfg.early_stopping, self.mode):
            self.save("best", metrics)

    def train_step(self, metrics: dict[str, Any]) -> None:
        step = self.state.step
        epoch, index = divmod(step, self.steps_per_epoch)
        t_start = time.perf_counter()
        self.data.set_epoch(epoch)
        batches = [self.data.get_batch(index * self.accum + i) for i in range(self.accum)]
        total_weight = float(sum(b.weights.sum(dtype=np.float64) for b in batches))
        inv = np.float32(1.0 / total_weight) if total_weight > 0 else np.float32(0.0)
        for batch in batches:
            batch.weights *= inv
        nll = correct = loss_tokens = 0.0
        hp = adam_params(self.cfg, step, self.total)
        t_backend = time.perf_counter()
        for batch in batches:
            out = self.client.forward_backward(batch, "cross_entropy")
            nll += out.metrics["nll:sum"]
            correct += out.metrics["correct:sum"]
            loss_tokens += out.metrics["num_loss_tokens"]
        opt = self.client.optim_step(hp)
        t_end = time.perf_counter()
        tokens = sum(batch.num_tokens for batch in batches)
        elapsed = t_end - t_start
        metrics.update(
            {
                "epoch": epoch,
                "progress": (step + 1) / self.total,
                "learning_rate": hp.learning_rate,
                "train/nll": nll,
                "train/accuracy": correct,
                "grad_norm": opt.metrics.get("grad_norm", float("nan")),
                "batch_size": self.cfg.batch_size * self.accum,
                "num_tokens": tokens,
                "num_loss_tokens": int(loss_tokens),
                "throughput/tokens_per_second": tokens / elapsed if elapsed > 0 else 0.0,
                "time/step": elapsed,
                "time/backend": t_end - t_backend,
            }
        )
        self.result.backend_seconds += t_end - t_backend

    # --- the loop -------------------------------------------------------------------------

    def run(self) -> TrainResult:
        cfg, state = self.cfg, self.state
        last: dict[str, Any] = {}
        if state.step % self.steps_per_epoch == 0 and state.step < self.total:
            self.inst.epoch_started(state.step // self.steps_per_epoch)
        while state.step < self.total and not state.completed:
            t0 = time.perf_counter()
            metrics: dict[str, Any] = {}
            if self.evaluators and cfg.eval_every and state.step % cfg.eval_every == 0:
                self.evaluate(metrics)
                if state.should_stop(cfg.early_stopping):
                    state.stopped_early = True
                    self.logger.log_metrics(metrics, state.step)
                    break
            self.train_step(metrics)
            step = state.step
            state.step += 1
            self.logger.log_metrics(metrics, step)
            self.inst.step(
                metrics,
                step=step,
                epoch=metrics["epoch"],
                duration_ns=int(metrics["time/step"] * 1e9),
            )
            last = metrics
            if cfg.save_every and state.step % cfg.save_every == 0 and state.step < self.total:
                self.save("periodic", metrics)
            if state.step % self.steps_per_epoch == 0:
                epoch = state.step // self.steps_per_epoch - 1
                self.inst.epoch_completed(epoch, metrics)
                if state.step < self.total:
                    self.inst.epoch_started(epoch + 1)
            self.result.step_seconds += time.perf_counter() - t0
        self.finish(last)
        return self.result

    def finish(self, last: dict[str, Any]) -> None:
        cfg, state = self.cfg, self.state
        if state.completed:
            return
        if state.stopped_early and cfg.early_stopping is not None:
            assert state.best_value is not None
            assert state.best_step is not None
            self.inst.early_stopped(state.step, self.monitor, state.best_value, state.best_step)
        elif self.evaluators:
            final: dict[str, Any] = {}
            self.evaluate(final)
            self.logger.log_metrics(final, state.step)
            last = {**last, **final}
        rule = cfg.early_stopping
        best = self.ckpts.best()
        if rule is not None and rule.restore_best and best is not None:
            self.ckpts.load(best.path, self.client, weights_only=True)
        state.completed = True
        self.save("final", last)
        nll = last.get("train/nll")
        self.inst.completed(
            steps=state.step,
            epochs=-(-state.step // self.steps_per_epoch),
            final_loss=nll if isinstance(nll, float) else None,
        )


def train(
    config: SupervisedConfig,
    *,
    client: TrainingClient | None = None,
    train_data: SupervisedDataset | None = None,
    val_data: SupervisedDataset | None = None,
    evaluators: list[Evaluator] | None = None,
    logger: Logger | None = None,
    tracer: Tracer | None = None,
) -> TrainResult:
    """Run (or resume) a supervised run. Anything not passed is built from ``config``: the
    bundled data set, the byte tokenizer with the renderer's special tokens, the NumPy LM."""
    tokenizer: Tokenizer | None = client.get_tokenizer() if client is not None else None
    if train_data is None:
        parts = build_parts(config, tokenizer)
        train_data = parts.train
        val_data = parts.val if val_data is None else val_data
        tokenizer = parts.tokenizer
    if client is None:
        if tokenizer is None:
            raise InvalidArgumentError("pass a client along with train_data")
        client = build_client(config, tokenizer)
    evals = list(evaluators or [])
    if val_data is not None:
        evals.append(NLLEvaluator.from_dataset(val_data))
    info = client.model_info() if isinstance(client, SupportsModelInfo) else None
    inst = RunInstruments(Path(config.log_path).name, tracer, info.name if info else config.model)
    own_logger = logger is None
    run: _Run | None = None
    try:
        # The logger is built after the step count is known (the progress bar needs it).
        run = _Run(config, client, train_data, evals, _NullLogger(), inst)
        if config.resume:
            run.resume()
        run.logger = logger or setup_logger(config.loggers, config.log_path, total_steps=run.total)
        hparams = {"config": dump_config(config), "total_steps": run.total}
        if info is not None:
            hparams["model"] = dump_config(info.summary())
        run.logger.log_hparams(hparams)
        inst.started(hparams, total_steps=run.total, epochs=config.num_epochs)
        result = run.run()
    except BaseException as exc:
        inst.failed(exc)
        raise
    finally:
        if own_logger and run is not None and not isinstance(run.logger, _NullLogger):
            run.logger.close()
    result.steps = run.state.step
    result.best_value, result.best_step = run.state.best_value, run.state.best_step
    result.stopped_early = run.state.stopped_early
    result.history = read_metrics(config.log_path)
    return result


class _NullLogger:
    def log_hparams(self, config: Any) -> None:
        pass

    def log_metrics(self, metrics: Any, step: int | None = None) -> None:
        pass

    def log_long_text(self, key: str, text: str) -> None:
        pass

    def close(self) -> None:
        pass
