"""Prompts for on-policy distillation: each example's conversation up to its last assistant
turn, rendered as a generation prompt (the student writes that turn, the teacher grades it).

Prompts are served in batches by the same deterministic per-epoch order as every other data
set here (``epoch_order(n, epoch, seed)``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from crucible.errors import InvalidArgumentError
from crucible.train.datasets.examples import Example, messages_of
from crucible.train.datasets.order import epoch_order
from crucible.train.renderers.base import Renderer
from crucible.train.types import ModelInput

__all__ = ["PromptSet", "prompt_of"]


def prompt_of(example: Example, renderer: Renderer) -> ModelInput | None:
    """The generation prompt before the example's last assistant message (``None`` if it
    has no assistant message after some other message)."""
    messages = messages_of(example)
    last = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=-1)
    if last < 1:
        return None
    return renderer.build_generation_prompt(messages[:last])


class PromptSet:
    """Rendered prompts, ``batch_size`` per batch (the last partial batch dropped)."""

    def __init__(
        self, prompts: Sequence[ModelInput], *, batch_size: int, seed: int = 0, shuffle: bool = True
    ) -> None:
        if batch_size < 1:
            raise InvalidArgumentError("batch_size must be >= 1")
        if not prompts:
            raise InvalidArgumentError("a prompt set needs at least one prompt")
        self.prompts = list(prompts)
        self.batch_size = min(batch_size, len(self.prompts))
        self.seed = seed
        self.shuffle = shuffle

    @classmethod
    def from_examples(
        cls,
        examples: Sequence[Example],
        renderer: Renderer,
        *,
        batch_size: int,
        seed: int = 0,
        shuffle: bool = True,
    ) -> PromptSet:
        prompts = [p for p in (prompt_of(ex, renderer) for ex in examples) if p is not None]
        if not prompts:
            raise InvalidArgumentError("no example has an assistant turn to distill")
        return cls(prompts, batch_size=batch_size, seed=seed, shuffle=shuffle)

    def __len__(self) -> int:
        """Batches per epoch."""
        return len(self.prompts) // self.batch_size

    def get_batch(self, epoch: int, index: int) -> list[ModelInput]:
        if not 0 <= index < len(self):
            raise InvalidArgumentError(f"batch {index} out of range 0..{len(self) - 1}")
        order = epoch_order(len(self.prompts), epoch, self.seed, self.shuffle)
        rows = order[index * self.batch_size : (index + 1) * self.batch_size]
        return [self.prompts[int(i)] for i in np.asarray(rows)]
