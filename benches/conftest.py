"""Shared benchmark plumbing: every benchmark is a pair (ours, the reference) in one group,
and the run ends with a table of speed ratios (reference time / our time; > 1 means faster).
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    session = getattr(config, "_benchmarksession", None)
    if session is None or session.disabled:
        return
    groups: dict[str, dict[str, float]] = {}
    for bench in session.benchmarks:
        side = "ours" if (bench.params or {}).get("library") == "crucible" else "ref"
        groups.setdefault(bench.group or bench.name, {})[side] = bench.stats.min
    terminalreporter.section("speed ratios (reference min time / crucible min time)")
    for group, sides in sorted(groups.items()):
        if "ours" in sides and "ref" in sides:
            ratio = sides["ref"] / sides["ours"]
            terminalreporter.write_line(
                f"{group:40s} {ratio:6.2f}x   "
                f"(crucible {sides['ours'] * 1e3:9.3f} ms, reference {sides['ref'] * 1e3:9.3f} ms)"
            )
