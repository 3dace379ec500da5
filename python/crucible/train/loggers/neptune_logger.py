"""Neptune logger (the ``neptune`` 1.x client): one Neptune run per logger.

``mode="offline"`` (the default when ``NEPTUNE_MODE`` is unset) needs no API token and no
network: the client appends every operation to a disk queue under
``<data_dir>/offline/run__<id>__...`` (``data-1.log``, one JSON operation per line), and
``neptune sync`` uploads it later. ``data_dir`` defaults to ``<log_dir>/.neptune``; the client
reads it from ``NEPTUNE_DATA_DIRECTORY`` when the run starts, so the variable is set for that
moment only. Params go under ``parameters/`` with the config's nesting as namespaces; metrics
are float series appended at the optimizer step; checkpoints are uploaded under
``checkpoints/<name>`` (offline, the queue records the file paths and they are read at sync
time, so keep them until then). Console, hardware and traceback capture and the git and
source snapshots are off, as in the other trackers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from crucible.errors import NotFoundError
from crucible.train.loggers.tracking import (
    flatten_params,
    import_tracker,
    numeric_metrics,
    safe_artifact_name,
)

__all__ = ["NeptuneLogger"]

NeptuneMode = Literal["async", "sync", "offline", "debug", "read-only"]
_DATA_DIR_VARIABLE = "NEPTUNE_DATA_DIRECTORY"


@contextmanager
def _data_directory(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    before = os.environ.get(_DATA_DIR_VARIABLE)
    os.environ[_DATA_DIR_VARIABLE] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(_DATA_DIR_VARIABLE, None)
        else:
            os.environ[_DATA_DIR_VARIABLE] = before


class NeptuneLogger:
    def __init__(
        self,
        project: str = "crucible/crucible",
        *,
        log_dir: str | Path | None = None,
        data_dir: str | Path | None = None,
        run_name: str | None = None,
        run_id: str | None = None,
        custom_run_id: str | None = None,
        tags: Sequence[str] = (),
        config: Any = None,
        mode: NeptuneMode | None = None,
    ) -> None:
        neptune = import_tracker("neptune", "neptune", {})
        mode = mode or os.environ.get("NEPTUNE_MODE") or "offline"  # type: ignore[assignment]
        if data_dir is None and log_dir is not None:
            data_dir = Path(log_dir) / ".neptune"
        self.data_dir = Path(data_dir).resolve() if data_dir is not None else None
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        with _data_directory(self.data_dir):
            self.run = neptune.init_run(
                project=project,
                with_id=run_id,
                custom_run_id=custom_run_id,
                name=run_name,
                tags=list(tags) or None,
                mode=mode,
                capture_stdout=False,
                capture_stderr=False,
                capture_hardware_metrics=False,
                capture_traceback=False,
                git_ref=False,
                source_files=[],
            )
        if config is not None:
            self.log_hparams(config)
        self._closed = False

    @property
    def run_id(self) -> str:
        """Neptune's id for the run (``CRU-12`` online, a UUID offline)."""
        return str(self.run._id)

    def log_hparams(self, config: Any) -> None:
        for key, value in flatten_params(config, sep="/").items():
            self.run[f"parameters/{key}"] = "None" if value is None else value

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Non-finite values are left out: Neptune's float series reject them."""
        for key, value in numeric_metrics(metrics, finite_only=True).items():
            self.run[key].append(value, step=step)

    def log_long_text(self, key: str, text: str) -> None:
        self.run[f"text/{safe_artifact_name(key)}"] = text

    def log_artifact(self, path: str | Path, *, name: str | None = None) -> None:
        """A file as one File field; a directory as a FileSet holding all its files."""
        source = Path(path).resolve()
        if not source.exists():
            raise NotFoundError(f"no file or directory {str(source)!r} to log as an artifact")
        field = self.run[f"checkpoints/{safe_artifact_name(name or source.name)}"]
        if source.is_dir():
            field.upload_files([str(p) for p in sorted(source.rglob("*")) if p.is_file()])
        else:
            field.upload(str(source))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.run.stop()
