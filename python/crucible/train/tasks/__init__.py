"""Bundled verifiable tasks (our own): single-digit addition, the next letter, reversing
a short string. Each is an RL data set (:class:`ProblemDataset`) and a source of
prompt/answer examples (:meth:`Task.examples`) for supervised training and exact-match
evaluation. :func:`get_task` builds one by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crucible.errors import InvalidArgumentError, NotFoundError
from crucible.train.tasks.arithmetic import AdditionTask
from crucible.train.tasks.base import (
    Grade,
    Problem,
    ProblemDataset,
    ProblemEnv,
    ProblemGroupBuilder,
    Task,
)
from crucible.train.tasks.evaluation import TaskAccuracyEvaluator
from crucible.train.tasks.strings import NextLetterTask, ReverseTask

__all__ = [
    "TASKS",
    "AdditionTask",
    "Grade",
    "NextLetterTask",
    "Problem",
    "ProblemDataset",
    "ProblemEnv",
    "ProblemGroupBuilder",
    "ReverseTask",
    "Task",
    "TaskAccuracyEvaluator",
    "get_task",
]

TASKS: dict[str, Callable[..., Task]] = {
    "addition": AdditionTask,
    "next_letter": NextLetterTask,
    "reverse": ReverseTask,
}


def get_task(name: str, *, partial_credit: bool = False, **options: Any) -> Task:
    """The bundled task ``name`` with its own ``options`` (``max_operand``, ``letters``...)."""
    factory = TASKS.get(name)
    if factory is None:
        raise NotFoundError(f"unknown task {name!r}; known: {', '.join(sorted(TASKS))}")
    try:
        return factory(partial_credit=partial_credit, **options)
    except TypeError as exc:
        raise InvalidArgumentError(f"bad options for task {name!r}: {exc}") from None
