"""crucible.train's supervised loop with the NumPy backend, against a bare loop.

* ``SFT run``: a whole :func:`crucible.train.train` call (logging, instrumentation, a final
  checkpoint) against the least a user could write: the same batches fed to the same backend
  calls in a ``for`` loop. Both start from the same fresh model, so the ratio is the loop's
  cost over the backend's.
* ``test_driver_overhead``: the loop's own time per step (everything but the training
  client's calls) as a share of the step, at batch 32. Medians, because a busy machine
  preempts the process at random and a stall landing in the driver's tenth of a millisecond
  would otherwise be billed to it. Goal: < 2%.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crucible.train import AdamParams, SupervisedConfig, train
from crucible.train.supervised import RunParts, build_client, build_parts

STEPS = 20
_runs = itertools.count()


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> tuple[SupervisedConfig, RunParts, Path]:
    root = tmp_path_factory.mktemp("train-bench")
    cfg = SupervisedConfig(
        log_path=str(root / "base"),
        max_steps=STEPS,
        num_epochs=3,
        eval_every=0,
        resume=False,
        batch_size=32,
    )
    return cfg, build_parts(cfg), root


def bare_loop(cfg: SupervisedConfig, run: RunParts) -> None:
    client = build_client(cfg, run.tokenizer)
    data = run.train
    for step in range(STEPS):
        data.set_epoch(step // len(data))
        batch = data.get_batch(step % len(data))
        batch.weights /= batch.weights.sum()
        client.forward_backward(batch)
        client.optim_step(AdamParams(learning_rate=cfg.learning_rate * (1 - step / STEPS)))


@pytest.mark.parametrize("library", ["crucible", "bare"])
def test_sft_run(
    benchmark: Any, library: str, parts: tuple[SupervisedConfig, RunParts, Path]
) -> None:
    cfg, run, root = parts
    benchmark.group = f"SFT run: {STEPS} steps, batch 32, numpy-lm-small"

    def crucible_run() -> None:
        path = root / f"run{next(_runs)}"
        c = SupervisedConfig(**{**_fields(cfg), "log_path": str(path)})
        result = train(c, client=build_client(c, run.tokenizer), train_data=run.train)
        assert result.steps == STEPS

    fn: Callable[[], None] = crucible_run if library == "crucible" else lambda: bare_loop(cfg, run)
    benchmark.pedantic(fn, rounds=3, warmup_rounds=0)


def _fields(cfg: SupervisedConfig) -> dict[str, Any]:
    return {f: getattr(cfg, f) for f in cfg.__struct_fields__}


def test_driver_overhead(parts: tuple[SupervisedConfig, RunParts, Path]) -> None:
    cfg, run, root = parts
    c = SupervisedConfig(**{**_fields(cfg), "log_path": str(root / "overhead"), "max_steps": 40})
    result = train(c, client=build_client(c, run.tokenizer), train_data=run.train)
    rows = [r for r in result.history if "time/step" in r]
    step = np.array([r["time/step"] for r in rows])
    backend = np.array([r["time/backend"] for r in rows])
    # Driver time inside the step (data, schedule, metrics) plus after it (logging, events).
    after = (result.step_seconds - step.sum()) / len(rows)
    driver_median = float(np.median(step - backend)) + after
    fraction = driver_median / float(np.median(step))
    print(
        f"\nSFT numpy-lm-small batch 32: {1 / np.median(step):.1f} steps/s, "
        f"step {np.median(step) * 1e3:.2f} ms, driver {driver_median * 1e6:.0f} us "
        f"({fraction:.2%} median; {result.overhead_fraction:.2%} by totals)"
    )
    assert fraction < 0.02
