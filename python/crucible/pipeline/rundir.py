"""The run directory: everything one run leaves on disk, and the record of its progress.

::

    <home>/runs/<run_id>/
        experiment.json          the experiment, canonical JSON (RFC 8785)
        run.json                 RunRecord: status, seed, per-stage state, wall times
        trace.jsonl              the run's trace chain (append-only, survives a kill)
        trace.html               the trace drawn (written when the run stops)
        stages/<name>/result.json  each completed stage's StageResult
        stages/<name>/...          whatever the stage wrote

``run.json`` and ``result.json`` are replaced atomically (write, then rename), so a run
killed at any moment leaves either the old or the new file, never half of one: that is
what makes resuming safe. Wall-clock times live here (and in telemetry), never in traces
or metrics.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import msgspec

from crucible.errors import InvalidArgumentError, NotFoundError, SerializationError
from crucible.pipeline.stage import StageResult

__all__ = [
    "RunDir",
    "RunRecord",
    "RunStatus",
    "StageState",
    "StageStatus",
    "check_run_id",
    "claim",
    "list_runs",
    "new_run_id",
    "open_run",
    "runs_root",
    "utc_iso",
]

RunStatus = Literal["running", "completed", "failed", "interrupted"]
StageStatus = Literal["pending", "running", "completed", "failed", "skipped"]
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def utc_iso() -> str:
    """Now, as an RFC 3339 UTC string (second precision is plenty for people)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class StageState(msgspec.Struct, kw_only=True):
    """One stage's progress in a run."""

    name: str
    reference: str
    seed: int
    status: StageStatus = "pending"
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float | None = None
    attempts: int = 0
    error: str | None = None


class RunRecord(msgspec.Struct, kw_only=True):
    """``run.json``: what the run is and how far it got."""

    run_id: str
    experiment_id: str
    fingerprint: str
    seed: int
    status: RunStatus = "running"
    created_at: str = msgspec.field(default_factory=utc_iso)
    updated_at: str = msgspec.field(default_factory=utc_iso)
    attempts: int = 0
    stages: list[StageState] = msgspec.field(default_factory=list)
    error: str | None = None
    failed_stage: str | None = None
    trace_head: str | None = None
    trace_events: int = 0
    telemetry: list[str] = msgspec.field(default_factory=list)
    pid: int | None = None
    host: str | None = None

    def stage(self, name: str) -> StageState:
        for state in self.stages:
            if state.name == name:
                return state
        raise NotFoundError(f"run {self.run_id} has no stage {name!r}")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


class RunDir:
    """Paths and files of one run directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def experiment_file(self) -> Path:
        return self.path / "experiment.json"

    @property
    def record_file(self) -> Path:
        return self.path / "run.json"

    @property
    def trace_file(self) -> Path:
        return self.path / "trace.jsonl"

    @property
    def trace_html(self) -> Path:
        return self.path / "trace.html"

    def stage_dir(self, name: str) -> Path:
        return self.path / "stages" / name

    def exists(self) -> bool:
        return self.record_file.is_file()

    def read_record(self) -> RunRecord:
        if not self.record_file.is_file():
            raise NotFoundError(f"no run at {self.path} (missing run.json)")
        try:
            record = msgspec.json.decode(self.record_file.read_bytes(), type=RunRecord)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise SerializationError(f"{self.record_file}: {exc}") from None
        return _settled(record)

    def write_record(self, record: RunRecord) -> None:
        record.updated_at = utc_iso()
        self.path.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.record_file, msgspec.json.format(msgspec.json.encode(record)))

    def read_result(self, name: str) -> StageResult | None:
        path = self.stage_dir(name) / "result.json"
        if not path.is_file():
            return None
        try:
            return msgspec.json.decode(path.read_bytes(), type=StageResult)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise SerializationError(f"{path}: {exc}") from None

    def write_result(self, name: str, result: StageResult) -> None:
        directory = self.stage_dir(name)
        directory.mkdir(parents=True, exist_ok=True)
        encoded = msgspec.json.encode(result, order="deterministic")
        _write_atomic(directory / "result.json", msgspec.json.format(encoded))

    def results(self, record: RunRecord) -> dict[str, StageResult]:
        """The results of the record's completed stages, in pipeline order."""
        out: dict[str, StageResult] = {}
        for state in record.stages:
            if state.status == "completed":
                result = self.read_result(state.name)
                if result is not None:
                    out[state.name] = result
        return out


def runs_root(home: str | os.PathLike[str]) -> Path:
    return Path(home) / "runs"


def check_run_id(run_id: str) -> str:
    if not _SAFE_ID.match(run_id):
        raise InvalidArgumentError(
            f"run id {run_id!r} must be 1-128 letters, digits, '.', '_' or '-' "
            "(starting with a letter or digit)"
        )
    return run_id


def new_run_id(experiment_id: str) -> str:
    """``<experiment>-<UTC time>-<random>``: sortable by time, unique across processes."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", experiment_id).strip("-._")[:60] or "run"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stem}-{stamp}-{secrets.token_hex(3)}"


def claim(record: RunRecord) -> None:
    """Mark ``record`` as run by this process, so that readers can tell a live run from
    one whose process died without recording an outcome (``kill -9``, a power cut)."""
    record.pid, record.host = os.getpid(), socket.gethostname()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _settled(record: RunRecord) -> RunRecord:
    """A "running" record whose process is gone (on this host) reads as interrupted."""
    if (
        record.status == "running"
        and record.pid is not None
        and record.host == socket.gethostname()
        and not _alive(record.pid)
    ):
        record.status = "interrupted"
        record.error = record.error or (
            f"process {record.pid} ended without recording an outcome (killed?)"
        )
    return record


def list_runs(home: str | os.PathLike[str]) -> list[RunRecord]:
    """Every readable run under ``home``, oldest first."""
    root = runs_root(home)
    if not root.is_dir():
        return []
    records = []
    for path in root.iterdir():
        run = RunDir(path)
        if run.exists():
            try:
                records.append(run.read_record())
            except SerializationError:
                continue
    return sorted(records, key=lambda r: (r.created_at, r.run_id))


def open_run(home: str | os.PathLike[str], ref: str) -> RunDir:
    """The run ``ref`` names: a run directory path, a run id, or a unique id prefix."""
    as_path = Path(ref)
    if (as_path / "run.json").is_file():
        return RunDir(as_path)
    root = runs_root(home)
    exact = RunDir(root / ref)
    if _SAFE_ID.match(ref) and exact.exists():
        return exact
    matches = sorted(p for p in root.glob("*") if p.name.startswith(ref)) if root.is_dir() else []
    matches = [p for p in matches if (p / "run.json").is_file()]
    if len(matches) == 1:
        return RunDir(matches[0])
    if matches:
        names = ", ".join(p.name for p in matches[:5])
        raise NotFoundError(f"run {ref!r} is ambiguous under {root}: {names}")
    raise NotFoundError(f"no run {ref!r} under {root}")
