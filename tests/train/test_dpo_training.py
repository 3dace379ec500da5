"""DPO end to end on the bundled preference set with the tiny NumPy LM: held-out reward
accuracy climbs from chance, the logged rows carry the dpo/* metrics, runs repeat exactly,
and a finished run resumes as finished."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crucible.trace import Chain
from crucible.train.preference import DPOConfig, DPOResult, train_dpo


def _config(path: Path, **overrides: Any) -> DPOConfig:
    fields: dict[str, Any] = {
        "log_path": str(path),
        "model": "numpy-lm-tiny",
        "learning_rate": 0.01,
        "beta": 0.1,
        "batch_size": 16,
        "max_steps": 16,
        "num_epochs": 5,
        "eval_every": 8,
        "val_fraction": 0.25,
        "lr_schedule": "constant",
        "seed": 3,
    }
    fields.update(overrides)
    return DPOConfig(**fields)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> DPOResult:
    chain = Chain(name="dpo")
    result = train_dpo(_config(tmp_path_factory.mktemp("dpo")), tracer=chain)
    result.history.append({"trace_types": [e.type for e in chain.events]})
    return result


def test_held_out_preference_accuracy_rises(run: DPOResult) -> None:
    evals = [r for r in run.history if "val/dpo_accuracy" in r]
    assert [r["step"] for r in evals] == [0, 8, 16]
    assert evals[0]["val/dpo_accuracy"] == 0.5  # the policy is its own reference
    assert evals[0]["val/dpo_loss"] == pytest.approx(0.6931, abs=1e-3)
    assert evals[-1]["val/dpo_accuracy"] > 0.85
    assert evals[-1]["val/dpo_loss"] < 0.4
    assert evals[-1]["val/dpo_margin"] > 1.0
    assert run.final_metrics["val/dpo_accuracy"] == evals[-1]["val/dpo_accuracy"]


def test_rows_carry_the_dpo_metrics_and_trace(run: DPOResult) -> None:
    steps = [r for r in run.history if "dpo/loss" in r]
    assert [r["step"] for r in steps] == list(range(16))
    for key in ("dpo/accuracy", "dpo/margin", "dpo/chosen_reward", "dpo/rejected_reward"):
        assert key in steps[0]
    assert steps[-1]["dpo/loss"] < steps[0]["dpo/loss"]
    assert steps[-1]["dpo/chosen_reward"] > steps[-1]["dpo/rejected_reward"]
    assert run.history[-1]["trace_types"] == ["training_started", "training_completed"]


def test_same_seed_same_rows_and_finished_runs_resume_finished(
    run: DPOResult, tmp_path: Path
) -> None:
    again = train_dpo(_config(tmp_path))
    assert again.history == run.history[:-1]
    resumed = train_dpo(_config(tmp_path))
    assert resumed.resumed_from == 16
    assert resumed.history == again.history  # nothing re-logged
    assert resumed.final_metrics["val/dpo_accuracy"] == again.final_metrics["val/dpo_accuracy"]
