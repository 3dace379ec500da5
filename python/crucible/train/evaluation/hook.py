"""Evaluation during training: one object any loop calls, whatever the loop.

:class:`EvalHook` holds training-client evaluators (NLL on held-out data) and
sampling-client evaluators (generate and score) and runs them all on the current weights.
Sampling evaluators share one sampler per evaluation, taken from
``client.save_weights_and_get_sampling_client``, so they all see the same snapshot.

Two ways in:

* it *is* a :class:`~crucible.train.evaluation.protocols.TrainingClientEvaluator`, so the
  supervised loop takes it unchanged: ``train(config, evaluators=[hook])`` runs it every
  ``config.eval_every`` steps next to the default NLL evaluator;
* loops without an evaluator list (RL, DPO, distillation) call :meth:`EvalHook.maybe_run`
  once per step, before the step, with the step number::

      hook = EvalHook(every=10, sampling=[GenerationEvaluator(items, renderer, scorers)],
                      logger=logger, prefix="eval")
      for step in range(total):
          metrics = hook.maybe_run(step, client)    # {} when not due
          ...train...
          logger.log_metrics({**metrics, **step_metrics}, step)
      hook.maybe_run(total, client, force=True)     # the final weights

  It runs when ``step % every == 0`` (and when ``force``), logs the metrics under
  ``prefix`` if it has a logger, keeps them in :attr:`EvalHook.history`, and returns them so
  the loop can also put them in its own metrics row.
"""

from __future__ import annotations

from collections.abc import Sequence

from crucible.errors import InvalidArgumentError
from crucible.train.evaluation.protocols import SamplingClientEvaluator, TrainingClientEvaluator
from crucible.train.loggers.base import Logger
from crucible.train.ports.training import TrainingClient

__all__ = ["EvalHook"]


class EvalHook:
    def __init__(
        self,
        every: int,
        training: Sequence[TrainingClientEvaluator] = (),
        sampling: Sequence[SamplingClientEvaluator] = (),
        *,
        prefix: str = "",
        logger: Logger | None = None,
    ) -> None:
        if every < 0:
            raise InvalidArgumentError(f"every must be >= 0 (0 disables), not {every}")
        self.every = every
        self.training = list(training)
        self.sampling = list(sampling)
        self.prefix = prefix.rstrip("/")
        self.logger = logger
        self.history: list[tuple[int, dict[str, float]]] = []

    def due(self, step: int) -> bool:
        return self.every > 0 and step % self.every == 0

    def __call__(self, client: TrainingClient) -> dict[str, float]:
        """Every evaluator on the current weights, names under the prefix."""
        metrics: dict[str, float] = {}
        for training in self.training:
            metrics.update(training(client))
        if self.sampling:
            sampler = client.save_weights_and_get_sampling_client("eval")
            for sampling in self.sampling:
                metrics.update(sampling(sampler))
        if self.prefix:
            metrics = {f"{self.prefix}/{k}": v for k, v in metrics.items()}
        return metrics

    def maybe_run(
        self, step: int, client: TrainingClient, *, force: bool = False
    ) -> dict[str, float]:
        """Evaluate if ``step`` is due (or ``force``); log and return the metrics."""
        if not (force or self.due(step)):
            return {}
        metrics = self(client)
        self.history.append((step, metrics))
        if self.logger is not None:
            self.logger.log_metrics(metrics, step)
        return metrics
