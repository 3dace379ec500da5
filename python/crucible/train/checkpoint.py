"""Checkpoints: whole training states written atomically, verified on load.

Each checkpoint is a directory ``{kind}_{step:06d}`` holding the backend's files (weights and
optimizer state as safetensors; pickle is never used) and ``manifest.json``: step, metrics,
config fingerprint, RNG state, loop state and the SHA-256 of every file. It is written in a
temporary directory, every file fsynced, then renamed into place (and the parent directory
fsynced), so a crash leaves either the old set of checkpoints or the new one, never half a
checkpoint under a real name. Loading re-hashes every file: a damaged checkpoint raises
:class:`~crucible.errors.IntegrityError` naming the file, and :meth:`CheckpointManager.
load_latest` falls back to the previous checkpoint with a warning.

Retention: the newest ``keep_last`` periodic checkpoints, the latest ``best`` one, and
``final``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from crucible.errors import IntegrityError
from crucible.ir.training import CheckpointRef
from crucible.train.ports.training import TrainingClient

__all__ = [
    "Checkpoint",
    "CheckpointFallbackWarning",
    "CheckpointManager",
    "CheckpointManifest",
]

Kind = Literal["periodic", "best", "final"]
MANIFEST = "manifest.json"
FORMAT = "crucible-checkpoint/1"


class CheckpointFallbackWarning(RuntimeWarning):
    """A damaged checkpoint was skipped in favour of an older one."""


class CheckpointManifest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    format: str = FORMAT
    kind: Kind
    step: int
    metrics: dict[str, float] = msgspec.field(default_factory=dict)
    config_fingerprint: str = ""
    rng_state: dict[str, Any] = msgspec.field(default_factory=dict)
    loop_state: dict[str, Any] = msgspec.field(default_factory=dict)
    files: dict[str, str] = msgspec.field(default_factory=dict)
    """File name -> SHA-256 (hex) of its bytes."""
    created_at: float = 0.0


class Checkpoint(msgspec.Struct, frozen=True):
    path: Path
    manifest: CheckpointManifest

    def to_ref(self) -> CheckpointRef:
        """The checkpoint as a ``crucible.ir`` :class:`CheckpointRef`."""
        import datetime

        digest = hashlib.sha256((self.path / MANIFEST).read_bytes()).hexdigest()
        epoch = self.manifest.loop_state.get("epoch")
        return CheckpointRef(
            uri=self.path.resolve().as_uri(),
            step=self.manifest.step,
            epoch=epoch if isinstance(epoch, int) else None,
            metrics=dict(self.manifest.metrics) or None,
            is_best=self.manifest.kind == "best",
            sha256=digest,
            created_at=datetime.datetime.fromtimestamp(
                self.manifest.created_at, datetime.timezone.utc
            ),
        )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_file(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class CheckpointManager:
    def __init__(self, root: str | Path, *, keep_last: int = 3, keep_best: bool = True) -> None:
        self.root = Path(root)
        self.keep_last = keep_last
        self.keep_best = keep_best

    def save(
        self,
        client: TrainingClient,
        *,
        kind: Kind,
        step: int,
        metrics: Mapping[str, float] | None = None,
        config_fingerprint: str = "",
        loop_state: Mapping[str, Any] | None = None,
    ) -> Checkpoint:
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / f"{kind}_{step:06d}"
        tmp = self.root / f".tmp-{final.name}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            files = client.save_state(tmp)
            manifest = CheckpointManifest(
                kind=kind,
                step=step,
                metrics={k: float(v) for k, v in (metrics or {}).items()},
                config_fingerprint=config_fingerprint,
                rng_state={"backend": client.rng_state()},
                loop_state=dict(loop_state or {}),
                files={f.name: _sha256(f) for f in files},
                created_at=time.time(),
            )
            (tmp / MANIFEST).write_bytes(msgspec.json.format(msgspec.json.encode(manifest)))
            for f in (*files, tmp / MANIFEST):
                _fsync_file(f)
            _fsync_dir(tmp)
            if final.exists():  # same kind and step saved again (a re-run): replace it
                shutil.rmtree(final)
            os.replace(tmp, final)
            _fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.prune()
        return Checkpoint(final, manifest)

    def list(self, kinds: tuple[Kind, ...] = ("periodic", "best", "final")) -> list[Checkpoint]:
        """Checkpoints whose manifest reads, oldest step first (files not yet verified)."""
        out: list[Checkpoint] = []
        if not self.root.is_dir():
            return out
        for path in self.root.iterdir():
            if path.name.startswith(".") or not path.is_dir():
                continue
            try:
                manifest = msgspec.json.decode(
                    (path / MANIFEST).read_bytes(), type=CheckpointManifest
                )
            except (OSError, msgspec.MsgspecError):
                continue
            if manifest.kind in kinds:
                out.append(Checkpoint(path, manifest))
        out.sort(key=lambda c: (c.manifest.step, c.manifest.kind == "final"))
        return out

    def verify(self, path: str | Path) -> CheckpointManifest:
        """The manifest, after checking every file against its recorded hash."""
        p = Path(path)
        try:
            manifest = msgspec.json.decode((p / MANIFEST).read_bytes(), type=CheckpointManifest)
        except (OSError, msgspec.MsgspecError) as exc:
            raise IntegrityError(
                f"checkpoint {p} is damaged: unreadable manifest ({exc})"
            ) from None
        if manifest.format != FORMAT:
            raise IntegrityError(f"checkpoint {p} has unknown format {manifest.format!r}")
        for name, digest in manifest.files.items():
            f = p / name
            if not f.is_file():
                raise IntegrityError(f"checkpoint {p} is damaged: {name} is missing")
            if _sha256(f) != digest:
                raise IntegrityError(f"checkpoint {p} is damaged: {name} does not match its hash")
        return manifest

    def load(
        self, path: str | Path, client: TrainingClient, *, weights_only: bool = False
    ) -> CheckpointManifest:
        """Verify, then restore weights (and optimizer and RNG state unless ``weights_only``)."""
        manifest = self.verify(path)
        client.load_state(Path(path), weights_only=weights_only)
        if not weights_only and "backend" in manifest.rng_state:
            client.set_rng_state(manifest.rng_state["backend"])
        return manifest

    def load_latest(
        self, client: TrainingClient, kinds: tuple[Kind, ...] = ("periodic", "final")
    ) -> Checkpoint | None:
        """Restore the newest loadable checkpoint; ``None`` if there is none at all. Damaged
        ones are skipped with a :class:`CheckpointFallbackWarning`; if every one is damaged,
        the error of the newest is raised."""
        candidates = self.list(kinds)
        first_error: IntegrityError | None = None
        for ckpt in reversed(candidates):
            try:
                manifest = self.load(ckpt.path, client)
            except IntegrityError as exc:
                first_error = first_error or exc
                warnings.warn(
                    f"{exc}; falling back to an older checkpoint", CheckpointFallbackWarning, 2
                )
                continue
            return Checkpoint(ckpt.path, manifest)
        if first_error is not None:
            raise first_error
        return None

    def best(self) -> Checkpoint | None:
        found = self.list(("best",))
        return found[-1] if found else None

    def prune(self) -> None:
        periodic = self.list(("periodic",))
        for ckpt in periodic[: max(len(periodic) - self.keep_last, 0)]:
            shutil.rmtree(ckpt.path, ignore_errors=True)
        best = self.list(("best",))
        for ckpt in best[:-1] if self.keep_best else best:
            shutil.rmtree(ckpt.path, ignore_errors=True)
