"""Rule-based guardrail detectors: prompt injection (:mod:`.injection`) and PII with
redaction (:mod:`.pii`). Rules, not models: every flag can be traced to a named pattern
and a checksum, and the same text always gets the same verdict."""

from __future__ import annotations

from crucible.pipeline.analysis.guardrails.injection import (
    PROFILE_THRESHOLDS,
    InjectionResult,
    score_injection,
)
from crucible.pipeline.analysis.guardrails.pii import PII_KINDS, PiiMatch, find_pii, redact

__all__ = [
    "PII_KINDS",
    "PROFILE_THRESHOLDS",
    "InjectionResult",
    "PiiMatch",
    "find_pii",
    "redact",
    "score_injection",
]
