"""The RL loop on the NumPy LM: it learns a task from scratch, both losses run, the KL
penalty holds the policy near its reference, runs repeat exactly and resume exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crucible.train.loggers import read_metrics
from crucible.train.ports.training import TrainingClient
from crucible.train.rl import RLConfig, train_rl


def _rewards(history: list[dict[str, Any]]) -> list[float]:
    return [row["env/reward_mean"] for row in history if "env/reward_mean" in row]


def test_reward_rises_clearly_from_random_weights(tmp_path: Path) -> None:
    result = train_rl(RLConfig(log_path=str(tmp_path), steps=60, seed=0))
    rewards = _rewards(result.history)
    assert len(rewards) == 60
    first, last = sum(rewards[:5]) / 5, sum(rewards[-5:]) / 5
    assert first < 0.1
    assert last > first + 0.4
    row = result.history[-1]
    for key in (
        "env/reward_std",
        "env/correct",
        "kl/policy_reference",
        "kl/sample_train",
        "entropy",
        "frac_degenerate_groups",
        "ac_tokens_per_turn",
        "train/loss",
        "learning_rate",
    ):
        assert key in row, key
    assert row["ac_tokens_per_turn"] == 1.0
    assert abs(row["kl/sample_train"]) < 1e-4  # one substep: trained on the sampler's weights
    assert not any(k.startswith(("time", "throughput")) or "per_second" in k for k in row)
    assert (tmp_path / "checkpoints" / "final_000060").is_dir()
    assert result.tokens > 0


@pytest.mark.parametrize("loss_fn", ["importance_sampling", "ppo"])
def test_both_losses_train(tmp_path: Path, loss_fn: str) -> None:
    config = RLConfig(
        log_path=str(tmp_path),
        steps=40,
        loss_fn=loss_fn,  # type: ignore[arg-type]
        num_substeps=2,
        seed=0,
    )
    result = train_rl(config)
    rewards = _rewards(result.history)
    assert sum(rewards[-5:]) / 5 > sum(rewards[:5]) / 5 + 0.1
    assert all(row["optim_steps"] == 2.0 for row in result.history)
    # the second substep trains weights that moved off the sampler's
    assert any(abs(row["kl/sample_train"]) > 1e-6 for row in result.history)


def test_kl_penalty_keeps_the_policy_nearer_its_reference(tmp_path: Path) -> None:
    def drift(kl_coef: float) -> float:
        config = RLConfig(log_path=str(tmp_path / str(kl_coef)), steps=25, kl_coef=kl_coef, seed=2)
        history = train_rl(config).history
        return sum(float(row["kl/policy_reference"]) for row in history[-5:]) / 5

    assert drift(1.0) < 0.5 * drift(0.0)


def test_same_seed_same_metrics_and_other_seed_differs(tmp_path: Path) -> None:
    def run(name: str, seed: int) -> list[dict[str, Any]]:
        config = RLConfig(log_path=str(tmp_path / name), steps=8, seed=seed, group_size=8)
        train_rl(config)
        return read_metrics(tmp_path / name)

    a, b, c = run("a", 3), run("b", 3), run("c", 4)
    assert a == b
    assert a != c
    assert (tmp_path / "a" / "metrics.jsonl").read_bytes() == (
        tmp_path / "b" / "metrics.jsonl"
    ).read_bytes()


def test_interrupted_run_resumes_to_identical_rows(tmp_path: Path) -> None:
    base: dict[str, Any] = {"steps": 10, "save_every": 3, "group_size": 8, "seed": 5}
    full = train_rl(RLConfig(log_path=str(tmp_path / "full"), **base)).history

    class InterruptError(Exception):
        pass

    def stop_at_seven(done: int, total: int) -> None:
        if done == 7:
            raise InterruptError

    path = str(tmp_path / "cut")
    with pytest.raises(InterruptError):
        train_rl(RLConfig(log_path=path, **base), progress=stop_at_seven)
    resumed = train_rl(RLConfig(log_path=path, **base))
    assert resumed.resumed_from == 6
    assert resumed.history == full


def test_evaluators_run_every_eval_every_steps_and_at_the_end(tmp_path: Path) -> None:
    calls: list[int] = []

    def evaluator(client: TrainingClient) -> dict[str, float]:
        calls.append(len(calls))
        return {"probe/calls": float(len(calls))}

    config = RLConfig(log_path=str(tmp_path), steps=5, eval_every=2, group_size=4)
    result = train_rl(config, evaluators=[evaluator])
    assert len(calls) == 4  # before steps 0, 2, 4 and after the last
    steps_with_eval = [row["step"] for row in result.history if "probe/calls" in row]
    assert steps_with_eval == [0, 2, 4, 5]
    assert result.final_metrics["probe/calls"] == 4.0
