"""The on-policy distillation loop: the student samples, the teacher grades, the student
takes a policy-gradient step on the negative reverse KL.

Per step ``s``: evaluate first when due (numbers for the weights after ``s`` steps, on the
row of step ``s``); snapshot the student's weights into a sampler; sample
``samples_per_prompt`` completions of each prompt of batch ``s`` with seeds drawn from
(seed, step), so the step is a pure function of the weights; let the teacher score them;
build importance-sampling data whose advantages are ``-kl_coef`` times the per-token reverse
KL, divided by the step's number of completion tokens (the gradient is then that of the
mean per-token objective, whatever the lengths); one ``forward_backward`` with ``loss_fn``
and one ``optim_step``. A resumed run (newest checkpoint: weights, Adam state, step) repeats
the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crucible import prng
from crucible.train.adapters import numpy_lm
from crucible.train.checkpoint import CheckpointManager
from crucible.train.datasets.order import split_indices
from crucible.train.distillation.config import DistillConfig, distill_fingerprint
from crucible.train.distillation.evaluation import ReverseKLEvaluator
from crucible.train.distillation.prompts import PromptSet
from crucible.train.distillation.rollouts import (
    grade_rollouts,
    kl_advantages,
    rollout_datum,
    sample_rollouts,
)
from crucible.train.evaluation import Evaluator
from crucible.train.instrumentation import RunInstruments, Tracer
from crucible.train.loggers import Logger, dump_config, read_metrics, rewind_metrics, setup_logger
from crucible.train.ports.sampling import SamplingClient
from crucible.train.ports.training import TrainingClient
from crucible.train.renderers import get_renderer, renderer_special_tokens
from crucible.train.schedule import lr_multiplier
from crucible.train.supervised.build import load_examples
from crucible.train.tokenizers import Tokenizer, get_tokenizer
from crucible.train.types import AdamParams, ModelInput, SamplingParams

__all__ = ["DistillResult", "build_prompt_sets", "train_distill"]


@dataclass
class DistillResult:
    """How the run ended: steps done, every logged row, the final numbers, the student."""

    steps: int
    total_steps: int
    history: list[dict[str, Any]] = field(default_factory=list)
    final_metrics: dict[str, float] = field(default_factory=dict)
    resumed_from: int | None = None
    client: TrainingClient | None = None


def build_prompt_sets(
    config: DistillConfig, tokenizer: Tokenizer
) -> tuple[PromptSet, list[ModelInput]]:
    """Training prompts and up to ``eval_prompts`` held-out ones from ``config.dataset``."""
    renderer = get_renderer(config.renderer, tokenizer)
    examples = load_examples(config.dataset)
    train_idx, val_idx = split_indices(len(examples), config.val_fraction, config.seed)
    train = PromptSet.from_examples(
        [examples[int(i)] for i in train_idx],
        renderer,
        batch_size=config.prompts_per_batch,
        seed=config.seed,
    )
    held_out = [examples[int(i)] for i in val_idx]
    val = PromptSet.from_examples(held_out, renderer, batch_size=1).prompts if held_out else []
    return train, val[: config.eval_prompts]


def sampling_params(config: DistillConfig, stop: list[int] | list[str]) -> SamplingParams:
    return SamplingParams(
        max_tokens=config.max_tokens, temperature=config.temperature, stop=list(stop)
    )


class _DistillRun:
    def __init__(
        self,
        config: DistillConfig,
        student: TrainingClient,
        teacher: SamplingClient,
        prompts: PromptSet,
        params: SamplingParams,
        evaluators: list[Evaluator],
        instruments: RunInstruments,
    ) -> None:
        self.cfg = config
        self.student = student
        self.teacher = teacher
        self.prompts = prompts
        self.params = params
        self.evaluators = evaluators
        self.inst = instruments
        self.steps_per_epoch = len(prompts)
        total = self.steps_per_epoch * config.num_epochs
        self.total = min(total, config.max_steps) if config.max_steps else total
        self.ckpts = CheckpointManager(
            Path(config.log_path) / "checkpoints", keep_last=config.keep_last, keep_best=False
        )
        self.fingerprint = distill_fingerprint(config)
        self.step = 0
        self.completed = False
        self.resumed_from: int | None = None

    def resume(self) -> None:
        ckpt = self.ckpts.load_latest(self.student)
        if ckpt is None or ckpt.manifest.config_fingerprint != self.fingerprint:
            return
        self.step = int(ckpt.manifest.loop_state.get("step", 0))
        self.completed = bool(ckpt.manifest.loop_state.get("completed", False))
        self.resumed_from = self.step
        if not self.completed:
            rewind_metrics(self.cfg.log_path, self.step)
        self.inst.resumed(self.step, str(ckpt.path))

    def save(self, kind: str, metrics: Mapping[str, Any]) -> None:
        ckpt = self.ckpts.save(
            self.student,
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
            out.update(evaluator(self.student))
        return out

    def adam(self) -> AdamParams:
        cfg = self.cfg
        mult = lr_multiplier(
            cfg.lr_schedule, self.step, self.total, cfg.warmup_steps, cfg.min_lr_ratio
        )
        return AdamParams(
            learning_rate=cfg.learning_rate * mult,
            beta1=cfg.adam_beta1,
            beta2=cfg.adam_beta2,
            eps=cfg.adam_eps,
            weight_decay=cfg.weight_decay,
            grad_clip_norm=cfg.grad_clip_norm,
        )

    def train_step(self) -> dict[str, Any]:
        cfg = self.cfg
        epoch, index = divmod(self.step, self.steps_per_epoch)
        prompts = self.prompts.get_batch(epoch, index)
        draws = prng.default_rng([cfg.seed, 0xD157, self.step]).integers(
            0, 2**62, size=len(prompts)
        )
        sampler = self.student.save_weights_and_get_sampling_client(f"distill-{self.step}")
        rollouts = sample_rollouts(
            sampler, prompts, cfg.samples_per_prompt, self.params, [int(s) for s in draws]
        )
        graded = grade_rollouts(self.teacher, rollouts)
        num_tokens = sum(len(g.rollout.tokens) for g in graded)
        data = [
            rollout_datum(
                g.rollout,
                kl_advantages(g.reverse_kl, cfg.kl_coef, cfg.kl_discount) / num_tokens,
            )
            for g in graded
        ]
        hp = self.adam()
        self.student.forward_backward(data, cfg.loss_fn)
        opt = self.student.optim_step(hp)
        student = np.concatenate([g.rollout.logprobs for g in graded])
        teacher = np.concatenate([g.teacher_logprobs for g in graded])
        return {
            "epoch": epoch,
            "progress": (self.step + 1) / self.total,
            "learning_rate": hp.learning_rate,
            "distill/reverse_kl": float(np.mean(student - teacher)),
            "distill/teacher_logprob": float(np.mean(teacher)),
            "distill/student_logprob": float(np.mean(student)),
            "distill/completion_length": num_tokens / len(graded),
            "distill/stop_rate": float(np.mean([g.rollout.stopped for g in graded])),
            "grad_norm": opt.metrics.get("grad_norm", float("nan")),
            "num_samples": len(graded),
            "num_tokens": num_tokens,
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
        return {k: float(v) for k, v in {**last, **final}.items() if isinstance(v, (int, float))}


def train_distill(
    config: DistillConfig,
    *,
    teacher: SamplingClient,
    student: TrainingClient | None = None,
    train_prompts: PromptSet | None = None,
    val_prompts: list[ModelInput] | None = None,
    evaluators: list[Evaluator] | None = None,
    logger: Logger | None = None,
    tracer: Tracer | None = None,
) -> DistillResult:
    """Run (or resume) on-policy distillation of ``teacher`` (which must share the
    student's tokenizer) into ``student``; anything not passed is built from ``config``."""
    if student is None:
        tokenizer = get_tokenizer(config.tokenizer, renderer_special_tokens(config.renderer))
        student = numpy_lm.create(
            config.model, tokenizer, seed=config.seed, **config.model_overrides
        )
    stop = get_renderer(config.renderer, student.get_tokenizer()).stop_sequences()
    if train_prompts is None:
        train_prompts, built_val = build_prompt_sets(config, student.get_tokenizer())
        val_prompts = built_val if val_prompts is None else val_prompts
    params = sampling_params(config, stop)
    evals = list(evaluators or [])
    if val_prompts:
        evals.append(
            ReverseKLEvaluator(
                teacher,
                val_prompts,
                params=params,
                samples_per_prompt=config.eval_samples_per_prompt,
                seed=config.seed,
            )
        )
    # Telemetry only: the run's trace decisions are recorded here, in distillation's words.
    inst = RunInstruments(Path(config.log_path).name, None, config.model)
    run = _DistillRun(config, student, teacher, train_prompts, params, evals, inst)
    if config.resume:
        run.resume()
    if tracer is not None:
        tracer.record(
            "training_started",
            f"distill the teacher into the student for {run.total} steps",
            f"{config.samples_per_prompt} samples x {config.prompts_per_batch} prompts per "
            f"step, advantage = -{config.kl_coef} x per-token reverse KL, {config.loss_fn}",
            metadata={"total_steps": run.total, "resumed_from": run.resumed_from},
        )
    own_logger = logger is None
    log = logger or setup_logger(config.loggers, config.log_path, total_steps=run.total)
    hparams = {"config": dump_config(config), "total_steps": run.total, "objective": "distill"}
    try:
        log.log_hparams(hparams)
        inst.started(hparams, total_steps=run.total, epochs=config.num_epochs)
        final = run.run(log)
        inst.completed(
            steps=run.step,
            epochs=-(-run.step // max(run.steps_per_epoch, 1)),
            final_loss=final.get("distill/reverse_kl"),
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
            f"distillation finished after {run.step} steps",
            metadata={k: v for k, v in final.items() if np.isfinite(v)},
        )
    return DistillResult(
        steps=run.step,
        total_steps=run.total,
        history=read_metrics(config.log_path),
        final_metrics=final,
        resumed_from=run.resumed_from,
        client=student,
    )
