"""From trajectories to training data: one :class:`~crucible.train.types.Datum` per
episode (or per run of turns that extend each other).

The Datum's input is the whole token sequence but its last token; position ``i`` targets
token ``i + 1``. Per position it carries ``logprobs`` (the sampler's, for the importance
ratio), ``advantages`` (the episode's advantage on action tokens, 0 elsewhere) and
``mask`` (1 on action tokens). Observation tokens get advantage 0, so the RL losses put no
weight on the prompt, and the NumPy backend skips those positions entirely.

In a multi-turn episode each observation normally repeats the conversation so far plus
the env's reply; then the turns merge into one sequence. An observation that does not
extend the sequence (the env rewrote history) starts a new Datum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from crucible.errors import InvalidArgumentError
from crucible.train.rl.types import Trajectory
from crucible.train.types import Datum, ModelInput

__all__ = ["trajectory_data"]


@dataclass
class _Sequence:
    tokens: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    advantages: list[float] = field(default_factory=list)
    mask: list[float] = field(default_factory=list)

    def add(
        self, tokens: Sequence[int], logprobs: Sequence[float], advantage: float, on: bool
    ) -> None:
        self.tokens.extend(tokens)
        self.logprobs.extend(logprobs if on else [0.0] * len(tokens))
        self.advantages.extend([advantage if on else 0.0] * len(tokens))
        self.mask.extend([1.0 if on else 0.0] * len(tokens))

    def datum(self) -> Datum:
        if len(self.tokens) < 2:
            raise InvalidArgumentError("an episode needs at least two tokens to train on")
        return Datum(
            model_input=ModelInput.from_ints(self.tokens[:-1]),
            loss_fn_inputs={
                "target_tokens": np.asarray(self.tokens[1:], dtype=np.int64),
                "logprobs": np.asarray(self.logprobs[1:], dtype=np.float32),
                "advantages": np.asarray(self.advantages[1:], dtype=np.float32),
                "mask": np.asarray(self.mask[1:], dtype=np.float32),
            },
        )


def trajectory_data(trajectory: Trajectory, advantage: float) -> list[Datum]:
    """The Datums of one episode, every action token carrying ``advantage``."""
    out: list[Datum] = []
    seq = _Sequence()
    for transition in trajectory.transitions:
        observation = transition.observation.to_ints()
        if seq.tokens and observation[: len(seq.tokens)] == seq.tokens:
            new = observation[len(seq.tokens) :]
        else:
            if seq.tokens:
                out.append(seq.datum())
            seq = _Sequence()
            new = observation
        action = transition.action
        seq.add(new, [], 0.0, on=False)
        seq.add(action.tokens, action.logprobs, advantage, on=True)
    if seq.tokens:
        out.append(seq.datum())
    return out
