"""MLflow logger: one MLflow run per logger, written through ``MlflowClient`` (never the
fluent ``mlflow.start_run`` API, whose process-global active run would tie two loggers
together).

The tracking store defaults to a SQLite file, ``sqlite:///<log_dir>/mlflow.db``, with
artifacts beside it in ``<log_dir>/mlartifacts``: MLflow 3 keeps its file store only in
maintenance mode (it refuses ``file:`` URIs unless ``MLFLOW_ALLOW_FILE_STORE=true``), and the
SQLite store is the one a local tracking server reads. Any other tracking URI (a server's
``http://...``) is passed through. Config values become flattened string params (MLflow's only
kind), sent 100 at a time (its batch limit) and truncated at its 6000-character cap; metrics are
sent as one batch per call. Tags are ``{tag: "true"}`` (MLflow tags are key/value). MLflow's
telemetry is off unless ``MLFLOW_DISABLE_TELEMETRY`` is set.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from crucible.errors import NotFoundError
from crucible.train.loggers.tracking import (
    flatten_params,
    import_tracker,
    numeric_metrics,
    safe_artifact_name,
)

__all__ = ["MlflowLogger", "default_tracking_uri"]

_MAX_PARAM_VALUE = 6000
_PARAMS_PER_BATCH = 100
_METRICS_PER_BATCH = 1000


def default_tracking_uri(log_dir: str | Path) -> str:
    return f"sqlite:///{(Path(log_dir) / 'mlflow.db').resolve()}"


class MlflowLogger:
    def __init__(
        self,
        experiment: str = "crucible",
        *,
        log_dir: str | Path | None = None,
        tracking_uri: str | None = None,
        run_name: str | None = None,
        run_id: str | None = None,
        tags: Sequence[str] = (),
        config: Any = None,
    ) -> None:
        import_tracker("mlflow", "mlflow", {"MLFLOW_DISABLE_TELEMETRY": "true"})
        from mlflow.entities import Metric, Param, RunTag
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient

        self._metric, self._param, self._tag = Metric, Param, RunTag
        root = Path(log_dir or ".")
        if tracking_uri is None:
            root.mkdir(parents=True, exist_ok=True)
            tracking_uri = default_tracking_uri(root)
        self.tracking_uri = tracking_uri
        self.client = MlflowClient(tracking_uri=tracking_uri)
        if run_id is not None:
            try:
                self.run_id = self.client.get_run(run_id).info.run_id
            except MlflowException:
                raise NotFoundError(f"no MLflow run {run_id!r} in {tracking_uri}") from None
            self.client.update_run(self.run_id, status="RUNNING")
        else:
            found = self.client.get_experiment_by_name(experiment)
            if found is not None:
                experiment_id = found.experiment_id
            else:
                location = None
                if tracking_uri.startswith("sqlite:"):
                    location = (root / "mlartifacts").resolve().as_uri()
                experiment_id = self.client.create_experiment(
                    experiment, artifact_location=location
                )
            run = self.client.create_run(
                experiment_id, run_name=run_name, tags={tag: "true" for tag in tags}
            )
            self.run_id = run.info.run_id
        if run_id is not None and tags:
            self._log_batch(tags=[RunTag(tag, "true") for tag in tags])
        if config is not None:
            self.log_hparams(config)
        self._closed = False

    def _log_batch(
        self, *, metrics: Sequence[Any] = (), params: Sequence[Any] = (), tags: Sequence[Any] = ()
    ) -> None:
        for start in range(0, len(params), _PARAMS_PER_BATCH):
            self.client.log_batch(self.run_id, params=params[start : start + _PARAMS_PER_BATCH])
        for start in range(0, len(metrics), _METRICS_PER_BATCH):
            self.client.log_batch(self.run_id, metrics=metrics[start : start + _METRICS_PER_BATCH])
        if tags:
            self.client.log_batch(self.run_id, tags=list(tags))

    def log_hparams(self, config: Any) -> None:
        """Params are write-once in MLflow: logging a key again with another value fails,
        so a resumed run must be given the same config."""
        params = [
            self._param(key, str(value)[:_MAX_PARAM_VALUE])
            for key, value in flatten_params(config).items()
        ]
        self._log_batch(params=params)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        now = int(time.time() * 1000)
        batch = [
            self._metric(key, value, now, step or 0)
            for key, value in numeric_metrics(metrics).items()
        ]
        self._log_batch(metrics=batch)

    def log_long_text(self, key: str, text: str) -> None:
        self.client.log_text(self.run_id, text, f"text/{safe_artifact_name(key)}.txt")

    def log_artifact(self, path: str | Path, *, name: str | None = None) -> None:
        """A file goes to ``<name>/<file>``, a directory's contents to ``<name>/``."""
        source = Path(path)
        if not source.exists():
            raise NotFoundError(f"no file or directory {str(source)!r} to log as an artifact")
        target = safe_artifact_name(name or source.name)
        if source.is_dir():
            self.client.log_artifacts(self.run_id, str(source), target)
        else:
            self.client.log_artifact(self.run_id, str(source), target)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.client.set_terminated(self.run_id)
