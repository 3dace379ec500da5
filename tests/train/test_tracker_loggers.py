"""The W&B, MLflow and Neptune loggers write real runs offline, and each run is read back by
its own library: W&B's transaction-log reader, MlflowClient on the SQLite store, Neptune's
disk queue. A socket guard fails any test whose process tries to reach a remote host."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from crucible.errors import ConfigurationError, InvalidArgumentError, NotFoundError
from crucible.train.config import SupervisedConfig
from crucible.train.loggers import MultiplexLogger, setup_logger
from crucible.train.loggers.tracking import (
    ArtifactLogger,
    flatten_params,
    import_tracker,
    numeric_metrics,
)

CONFIG = SupervisedConfig(log_path="/runs/demo", learning_rate=3e-4, batch_size=8)


@pytest.fixture(autouse=True)
def no_remote_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Refuse (and record) connections to anything but loopback or a Unix socket."""
    attempts: list[Any] = []
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if host not in ("127.0.0.1", "::1", "localhost"):
                attempts.append(address)
                raise OSError(f"test blocked a network connection to {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield attempts
    assert attempts == []


@pytest.fixture
def offline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    for name, sub in [
        ("WANDB_DATA_DIR", "wandb-data"),
        ("WANDB_CACHE_DIR", "wandb-cache"),
        ("WANDB_CONFIG_DIR", "wandb-config"),
        ("WANDB_ARTIFACT_DIR", "wandb-artifacts"),
    ]:
        monkeypatch.setenv(name, str(home / sub))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("NEPTUNE_MODE", raising=False)
    monkeypatch.delenv("NEPTUNE_API_TOKEN", raising=False)
    return tmp_path


def make_checkpoint(root: Path) -> Path:
    ckpt = root / "ckpt" / "step-000002"
    (ckpt / "optim").mkdir(parents=True)
    (ckpt / "weights.npz").write_bytes(b"\x00\x01weights")
    (ckpt / "optim" / "state.json").write_text('{"step": 2}')
    return ckpt


def drive(logger: Any, ckpt: Path) -> None:
    """What the supervised loop does, plus a checkpoint artifact."""
    logger.log_hparams(CONFIG)
    for step, nll in enumerate([2.5, 1.75, 1.25]):
        logger.log_metrics({"train/nll": nll, "train/lr": 3e-4, "note": "text"}, step)
    logger.log_metrics({"val/nll": 1.5}, 2)
    logger.log_long_text("sample", "user: hi\nassistant: hello")
    assert isinstance(logger, ArtifactLogger)
    logger.log_artifact(ckpt, name="step-000002")
    logger.log_artifact(ckpt / "weights.npz")
    logger.close()
    logger.close()  # closing twice is harmless


# --- shared pieces ------------------------------------------------------------------------


def test_flatten_params_keeps_every_key_and_scalar() -> None:
    flat = flatten_params({"a": {"b": 1, "c": [1, 2]}, "d": [{"e": None}], "f": {}, "g": "x"})
    assert flat == {"a.b": 1, "a.c": "[1, 2]", "d.0.e": None, "f": "{}", "g": "x"}
    assert flatten_params(CONFIG, sep="/")["early_stopping"] is None
    assert flatten_params(3) == {"config": 3}


def test_numeric_metrics_drops_text_bools_and_optionally_non_finite() -> None:
    import numpy as np

    raw = {"a": 1, "b": np.float32(0.5), "c": True, "d": "x", "e": float("nan")}
    assert numeric_metrics(raw) == {
        "a": 1.0,
        "b": 0.5,
        "e": pytest.approx(float("nan"), nan_ok=True),
    }
    assert numeric_metrics(raw, finite_only=True) == {"a": 1.0, "b": 0.5}


def test_missing_tracker_names_the_extra() -> None:
    with pytest.raises(ConfigurationError, match=r"pip install 'crucible\[comet\]'"):
        import_tracker("crucible_no_such_tracker_lib", "comet", {})


def test_config_accepts_the_tracker_names() -> None:
    config = msgspec.convert(
        {"log_path": "x", "loggers": ["json", "wandb", "mlflow", "neptune"]}, SupervisedConfig
    )
    assert config.loggers == ["json", "wandb", "mlflow", "neptune"]
    with pytest.raises(InvalidArgumentError, match="unknown logger 'comet'"):
        setup_logger(["comet"], "unused")


# --- Weights & Biases ---------------------------------------------------------------------


def test_wandb_offline_run_reads_back(offline_env: Path) -> None:
    from crucible.train.loggers.wandb_logger import WandbLogger, read_offline_records

    ckpt = make_checkpoint(offline_env)
    logger = WandbLogger(
        "crucible-test",
        log_dir=offline_env / "logs",
        run_name="demo",
        run_id="demo01",
        tags=["sft", "numpy"],
        config={"seed": 7},
    )
    assert logger.run_id == "demo01"
    drive(logger, ckpt)
    (run_file,) = logger.run_dir.glob("run-demo01.wandb")
    records = read_offline_records(run_file)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_type.setdefault(record["type"], []).append(record[record["type"]])

    (run,) = by_type["run"]
    assert (run["run_id"], run["display_name"], run["project"]) == (
        "demo01",
        "demo",
        "crucible-test",
    )
    assert run["tags"] == ["sft", "numpy"]
    assert run["config"]["update"]["seed"] == 7
    config: dict[str, Any] = {}
    for update in by_type["config"]:
        config.update(update.get("update", {}))
    assert config["learning_rate"] == 3e-4
    assert config["batch_size"] == 8
    assert config["loggers"] == ["json"]

    rows = {h["step"].get("num", 0): h["item"] for h in by_type["history"]}
    assert [rows[s]["train/nll"] for s in (0, 1, 2)] == [2.5, 1.75, 1.25]
    assert rows[2]["val/nll"] == 1.5  # merged into step 2's row
    assert all("note" not in row for row in rows.values())
    summary: dict[str, Any] = {}
    for update in by_type["summary"]:
        summary.update(update.get("update", {}))
    assert summary["sample"] == "user: hi\nassistant: hello"

    artifacts = {a["name"]: a for a in by_type["artifact"]}
    assert set(artifacts) == {"step-000002", "weights.npz"}
    stored = {c["path"]: int(c["size"]) for c in artifacts["step-000002"]["manifest"]["contents"]}
    assert stored == {"weights.npz": 9, "optim/state.json": 11}
    assert artifacts["step-000002"]["type"] == "model"
    assert by_type["exit"][0].get("exit_code", 0) == 0


def test_wandb_artifact_of_a_missing_path(offline_env: Path) -> None:
    from crucible.train.loggers.wandb_logger import WandbLogger, read_offline_records

    logger = WandbLogger("crucible-test", log_dir=offline_env / "logs")
    with pytest.raises(NotFoundError):
        logger.log_artifact(offline_env / "nope")
    logger.close()
    with pytest.raises(NotFoundError):
        read_offline_records(offline_env / "missing.wandb")


def test_wandb_online_without_credentials_is_a_configuration_error(
    offline_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crucible.train.loggers.wandb_logger import WandbLogger

    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(offline_env / "no-netrc"))
    with pytest.raises(ConfigurationError, match="WANDB_MODE=offline"):
        WandbLogger("crucible-test", log_dir=offline_env / "logs", mode="online")
    # a later offline run in the same process still works
    logger = WandbLogger("crucible-test", log_dir=offline_env / "logs2")
    logger.log_metrics({"x": 1.0}, 0)
    logger.close()
    assert list(logger.run_dir.glob("*.wandb"))


# --- MLflow -------------------------------------------------------------------------------


def test_mlflow_sqlite_run_reads_back(offline_env: Path) -> None:
    from mlflow.tracking import MlflowClient

    from crucible.train.loggers.mlflow_logger import MlflowLogger

    ckpt = make_checkpoint(offline_env)
    log_dir = offline_env / "logs"
    logger = MlflowLogger("crucible-test", log_dir=log_dir, run_name="demo", tags=["sft"])
    assert logger.tracking_uri.startswith("sqlite:///")
    assert (log_dir / "mlflow.db").is_file()
    drive(logger, ckpt)

    client = MlflowClient(tracking_uri=logger.tracking_uri)
    run = client.get_run(logger.run_id)
    assert run.info.run_name == "demo"
    assert run.info.status == "FINISHED"
    assert run.data.tags["sft"] == "true"
    params = run.data.params
    assert params["learning_rate"] == "0.0003"
    assert params["batch_size"] == "8"
    assert params["loggers"] == '["json"]'
    assert params["early_stopping"] == "None"
    history = client.get_metric_history(logger.run_id, "train/nll")
    assert [(m.step, m.value) for m in history] == [(0, 2.5), (1, 1.75), (2, 1.25)]
    assert [m.value for m in client.get_metric_history(logger.run_id, "val/nll")] == [1.5]
    assert "note" not in run.data.metrics

    listed = {f.path for f in client.list_artifacts(logger.run_id, "step-000002")}
    assert listed == {"step-000002/optim", "step-000002/weights.npz"}
    nested = {f.path for f in client.list_artifacts(logger.run_id, "step-000002/optim")}
    assert nested == {"step-000002/optim/state.json"}
    assert {f.path for f in client.list_artifacts(logger.run_id, "weights.npz")} == {
        "weights.npz/weights.npz"
    }
    local = client.download_artifacts(logger.run_id, "step-000002", str(offline_env / "dl"))
    assert (Path(local) / "weights.npz").read_bytes() == b"\x00\x01weights"
    text = client.download_artifacts(logger.run_id, "text/sample.txt", str(offline_env / "t"))
    assert Path(text).read_text() == "user: hi\nassistant: hello"


def test_mlflow_resumes_a_run_and_rejects_an_unknown_one(offline_env: Path) -> None:
    from mlflow.tracking import MlflowClient

    from crucible.train.loggers.mlflow_logger import MlflowLogger

    log_dir = offline_env / "logs"
    first = MlflowLogger(log_dir=log_dir)
    first.log_metrics({"loss": 1.0}, 0)
    first.close()
    again = MlflowLogger(log_dir=log_dir, run_id=first.run_id, tags=["resumed"])
    again.log_metrics({"loss": 0.5}, 1)
    again.close()
    client = MlflowClient(tracking_uri=again.tracking_uri)
    assert [m.value for m in client.get_metric_history(first.run_id, "loss")] == [1.0, 0.5]
    assert client.get_run(first.run_id).data.tags["resumed"] == "true"
    with pytest.raises(NotFoundError, match="no MLflow run"):
        MlflowLogger(log_dir=log_dir, run_id="0" * 32)


# --- Neptune ------------------------------------------------------------------------------


def read_neptune_operations(data_dir: Path) -> list[Any]:
    """The offline run's queued operations, decoded by Neptune's own disk queue."""
    from neptune.core.components.queue.disk_queue import DiskQueue
    from neptune.internal.operation import Operation

    (run_dir,) = (data_dir / "offline").iterdir()
    queue: DiskQueue[Any] = DiskQueue(
        data_path=run_dir,
        to_dict=lambda op: op.to_dict(),
        from_dict=Operation.from_dict,
        lock=threading.RLock(),
    )
    ops = []
    while (element := queue.get()) is not None:
        ops.append(element.obj)
    queue.close()
    return ops


def test_neptune_offline_run_reads_back(offline_env: Path) -> None:
    from crucible.train.loggers.neptune_logger import NeptuneLogger

    ckpt = make_checkpoint(offline_env)
    log_dir = offline_env / "logs"
    logger = NeptuneLogger(
        "crucible/tests", log_dir=log_dir, run_name="demo", tags=["sft", "numpy"]
    )
    drive(logger, ckpt)
    ops = read_neptune_operations(log_dir / ".neptune")

    def at(path: str, kind: str) -> list[Any]:
        return [op for op in ops if "/".join(op.path) == path and type(op).__name__ == kind]

    assert at("sys/name", "AssignString")[0].value == "demo"
    assert at("sys/tags", "AddStrings")[0].values == {"sft", "numpy"}
    assert at("parameters/learning_rate", "AssignFloat")[0].value == 3e-4
    assert at("parameters/batch_size", "AssignInt")[0].value == 8
    assert at("parameters/loggers", "AssignString")[0].value == '["json"]'
    series = [(v.step, v.value) for op in at("train/nll", "LogFloats") for v in op.values]
    assert series == [(0, 2.5), (1, 1.75), (2, 1.25)]
    assert [v.value for op in at("val/nll", "LogFloats") for v in op.values] == [1.5]
    assert not at("note", "LogFloats")
    assert at("text/sample", "AssignString")[0].value == "user: hi\nassistant: hello"
    (fileset,) = at("checkpoints/step-000002", "UploadFileSet")
    assert sorted(Path(p).name for p in fileset.file_globs) == ["state.json", "weights.npz"]
    (single,) = at("checkpoints/weights.npz", "UploadFile")
    assert Path(single.file_path).read_bytes() == b"\x00\x01weights"


def test_setup_logger_builds_every_tracker(offline_env: Path) -> None:
    log_dir = offline_env / "run-7"
    logger = setup_logger(["json", "wandb", "mlflow", "neptune"], log_dir)
    assert isinstance(logger, MultiplexLogger)
    names = [type(x).__name__ for x in logger.loggers]
    assert names == ["JsonLogger", "WandbLogger", "MlflowLogger", "NeptuneLogger"]
    logger.log_hparams({"lr": 0.1})
    logger.log_metrics({"train/nll": 1.0}, 0)
    logger.close()
    assert (log_dir / "mlflow.db").is_file()
    assert list((log_dir / "wandb").glob("offline-run-*/run-*.wandb"))
    assert list((log_dir / ".neptune" / "offline").iterdir())
