"""The supervised loop, end to end on the bundled data with the NumPy backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest

from crucible import events
from crucible.trace import Chain
from crucible.train import EarlyStopping, SupervisedConfig, train
from crucible.train.adapters.noop import NoopTrainingClient
from crucible.train.adapters.numpy_lm import NumpyLMTrainingClient
from crucible.train.loggers import JsonLogger, MultiplexLogger, read_metrics
from crucible.train.supervised import build_client, build_parts

VOLATILE = ("time/", "throughput/")


def stable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if not k.startswith(VOLATILE)} for r in rows]


def val_curve(rows: list[dict[str, Any]]) -> list[float]:
    return [r["val/nll"] for r in rows if "val/nll" in r]


def test_training_lowers_validation_loss_and_shuffled_labels_do_not(tmp_path: Path) -> None:
    cfg = SupervisedConfig(
        log_path=str(tmp_path / "real"), num_epochs=6, learning_rate=0.01, eval_every=48
    )
    real = val_curve(train(cfg).history)
    parts = build_parts(cfg)
    control_cfg = msgspec.structs.replace(cfg, log_path=str(tmp_path / "shuffled"))
    control = val_curve(
        train(
            control_cfg,
            client=build_client(control_cfg, parts.tokenizer),
            train_data=parts.train.with_shuffled_targets(seed=1),
            val_data=parts.val,
        ).history
    )
    assert real[0] == pytest.approx(control[0])  # same initial model, same validation data
    real_drop = 1 - real[-1] / real[0]
    control_drop = 1 - control[-1] / control[0]
    assert real_drop > 0.8, real
    assert control_drop < 0.5, control
    assert control[-1] > 4 * real[-1]


class CrashError(Exception):
    pass


class CrashAt:
    def __init__(self, step: int) -> None:
        self.step = step

    def log_hparams(self, config: Any) -> None:
        pass

    def log_metrics(self, metrics: Any, step: int | None = None) -> None:
        if step == self.step:
            raise CrashError

    def log_long_text(self, key: str, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def resumable(path: Path) -> SupervisedConfig:
    return SupervisedConfig(
        log_path=str(path),
        model="numpy-lm-tiny",
        batch_size=8,
        grad_accumulation_steps=2,
        max_steps=30,
        learning_rate=0.02,
        lr_schedule="cosine",
        warmup_steps=5,
        weight_decay=0.01,
        eval_every=10,
        save_every=10,
    )


def test_resume_reproduces_the_uninterrupted_run(tmp_path: Path) -> None:
    straight = train(resumable(tmp_path / "a"))
    cfg = resumable(tmp_path / "b")
    with pytest.raises(CrashError):
        train(cfg, logger=MultiplexLogger([JsonLogger(cfg.log_path), CrashAt(17)]))
    assert len(read_metrics(cfg.log_path)) == 18  # the crash came after the row was written
    resumed = train(cfg)
    assert resumed.resumed_from == 10
    assert stable(resumed.history) == stable(straight.history)
    assert [r["step"] for r in resumed.history] == list(range(31))
    a, b = straight.client, resumed.client
    assert isinstance(a, NumpyLMTrainingClient)
    assert isinstance(b, NumpyLMTrainingClient)
    np.testing.assert_array_equal(a.params.flat, b.params.flat)
    np.testing.assert_array_equal(a.optimizer.m, b.optimizer.m)
    assert a.optimizer.step == b.optimizer.step == 30
    assert a.rng_state() == b.rng_state()
    # A finished run resumes to nothing.
    again = train(cfg)
    assert again.resumed_from == 30
    assert stable(again.history) == stable(straight.history)


def test_gradient_accumulation_matches_one_big_batch(tmp_path: Path) -> None:
    params = []
    for batch, accum in ((16, 1), (8, 2)):
        cfg = SupervisedConfig(
            log_path=str(tmp_path / f"{batch}"),
            model="numpy-lm-tiny",
            model_overrides={"dtype": "float64"},
            batch_size=batch,
            grad_accumulation_steps=accum,
            max_steps=1,
            eval_every=0,
            grad_clip_norm=0.0,
        )
        client = train(cfg).client
        assert isinstance(client, NumpyLMTrainingClient)
        params.append(client.params.flat.copy())
    np.testing.assert_allclose(params[0], params[1], rtol=0, atol=1e-9)


def test_early_stopping_restores_best_and_traces(tmp_path: Path) -> None:
    cfg = SupervisedConfig(
        log_path=str(tmp_path),
        model="numpy-lm-tiny",
        batch_size=16,
        num_epochs=3,
        eval_every=2,
        early_stopping=EarlyStopping(patience=2, min_delta=100.0),
    )
    chain = Chain.of("sft")
    result = train(cfg, tracer=chain)
    assert result.stopped_early
    assert result.steps == 4
    assert result.best_step == 0
    fresh = build_client(cfg, build_parts(cfg).tokenizer)
    assert isinstance(result.client, NumpyLMTrainingClient)
    np.testing.assert_array_equal(result.client.params.flat, fresh.params.flat)
    types = [e.type for e in chain.events]
    assert types[0] == "training_started"
    assert "early_stopped" in types
    assert "checkpoint_saved" in types
    assert types[-1] == "training_completed"
    assert chain.verify().ok
    stopped = chain.by_type("early_stopped")[0]
    assert stopped.metadata["best_step"] == 0


def test_every_step_is_a_telemetry_event(tmp_path: Path) -> None:
    seen: list[tuple[tuple[str, ...], dict[str, Any], dict[str, Any]]] = []
    events.attach(
        "train-test",
        ("crucible", "train"),
        lambda n, m, md, _: seen.append((n, m, md)),
        prefix=True,
    )
    try:
        cfg = SupervisedConfig(
            log_path=str(tmp_path),
            model="numpy-lm-tiny",
            batch_size=64,
            num_epochs=2,
            eval_every=5,
            save_every=6,
        )
        result = train(cfg)
    finally:
        events.detach("train-test")
    names = [".".join(n[2:]) for n, _, _ in seen]
    assert names[0] == "training.start"
    assert names[-1] == "training.stop"
    assert names.count("batch.stop") == result.steps == 18
    assert names.count("epoch.start") == names.count("epoch.stop") == 2
    assert "checkpoint.saved" in names
    batch = next(m for n, m, _ in seen if n[-2:] == ("batch", "stop"))
    assert {"loss", "learning_rate", "gradient_norm", "train/accuracy", "num_tokens"} <= set(batch)
    epoch = [m for n, m, _ in seen if n[-2:] == ("epoch", "stop")]
    assert epoch[-1]["loss"] > 0


def test_loop_runs_on_the_noop_backend(tmp_path: Path) -> None:
    client = NoopTrainingClient()
    cfg = SupervisedConfig(
        log_path=str(tmp_path),
        batch_size=64,
        eval_every=3,
        save_every=4,
        loggers=["json", "console"],
    )
    result = train(cfg, client=client)
    assert result.steps == 9
    assert client.calls["forward_backward"] == client.calls["optim_step"] == 9
    assert (tmp_path / "checkpoints" / "final_000009" / "noop.state").exists()
    assert result.history[0]["val/nll"] == 0.0
