"""Findings: what an analysis stage wants a reader of the report to notice.

Every analysis stage returns ``outputs["findings"]`` as a list of JSON objects with a
``kind``, a ``severity`` (``info`` when something is merely worth knowing, ``warning`` when
it needs a look, ``error`` when a configured limit was broken) and a one-line ``message``;
any further keys carry the numbers behind the message. The runner keeps a stage's results
but fails the stage (and the run, with :class:`crucible.errors.ViolationError`) when it
reports an ``error`` finding: ``fail_on_violation`` and ``fail_on_detection`` mean it.
"""

from __future__ import annotations

import math
from typing import Any, Literal

__all__ = ["Severity", "finding", "json_number"]

Severity = Literal["info", "warning", "error"]


def json_number(value: float | None) -> float | None:
    """``value`` as a JSON-safe number: NaN and infinities have no JSON form, so they
    become ``None`` rather than an invalid document or a silent string."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def finding(kind: str, severity: Severity, message: str, **extra: Any) -> dict[str, Any]:
    """One finding; ``extra`` floats are made JSON-safe."""
    record: dict[str, Any] = {"kind": kind, "severity": severity, "message": message}
    for key, value in extra.items():
        record[key] = json_number(value) if isinstance(value, float) else value
    return record
