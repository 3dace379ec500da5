"""What the RL loop tells the world: telemetry on the event bus, decisions on a tracer.

Telemetry (the ``train`` catalogue) may carry wall-clock numbers: step durations and
tokens per second live here and nowhere in ``metrics.jsonl``. Trace events carry only
values that a fixed seed reproduces (paths relative to the run's log directory, metrics,
step numbers), so two runs with the same seed record the same decisions.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from crucible import events
from crucible.telemetry import catalog
from crucible.train.instrumentation import Tracer

__all__ = ["RLInstruments"]


class RLInstruments:
    def __init__(self, run_id: str, tracer: Tracer | None, model: str | None) -> None:
        self.run_id = run_id
        self.tracer = tracer
        self.model = model
        self._started = time.monotonic_ns()

    def _trace(self, type: str, decision: str, reasoning: str = "", **metadata: Any) -> None:
        if self.tracer is not None:
            self.tracer.record(type, decision, reasoning, metadata=dict(metadata))

    def started(self, config: Mapping[str, Any], *, total_steps: int, resumed_at: int) -> None:
        self._started = time.monotonic_ns()
        catalog.emit_training_start(run_id=self.run_id, model=self.model, config=dict(config))
        if resumed_at:
            self._trace(
                "training_resumed",
                f"resume RL at step {resumed_at}",
                "a checkpoint of this run was found",
                step=resumed_at,
            )
        else:
            self._trace(
                "training_started",
                f"RL for {total_steps} steps",
                "group-relative policy optimisation on sampled rollouts",
                total_steps=total_steps,
            )

    def step(self, metrics: Mapping[str, float], *, step: int, seconds: float) -> None:
        """Every metric of the step plus its wall-clock figures, as one batch event."""
        if not events.has_handlers(catalog.TRAIN_BATCH_STOP):
            return
        tokens = metrics.get("num_tokens", 0.0)
        measurements = {
            **metrics,
            "loss": metrics.get("train/loss", 0.0),
            "duration": int(seconds * 1e9),
            "tokens_per_second": tokens / seconds if seconds > 0 else 0.0,
            "learning_rate": metrics.get("learning_rate"),
            "gradient_norm": metrics.get("grad_norm"),
        }
        catalog.emit(catalog.TRAIN_BATCH_STOP, measurements, {"batch": step, "run_id": self.run_id})

    def policy_updated(self, step: int, metrics: Mapping[str, float]) -> None:
        reward = metrics.get("env/reward_mean", 0.0)
        self._trace(
            "policy_updated",
            f"step {step}: mean reward {reward:.4f}",
            "group-centred advantages on this step's rollouts",
            step=step,
            reward_mean=reward,
            frac_degenerate_groups=metrics.get("frac_degenerate_groups", 0.0),
            kl_policy_reference=metrics.get("kl/policy_reference"),
        )

    def checkpoint_saved(self, relative_path: str, *, step: int, kind: str, size: int) -> None:
        catalog.emit_checkpoint_saved(
            checkpoint_path=relative_path, step=step, size_bytes=size, run_id=self.run_id
        )
        self._trace(
            "checkpoint_saved", f"save {kind} checkpoint at step {step}", path=relative_path
        )

    def completed(self, steps: int, metrics: Mapping[str, float]) -> None:
        catalog.emit_training_stop(
            duration=time.monotonic_ns() - self._started,
            steps=steps,
            final_loss=metrics.get("train/loss"),
            run_id=self.run_id,
        )
        self._trace(
            "training_completed",
            f"RL finished after {steps} steps",
            steps=steps,
            reward_mean=metrics.get("env/reward_mean"),
        )

    def failed(self, exc: BaseException) -> None:
        catalog.emit_training_exception(
            duration=time.monotonic_ns() - self._started, exception=exc, run_id=self.run_id
        )
