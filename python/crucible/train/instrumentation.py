"""What a training loop tells the world: telemetry events and trace events.

Telemetry goes through ``crucible.telemetry.catalog`` (the ``train`` catalogue) onto the
event bus; with no handler attached an emit is one dictionary lookup, so instrumenting every
step costs nothing measurable. Trace events go to an optional *tracer*: anything with
``record(type, decision, reasoning="", **fields)``, such as a ``crucible.trace.Chain``, so
decisions (start, resume, checkpoint, early stop) land in a tamper-evident chain.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from crucible import events
from crucible.telemetry import catalog

__all__ = ["RunInstruments", "Tracer"]


@runtime_checkable
class Tracer(Protocol):
    def record(self, type: str, decision: str, reasoning: str = "", **fields: Any) -> object: ...


def _numbers(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


class RunInstruments:
    """The events of one run (``run_id`` ties them together)."""

    def __init__(self, run_id: str, tracer: Tracer | None = None, model: str | None = None) -> None:
        self.run_id = run_id
        self.tracer = tracer
        self.model = model
        self._started = time.monotonic_ns()
        self._epoch_started = self._started

    def _trace(self, type: str, decision: str, reasoning: str = "", **metadata: Any) -> None:
        if self.tracer is not None:
            self.tracer.record(
                type,
                decision,
                reasoning,
                stage="train",
                model=self.model,
                metadata={"run_id": self.run_id, **metadata},
            )

    def started(self, config: Mapping[str, Any], *, total_steps: int, epochs: int) -> None:
        self._started = time.monotonic_ns()
        catalog.emit_training_start(
            run_id=self.run_id, model=self.model, total_epochs=epochs, config=dict(config)
        )
        self._trace(
            "training_started",
            f"train {self.model} for {total_steps} steps",
            "supervised run started",
            total_steps=total_steps,
            epochs=epochs,
        )

    def resumed(self, step: int, path: str) -> None:
        self._trace(
            "training_resumed", f"resume at step {step}", "a checkpoint was found", path=path
        )

    def epoch_started(self, epoch: int) -> None:
        self._epoch_started = time.monotonic_ns()
        catalog.emit_epoch_start(epoch=epoch, run_id=self.run_id)
        self._trace("epoch_started", f"start epoch {epoch}", epoch=epoch)

    def epoch_completed(self, epoch: int, metrics: Mapping[str, Any]) -> None:
        duration = time.monotonic_ns() - self._epoch_started
        catalog.emit_epoch_stop(
            epoch=epoch,
            duration=duration,
            loss=metrics.get("train/nll"),
            accuracy=metrics.get("train/accuracy"),
            learning_rate=metrics.get("learning_rate"),
            val_loss=metrics.get("val/nll"),
            val_accuracy=metrics.get("val/accuracy"),
            run_id=self.run_id,
        )
        self._trace(
            "epoch_completed", f"epoch {epoch} done", epoch=epoch, metrics=_numbers(metrics)
        )

    def step(self, metrics: Mapping[str, Any], *, step: int, epoch: int, duration_ns: int) -> None:
        """Every metric of the step as one ``crucible.train.batch.stop`` event."""
        if not events.has_handlers(catalog.TRAIN_BATCH_STOP):
            return  # nobody listens: skip building the event (this runs every step)
        measurements = {
            **_numbers(metrics),
            "loss": metrics["train/nll"],
            "duration": duration_ns,
            "gradient_norm": metrics.get("grad_norm"),
            "learning_rate": metrics.get("learning_rate"),
            "batch_size": metrics.get("batch_size"),
        }
        catalog.emit(
            catalog.TRAIN_BATCH_STOP,
            measurements,
            {"batch": step, "epoch": epoch, "run_id": self.run_id},
        )

    def checkpoint_saved(self, path: str, *, step: int, kind: str, size_bytes: int) -> None:
        catalog.emit_checkpoint_saved(
            checkpoint_path=path, step=step, size_bytes=size_bytes, run_id=self.run_id, kind=kind
        )
        self._trace("checkpoint_saved", f"save {kind} checkpoint at step {step}", path=path)

    def early_stopped(self, step: int, monitor: str, best: float, best_step: int) -> None:
        self._trace(
            "early_stopped",
            f"stop at step {step}",
            f"{monitor} has not improved on {best:.6g} (step {best_step})",
            step=step,
            best=best,
            best_step=best_step,
        )

    def completed(self, *, steps: int, epochs: int, final_loss: float | None) -> None:
        catalog.emit_training_stop(
            duration=time.monotonic_ns() - self._started,
            epochs=epochs,
            steps=steps,
            final_loss=final_loss,
            run_id=self.run_id,
        )
        self._trace("training_completed", f"finished after {steps} steps", steps=steps)

    def failed(self, exc: BaseException) -> None:
        catalog.emit_training_exception(
            duration=time.monotonic_ns() - self._started, exception=exc, run_id=self.run_id
        )
