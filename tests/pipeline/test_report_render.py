"""Reports: Markdown with plot files and a self-contained HTML file, read back with a
real HTML parser."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from runner_support import experiment, stage, write_stages

from crucible.pipeline.report import render_report
from crucible.pipeline.report.collect import collect
from crucible.pipeline.runner import run


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.tables = 0
        self.links: list[str] = []
        self.headings: list[str] = []
        self.external: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.images.append(values.get("src") or "")
        elif tag == "table":
            self.tables += 1
        elif tag == "a":
            self.links.append(values.get("href") or "")
        elif tag == "h2":
            self._in_h2 = True
        elif tag in ("link", "script"):
            self.external.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.headings.append(data)


@pytest.fixture
def finished_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(write_stages(tmp_path / "pkgs")))
    exp = experiment(stage("train", "Draw", n=30), stage("stats", "Verdicts"))
    result = run(exp, home=tmp_path / "home", seed=4)
    assert result.status == "completed"
    assert result.run_dir is not None
    return result.run_dir


def test_report_has_tables_plots_verdicts_findings_and_trace_link(finished_run: Path) -> None:
    files = render_report(finished_run)
    assert files.html.parent == finished_run / "report"
    outline = _Outline()
    outline.feed(files.html.read_text(encoding="utf-8"))
    assert outline.headings == [
        "Summary",
        "Configuration",
        "Metrics",
        "Learning curves",
        "Statistical verdicts",
        "Bootstrap distributions",
        "Findings",
    ]
    assert len(outline.images) == 2
    assert all(src.startswith("data:image/png;base64,iVBOR") for src in outline.images)
    assert outline.tables == 5
    assert "../trace.html" in outline.links
    assert (finished_run / "trace.html").is_file()
    assert outline.external == []  # self-contained
    html = files.html.read_text(encoding="utf-8")
    assert "95% [0.06, 0.14]" in html
    assert "accuracy differs between groups" in html
    markdown = files.markdown.read_text(encoding="utf-8")
    assert "![train learning curves](plots/curves-train.png)" in markdown
    assert "| stats | accuracy | sft | init |" in markdown
    assert sorted(p.name for p in files.plots) == [
        "bootstrap-stats-accuracy.png",
        "curves-train.png",
    ]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in files.plots)


def test_collect_reads_contract_files_and_notes_bad_ones(finished_run: Path) -> None:
    data = collect(finished_run)
    assert {c.metric for c in data.curves} == {"train/loss", "train/accuracy"}
    assert data.distributions[0].metric == "accuracy"
    assert data.distributions[0].verdict is not None
    assert len(data.distributions[0].values) == 500
    assert [f.severity for f in data.findings] == ["warning"]
    assert data.problems == []
    (finished_run / "stages/stats/bootstrap.json").write_text("{not json")
    broken = collect(finished_run)
    assert broken.distributions == []
    assert "cannot read" in broken.problems[0]
    files = render_report(finished_run, finished_run / "again")
    assert "Report problems" in files.html.read_text(encoding="utf-8")
