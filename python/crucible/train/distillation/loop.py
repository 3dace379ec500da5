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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crucible import prng
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
from crucible.train.loggers import Logger
from crucible.train.ports.sampling import SamplingClient
from crucible.train.ports.training import TrainingClient
from crucible.train.renderers import get_renderer
from crucible.train.steps import EpochOutcome, EpochRun, fresh_client
from crucible.train.supervised.build import load_examples
from crucible.train.tokenizers import Tokenizer
from crucible.train.types import ModelInput, SamplingParams

__all__ = ["DistillResult", "build_prompt_sets", "train_distill"]


@dataclass
class DistillResult(EpochOutcome):
    """How the distillation ended: steps done, every logged row, the final numbers, the
    student."""


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


class _DistillRun(EpochRun[DistillConfig]):
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
        super().__init__(
            config,
            student,
            steps_per_epoch=len(prompts),
            fingerprint=distill_fingerprint(config),
            evaluators=evaluators,
            instruments=instruments,
        )
        self.teacher = teacher
        self.prompts = prompts
        self.params = params

    def train_step(self) -> dict[str, Any]:
        cfg = self.cfg
        epoch, index = divmod(self.step, self.steps_per_epoch)
        prompts = self.prompts.get_batch(epoch, index)
        draws = prng.default_rng([cfg.seed, 0xD157, self.step]).integers(
            0, 2**62, size=len(prompts)
        )
        sampler = self.client.save_weights_and_get_sampling_client(f"distill-{self.step}")
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
        self.client.forward_backward(data, cfg.loss_fn)
        opt = self.client.optim_step(hp)
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
        student = fresh_client(config, config.seed)
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
    final = run.drive(logger, "distill", "distill/reverse_kl")
    if tracer is not None:
        tracer.record(
            "training_completed",
            f"distillation finished after {run.step} steps",
            metadata={k: v for k, v in final.items() if np.isfinite(v)},
        )
    return DistillResult.of(run, final)
