"""`crucible info` is the main job until the experiment runner lands: run it as a user
would, as a subprocess of the installed console script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest


def _crucible() -> list[str]:
    exe = shutil.which("crucible")
    return [exe] if exe else [sys.executable, "-c", "from crucible.cli import main; main()"]


def test_info_reports_versions_and_passes_self_check() -> None:
    proc = subprocess.run(
        [*_crucible(), "info", "--json"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    assert report["rust_core"] == report["crucible"].split("+")[0]
    assert report["build"].startswith("release")
    assert report["checks"], "the self-check ran no checks"
    assert all(check["ok"] for check in report["checks"].values())


def test_info_renders_tables() -> None:
    proc = subprocess.run([*_crucible(), "info"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "self-check" in proc.stdout
    assert "FAIL" not in proc.stdout
    assert proc.stdout.count("pass") == 3


@pytest.mark.parametrize("args", [["no-such-command"], ["info", "--bogus"]])
def test_bad_usage_exits_with_usage_error(args: list[str]) -> None:
    proc = subprocess.run([*_crucible(), *args], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
