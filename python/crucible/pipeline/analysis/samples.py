"""The per-sample records an evaluate stage writes, and how analysis stages find them.

``stages/<evaluate>/samples.jsonl`` holds one JSON object per (model, sample) with the
fields of :class:`SampleRow` (see the pipeline contract). Readers here are lenient about
extra keys, since producers may add some (a ``confidence`` or ``latency_ms`` per answer is
used when present), and strict about the contract's keys, reporting the line of a bad row.

An analysis stage names its input with a ``from_stage`` option. Without one it takes the
last earlier stage whose registry key is ``evaluate``, falling back to the last earlier
stage whose result has a ``samples`` output: defaulting to *any* samples producer would
silently pick an ensemble's or a guardrail's rewritten file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec

from crucible.errors import ErrorItem, NotFoundError, SerializationError, ValidationError
from crucible.ir.experiment import StageDef
from crucible.pipeline.stage import StageContext

__all__ = [
    "EVALUATE_KEY",
    "SampleRow",
    "by_model",
    "raise_errors",
    "read_samples",
    "resolve_source",
    "row_to_json",
    "samples_file",
    "source_errors",
    "write_samples",
]

EVALUATE_KEY = "evaluate"


class SampleRow(msgspec.Struct, frozen=True, kw_only=True):
    """One model's answer to one sample; ``confidence`` and ``latency_ms`` are optional
    extras some producers add."""

    model: str
    index: int
    id: str = ""
    prompt: str = ""
    reference: str = ""
    prediction: str = ""
    scores: dict[str, float] = msgspec.field(default_factory=dict)
    group: dict[str, str] = msgspec.field(default_factory=dict)
    confidence: float | None = None
    latency_ms: float | None = None


_decoder = msgspec.json.Decoder(SampleRow)


def read_samples(path: Path) -> list[SampleRow]:
    """Every row of a ``samples.jsonl`` file, in file order."""
    if not path.is_file():
        raise NotFoundError(f"samples file {path} does not exist")
    rows: list[SampleRow] = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(_decoder.decode(line))
            except msgspec.DecodeError as exc:
                raise SerializationError(f"{path}:{number}: bad sample row: {exc}") from None
    return rows


def row_to_json(row: SampleRow) -> dict[str, Any]:
    """The contract's fields always; the optional extras only when set."""
    record: dict[str, Any] = {
        "model": row.model,
        "index": row.index,
        "id": row.id,
        "prompt": row.prompt,
        "reference": row.reference,
        "prediction": row.prediction,
        "scores": dict(row.scores),
        "group": dict(row.group),
    }
    if row.confidence is not None:
        record["confidence"] = row.confidence
    if row.latency_ms is not None:
        record["latency_ms"] = row.latency_ms
    return record


def write_samples(path: Path, rows: Iterable[SampleRow]) -> Path:
    """Write rows as JSON Lines (atomically: a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    encoder = msgspec.json.Encoder()
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        for row in rows:
            handle.write(encoder.encode(row_to_json(row)))
            handle.write(b"\n")
    tmp.replace(path)
    return path


def by_model(rows: Iterable[SampleRow]) -> dict[str, dict[int, SampleRow]]:
    """Rows keyed by model, then by sample index (the pairing key across models)."""
    table: dict[str, dict[int, SampleRow]] = {}
    for row in rows:
        table.setdefault(row.model, {})[row.index] = row
    return table


def _stage_key(stage: StageDef) -> str:
    return stage.module if stage.module else stage.name


def resolve_source(ctx: StageContext, from_stage: str | None) -> str | None:
    """The stage whose samples to read: ``from_stage`` itself, else the default above."""
    if from_stage is not None:
        return from_stage
    earlier = ctx.experiment.pipeline[: ctx.index]
    for stage in reversed(earlier):
        if _stage_key(stage) == EVALUATE_KEY:
            return stage.name
    for stage in reversed(earlier):
        result = ctx.results.get(stage.name)
        if result is not None and "samples" in result.outputs:
            return stage.name
    return None


def source_errors(ctx: StageContext, from_stage: str | None) -> list[ErrorItem]:
    """Dry-run problems with the samples source (no file is read)."""
    pointer = f"{ctx.pointer}/options/from_stage"
    source = resolve_source(ctx, from_stage)
    if source is None:
        return [
            ErrorItem(
                pointer,
                "missing_source",
                "no earlier evaluate stage to read samples from; set from_stage",
            )
        ]
    earlier = {stage.name for stage in ctx.experiment.pipeline[: ctx.index]}
    if source not in earlier:
        return [ErrorItem(pointer, "unknown_stage", f"{source!r} is not a stage before this one")]
    result = ctx.results.get(source)
    if result is not None and "samples" not in result.outputs:
        return [ErrorItem(pointer, "no_samples", f"stage {source!r} has no 'samples' output")]
    return []


def samples_file(ctx: StageContext, from_stage: str | None) -> Path:
    """The samples file of the source stage (run time: its result must exist)."""
    raise_errors(source_errors(ctx, from_stage), ctx)
    source = resolve_source(ctx, from_stage)
    assert source is not None  # source_errors reported the None case
    result = ctx.results.get(source)
    if result is None:
        raise NotFoundError(f"stage {source!r} has not run: no samples to read")
    return ctx.run_dir / str(result.outputs["samples"])


def raise_errors(errors: Sequence[ErrorItem], ctx: StageContext) -> None:
    """Raise the stage's check problems as one :class:`ValidationError`."""
    if errors:
        raise ValidationError(errors, f"stage {ctx.stage.name!r} at {ctx.pointer} cannot run")
