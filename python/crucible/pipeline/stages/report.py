"""The ``report`` stage: renders the run's report from the stages before it.

Writes ``stages/<name>/report.md``, ``report.html`` (self-contained) and ``plots/``; see
:mod:`crucible.pipeline.report`. ``crucible report RUN`` re-renders the same files later
(after a resume, say, or once the trace view exists).
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from crucible.errors import ErrorItem
from crucible.pipeline.report import render_report
from crucible.pipeline.stage import NoOptions, StageContext, StageResult

__all__ = ["ReportStage"]


class ReportStage:
    name: ClassVar[str] = "report"
    Options: ClassVar[type[msgspec.Struct]] = NoOptions

    def __init__(self, options: NoOptions) -> None:
        self.options = options

    def check(self, ctx: StageContext) -> list[ErrorItem]:
        return []

    def run(self, ctx: StageContext) -> StageResult:
        files = render_report(ctx.run_dir, ctx.stage_dir, results=ctx.results)
        rel = [p.relative_to(ctx.run_dir).as_posix() for p in (files.markdown, files.html)]
        rel += [p.relative_to(ctx.run_dir).as_posix() for p in files.plots]
        ctx.tracer.record(
            "metric_recorded",
            f"report written with {len(files.plots)} plot(s)",
            f"covers {len(ctx.results)} earlier stage(s)",
            metadata={"files": rel[:2]},
        )
        return StageResult(
            metrics={"report/plots": float(len(files.plots))},
            outputs={"markdown": rel[0], "html": rel[1], "plots": rel[2:]},
            files=rel,
        )
