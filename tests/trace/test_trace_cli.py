"""``crucible trace ...`` run as a user would: a subprocess of the console script."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from trace_samples import sample_chain

from crucible.trace import JsonlWriter, SqliteStore, make_event


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("crucible")
    cmd = [exe] if exe else [sys.executable, "-c", "from crucible.cli import main; main()"]
    return subprocess.run(
        [*cmd, "trace", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A store with two versions of "sample" and a chain "other", plus a JSONL file."""
    with SqliteStore(tmp_path / "t.sqlite3") as store:
        chain = sample_chain(5)
        store.save(chain)
        store.append(chain.id, [make_event("metric_recorded", "extra metric")])
        store.save(sample_chain(5), note="again")
        store.save(sample_chain(3, name="other"))
    with JsonlWriter(tmp_path / "run.jsonl", name="file-run") as writer:
        writer.append_many([make_event("batch_processed", f"batch {i}") for i in range(4)])
    return tmp_path


def test_list_and_show(workdir: Path) -> None:
    listed = _run("list", "--store", "t.sqlite3", cwd=workdir)
    assert listed.returncode == 0, listed.stderr
    assert "sample" in listed.stdout
    assert "other" in listed.stdout
    as_json = json.loads(_run("list", "--store", "t.sqlite3", "--json", cwd=workdir).stdout)
    assert {c["name"]: c["version"] for c in as_json} == {"sample": 2, "other": 1}
    shown = _run("show", "sample@1", "--store", "t.sqlite3", cwd=workdir)
    assert shown.returncode == 0, shown.stderr
    assert "extra metric" in shown.stdout
    assert "hypothesis_formed" in shown.stdout
    doc = json.loads(_run("show", "run.jsonl", "--json", cwd=workdir).stdout)
    assert [e["decision"] for e in doc["events"]][-1] == "batch 3"


def test_default_store_under_crucible_home(workdir: Path) -> None:
    home = workdir / "home"
    with SqliteStore(home / "trace.sqlite3") as store:
        store.save(sample_chain(2, name="at-home"))
    result = _run("list", cwd=workdir, env={"CRUCIBLE_HOME": str(home)})
    assert "at-home" in result.stdout


def test_verify(workdir: Path) -> None:
    ok = _run("verify", "sample", "--store", "t.sqlite3", cwd=workdir)
    assert ok.returncode == 0, ok.stderr
    assert "intact: 5 event(s)" in ok.stdout
    assert _run("verify", "run.jsonl", cwd=workdir).returncode == 0
    db = sqlite3.connect(workdir / "t.sqlite3")
    db.execute(
        "UPDATE events SET doc = replace(doc, 'Reasoning for step 3', 'Reasoning for step 9') "
        "WHERE chain_id = 'chain-sample' AND version = 2"
    )
    db.commit()
    db.close()
    broken = _run("verify", "sample", "--store", "t.sqlite3", cwd=workdir)
    assert broken.returncode == 1
    assert "BROKEN at event 3 (content)" in broken.stdout
    report = json.loads(
        _run("verify", "sample", "--store", "t.sqlite3", "--json", cwd=workdir).stdout
    )
    assert (report["ok"], report["index"], report["kind"]) == (False, 3, "content")
    assert _run("verify", "sample@1", "--store", "t.sqlite3", cwd=workdir).returncode == 0
    with (workdir / "run.jsonl").open("ab") as f:
        f.write(b'{"torn')
    torn = _run("verify", "run.jsonl", cwd=workdir)
    assert torn.returncode == 0
    assert "torn last line" in torn.stdout


def test_diff(workdir: Path) -> None:
    result = _run("diff", "sample@1", "sample@2", "--store", "t.sqlite3", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("0 added, 1 removed, 0 changed")
    assert "- [metric_recorded] extra metric" in result.stdout
    as_json = json.loads(
        _run("diff", "sample", "other", "--store", "t.sqlite3", "--json", cwd=workdir).stdout
    )
    assert len(as_json["removed"]) == 2


def test_mermaid_and_html(workdir: Path) -> None:
    chart = _run("mermaid", "sample", "--store", "t.sqlite3", cwd=workdir)
    assert chart.returncode == 0, chart.stderr
    assert chart.stdout.startswith("flowchart TD\n")
    out = _run("mermaid", "run.jsonl", "-o", "run.mmd", "--confidence", cwd=workdir)
    assert out.returncode == 0
    assert "(1.0)" in (workdir / "run.mmd").read_text()
    page = _run("html", "sample", "--store", "t.sqlite3", cwd=workdir)
    assert page.returncode == 0, page.stderr
    assert "<!DOCTYPE html>" in (workdir / "sample.html").read_text()
    assert _run("html", "run.jsonl", "-o", "x.html", cwd=workdir).returncode == 0
    assert (workdir / "x.html").exists()


def test_search(workdir: Path) -> None:
    hits = _run("search", "decision 2", "--store", "t.sqlite3", "--json", cwd=workdir)
    assert hits.returncode == 0, hits.stderr
    found = json.loads(hits.stdout)
    assert sorted(h["chain_id"] for h in found) == ["chain-other", "chain-sample"]
    narrowed = json.loads(
        _run(
            "search",
            "decision",
            "--store",
            "t.sqlite3",
            "--chain",
            "sample",
            "--type",
            "loss_computed",
            "--min-confidence",
            "0.6",
            "--json",
            cwd=workdir,
        ).stdout
    )
    assert [h["event"]["id"] for h in narrowed] == ["e3"]
    regex = _run("search", r"batch [13]$", "--regex", "--chain", "run.jsonl", cwd=workdir)
    assert regex.returncode == 0, regex.stderr
    assert "batch 1" in regex.stdout
    assert "batch 3" in regex.stdout
    assert "2 hit(s)" in regex.stdout
    table = _run("search", "option", "--store", "t.sqlite3", "--stage", "plan", cwd=workdir)
    assert "hit(s)" in table.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["show", "nope", "--store", "t.sqlite3"],
        ["show", "sample@7", "--store", "t.sqlite3"],
        ["list", "--store", "missing.sqlite3"],
        ["search", "(a+)+", "--regex", "--store", "t.sqlite3"],
        ["verify", "missing.jsonl", "--store", "t.sqlite3"],
    ],
)
def test_errors_exit_2(workdir: Path, args: list[str]) -> None:
    result = _run(*args, cwd=workdir)
    assert result.returncode == 2
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr
