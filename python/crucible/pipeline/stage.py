"""The stage contract: what the runner hands a stage, and what a stage hands back.

A stage is one ``StageDef`` of an experiment's pipeline made executable. Its class says
which options it accepts as a ``msgspec.Struct`` (``Options``); the runner decodes
``StageDef.options`` into it before anything runs, so a typo in an option fails a dry run
with a JSON-pointer path (``/pipeline/2/options/lr``), not an hour later.

A stage runs on a :class:`StageContext`: the experiment, the run directory, a seeded
generator of its own (so adding a stage never changes another's random numbers), the
tracer and the telemetry experiment of the run, and the results of the stages before it.
It returns a :class:`StageResult`: scalar metrics, JSON-able outputs for later stages, and
the files it wrote. The runner persists results after each stage, which is what makes a
killed run resumable: on restart, completed stages are loaded, not re-run, so everything a
later stage needs from an earlier one must be in ``outputs`` or in a file under
``ctx.stage_dir``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import msgspec

from crucible.errors import ErrorItem, ValidationError
from crucible.ir.experiment import Experiment, StageDef
from crucible.prng import Generator

__all__ = [
    "NoOptions",
    "Stage",
    "StageContext",
    "StageResult",
    "decode_options",
]


class NoOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Options of a stage that takes none: any option given is an error."""


class StageResult(msgspec.Struct, frozen=True, kw_only=True):
    """What one stage produced. ``metrics`` are scalars worth a table and a comparison;
    ``outputs`` are JSON-able values later stages read (``ctx.results[name].outputs``);
    ``files`` are paths relative to the run directory."""

    metrics: dict[str, float] = msgspec.field(default_factory=dict)
    outputs: dict[str, Any] = msgspec.field(default_factory=dict)
    files: list[str] = msgspec.field(default_factory=list)


@dataclass
class StageContext:
    """Everything a stage may use. ``tracer`` is a :class:`crucible.trace.Tracer` and
    ``telemetry`` a :class:`crucible.telemetry.Experiment` (typed loosely here so the
    contract does not import the runner's wiring); ``progress`` reports ``(done, total)``
    for the CLI's progress bar."""

    experiment: Experiment
    stage: StageDef
    index: int
    run_dir: Path
    seed: int
    rng: Generator
    tracer: Any
    telemetry: Any
    results: Mapping[str, StageResult] = field(default_factory=dict)
    progress: Any = None

    @property
    def stage_dir(self) -> Path:
        """This stage's own directory under the run directory (created on first use)."""
        path = self.run_dir / "stages" / self.stage.name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def pointer(self) -> str:
        """JSON pointer of this stage in the experiment, for error messages."""
        return f"/pipeline/{self.index}"

    def report_progress(self, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(done, total)


@runtime_checkable
class Stage(Protocol):
    """A runnable stage. ``name`` is its registry key (``"train.supervised"``);
    ``Options`` the struct its options decode into."""

    name: ClassVar[str]
    Options: ClassVar[type[msgspec.Struct]]

    def __init__(self, options: Any) -> None: ...

    def check(self, ctx: StageContext) -> list[ErrorItem]:
        """Problems found without running (missing data files, an unknown earlier stage
        referenced by name); empty when the stage can run. Called by dry runs too."""
        ...

    def run(self, ctx: StageContext) -> StageResult: ...


def decode_options(
    options_type: type[msgspec.Struct], raw: Mapping[str, Any] | None, pointer: str
) -> Any:
    """``raw`` (a ``StageDef.options`` map) as ``options_type``; every problem raises a
    :class:`ValidationError` located under ``{pointer}/options``."""
    try:
        return msgspec.convert(dict(raw or {}), options_type, str_keys=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        sub = ""
        if " - at `$" in message:
            message, _, where = message.rpartition(" - at `$")
            sub = "/" + where.rstrip("`").lstrip(".").replace(".", "/").replace("[", "/")
            sub = sub.replace("]", "")
        raise ValidationError(
            [ErrorItem(f"{pointer}/options{sub}", "stage_option", message)],
            f"invalid options for stage at {pointer}: {message}",
        ) from None
