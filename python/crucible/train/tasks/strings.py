"""String puzzles: the letter after a letter, and reversing a short string.

``next_letter`` (``"after c"`` -> ``"d"``) has a one-letter answer from a small alphabet
(``letters`` letters, default 4), the easiest thing to learn by RL from scratch.
``reverse`` (``"reverse abc"`` -> ``"cba"``) needs several right tokens in a row.
Partial credit: a well-formed answer (letters of the alphabet, right length) earns 0.1,
plus up to 0.4 for the share of positions that are right.
"""

from __future__ import annotations

import string

from crucible import prng
from crucible.errors import InvalidArgumentError
from crucible.train.tasks.base import Task

__all__ = ["NextLetterTask", "ReverseTask"]


def _positional_credit(response: str, answer: str) -> float:
    hits = sum(a == b for a, b in zip(response, answer, strict=False))
    return 0.1 + 0.4 * hits / len(answer)


class NextLetterTask(Task):
    name = "next_letter"

    def __init__(self, *, letters: int = 4, partial_credit: bool = False) -> None:
        if not 2 <= letters <= 25:
            raise InvalidArgumentError(f"letters must be in 2..25, not {letters}")
        super().__init__(partial_credit=partial_credit)
        self.alphabet = string.ascii_lowercase[: letters + 1]
        self.letters = letters

    def draw(self, rng: prng.Generator) -> tuple[str, str]:
        i = int(rng.integers(0, self.letters))
        return f"after {self.alphabet[i]}", self.alphabet[i + 1]

    def is_well_formed(self, response: str) -> bool:
        return len(response) == 1 and response in self.alphabet

    def partial_reward(self, response: str, answer: str) -> float:
        return _positional_credit(response, answer) if self.is_well_formed(response) else 0.0


class ReverseTask(Task):
    name = "reverse"

    def __init__(
        self,
        *,
        letters: int = 4,
        min_length: int = 2,
        max_length: int = 3,
        partial_credit: bool = False,
    ) -> None:
        if not 2 <= letters <= 26 or not 1 <= min_length <= max_length <= 8:
            raise InvalidArgumentError(
                "need 2 <= letters <= 26 and 1 <= min_length <= max_length <= 8"
            )
        super().__init__(partial_credit=partial_credit)
        self.alphabet = string.ascii_lowercase[:letters]
        self.min_length = min_length
        self.max_length = max_length

    def draw(self, rng: prng.Generator) -> tuple[str, str]:
        length = int(rng.integers(self.min_length, self.max_length + 1))
        word = "".join(self.alphabet[int(i)] for i in rng.integers(0, len(self.alphabet), length))
        return f"reverse {word}", word[::-1]

    def is_well_formed(self, response: str) -> bool:
        return self.min_length <= len(response) <= self.max_length and all(
            c in self.alphabet for c in response
        )

    def partial_reward(self, response: str, answer: str) -> float:
        if not self.is_well_formed(response) or len(response) != len(answer):
            return 0.0
        return _positional_credit(response, answer)
