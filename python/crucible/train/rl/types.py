"""The vocabulary of reinforcement learning on language models.

An :class:`Env` is one episode: it shows the policy an observation (tokens), takes an
action (the sampled tokens) and answers with a :class:`StepResult` (reward, whether the
episode is over, the next observation). Episodes come in groups: an
:class:`EnvGroupBuilder` makes the envs of one group (typically one problem asked
``group_size`` times), so advantages can be measured against the group's own mean, and may
add a reward that only the whole group can judge (:class:`SupportsGroupRewards`). An
:class:`RLDataset` hands out a batch of builders per step.

Rolling out produces a :class:`Trajectory` per env (its transitions) and a
:class:`TrajectoryGroup` per builder. The shapes follow tinker-cookbook's, but everything
here is synchronous: the NumPy backend samples in-process, so async would only add noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from crucible.train.types import ModelInput, TokensWithLogprobs

__all__ = [
    "Action",
    "Env",
    "EnvGroupBuilder",
    "Metrics",
    "RLDataset",
    "StepResult",
    "StopCondition",
    "SupportsGroupRewards",
    "Trajectory",
    "TrajectoryGroup",
    "Transition",
]

Action = list[int]
"""The tokens the policy sampled in one turn."""
Metrics = dict[str, float]
StopCondition = list[int] | list[str]
"""Stop token ids or stop strings (a renderer's ``stop_sequences()``)."""


@dataclass(frozen=True)
class StepResult:
    """The env's answer to one action."""

    reward: float
    episode_done: bool
    next_observation: ModelInput
    next_stop_condition: StopCondition
    metrics: Metrics = field(default_factory=dict)


@runtime_checkable
class Env(Protocol):
    """One episode. Envs are used once: ``initial_observation``, then ``step`` until a
    result says ``episode_done``."""

    def initial_observation(self) -> tuple[ModelInput, StopCondition]: ...

    def step(self, action: Action) -> StepResult: ...


@dataclass(frozen=True)
class Transition:
    """One turn: what the policy saw, what it did (with sampling logprobs), the reward."""

    observation: ModelInput
    action: TokensWithLogprobs
    reward: float
    episode_done: bool
    metrics: Metrics = field(default_factory=dict)


@dataclass(frozen=True)
class Trajectory:
    """One episode's turns, and the observation it ended on."""

    transitions: list[Transition]
    final_observation: ModelInput

    @property
    def step_reward(self) -> float:
        """Sum of the per-turn rewards."""
        return float(sum(t.reward for t in self.transitions))


@dataclass(frozen=True)
class TrajectoryGroup:
    """The episodes of one group, the group-level reward each received (0.0 when the
    builder gives none) and that reward's metrics."""

    trajectories: list[Trajectory]
    final_rewards: list[float]
    metrics: list[Metrics]

    def total_rewards(self) -> list[float]:
        """Per episode: turn rewards plus the group-level reward (what advantages use)."""
        return [
            t.step_reward + r for t, r in zip(self.trajectories, self.final_rewards, strict=True)
        ]


@runtime_checkable
class EnvGroupBuilder(Protocol):
    """Makes the envs of one group; ``logging_tags`` name the group's kind in metrics
    (e.g. the task), empty when there is nothing to split metrics by."""

    def make_envs(self) -> Sequence[Env]: ...

    def logging_tags(self) -> list[str]: ...


@runtime_checkable
class SupportsGroupRewards(Protocol):
    """An :class:`EnvGroupBuilder` that also rewards episodes as a group (a pairwise
    preference, a diversity bonus): one ``(reward, metrics)`` per trajectory, in order."""

    def compute_group_rewards(
        self, trajectories: Sequence[Trajectory]
    ) -> list[tuple[float, Metrics]]: ...


@runtime_checkable
class RLDataset(Protocol):
    """Batches of group builders, one batch per training step."""

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]: ...

    def __len__(self) -> int: ...
