"""Rules of the reliability mechanisms and how they combine."""

from __future__ import annotations

from collections.abc import Iterator

from crucible.ir import reliability
from crucible.ir.enums import (
    EffectSizeType,
    EnsembleStrategy,
    ExecutionMode,
    HedgingStrategy,
    StatTest,
)
from crucible.ir.rules.registry import Finding, duplicates, pointer, rule


@rule("reliability.hedging_incompatible_with_execution_mode", reliability.Config)
def _hedging_mode(config: reliability.Config) -> Iterator[Finding]:
    """Hedging duplicates requests in flight, which sequential and cascade ensembles (one model
    at a time) contradict."""
    if config.hedging is None or config.ensemble is None:
        return
    mode = config.ensemble.execution_mode
    if config.hedging.strategy != HedgingStrategy.OFF and mode in (
        ExecutionMode.SEQUENTIAL,
        ExecutionMode.CASCADE,
    ):
        yield (
            pointer("hedging", "strategy"),
            f"hedging {config.hedging.strategy} cannot apply to a {mode} ensemble",
        )


@rule("reliability.hedged_mode_requires_hedging", reliability.Config)
def _hedged_mode(config: reliability.Config) -> Iterator[Finding]:
    """An ensemble in ``hedged`` execution mode needs a hedging configuration that is on."""
    if config.ensemble is None or config.ensemble.execution_mode != ExecutionMode.HEDGED:
        return
    if config.hedging is None or config.hedging.strategy == HedgingStrategy.OFF:
        yield (
            pointer("ensemble", "execution_mode"),
            "hedged execution needs hedging with a strategy other than off",
        )


@rule("ensemble.models_required", reliability.Ensemble)
def _ensemble_models(ensemble: reliability.Ensemble) -> Iterator[Finding]:
    """An ensemble with a voting strategy lists its models."""
    if ensemble.strategy != EnsembleStrategy.NONE and not ensemble.models:
        yield pointer("models"), f"strategy {ensemble.strategy} needs at least one model"


@rule("ensemble.duplicate_model", reliability.Ensemble)
def _ensembleduplicates(ensemble: reliability.Ensemble) -> Iterator[Finding]:
    """A model is listed once."""
    for index, model in duplicates(ensemble.models or []):
        yield pointer("models", index), f"model {model!r} is listed twice"


@rule("ensemble.weights_required", reliability.Ensemble)
def _weights_required(ensemble: reliability.Ensemble) -> Iterator[Finding]:
    """Weighted voting needs weights."""
    if ensemble.strategy == EnsembleStrategy.WEIGHTED and not ensemble.weights:
        yield pointer("weights"), "weighted voting needs weights"


@rule("ensemble.weight_unknown_model", reliability.Ensemble)
def _weight_unknown(ensemble: reliability.Ensemble) -> Iterator[Finding]:
    """Weights are keyed by models of the ensemble."""
    if not ensemble.weights or ensemble.models is None:
        return
    for model in ensemble.weights:
        if model not in ensemble.models:
            yield pointer("weights", model), f"{model!r} is not one of the ensemble's models"


@rule("ensemble.weight_missing", reliability.Ensemble)
def _weight_missing(ensemble: reliability.Ensemble) -> Iterator[Finding]:
    """Under weighted voting every model has a weight."""
    if ensemble.strategy != EnsembleStrategy.WEIGHTED or not ensemble.weights:
        return
    for index, model in enumerate(ensemble.models or []):
        if model not in ensemble.weights:
            yield pointer("models", index), f"model {model!r} has no weight"


@rule("hedging.delay_required", reliability.Hedging)
def _hedging_delay(hedging: reliability.Hedging) -> Iterator[Finding]:
    """Fixed hedging needs its delay."""
    if hedging.strategy == HedgingStrategy.FIXED and hedging.delay_ms is None:
        yield pointer("delay_ms"), "fixed hedging needs delay_ms"


@rule("hedging.percentile_required", reliability.Hedging)
def _hedging_percentile(hedging: reliability.Hedging) -> Iterator[Finding]:
    """Percentile hedging needs its percentile."""
    if hedging.strategy == HedgingStrategy.PERCENTILE and hedging.percentile is None:
        yield pointer("percentile"), "percentile hedging needs percentile"


@rule("stats.tests_required", reliability.Stats)
def _stats_tests(stats: reliability.Stats) -> Iterator[Finding]:
    """At least one statistical test."""
    if not stats.tests:
        yield pointer("tests"), "at least one test is needed"


@rule("stats.duplicate_test", reliability.Stats)
def _statsduplicates(stats: reliability.Stats) -> Iterator[Finding]:
    """A test is listed once."""
    for index, test in duplicates(stats.tests):
        yield pointer("tests", index), f"test {test} is listed twice"


_GROUP_TESTS = {StatTest.ANOVA, StatTest.KRUSKAL}
_PAIR_TESTS = {StatTest.TTEST, StatTest.MANNWHITNEY, StatTest.WILCOXON, StatTest.BOOTSTRAP}


@rule("stats.effect_size_incompatible", reliability.Stats)
def _effect_size(stats: reliability.Stats) -> Iterator[Finding]:
    """The effect size suits a listed test: eta/omega squared need a many-group test (anova,
    kruskal); Cohen's d a two-group test (ttest, mannwhitney, wilcoxon, bootstrap)."""
    if stats.effect_size_type is None or not stats.tests:
        return
    tests = set(stats.tests)
    pair = stats.effect_size_type == EffectSizeType.COHENS_D
    needed = _PAIR_TESTS if pair else _GROUP_TESTS
    if not tests & needed:
        yield (
            pointer("effect_size_type"),
            f"{stats.effect_size_type} needs one of the tests "
            f"{', '.join(sorted(str(t) for t in needed))}",
        )


@rule("fairness.group_by_required", reliability.Fairness)
def _fairness_group(fairness: reliability.Fairness) -> Iterator[Finding]:
    """Enabled fairness checking names the attribute to group by."""
    if fairness.enabled and not fairness.group_by:
        yield pointer("group_by"), "enabled fairness checking needs group_by"


@rule("fairness.metrics_required", reliability.Fairness)
def _fairness_metrics(fairness: reliability.Fairness) -> Iterator[Finding]:
    """Enabled fairness checking computes at least one metric."""
    if fairness.enabled and not fairness.metrics:
        yield pointer("metrics"), "enabled fairness checking needs at least one metric"


@rule("guardrail.redaction_requires_detection", reliability.Guardrail)
def _redaction(guardrail: reliability.Guardrail) -> Iterator[Finding]:
    """PII cannot be redacted with PII detection switched off."""
    if guardrail.pii_redaction and guardrail.pii_detection is False:
        yield pointer("pii_redaction"), "pii_redaction needs pii_detection"


@rule("guardrail.duplicate_profile", reliability.Guardrail)
def _guardrail_profiles(guardrail: reliability.Guardrail) -> Iterator[Finding]:
    """A profile is listed once."""
    for index, profile in duplicates(guardrail.profiles):
        yield pointer("profiles", index), f"profile {profile} is listed twice"


@rule("circuit_breaker.success_exceeds_probes", reliability.CircuitBreaker)
def _breaker_probes(breaker: reliability.CircuitBreaker) -> Iterator[Finding]:
    """The breaker can close: ``success_threshold`` is at most ``half_open_max_calls``."""
    if breaker.success_threshold > breaker.half_open_max_calls:
        yield (
            pointer("success_threshold"),
            f"{breaker.success_threshold} successes can never happen in "
            f"{breaker.half_open_max_calls} half-open call(s)",
        )


@rule("rate_limit.no_limit", reliability.RateLimit)
def _rate_limit(limit: reliability.RateLimit) -> Iterator[Finding]:
    """A rate limit sets at least one limit."""
    if all(
        value is None
        for value in (
            limit.requests_per_second,
            limit.requests_per_minute,
            limit.tokens_per_minute,
            limit.max_concurrent,
        )
    ):
        yield (
            "",
            (
                "set at least one of requests_per_second, requests_per_minute, "
                "tokens_per_minute, max_concurrent"
            ),
        )


@rule("retry.delay_order", reliability.RetryConfig)
def _retry_delays(retry: reliability.RetryConfig) -> Iterator[Finding]:
    """The first retry delay does not exceed the cap."""
    if retry.initial_delay_ms > retry.max_delay_ms:
        yield pointer("initial_delay_ms"), "initial_delay_ms exceeds max_delay_ms"


@rule("cache.similarity_requires_semantic", reliability.Cache)
def _cache_similarity(cache: reliability.Cache) -> Iterator[Finding]:
    """A similarity threshold only means something for semantic caching."""
    if cache.similarity_threshold is not None and not cache.semantic:
        yield pointer("similarity_threshold"), "similarity_threshold needs semantic caching"
