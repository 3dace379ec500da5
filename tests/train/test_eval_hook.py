"""EvalHook: every N steps, prefixed metrics, to the logger; plugs into the supervised loop
as an evaluator and into any other loop through ``maybe_run``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from crucible.errors import InvalidArgumentError
from crucible.train import SupervisedConfig, train
from crucible.train.evaluation import (
    EvalHook,
    Evaluator,
    GenerationConfig,
    GenerationEvaluator,
    NLLEvaluator,
    SamplingClientEvaluator,
    TrainingClientEvaluator,
    build_scorers,
    read_eval_items,
    select_items,
)
from crucible.train.loggers import read_metrics
from crucible.train.supervised import build_client, build_parts


class ListLogger:
    def __init__(self) -> None:
        self.rows: list[tuple[int | None, dict[str, Any]]] = []

    def log_hparams(self, config: Any) -> None:
        pass

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        self.rows.append((step, dict(metrics)))

    def log_long_text(self, key: str, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def test_protocols_keep_their_old_name() -> None:
    assert Evaluator is TrainingClientEvaluator
    assert isinstance(NLLEvaluator([]), TrainingClientEvaluator)
    assert isinstance(EvalHook(1), Evaluator)


def test_hook_in_a_hand_written_loop_and_in_the_supervised_loop(tmp_path: Path) -> None:
    cfg = SupervisedConfig(
        log_path=str(tmp_path / "sft"),
        model="numpy-lm-tiny",
        learning_rate=0.01,
        max_steps=12,
        eval_every=4,
        batch_size=16,
    )
    parts = build_parts(cfg)
    items = select_items(read_eval_items(cfg.dataset), limit=8)
    generation = GenerationEvaluator(
        items,
        parts.renderer,
        build_scorers(["f1", "perplexity"]),
        config=GenerationConfig(max_tokens=24),
    )
    assert isinstance(generation, SamplingClientEvaluator)
    assert parts.val is not None

    # A hand-written loop (what RL/DPO loops do): maybe_run before each step, forced at the end.
    client = build_client(cfg, parts.tokenizer)
    logger = ListLogger()
    hook = EvalHook(
        5,
        training=[NLLEvaluator.from_dataset(parts.val)],
        sampling=[generation],
        prefix="eval",
        logger=logger,
    )
    for step in range(12):
        assert (hook.maybe_run(step, client) != {}) == (step % 5 == 0)
    final = hook.maybe_run(12, client, force=True)
    assert [s for s, _ in hook.history] == [0, 5, 10, 12] == [s for s, _ in logger.rows]
    assert set(final) == {
        "eval/val/nll",
        "eval/val/perplexity",
        "eval/val/accuracy",
        "eval/gen/f1",
        "eval/gen/perplexity",
    }
    assert hook.history[0][1] == final  # no training happened: same weights, same numbers

    # The supervised loop takes the hook as one more evaluator, unchanged.
    result = train(cfg, evaluators=[EvalHook(1, sampling=[generation], prefix="eval")])
    rows = [r for r in read_metrics(cfg.log_path) if "eval/gen/perplexity" in r]
    assert [r["step"] for r in rows] == [0, 4, 8, 12]
    assert rows[-1]["eval/gen/perplexity"] < rows[0]["eval/gen/perplexity"] / 2
    assert result.steps == 12


def test_hook_rejects_negative_period_and_zero_disables() -> None:
    with pytest.raises(InvalidArgumentError):
        EvalHook(-1)
    assert not EvalHook(0).due(0)
