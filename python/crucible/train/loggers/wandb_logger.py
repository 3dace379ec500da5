"""Weights & Biases logger: one W&B run per logger, written through ``wandb``'s own client.

``mode="offline"`` (or ``WANDB_MODE=offline``) writes the run's transaction log under
``log_dir/wandb/offline-run-*/run-<id>.wandb`` and touches no network; ``wandb sync`` uploads
it later, and ``wandb leet inspect --json`` reads it back. The config keeps its nesting (W&B
shows nested configs natively); metrics are the numeric entries of each call, logged at the
optimizer step; checkpoints become ``model`` artifacts. Console capture, system metrics and
git/code snapshots are off: the loop logs what matters itself, and capture slows every step.
W&B's error reporting is off unless ``WANDB_ERROR_REPORTING`` is set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from crucible.errors import ConfigurationError, InvalidArgumentError, NotFoundError
from crucible.train.loggers.base import dump_config
from crucible.train.loggers.tracking import import_tracker, numeric_metrics, safe_artifact_name

__all__ = ["WandbLogger", "read_offline_records"]

WandbMode = Literal["online", "offline", "disabled"]


class WandbLogger:
    def __init__(
        self,
        project: str = "crucible",
        *,
        log_dir: str | Path | None = None,
        run_name: str | None = None,
        run_id: str | None = None,
        tags: Sequence[str] = (),
        config: Any = None,
        entity: str | None = None,
        mode: WandbMode | None = None,
    ) -> None:
        wandb = import_tracker("wandb", "wandb", {"WANDB_ERROR_REPORTING": "false"})
        self._wandb = wandb
        if log_dir is not None:
            Path(log_dir).mkdir(parents=True, exist_ok=True)
        settings = wandb.Settings(
            console="off",
            x_disable_stats=True,
            x_disable_machine_info=True,
            disable_git=True,
            save_code=False,
            silent=True,
            x_save_requirements=False,
        )
        # Read WANDB_MODE now: wandb caches its settings process-wide at the first init, so
        # a later change of the variable would otherwise be ignored.
        mode = mode or os.environ.get("WANDB_MODE") or None  # type: ignore[assignment]
        try:
            self.run = wandb.init(
                project=project,
                entity=entity,
                name=run_name,
                id=run_id,
                resume="allow" if run_id else None,
                tags=list(tags),
                config=dump_config(config) if config is not None else None,
                dir=str(log_dir) if log_dir is not None else None,
                mode=mode,
                settings=settings,
                reinit="create_new",
            )
        except (wandb.errors.UsageError, wandb.errors.AuthenticationError) as exc:
            raise ConfigurationError(
                f"W&B cannot start a run ({exc}): run `wandb login`, or set WANDB_MODE=offline "
                "to log locally and `wandb sync` later"
            ) from None
        self._closed = False

    @property
    def run_id(self) -> str:
        return str(self.run.id)

    @property
    def run_dir(self) -> Path:
        """The run's own directory (holds the ``.wandb`` transaction log)."""
        return Path(self.run.dir).parent

    def log_hparams(self, config: Any) -> None:
        dumped = dump_config(config)
        values = dumped if isinstance(dumped, dict) else {"config": dumped}
        self.run.config.update(values, allow_val_change=True)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        values = numeric_metrics(metrics)
        if values:
            self.run.log(values, step=step)

    def log_long_text(self, key: str, text: str) -> None:
        """Texts go to the run summary (one value per key, the latest wins)."""
        self.run.summary[key] = text

    def log_artifact(
        self, path: str | Path, *, name: str | None = None, kind: str = "model"
    ) -> None:
        """A file or a whole checkpoint directory, as a versioned W&B artifact."""
        source = Path(path)
        if not source.exists():
            raise NotFoundError(f"no file or directory {str(source)!r} to log as an artifact")
        artifact = self._wandb.Artifact(safe_artifact_name(name or source.name), type=kind)
        if source.is_dir():
            artifact.add_dir(str(source))
        else:
            artifact.add_file(str(source))
        self.run.log_artifact(artifact)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.run.finish()


def read_offline_records(run_file: str | Path) -> list[dict[str, Any]]:
    """Every record of a ``.wandb`` transaction log, decoded by W&B's own reader
    (``wandb leet inspect --json``, which runs the bundled ``wandb-core``)."""
    path = Path(run_file)
    if not path.is_file():
        raise NotFoundError(f"no W&B transaction log at {str(path)!r}")
    if path.suffix != ".wandb":
        raise InvalidArgumentError(f"{str(path)!r} is not a .wandb transaction log")
    done = subprocess.run(
        [sys.executable, "-m", "wandb", "leet", "inspect", "--json", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
