"""The report as a document: sections of paragraphs, tables, images and links, built once
from :class:`~crucible.pipeline.report.collect.ReportData` and written by both renderers
(:mod:`~crucible.pipeline.report.markdown`, :mod:`~crucible.pipeline.report.html`), so
the Markdown and HTML reports always say the same thing."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

from crucible.pipeline.report.collect import ReportData
from crucible.pipeline.report.plots import bootstrap_png, learning_curves_png

__all__ = ["Block", "Image", "Link", "Paragraph", "Section", "Table", "build_sections", "number"]


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Link:
    text: str
    href: str


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Image:
    name: str  # file name under the report's plots/ directory
    alt: str
    png: bytes


Block = Paragraph | Link | Table | Image


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


def number(value: Any) -> str:
    """A value as a table cell: 4 significant digits for floats."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def _summary(data: ReportData, trace_href: str | None) -> Section:
    r = data.record
    rows = [
        ["run", r.run_id],
        ["experiment", r.experiment_id],
        ["status", r.status],
        ["seed", str(r.seed)],
        ["attempts", str(r.attempts)],
        ["started", r.created_at],
        ["updated", r.updated_at],
        ["experiment fingerprint", r.fingerprint[:16]],
        ["trace head", (r.trace_head or "-")[:16]],
    ]
    section = Section("Summary")
    description = data.experiment.get("description")
    if isinstance(description, str) and description:
        section.blocks.append(Paragraph(description))
    section.blocks.append(Table(["", ""], rows))
    if r.error:
        failed = f" in stage {r.failed_stage}" if r.failed_stage else ""
        section.blocks.append(Paragraph(f"The run failed{failed}: {r.error}"))
    if trace_href is not None:
        section.blocks.append(Link("Decision trace (HTML)", trace_href))
    return section


def _configuration(data: ReportData) -> Section:
    pipeline = data.experiment.get("pipeline") or []
    rows = []
    for index, stage in enumerate(pipeline):
        if not isinstance(stage, dict):
            continue
        name = str(stage.get("name"))
        state = next((s for s in data.record.stages if s.name == name), None)
        options = json.dumps(stage.get("options") or {}, sort_keys=True)
        rows.append(
            [
                str(index),
                name,
                str(stage.get("module") or name),
                state.status if state else "-",
                number(state.seconds) if state and state.seconds is not None else "-",
                options if len(options) <= 160 else options[:157] + "...",
            ]
        )
    return Section(
        "Configuration",
        [Table(["#", "stage", "implementation", "status", "seconds", "options"], rows)],
    )


def _metrics(data: ReportData) -> Section:
    rows = [
        [stage, name, number(value)]
        for stage, result in data.results.items()
        for name, value in sorted(result.metrics.items())
    ]
    blocks: list[Block] = [Table(["stage", "metric", "value"], rows)] if rows else []
    return Section("Metrics", blocks or [Paragraph("No stage reported metrics.")])


def _curves(data: ReportData) -> Section | None:
    section = Section("Learning curves")
    for stage in dict.fromkeys(c.stage for c in data.curves):
        png = learning_curves_png(stage, [c for c in data.curves if c.stage == stage])
        if png is not None:
            section.blocks.append(
                Image(f"curves-{_slug(stage)}.png", f"{stage} learning curves", png)
            )
    return section if section.blocks else None


_VERDICT_COLUMNS = [
    ("metric", "metric"),
    ("candidate", "candidate"),
    ("baseline", "baseline"),
    ("candidate mean", "estimate"),
    ("baseline mean", "baseline_estimate"),
    ("difference", "difference"),
    ("test", "test"),
    ("p", "pvalue"),
    ("adjusted p", "adjusted_pvalue"),
    ("effect size", "effect_size"),
    ("significant", "significant"),
]


def _verdicts(data: ReportData) -> Section | None:
    if not data.verdicts:
        return None
    headers = [
        "stage",
        *[h for h, _ in _VERDICT_COLUMNS[:6]],
        "CI",
        *[h for h, _ in _VERDICT_COLUMNS[6:]],
    ]
    rows = []
    for stage, v in data.verdicts:
        cells = [number(v.get(key)) for _, key in _VERDICT_COLUMNS]
        level = v.get("confidence")
        ci = f"[{number(v.get('ci_low'))}, {number(v.get('ci_high'))}]"
        if isinstance(level, (int, float)):
            ci = f"{level:.0%} {ci}"
        rows.append([stage, *cells[:6], ci, *cells[6:]])
    return Section("Statistical verdicts", [Table(headers, rows)])


def _distributions(data: ReportData) -> Section | None:
    section = Section("Bootstrap distributions")
    for d in data.distributions:
        png = bootstrap_png(d)
        if png is not None:
            name = f"bootstrap-{_slug(d.stage)}-{_slug(d.metric)}.png"
            section.blocks.append(Image(name, f"bootstrap of {d.metric} ({d.stage})", png))
    return section if section.blocks else None


def _findings(data: ReportData) -> Section | None:
    if not data.findings:
        return None
    order = {"error": 0, "warning": 1, "info": 2}
    found = sorted(data.findings, key=lambda f: (order.get(f.severity, 3), f.stage))
    rows = [[f.severity, f.stage, f.kind, f.message] for f in found]
    return Section("Findings", [Table(["severity", "stage", "kind", "message"], rows)])


def build_sections(data: ReportData, trace_href: str | None) -> list[Section]:
    """Every section that has something to show, in reading order."""
    sections: list[Section | None] = [
        _summary(data, trace_href),
        _configuration(data),
        _metrics(data),
        _curves(data),
        _verdicts(data),
        _distributions(data),
        _findings(data),
    ]
    if data.problems:
        sections.append(Section("Report problems", [Paragraph(p) for p in data.problems]))
    return [s for s in sections if s is not None]


def relative_href(target: os.PathLike[str], start: os.PathLike[str]) -> str:
    """A link from directory ``start`` to ``target`` with POSIX separators."""
    return os.path.relpath(target, start).replace(os.sep, "/")
