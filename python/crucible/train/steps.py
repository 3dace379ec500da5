"""The optimizer-step skeleton the training objectives share.

Every loop (supervised, DPO, distillation, RL) takes the scheduled Adam settings for step
``s`` (:func:`adam_params`), merges its evaluators' numbers (:func:`evaluate_all`) and
saves checkpoints stamped with the config fingerprint and loop state
(:func:`save_checkpoint`). The DPO and distillation loops also share the whole epoch-based
driver, :class:`EpochRun`: resume from the newest checkpoint of the same settings, evaluate
when due, train, log the step's row, checkpoint when due, and end with a final evaluation
and a final checkpoint; an objective supplies only ``train_step``, and reports how the run
ended as an :class:`EpochOutcome`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from crucible.train.adapters import numpy_lm
from crucible.train.checkpoint import Checkpoint, CheckpointManager, Kind
from crucible.train.evaluation import Evaluator
from crucible.train.instrumentation import RunInstruments
from crucible.train.loggers import (
    Logger,
    dump_config,
    read_metrics,
    rewind_metrics,
    setup_logger,
)
from crucible.train.ports.training import TrainingClient
from crucible.train.renderers import renderer_special_tokens
from crucible.train.schedule import LRSchedule, lr_multiplier
from crucible.train.tokenizers import get_tokenizer
from crucible.train.types import AdamParams

__all__ = [
    "AdamSchedule",
    "EpochOutcome",
    "EpochRun",
    "EpochRunConfig",
    "ModelFields",
    "adam_params",
    "evaluate_all",
    "fresh_client",
    "save_checkpoint",
]


class ModelFields(Protocol):
    """What names a NumPy LM: the training settings and the pipeline's model spec both
    carry these fields."""

    @property
    def model(self) -> str: ...
    @property
    def model_overrides(self) -> Mapping[str, Any]: ...
    @property
    def tokenizer(self) -> str: ...
    @property
    def renderer(self) -> str: ...


def fresh_client(settings: ModelFields, seed: int) -> numpy_lm.NumpyLMTrainingClient:
    """A new NumPy LM from the model fields: the byte tokenizer (or the one named) with the
    renderer's special tokens, weights drawn from ``seed``."""
    tokenizer = get_tokenizer(settings.tokenizer, renderer_special_tokens(settings.renderer))
    return numpy_lm.create(settings.model, tokenizer, seed=seed, **settings.model_overrides)


class AdamSchedule(Protocol):
    """The optimizer fields of :class:`~crucible.train.run_settings.TrainingSettings`."""

    @property
    def learning_rate(self) -> float: ...

    @property
    def lr_schedule(self) -> LRSchedule: ...

    @property
    def warmup_steps(self) -> int: ...

    @property
    def min_lr_ratio(self) -> float: ...

    @property
    def adam_beta1(self) -> float: ...

    @property
    def adam_beta2(self) -> float: ...

    @property
    def adam_eps(self) -> float: ...

    @property
    def weight_decay(self) -> float: ...

    @property
    def grad_clip_norm(self) -> float: ...


def adam_params(settings: AdamSchedule, step: int, total: int) -> AdamParams:
    """Adam's settings for ``step`` of ``total``, the learning rate scaled by the schedule."""
    mult = lr_multiplier(
        settings.lr_schedule, step, total, settings.warmup_steps, settings.min_lr_ratio
    )
    return AdamParams(
        learning_rate=settings.learning_rate * mult,
        beta1=settings.adam_beta1,
        beta2=settings.adam_beta2,
        eps=settings.adam_eps,
        weight_decay=settings.weight_decay,
        grad_clip_norm=settings.grad_clip_norm,
    )


def evaluate_all(evaluators: Sequence[Evaluator], client: TrainingClient) -> dict[str, float]:
    """Every evaluator's numbers for the client's current weights, merged in order."""
    out: dict[str, float] = {}
    for evaluator in evaluators:
        out.update(evaluator(client))
    return out


def save_checkpoint(
    ckpts: CheckpointManager,
    client: TrainingClient,
    *,
    kind: Kind,
    step: int,
    metrics: Mapping[str, float],
    fingerprint: str,
    loop_state: Mapping[str, Any],
) -> tuple[Checkpoint, int]:
    """Save the client's state; the checkpoint and its size in bytes (for telemetry)."""
    ckpt = ckpts.save(
        client,
        kind=kind,
        step=step,
        metrics=metrics,
        config_fingerprint=fingerprint,
        loop_state=loop_state,
    )
    return ckpt, sum(f.stat().st_size for f in ckpt.path.iterdir())


class EpochRunConfig(AdamSchedule, Protocol):
    """What :class:`EpochRun` reads from an objective's config."""

    @property
    def log_path(self) -> str: ...

    @property
    def loggers(self) -> Sequence[str]: ...

    @property
    def num_epochs(self) -> int: ...

    @property
    def max_steps(self) -> int | None: ...

    @property
    def keep_last(self) -> int: ...

    @property
    def eval_every(self) -> int: ...

    @property
    def save_every(self) -> int: ...


ConfigT = TypeVar("ConfigT", bound=EpochRunConfig)
OutcomeT = TypeVar("OutcomeT", bound="EpochOutcome")


@dataclass
class EpochOutcome:
    """How an epoch-based run ended: steps done, every logged row, the final numbers, the
    trained client."""

    steps: int
    total_steps: int
    history: list[dict[str, Any]] = field(default_factory=list)
    final_metrics: dict[str, float] = field(default_factory=dict)
    resumed_from: int | None = None
    client: TrainingClient | None = None

    @classmethod
    def of(cls: type[OutcomeT], run: EpochRun[Any], final: dict[str, float]) -> OutcomeT:
        """The outcome of ``run`` after :meth:`EpochRun.drive` returned ``final``."""
        return cls(
            steps=run.step,
            total_steps=run.total,
            history=read_metrics(run.cfg.log_path),
            final_metrics=final,
            resumed_from=run.resumed_from,
            client=run.client,
        )


class EpochRun(ABC, Generic[ConfigT]):
    """One epoch-based run: ``steps_per_epoch * num_epochs`` steps (at most ``max_steps``)
    of ``train_step``, whose rows hold no wall time so they repeat exactly for a seed."""

    def __init__(
        self,
        config: ConfigT,
        client: TrainingClient,
        *,
        steps_per_epoch: int,
        fingerprint: str,
        evaluators: list[Evaluator],
        instruments: RunInstruments,
    ) -> None:
        self.cfg = config
        self.client = client
        self.evaluators = evaluators
        self.inst = instruments
        self.steps_per_epoch = steps_per_epoch
        total = steps_per_epoch * config.num_epochs
        self.total = min(total, config.max_steps) if config.max_steps else total
        self.ckpts = CheckpointManager(
            Path(config.log_path) / "checkpoints", keep_last=config.keep_last, keep_best=False
        )
        self.fingerprint = fingerprint
        self.step = 0
        self.completed = False
        self.resumed_from: int | None = None

    @abstractmethod
    def train_step(self) -> dict[str, Any]:
        """One optimizer step at ``self.step``; the row to log."""

    def adam(self) -> AdamParams:
        return adam_params(self.cfg, self.step, self.total)

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

    def save(self, kind: Kind, metrics: Mapping[str, Any]) -> None:
        ckpt, size = save_checkpoint(
            self.ckpts,
            self.client,
            kind=kind,
            step=self.step,
            metrics={k: v for k, v in metrics.items() if isinstance(v, float)},
            fingerprint=self.fingerprint,
            loop_state={"step": self.step, "completed": self.completed},
        )
        self.inst.checkpoint_saved(str(ckpt.path), step=self.step, kind=kind, size_bytes=size)

    def evaluate(self) -> dict[str, float]:
        return evaluate_all(self.evaluators, self.client)

    def run(self, logger: Logger) -> dict[str, float]:
        """Steps until done; the numeric columns of the last row and final evaluation."""
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
        return {k: float(v) for k, v in {**last, **final}.items() if isinstance(v, (int, float))}

    def drive(self, logger: Logger | None, objective: str, loss_key: str) -> dict[str, float]:
        """:meth:`run` with the hyper-parameters logged and the run's telemetry around it;
        a logger built here from ``config.loggers`` is closed here."""
        cfg = self.cfg
        log = logger or setup_logger(cfg.loggers, cfg.log_path, total_steps=self.total)
        hparams = {"config": dump_config(cfg), "total_steps": self.total, "objective": objective}
        try:
            log.log_hparams(hparams)
            self.inst.started(hparams, total_steps=self.total, epochs=cfg.num_epochs)
            final = self.run(log)
            self.inst.completed(
                steps=self.step,
                epochs=-(-self.step // max(self.steps_per_epoch, 1)),
                final_loss=final.get(loss_key),
            )
        except BaseException as exc:
            self.inst.failed(exc)
            raise
        finally:
            if logger is None:
                log.close()
        return final
