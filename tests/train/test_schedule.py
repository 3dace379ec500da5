"""Learning-rate schedules with warmup."""

from __future__ import annotations

import itertools
import math

import pytest

from crucible.errors import InvalidArgumentError
from crucible.train.schedule import lr_multiplier


def test_schedules_without_warmup_match_tinker_cookbook() -> None:
    for step in range(10):
        assert lr_multiplier("constant", step, 10) == 1.0
        assert lr_multiplier("linear", step, 10) == pytest.approx(1 - step / 10)
        assert lr_multiplier("cosine", step, 10) == pytest.approx(
            0.5 * (1 + math.cos(math.pi * step / 10))
        )


def test_warmup_then_decay() -> None:
    values = [lr_multiplier("cosine", s, 20, warmup_steps=4, min_ratio=0.1) for s in range(20)]
    assert values[:4] == [0.25, 0.5, 0.75, 1.0]
    assert values[4] == 1.0
    assert all(a >= b for a, b in itertools.pairwise(values[4:]))
    assert values[-1] > 0.1
    assert lr_multiplier("linear", 25, 20, 4, 0.1) == pytest.approx(0.1)
    assert lr_multiplier("constant", 1, 20, warmup_steps=4) == 0.5


def test_bad_arguments() -> None:
    with pytest.raises(InvalidArgumentError):
        lr_multiplier("linear", 0, 0)
    with pytest.raises(InvalidArgumentError):
        lr_multiplier("exponential", 0, 10)  # type: ignore[arg-type]
