"""Reliability mechanisms: ensembles, hedging, statistics, fairness, guardrails, and (new in
v0.3, typed where v0.2 had free maps) monitoring, drift detection, circuit breaking, rate
limiting, caching and retries.

``Feedback`` is :class:`crucible.ir.feedback.Config` and ``DriftDetection`` is
:class:`crucible.ir.feedback.DriftDetectionConfig`: one type each, two names, so a drift
configuration reads the same under ``reliability.drift`` and ``feedback.drift_detection``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from crucible.ir.base import (
    HalfOpenUnit,
    Id,
    IRStruct,
    JsonObject,
    NonNegativeFloat,
    NonNegativeInt,
    OpenUnit,
    PositiveFloat,
    PositiveInt,
    Probability,
)
from crucible.ir.enums import (
    CacheBackend,
    CorrectionMethod,
    EffectSizeType,
    EnsembleStrategy,
    ExecutionMode,
    FairnessMetric,
    GuardrailProfile,
    HedgingStrategy,
    RateLimitStrategy,
    StatTest,
)
from crucible.ir.feedback import Config as Feedback
from crucible.ir.feedback import DriftDetectionConfig as DriftDetection

__all__ = [
    "Cache",
    "CacheBackend",
    "CircuitBreaker",
    "Config",
    "CorrectionMethod",
    "DriftDetection",
    "EffectSizeType",
    "Ensemble",
    "EnsembleStrategy",
    "ExecutionMode",
    "Fairness",
    "FairnessMetric",
    "Feedback",
    "Guardrail",
    "GuardrailProfile",
    "Hedging",
    "HedgingStrategy",
    "Monitoring",
    "RateLimit",
    "RateLimitStrategy",
    "RetryConfig",
    "StatTest",
    "Stats",
]

Weight = Annotated[float, msgspec.Meta(gt=0.0)]


class Ensemble(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Several models answer; a voting strategy combines them.

    ``weights`` maps model ids (from ``models``) to positive weights; ``min_agreement`` is the
    share of models that must agree, in (0, 1].
    """

    strategy: EnsembleStrategy = EnsembleStrategy.NONE
    execution_mode: ExecutionMode = ExecutionMode.PARALLEL
    models: list[Id] | None = None
    weights: dict[str, Weight] | None = None
    min_agreement: HalfOpenUnit | None = None
    timeout_ms: PositiveInt | None = None
    options: JsonObject | None = None


class Hedging(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Send a duplicate request when the first is slow, to cut tail latency.

    ``percentile`` (in (0, 1], e.g. 0.95) is the latency quantile that triggers a hedge;
    ``budget_percent`` caps the extra cost, as a percentage of the unhedged cost.
    """

    strategy: HedgingStrategy = HedgingStrategy.OFF
    delay_ms: NonNegativeInt | None = None
    percentile: HalfOpenUnit | None = None
    max_hedges: PositiveInt | None = None
    budget_percent: NonNegativeFloat | None = None
    options: JsonObject | None = None


class Stats(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which statistical tests prove a result, at which significance level."""

    tests: list[StatTest] = msgspec.field(
        default_factory=lambda: [StatTest.TTEST, StatTest.BOOTSTRAP]
    )
    alpha: OpenUnit = 0.05
    confidence_level: OpenUnit | None = None
    effect_size_type: EffectSizeType | None = None
    multiple_testing_correction: CorrectionMethod | None = None
    bootstrap_iterations: PositiveInt | None = None
    options: JsonObject | None = None


class Fairness(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fairness metrics across the groups of one attribute (``threshold`` 0.8 is the
    four-fifths rule)."""

    enabled: bool = False
    metrics: list[FairnessMetric] | None = None
    group_by: Id | None = None
    threshold: HalfOpenUnit | None = None
    fail_on_violation: bool | None = None
    options: JsonObject | None = None


class Guardrail(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Security guardrails around model inputs and outputs."""

    profiles: list[GuardrailProfile] = msgspec.field(
        default_factory=lambda: [GuardrailProfile.DEFAULT]
    )
    prompt_injection_detection: bool | None = None
    jailbreak_detection: bool | None = None
    pii_detection: bool | None = None
    pii_redaction: bool | None = None
    content_moderation: bool | None = None
    fail_on_detection: bool | None = None
    options: JsonObject | None = None


class Monitoring(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Runtime monitoring: which metrics to watch, how often, and when to alert."""

    enabled: bool = True
    metrics: list[Id] = msgspec.field(
        default_factory=lambda: ["latency_ms", "error_rate", "throughput"]
    )
    interval_seconds: PositiveInt = 60
    sampling_rate: Probability = 1.0
    latency_threshold_ms: PositiveFloat | None = None
    error_rate_threshold: Probability | None = None
    alert_channels: list[Id] | None = None
    options: JsonObject | None = None


class CircuitBreaker(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Stop calling a failing backend for a while, then probe it (half-open) before closing.

    The breaker opens after ``failure_threshold`` failures (or an error rate above
    ``error_rate_threshold``) within ``window_seconds``, stays open ``reset_timeout_ms``, then
    lets ``half_open_max_calls`` probes through and closes after ``success_threshold`` of them
    succeed.
    """

    enabled: bool = True
    failure_threshold: PositiveInt = 5
    error_rate_threshold: HalfOpenUnit | None = None
    window_seconds: PositiveInt = 60
    reset_timeout_ms: NonNegativeInt = 30_000
    half_open_max_calls: PositiveInt = 1
    success_threshold: PositiveInt = 1
    options: JsonObject | None = None


class RateLimit(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Client-side limits on request and token rates; at least one limit must be set."""

    strategy: RateLimitStrategy = RateLimitStrategy.TOKEN_BUCKET
    requests_per_second: PositiveFloat | None = None
    requests_per_minute: PositiveInt | None = None
    tokens_per_minute: PositiveInt | None = None
    max_concurrent: PositiveInt | None = None
    burst: PositiveInt | None = None
    options: JsonObject | None = None


class RetryConfig(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Retries with exponential backoff: delay n is ``initial_delay_ms * multiplier**n``,
    capped at ``max_delay_ms``."""

    max_retries: NonNegativeInt = 3
    initial_delay_ms: NonNegativeInt = 100
    max_delay_ms: NonNegativeInt = 10_000
    backoff_multiplier: Annotated[float, msgspec.Meta(ge=1.0)] = 2.0
    jitter: bool = True
    retry_on: list[Id] | None = None
    """Error kinds or status codes to retry (``"timeout"``, ``"429"``); None means the
    client's defaults."""
    options: JsonObject | None = None


class Cache(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Response caching; ``semantic`` caching matches similar prompts above
    ``similarity_threshold``."""

    enabled: bool = True
    backend: CacheBackend = CacheBackend.MEMORY
    ttl_seconds: NonNegativeInt | None = None
    max_entries: PositiveInt | None = None
    key_fields: list[Id] | None = None
    semantic: bool = False
    similarity_threshold: HalfOpenUnit | None = None
    options: JsonObject | None = None


class Config(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """All reliability mechanisms of an experiment; every part is optional."""

    ensemble: Ensemble | None = None
    hedging: Hedging | None = None
    guardrails: Guardrail | None = None
    stats: Stats | None = None
    fairness: Fairness | None = None
    # v0.2 (free maps in v0.2, typed in v0.3)
    monitoring: Monitoring | None = None
    drift: DriftDetection | None = None
    circuit_breaker: CircuitBreaker | None = None
    feedback: Feedback | None = None
    # v0.3
    rate_limiting: RateLimit | None = None
    caching: Cache | None = None
