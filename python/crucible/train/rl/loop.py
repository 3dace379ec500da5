"""The RL loop: sample groups, score them, turn advantages into a policy-gradient step.

Per step ``s``: evaluate first when due (the numbers describe the weights after ``s``
steps, as in the supervised loop); snapshot the weights into a sampling client; roll out
batch ``s`` of the data set, each group with a seed derived from (run seed, step, group);
compute group-centred advantages, drop degenerate groups if asked, build Datums, apply
the KL penalty against the reference (a frozen copy of the weights the run started
from), and take ``num_substeps`` optimizer steps with the ``importance_sampling`` or
``ppo`` loss. The step's row goes to the loggers; wall-clock figures go to telemetry only,
so ``metrics.jsonl`` is identical for a fixed seed.

Resuming loads the newest checkpoint and continues at its step; since every step's
samples depend only on the seed and the weights, the remaining rows repeat exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crucible.errors import InvalidArgumentError
from crucible.train.checkpoint import CheckpointManager, Kind
from crucible.train.evaluation import Evaluator
from crucible.train.instrumentation import Tracer
from crucible.train.loggers import Logger, dump_config, read_metrics, rewind_metrics, setup_logger
from crucible.train.ports.sampling import SamplingClient
from crucible.train.ports.training import SupportsModelInfo, TrainingClient
from crucible.train.rl.build import build_rl_parts
from crucible.train.rl.config import RLConfig, rl_config_fingerprint
from crucible.train.rl.instruments import RLInstruments
from crucible.train.rl.optimize import optimize_policy, policy_data
from crucible.train.rl.rollouts import RolloutPolicy, rollout_group, rollout_seed
from crucible.train.rl.types import RLDataset
from crucible.train.steps import adam_params, evaluate_all, save_checkpoint

__all__ = ["RLResult", "train_rl"]


@dataclass
class RLResult:
    """How the run ended. ``history`` is ``metrics.jsonl`` read back; ``final_metrics`` the
    last step's row merged with the final evaluation; ``seconds`` and ``tokens`` are the
    wall time and tokens of the steps run in this process (telemetry, not results)."""

    steps: int
    history: list[dict[str, Any]] = field(default_factory=list)
    final_metrics: dict[str, float] = field(default_factory=dict)
    resumed_from: int | None = None
    seconds: float = 0.0
    tokens: int = 0
    client: TrainingClient | None = None

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


class _Run:
    def __init__(
        self,
        config: RLConfig,
        client: TrainingClient,
        dataset: RLDataset,
        reference: SamplingClient | None,
        evaluators: list[Evaluator],
        instruments: RLInstruments,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        if len(dataset) < 1:
            raise InvalidArgumentError("the RL data set has no batches")
        self.cfg = config
        self.client = client
        self.dataset = dataset
        self.reference = reference
        self.evaluators = evaluators
        self.inst = instruments
        self.progress = progress
        self.log_dir = Path(config.log_path)
        self.ckpts = CheckpointManager(self.log_dir / "checkpoints", keep_last=config.keep_last)
        self.fingerprint = rl_config_fingerprint(config)
        self.trace_every = max(1, config.steps // 10)
        self.step = 0
        self.completed = False
        self.result = RLResult(steps=0, client=client)

    def resume(self) -> None:
        ckpt = self.ckpts.load_latest(self.client)
        if ckpt is None:
            return
        if ckpt.manifest.config_fingerprint != self.fingerprint:
            raise InvalidArgumentError(
                f"{ckpt.path} was written under another RL config; use a new log_path "
                "or resume=False"
            )
        self.step = int(ckpt.manifest.loop_state.get("step", 0))
        self.completed = bool(ckpt.manifest.loop_state.get("completed", False))
        self.result.resumed_from = self.step
        if not self.completed:
            rewind_metrics(self.log_dir, self.step)

    def save(self, kind: Kind, metrics: dict[str, float]) -> None:
        ckpt, size = save_checkpoint(
            self.ckpts,
            self.client,
            kind=kind,
            step=self.step,
            metrics=metrics,
            fingerprint=self.fingerprint,
            loop_state={"step": self.step, "completed": self.completed},
        )
        rel = ckpt.path.relative_to(self.log_dir).as_posix()
        self.inst.checkpoint_saved(rel, step=self.step, kind=kind, size=size)

    def evaluate(self) -> dict[str, float]:
        return evaluate_all(self.evaluators, self.client)

    def train_step(self) -> dict[str, float]:
        cfg, step = self.cfg, self.step
        builders = self.dataset.get_batch(step % len(self.dataset))
        sampler = self.client.save_weights_and_get_sampling_client(f"step-{step}")
        policy = RolloutPolicy(sampler, cfg.max_tokens, cfg.temperature)
        groups = [
            rollout_group(builder, policy, rollout_seed(cfg.seed, step, index))
            for index, builder in enumerate(builders)
        ]
        data, metrics = policy_data(
            groups,
            normalize_std=cfg.normalize_advantages,
            drop_degenerate=cfg.drop_degenerate_groups,
            reference=self.reference,
            kl_coef=cfg.kl_coef,
        )
        hp = adam_params(cfg, step, cfg.steps)
        metrics.update(
            optimize_policy(
                self.client,
                data,
                hp,
                loss_fn=cfg.loss_fn,
                num_substeps=cfg.num_substeps,
                clip=(cfg.clip_low, cfg.clip_high),
            )
        )
        metrics["learning_rate"] = hp.learning_rate
        metrics["progress"] = (step + 1) / cfg.steps
        return metrics

    def run(self, logger: Logger) -> None:
        cfg = self.cfg
        last: dict[str, float] = {}
        while self.step < cfg.steps and not self.completed:
            began = time.perf_counter()
            row: dict[str, float] = {}
            if self.evaluators and cfg.eval_every and self.step % cfg.eval_every == 0:
                row.update(self.evaluate())
            metrics = self.train_step()
            row.update(metrics)
            logger.log_metrics(row, self.step)
            seconds = time.perf_counter() - began
            self.result.seconds += seconds
            self.result.tokens += int(metrics.get("num_tokens", 0.0))
            self.inst.step(row, step=self.step, seconds=seconds)
            if self.step % self.trace_every == 0 or self.step == cfg.steps - 1:
                self.inst.policy_updated(self.step, row)
            self.step += 1
            last = row
            if self.progress is not None:
                self.progress(self.step, cfg.steps)
            if cfg.save_every and self.step % cfg.save_every == 0 and self.step < cfg.steps:
                self.save("periodic", row)
        if self.completed:
            return
        if self.evaluators:
            final = self.evaluate()
            logger.log_metrics(final, self.step)
            last = {**last, **final}
        self.completed = True
        self.save("final", last)
        self.result.final_metrics = last
        self.inst.completed(self.step, last)


def train_rl(
    config: RLConfig,
    *,
    client: TrainingClient | None = None,
    dataset: RLDataset | None = None,
    reference: SamplingClient | None = None,
    evaluators: Sequence[Evaluator] | None = None,
    logger: Logger | None = None,
    tracer: Tracer | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RLResult:
    """Run (or resume) an RL run. Anything not passed is built from ``config`` (the NumPy
        LM, the bundled task as data set). The reference model for the KL penalty and the
        ``kl/policy_reference`` metric is, unless given, a frozen copy of ``client``'s weights
        as passed in (taken before any checkpoint is loaded). ``progress(done, total)`` is called
    after every step."""
    parts = build_rl_parts(config, client, dataset)
    client = parts.client
    if reference is None and (config.kl_coef > 0.0 or config.track_reference_kl):
        reference = client.save_weights_and_get_sampling_client("reference")
    info = client.model_info() if isinstance(client, SupportsModelInfo) else None
    inst = RLInstruments(Path(config.log_path).name, tracer, info.name if info else config.model)
    run = _Run(config, client, parts.dataset, reference, list(evaluators or []), inst, progress)
    own_logger = logger is None
    active: Logger | None = None
    try:
        if config.resume:
            run.resume()
        active = logger or setup_logger(config.loggers, config.log_path, total_steps=config.steps)
        hparams: dict[str, Any] = {"config": dump_config(config), "total_steps": config.steps}
        if info is not None:
            hparams["model"] = dump_config(info.summary())
        active.log_hparams(hparams)
        inst.started(hparams, total_steps=config.steps, resumed_at=run.step)
        run.run(active)
    except BaseException as exc:
        inst.failed(exc)
        raise
    finally:
        if own_logger and active is not None:
            active.close()
    result = run.result
    result.steps = run.step
    result.history = read_metrics(config.log_path)
    if not result.final_metrics and result.history:
        result.final_metrics = _final_row(result.history)
    return result


def _final_row(history: list[dict[str, Any]]) -> dict[str, float]:
    """The last training row merged with any later evaluation row (for resumed runs)."""
    out: dict[str, float] = {}
    for row in history[-2:]:
        out.update({k: float(v) for k, v in row.items() if k != "step" and _is_number(v)})
    return out


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)
