"""The shipped examples, run the way the README tells a new user to: the ``crucible`` CLI in
a subprocess on a fresh home. The quickstart runs end to end (training really helps, the
report is complete, the trace verifies); the other examples must dry-run clean."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from runner_support import run_cli

from crucible.trace import JsonlReader

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.tables = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        elif tag == "table":
            self.tables += 1


def test_quickstart_trains_proves_and_reports(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = run_cli(
        ["run", str(EXAMPLES / "quickstart.toml"), "--home", str(home), "--json"], tmp_path
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "completed"
    run_dir = Path(out["run_dir"])

    evaluated = out["results"]["eval"]["metrics"]
    assert evaluated["init/exact_match"] == 0.0
    assert evaluated["sft/exact_match"] > 0.3  # training learned part of the table

    verdicts = {(v["metric"], v["test"]): v for v in out["results"]["stats"]["outputs"]["verdicts"]}
    boot = verdicts[("exact_match", "bootstrap")]
    assert 0.0 < boot["ci_low"] <= boot["difference"] <= boot["ci_high"] <= 1.0
    assert boot["significant"] is True

    reader = JsonlReader(run_dir / "trace.jsonl")
    assert reader.verify().ok
    chain = reader.load()
    assert chain.head == out["trace_head"]
    assert [e.stage for e in chain.by_type("stage_completed")] == ["sft", "eval", "stats", "report"]

    html = (run_dir / "stages" / "report" / "report.html").read_text()
    tags = _Tags()
    tags.feed(html)
    assert tags.tables >= 2
    assert any(src.startswith("data:image/") for src in tags.images)  # self-contained plots
    assert "exact_match" in (run_dir / "stages" / "report" / "report.md").read_text()


@pytest.mark.parametrize("name", ["rl_arithmetic.toml", "dpo.toml", "ensemble_eval.toml"])
def test_other_examples_dry_run_clean(tmp_path: Path, name: str) -> None:
    done = run_cli(
        ["run", str(EXAMPLES / name), "--home", str(tmp_path / "home"), "--dry-run", "--json"],
        tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
