"""Scoring a model on held-out task problems: greedy answers, graded exactly.

An :class:`~crucible.train.evaluation.Evaluator` (it takes the training client), so the
RL and supervised loops can call it every ``eval_every`` steps. Greedy decoding makes
the number a property of the weights alone, free of sampling noise.
"""

from __future__ import annotations

from crucible.train.ports.training import TrainingClient
from crucible.train.renderers.base import Renderer
from crucible.train.tasks.base import Problem, ProblemEnv, Task
from crucible.train.types import SamplingParams

__all__ = ["TaskAccuracyEvaluator"]


class TaskAccuracyEvaluator:
    """``{prefix}/accuracy`` (exact answers) and ``{prefix}/reward`` (mean reward, partial
    credit included if the task gives it) over ``problems``."""

    def __init__(
        self,
        task: Task,
        renderer: Renderer,
        problems: list[Problem],
        *,
        max_tokens: int = 4,
        prefix: str = "eval",
    ) -> None:
        self.task = task
        self.renderer = renderer
        self.problems = problems
        self.max_tokens = max_tokens
        self.prefix = prefix

    def __call__(self, client: TrainingClient) -> dict[str, float]:
        sampler = client.save_weights_and_get_sampling_client("eval")
        correct = reward = 0.0
        for problem in self.problems:
            env = ProblemEnv(self.task, problem, self.renderer)
            prompt, stop = env.initial_observation()
            params = SamplingParams(
                max_tokens=self.max_tokens, temperature=0.0, stop=[*stop] or None
            )
            tokens = sampler.sample(prompt, 1, params).sequences[0].tokens
            result = env.step(tokens)
            correct += result.metrics["correct"]
            reward += result.reward
        n = max(len(self.problems), 1)
        return {f"{self.prefix}/accuracy": correct / n, f"{self.prefix}/reward": reward / n}
