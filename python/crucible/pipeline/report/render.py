"""Writing a run's report: ``report.md`` (with ``plots/*.png`` beside it) and a
self-contained ``report.html``, into one directory."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from crucible.pipeline.report.collect import collect
from crucible.pipeline.report.html import to_html
from crucible.pipeline.report.markdown import to_markdown
from crucible.pipeline.report.sections import Image, build_sections, relative_href
from crucible.pipeline.rundir import RunDir
from crucible.pipeline.stage import StageResult

__all__ = ["ReportFiles", "default_report_dir", "render_report"]


@dataclass(frozen=True)
class ReportFiles:
    markdown: Path
    html: Path
    plots: list[Path]


def default_report_dir(run_dir: Path) -> Path:
    """Where ``crucible report`` writes: the run's report stage directory if it has one
    (so the stage's files are refreshed), else ``<run>/report``."""
    record = RunDir(run_dir).read_record()
    for state in record.stages:
        if state.reference == "report":
            return run_dir / "stages" / state.name
    return run_dir / "report"


def render_report(
    run_dir: Path,
    out_dir: Path | None = None,
    *,
    results: Mapping[str, StageResult] | None = None,
) -> ReportFiles:
    """Render the report of the run in ``run_dir`` into ``out_dir`` (default
    :func:`default_report_dir`). ``results`` overrides the results on disk (a report stage
    passes the results of the stages before it)."""
    target = out_dir if out_dir is not None else default_report_dir(run_dir)
    target.mkdir(parents=True, exist_ok=True)
    data = collect(run_dir, results)
    trace = RunDir(run_dir).trace_html
    sections = build_sections(data, relative_href(trace, target))
    title = f"{data.record.experiment_id} - run {data.record.run_id}"
    plots: list[Path] = []
    images = [b for s in sections for b in s.blocks if isinstance(b, Image)]
    if images:
        (target / "plots").mkdir(exist_ok=True)
    for image in images:
        path = target / "plots" / image.name
        path.write_bytes(image.png)
        plots.append(path)
    markdown = target / "report.md"
    markdown.write_text(to_markdown(title, sections), encoding="utf-8")
    html = target / "report.html"
    html.write_text(to_html(title, sections), encoding="utf-8")
    return ReportFiles(markdown, html, plots)
