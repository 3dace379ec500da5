"""On-policy distillation: KL advantages and training data built right, and a fresh tiny
student pulled toward a briefly fine-tuned teacher on prompts it never trained on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crucible.train import SupervisedConfig, train
from crucible.train.adapters.numpy_lm import NumpySamplingClient
from crucible.train.distillation import (
    DistillConfig,
    DistillResult,
    Rollout,
    kl_advantages,
    rollout_datum,
    train_distill,
)
from crucible.train.types import Batch


def test_kl_advantages_with_and_without_discount() -> None:
    kl = np.array([1.0, -0.5, 2.0])
    assert kl_advantages(kl, 2.0).tolist() == [-2.0, 1.0, -4.0]
    discounted = kl_advantages(kl, 1.0, 0.5)
    assert discounted.tolist() == pytest.approx([-(1.0 - 0.25 + 0.5), -(-0.5 + 1.0), -2.0])


def test_rollout_datum_puts_logprobs_and_advantages_on_the_completion() -> None:
    rollout = Rollout(
        prompt=(1, 2, 3), tokens=(7, 8), logprobs=np.array([-0.5, -1.5]), stopped=True
    )
    datum = rollout_datum(rollout, np.array([0.25, -0.75]))
    assert datum.model_input.to_ints() == [1, 2, 3, 7]
    lfi = datum.loss_fn_inputs
    assert lfi["target_tokens"].tolist() == [2, 3, 7, 8]
    assert lfi["logprobs"].tolist() == [0.0, 0.0, -0.5, -1.5]
    assert lfi["advantages"].tolist() == [0.0, 0.0, 0.25, -0.75]
    assert lfi["weights"].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert Batch.from_data([datum]).extra["advantages"].shape == (1, 4)


@pytest.fixture(scope="module")
def teacher(tmp_path_factory: pytest.TempPathFactory) -> NumpySamplingClient:
    cfg = SupervisedConfig(
        log_path=str(tmp_path_factory.mktemp("teacher")),
        model="numpy-lm-tiny",
        num_epochs=3,
        learning_rate=0.01,
        eval_every=0,
        seed=7,
    )
    client = train(cfg).client
    assert client is not None
    return client.save_weights_and_get_sampling_client("teacher")  # type: ignore[return-value]


def _config(path: Path, **overrides: Any) -> DistillConfig:
    fields: dict[str, Any] = {
        "log_path": str(path),
        "model": "numpy-lm-tiny",
        "learning_rate": 0.02,
        "max_steps": 36,
        "num_epochs": 5,
        "max_tokens": 16,
        "prompts_per_batch": 8,
        "samples_per_prompt": 4,
        "eval_every": 12,
        "eval_prompts": 16,
        "lr_schedule": "constant",
        "seed": 1,
    }
    fields.update(overrides)
    return DistillConfig(**fields)


@pytest.fixture(scope="module")
def run(teacher: NumpySamplingClient, tmp_path_factory: pytest.TempPathFactory) -> DistillResult:
    return train_distill(_config(tmp_path_factory.mktemp("distill")), teacher=teacher)


def test_held_out_reverse_kl_falls(run: DistillResult) -> None:
    evals = [r for r in run.history if "val/reverse_kl" in r]
    assert [r["step"] for r in evals] == [0, 12, 24, 36]
    first, last = evals[0]["val/reverse_kl"], evals[-1]["val/reverse_kl"]
    assert last < 0.6 * first, [r["val/reverse_kl"] for r in evals]
    assert evals[-1]["val/teacher_logprob"] > evals[0]["val/teacher_logprob"] + 1.0
    steps = [r for r in run.history if "distill/reverse_kl" in r]
    assert len(steps) == 36
    assert np.mean([r["distill/reverse_kl"] for r in steps[-4:]]) < np.mean(
        [r["distill/reverse_kl"] for r in steps[:4]]
    )
    for key in ("distill/teacher_logprob", "distill/completion_length", "distill/stop_rate"):
        assert key in steps[0]


def test_same_seed_same_rows(
    run: DistillResult, teacher: NumpySamplingClient, tmp_path: Path
) -> None:
    again = train_distill(_config(tmp_path, max_steps=4, eval_every=0), teacher=teacher)

    def kl_rows(rows: list[dict[str, Any]]) -> list[tuple[int, float, float]]:
        return [
            (r["step"], r["distill/reverse_kl"], r["grad_norm"])
            for r in rows
            if "distill/reverse_kl" in r and r["step"] < 4
        ]

    assert kl_rows(again.history) == kl_rows(run.history)
