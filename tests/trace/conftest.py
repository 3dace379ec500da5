"""Fixtures of the trace tests (samples live in ``trace_samples``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from trace_samples import sample_chain

from crucible.trace import Chain


@pytest.fixture
def chain() -> Chain:
    return sample_chain()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """CRUCIBLE_HOME pointed at a fresh directory."""
    monkeypatch.setenv("CRUCIBLE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"
