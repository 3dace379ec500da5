"""Verifiable single-turn tasks, usable for RL and for supervised training and scoring.

A :class:`Task` draws :class:`Problem` s (a question and its one right answer) from a
seeded generator and grades a response: 1.0 for the exact answer; with partial credit,
a task-defined share for an answer that is close or at least well-formed, so a policy that
starts from nothing gets a gradient before it ever hits an exact answer.

The same problems serve three uses: :class:`ProblemDataset` makes them an
:class:`~crucible.train.rl.types.RLDataset` (one group of ``group_size`` envs per problem);
:meth:`Task.examples` makes prompt/answer pairs (the ``datasets`` ``PromptCompletion``
type) for supervised training and for exact-match evaluation by other stages.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import msgspec

from crucible import prng
from crucible.errors import InvalidArgumentError
from crucible.train.datasets.examples import PromptCompletion
from crucible.train.renderers.base import Renderer
from crucible.train.renderers.messages import Message
from crucible.train.rl.types import Action, Env, Metrics, StepResult, StopCondition
from crucible.train.types import ModelInput

__all__ = ["Grade", "Problem", "ProblemDataset", "ProblemEnv", "ProblemGroupBuilder", "Task"]


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """One question with its exact answer; ``id`` is stable for a (task, seed, index)."""

    id: str
    question: str
    answer: str


class Grade(msgspec.Struct, frozen=True, kw_only=True):
    """A graded response: the reward and what it is made of."""

    reward: float
    correct: bool
    well_formed: bool


class Task(ABC):
    """A family of problems with a grader. ``partial_credit`` turns on shaped rewards."""

    name: str = "task"

    def __init__(self, *, partial_credit: bool = False) -> None:
        self.partial_credit = partial_credit

    @abstractmethod
    def draw(self, rng: prng.Generator) -> tuple[str, str]:
        """A random ``(question, answer)``."""

    @abstractmethod
    def partial_reward(self, response: str, answer: str) -> float:
        """Credit in ``[0, 1)`` for a response that is not the exact answer."""

    @abstractmethod
    def is_well_formed(self, response: str) -> bool:
        """Whether the response has the answer's shape (digits, letters, length)."""

    def problems(self, count: int, seed: int, *, offset: int = 0) -> list[Problem]:
        """Problems ``offset .. offset + count - 1`` of the stream for ``seed``; each depends
        only on (seed, its index), so any slice is reproducible on its own."""
        out = []
        for index in range(offset, offset + count):
            question, answer = self.draw(prng.default_rng([seed, index]))
            out.append(Problem(id=f"{self.name}-{seed}-{index}", question=question, answer=answer))
        return out

    def grade(self, response: str, answer: str) -> Grade:
        text = response.strip()
        correct = text == answer
        well_formed = self.is_well_formed(text)
        if correct:
            reward = 1.0
        elif self.partial_credit:
            reward = self.partial_reward(text, answer)
        else:
            reward = 0.0
        return Grade(reward=reward, correct=correct, well_formed=well_formed)

    def examples(self, count: int, seed: int, *, offset: int = 0) -> list[PromptCompletion]:
        """Prompt/answer pairs for supervised training or exact-match evaluation."""
        return [
            PromptCompletion(prompt=p.question, completion=p.answer)
            for p in self.problems(count, seed, offset=offset)
        ]


class ProblemEnv:
    """One attempt at one problem: the prompt is the rendered question, the response is
    parsed by the renderer and graded; the episode ends after one turn."""

    def __init__(self, task: Task, problem: Problem, renderer: Renderer) -> None:
        self.task = task
        self.problem = problem
        self.renderer = renderer

    def prompt(self) -> ModelInput:
        return self.renderer.build_generation_prompt(
            [Message(role="user", content=self.problem.question)]
        )

    def initial_observation(self) -> tuple[ModelInput, StopCondition]:
        return self.prompt(), self.renderer.stop_sequences()

    def step(self, action: Action) -> StepResult:
        message, _ = self.renderer.parse_response(action)
        content = message.content if isinstance(message.content, str) else ""
        grade = self.task.grade(content, self.problem.answer)
        metrics: Metrics = {
            "correct": float(grade.correct),
            "well_formed": float(grade.well_formed),
        }
        return StepResult(
            reward=grade.reward,
            episode_done=True,
            next_observation=ModelInput(),
            next_stop_condition=[],
            metrics=metrics,
        )


class ProblemGroupBuilder:
    """``group_size`` attempts at the same problem."""

    def __init__(self, task: Task, problem: Problem, renderer: Renderer, group_size: int) -> None:
        if group_size < 1:
            raise InvalidArgumentError("group_size must be >= 1")
        self.task = task
        self.problem = problem
        self.renderer = renderer
        self.group_size = group_size

    def make_envs(self) -> Sequence[Env]:
        return [ProblemEnv(self.task, self.problem, self.renderer) for _ in range(self.group_size)]

    def logging_tags(self) -> list[str]:
        return [self.task.name]


class ProblemDataset:
    """An :class:`~crucible.train.rl.types.RLDataset` of ``num_batches`` batches, each of
    ``groups_per_batch`` fresh problems (batch ``i`` holds problems
    ``i * groups_per_batch ...`` of the seed's stream)."""

    def __init__(
        self,
        task: Task,
        renderer: Renderer,
        *,
        num_batches: int,
        groups_per_batch: int,
        group_size: int,
        seed: int = 0,
    ) -> None:
        if num_batches < 1 or groups_per_batch < 1 or group_size < 1:
            raise InvalidArgumentError(
                "num_batches, groups_per_batch and group_size must all be >= 1"
            )
        self.task = task
        self.renderer = renderer
        self.num_batches = num_batches
        self.groups_per_batch = groups_per_batch
        self.group_size = group_size
        self.seed = seed

    def __len__(self) -> int:
        return self.num_batches

    def get_batch(self, index: int) -> list[ProblemGroupBuilder]:
        if not 0 <= index < self.num_batches:
            raise InvalidArgumentError(f"batch {index} outside 0..{self.num_batches - 1}")
        problems = self.task.problems(
            self.groups_per_batch, self.seed, offset=index * self.groups_per_batch
        )
        return [ProblemGroupBuilder(self.task, p, self.renderer, self.group_size) for p in problems]
