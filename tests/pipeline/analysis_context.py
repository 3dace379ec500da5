"""Builds a real StageContext for the analysis-stage tests: an experiment whose pipeline is
an evaluate stage then the stage under test, a samples file written into ``tmp_path``, a
real Tracer, and a seeded generator. Imported by the test modules (pytest puts this
directory on ``sys.path``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from crucible.ir.experiment import BackendRef, Experiment, StageDef
from crucible.ir.reliability import Config as Reliability
from crucible.pipeline.stage import StageContext, StageResult, decode_options
from crucible.prng import default_rng
from crucible.trace import Tracer

EVALUATE = "evaluate"


def sample(
    model: str,
    index: int,
    prediction: str,
    reference: str,
    scores: dict[str, float] | None = None,
    group: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "model": model,
        "index": index,
        "id": f"s{index}",
        "prompt": extra.pop("prompt", f"question {index}"),
        "reference": reference,
        "prediction": prediction,
        "scores": scores if scores is not None else {"exact_match": float(prediction == reference)},
        "group": group or {},
        **extra,
    }


def write_rows(run_dir: Path, rows: list[dict[str, Any]]) -> str:
    directory = run_dir / "stages" / EVALUATE
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "samples.jsonl"
    path.write_bytes(b"".join(msgspec.json.encode(r) + b"\n" for r in rows))
    return path.relative_to(run_dir).as_posix()


def make_context(
    run_dir: Path,
    stage_key: str,
    rows: list[dict[str, Any]] | None,
    options: dict[str, Any] | None = None,
    *,
    reliability: Reliability | None = None,
    seed: int = 7,
    stage_name: str | None = None,
) -> tuple[StageContext, Any]:
    """(context, decoded options) for stage ``stage_key`` placed after an evaluate stage;
    with ``rows`` None the evaluate stage has not produced a result."""
    name = stage_name or stage_key
    stage = StageDef(name=name, module=stage_key, options=options or {})
    experiment = Experiment(
        id="exp",
        backend=BackendRef(id="numpy"),
        pipeline=[StageDef(name=EVALUATE), stage],
        reliability=reliability,
    )
    results: dict[str, StageResult] = {}
    if rows is not None:
        models = list(dict.fromkeys(r["model"] for r in rows))
        scorers = list(dict.fromkeys(k for r in rows for k in r["scores"]))
        results[EVALUATE] = StageResult(
            outputs={"samples": write_rows(run_dir, rows), "models": models, "scorers": scorers}
        )
    ctx = StageContext(
        experiment=experiment,
        stage=stage,
        index=1,
        run_dir=run_dir,
        seed=seed,
        rng=default_rng(seed),
        tracer=Tracer("test"),
        telemetry=None,
        results=results,
    )
    return ctx, stage


def decoded(stage_cls: Any, ctx: StageContext) -> Any:
    """The stage instance built the way the runner builds it."""
    return stage_cls(decode_options(stage_cls.Options, ctx.stage.options, ctx.pointer))


def event_types(ctx: StageContext) -> list[str]:
    return [event.type for event in ctx.tracer.chain.events]
