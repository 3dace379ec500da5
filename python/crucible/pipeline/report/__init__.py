"""Run reports: what a run did and what it proved, as Markdown and self-contained HTML.

:func:`render_report` gathers a run directory's results (:mod:`.collect`), lays them out
once as sections (:mod:`.sections`) with plots (:mod:`.plots`, matplotlib, imported
lazily) and writes both renderings (:mod:`.markdown`, :mod:`.html`).
"""

from __future__ import annotations

from crucible.pipeline.report.render import ReportFiles, default_report_dir, render_report

__all__ = ["ReportFiles", "default_report_dir", "render_report"]
