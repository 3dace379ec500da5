"""``crucible run``/``runs``/``show``/``report``/``compare`` as a user runs them: in a
subprocess, on a fresh home."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import msgspec
from runner_support import (
    cli_env,
    crucible_cmd,
    experiment_doc,
    run_cli,
    stage,
    write_json,
    write_stages,
)

from crucible.trace import JsonlReader

TOML = """\
id = "cli-test"

[backend]
id = "numpy-lm"

[[pipeline]]
name = "a"
module = "crucible_test_stages:Draw"
[pipeline.options]
n = 30

[[pipeline]]
name = "b"
module = "crucible_test_stages:Draw"
[pipeline.options]
n = "thirty"

[[pipeline]]
name = "c"
module = "crucible_test_stages:Draw"
options = { must_follow = "zzz" }
"""


def test_run_json_then_runs_show_report_compare(tmp_path: Path) -> None:
    root = write_stages(tmp_path / "pkgs")
    home = tmp_path / "home"
    doc = experiment_doc(stage("a", "Draw", n=30), stage("v", "Verdicts"), stage("r", "Draw"))
    exp = write_json(tmp_path / "exp.json", doc)
    first = run_cli(["run", str(exp), "--home", str(home), "--seed", "5", "--json"], root)
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert out["status"] == "completed"
    assert out["stages"] == ["a", "v", "r"]
    second = run_cli(["run", str(exp), "--home", str(home), "--seed", "5", "--json"], root)
    again = json.loads(second.stdout)
    assert again["trace_head"] == out["trace_head"]
    assert again["results"]["a"]["metrics"] == out["results"]["a"]["metrics"]

    listed = run_cli(["runs", "--home", str(home), "--json"], root)
    assert listed.returncode == 0
    assert sorted(r["run_id"] for r in json.loads(listed.stdout)) == sorted(
        [out["run_id"], again["run_id"]]
    )
    shown = run_cli(["show", out["run_id"], "--home", str(home), "--json"], root)
    assert json.loads(shown.stdout)["record"]["status"] == "completed"
    report = run_cli(["report", out["run_id"], "--home", str(home), "--json"], root)
    assert report.returncode == 0, report.stderr
    files = json.loads(report.stdout)
    assert Path(files["html"]).is_file()
    assert len(files["plots"]) == 3
    compared = run_cli(
        ["compare", out["run_id"], again["run_id"], "--home", str(home), "--json", "-m", "mean"],
        root,
    )
    result = json.loads(compared.stdout)
    assert result["mode"] == "scalar"
    assert [m["difference"] for m in result["metrics"]] == [0.0, 0.0]
    missing = run_cli(["show", "no-such-run", "--home", str(home)], root)
    assert missing.returncode == 2
    assert "no run" in missing.stderr
    table = run_cli(["runs", "--home", str(home)], root)
    assert table.returncode == 0
    assert "completed" in table.stdout


def test_dry_run_errors_exit_2_with_file_line_and_pointer(tmp_path: Path) -> None:
    root = write_stages(tmp_path / "pkgs")
    bad = tmp_path / "bad.toml"
    bad.write_text(TOML)
    proc = run_cli(["run", str(bad), "--dry-run", "--home", str(tmp_path / "h")], root)
    assert proc.returncode == 2
    assert f"{bad}:16: /pipeline/1/options/n:" in proc.stderr
    assert f"{bad}:21: /pipeline/2/options/must_follow:" in proc.stderr
    assert "approximate" in proc.stderr
    assert not (tmp_path / "h").exists()
    yaml_file = tmp_path / "bad.yaml"
    yaml_file.write_text(
        "id: y\nbackend:\n  id: b\npipeline:\n  - name: a\n    module: crucible_test_stages:Draw\n"
        "    options:\n      n: 3\n      nope: 1\n"
    )
    proc = run_cli(["run", str(yaml_file), "--dry-run", "--json"], root)
    assert proc.returncode == 2
    answer = json.loads(proc.stdout)
    assert answer["status"] == "invalid"
    assert answer["problems"][0].startswith(f"{yaml_file}:7: /pipeline/0/options:")
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "x",\n  "backend": {"id": "b"},\n  "pipeline": [\n}')
    proc = run_cli(["run", str(broken), "--dry-run"], root)
    assert proc.returncode == 2
    assert f"{broken}:4: invalid JSON" in proc.stderr
    ok = run_cli(["run", str(yaml_file).replace("bad", "none"), "--dry-run"], root)
    assert ok.returncode == 2
    assert "no experiment file" in ok.stderr


def test_failed_run_exits_1(tmp_path: Path) -> None:
    root = write_stages(tmp_path / "pkgs")
    exp = write_json(tmp_path / "exp.json", experiment_doc(stage("x", "Boom")))
    proc = run_cli(["run", str(exp), "--home", str(tmp_path / "h")], root)
    assert proc.returncode == 1
    assert "boom" in proc.stdout


def _wait_for(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_resume_after_kill_continues_at_the_first_incomplete_stage(tmp_path: Path) -> None:
    root = write_stages(tmp_path / "pkgs")
    home, marker, gate = tmp_path / "home", tmp_path / "marker.txt", tmp_path / "gate"
    doc = experiment_doc(
        stage("first", "Draw", n=20, marker=str(marker)),
        stage("slow", "Gate", gate=str(gate)),
        stage("last", "Draw", n=20, marker=str(marker)),
    )
    exp = write_json(tmp_path / "exp.json", doc)
    args = ["run", str(exp), "--home", str(home), "--run-id", "killme", "--seed", "9"]
    proc = subprocess.Popen(
        [*crucible_cmd(), *args],
        env=cli_env(root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    run_json = home / "runs" / "killme" / "run.json"

    def slow_started() -> bool:
        if not run_json.is_file():
            return False
        states = {
            s["name"]: s["status"] for s in msgspec.json.decode(run_json.read_bytes())["stages"]
        }
        return states["first"] == "completed" and states["slow"] == "running"

    try:
        _wait_for(slow_started)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert marker.read_text().split() == ["first"]
    listed = run_cli(["runs", "--home", str(home), "--json"], root)
    (killed,) = json.loads(listed.stdout)
    assert killed["status"] == "interrupted"  # its process is gone: no longer "running"
    assert "ended without recording an outcome" in killed["error"]
    gate.touch()
    resumed = run_cli([*args[:-2], "--json"], root)  # seed comes from the run
    assert resumed.returncode == 0, resumed.stderr
    out = json.loads(resumed.stdout)
    assert out["status"] == "completed"
    assert out["reused"] == ["first"]
    assert out["seed"] == 9
    assert marker.read_text().split() == ["first", "last"]
    reader = JsonlReader(home / "runs" / "killme" / "trace.jsonl")
    assert reader.verify().ok
    chain = reader.load()
    assert chain.head == out["trace_head"]
    assert len(chain.by_type("state_recovered")) == 1
    assert [e.stage for e in chain.by_type("stage_completed")] == ["first", "slow", "last"]
    record = msgspec.json.decode(run_json.read_bytes())
    assert record["attempts"] == 2
    assert record["status"] == "completed"
