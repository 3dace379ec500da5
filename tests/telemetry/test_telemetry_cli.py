"""`crucible telemetry list | show | export`, run as a user would: a subprocess of the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crucible.telemetry import SQLiteStore, catalog, read_export, start_experiment


def _crucible(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("crucible")
    cmd = [exe] if exe else [sys.executable, "-c", "from crucible.cli import main; main()"]
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([*cmd, *args], capture_output=True, text=True, check=False, env=env)


@pytest.fixture
def populated(isolated: Path) -> dict[str, str]:
    ids = {}
    for condition, n in (("control", 40), ("treatment", 60)):
        exp = start_experiment("ab-test", condition=condition, hypothesis="faster", tags=["cli"])
        for i in range(n):
            catalog.emit_llm_request_stop(
                model="gpt-4o", duration=(i + 1) * 1_000_000, input_tokens=10, output_tokens=5
            )
        catalog.emit_llm_request_exception(model="gpt-4o", duration=1, kind="E")
        exp.stop()
        ids[condition] = exp.id
    return ids


def test_list(populated: dict[str, str]) -> None:
    proc = _crucible("telemetry", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["condition"], r["events"], r["status"]) for r in rows] == [
        ("control", 41, "stopped"),
        ("treatment", 61, "stopped"),
    ]
    table = _crucible("telemetry", "list")
    assert table.returncode == 0, table.stderr
    assert "ab-test" in table.stdout
    assert "treatment" in table.stdout


def test_show(populated: dict[str, str]) -> None:
    proc = _crucible("telemetry", "show", populated["control"], "--json")
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["condition"] == "control"
    assert shown["hypothesis"] == "faster"
    stop = shown["events"]["crucible.llm.request.stop"]
    assert stop["count"] == 40
    assert stop["success_rate"] == 1.0
    assert stop["latency_mean_ms"] == pytest.approx(20.5)
    assert stop["latency_p50_ms"] == pytest.approx(20.0, rel=0.011)  # from the histogram
    assert stop["tokens_in"] == 400
    assert shown["events"]["crucible.llm.request.exception"]["success_rate"] == 0.0
    latest = json.loads(_crucible("telemetry", "show", "ab-test", "--json").stdout)
    assert latest["condition"] == "treatment"  # a name means the latest of that name
    table = _crucible("telemetry", "show", "ab-test")
    assert table.returncode == 0, table.stderr
    assert "crucible.llm.request.stop" in table.stdout
    assert "p99 ms" in table.stdout


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export(populated: dict[str, str], tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"control.{fmt}"
    proc = _crucible("telemetry", "export", populated["control"], "--format", fmt, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "wrote 41 events" in proc.stderr
    store = SQLiteStore(Path(os.environ["CRUCIBLE_HOME"]) / "telemetry.sqlite3")
    stored = [e for b in store.query(experiment_id=populated["control"]) for e in b]
    store.close()
    assert [e for b in read_export(out) for e in b] == stored


def test_errors(populated: dict[str, str], tmp_path: Path) -> None:
    missing = _crucible("telemetry", "show", "no-such-experiment")
    assert missing.returncode == 1
    assert "no experiment" in missing.stdout
    nostore = _crucible("telemetry", "list", "--store", str(tmp_path / "none.sqlite3"))
    assert nostore.returncode == 2
    assert "no telemetry store" in nostore.stdout
    bad_format = _crucible("telemetry", "export", "ab-test", "--format", "xml", "-o", "x")
    assert bad_format.returncode == 2
    assert not (tmp_path / "x").exists()
    assert _crucible("telemetry").returncode in (0, 2)  # help, no crash
