"""Single-digit addition: ``"3+4"`` -> ``"7"``.

Operands run from 0 to ``max_operand``; with the default 4 every answer is one digit, so
the answer alphabet is ten symbols and a policy that has learnt to answer with a digit
already hits the right one about one time in ten, enough signal for RL from scratch.
Partial credit: 0.1 for a bare number, up to 0.5 for one within ``max_operand`` of the
answer (closer is more).
"""

from __future__ import annotations

from crucible import prng
from crucible.errors import InvalidArgumentError
from crucible.train.tasks.base import Task

__all__ = ["AdditionTask"]


class AdditionTask(Task):
    name = "addition"

    def __init__(self, *, max_operand: int = 4, partial_credit: bool = False) -> None:
        if not 1 <= max_operand <= 99:
            raise InvalidArgumentError(f"max_operand must be in 1..99, not {max_operand}")
        super().__init__(partial_credit=partial_credit)
        self.max_operand = max_operand

    def draw(self, rng: prng.Generator) -> tuple[str, str]:
        a, b = (int(x) for x in rng.integers(0, self.max_operand + 1, size=2))
        return f"{a}+{b}", str(a + b)

    def is_well_formed(self, response: str) -> bool:
        return response.isascii() and response.isdigit()

    def partial_reward(self, response: str, answer: str) -> float:
        if not self.is_well_formed(response):
            return 0.0
        distance = abs(int(response) - int(answer))
        closeness = max(0.0, 1.0 - distance / (self.max_operand + 1))
        return 0.1 + 0.4 * closeness
