"""The standalone builder of a :class:`crucible.ir.reliability.Config`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from msgspec.structs import replace

from crucible.errors import ErrorItem, InvalidArgumentError
from crucible.ir import feedback as fb
from crucible.ir import reliability as rel
from crucible.ir.builder.coerce import PARTS, changed, make
from crucible.ir.enums import EnsembleStrategy, HedgingStrategy, StatTest
from crucible.ir.validation import errors as validation_errors
from crucible.ir.validation import validate

__all__ = ["ReliabilityBuilder", "reliability_config"]


class ReliabilityBuilder(msgspec.Struct, frozen=True, kw_only=True):
    """Builds a :class:`crucible.ir.reliability.Config` one mechanism at a time."""

    config: rel.Config = msgspec.field(default_factory=rel.Config)

    def _set(self, part: str, value: Any) -> ReliabilityBuilder:
        return replace(self, config=replace(self.config, **{part: value}))

    def _update(self, part: str, changes: dict[str, Any]) -> ReliabilityBuilder:
        return self._set(part, changed(getattr(self.config, part), part, changes))

    # ensemble, hedging, stats, fairness, guardrails: the original's five

    def with_ensemble(
        self, strategy: rel.Ensemble | EnsembleStrategy | str = "none", **fields: Any
    ) -> ReliabilityBuilder:
        """Set ensemble voting: ``with_ensemble("weighted", models=[...], weights={...})``."""
        if isinstance(strategy, rel.Ensemble):
            return self._set("ensemble", strategy)
        return self._set("ensemble", make(rel.Ensemble, strategy=strategy, **fields))

    def with_hedging(
        self, strategy: rel.Hedging | HedgingStrategy | str = "off", **fields: Any
    ) -> ReliabilityBuilder:
        """Set request hedging: ``with_hedging("fixed", delay_ms=100)``."""
        if isinstance(strategy, rel.Hedging):
            return self._set("hedging", strategy)
        return self._set("hedging", make(rel.Hedging, strategy=strategy, **fields))

    def with_stats(
        self, tests: rel.Stats | Sequence[StatTest | str] | None = None, **fields: Any
    ) -> ReliabilityBuilder:
        """Set statistical testing: ``with_stats(["ttest", "bootstrap"], alpha=0.01)``."""
        if isinstance(tests, rel.Stats):
            return self._set("stats", tests)
        if tests is not None:
            fields["tests"] = list(tests)
        return self._set("stats", make(rel.Stats, **fields))

    def with_fairness(
        self, fairness: rel.Fairness | None = None, **fields: Any
    ) -> ReliabilityBuilder:
        """Set fairness checking (enabled unless ``enabled=False``)."""
        if fairness is None:
            fields.setdefault("enabled", True)
            fairness = make(rel.Fairness, **fields)
        return self._set("fairness", fairness)

    def with_guardrails(
        self, guardrail: rel.Guardrail | None = None, **fields: Any
    ) -> ReliabilityBuilder:
        """Set security guardrails: ``with_guardrails(profiles=["strict"], pii_detection=True)``."""
        return self._set("guardrails", guardrail or make(rel.Guardrail, **fields))

    # v0.2/v0.3 parts

    def with_feedback(self, config: fb.Config | None = None, **fields: Any) -> ReliabilityBuilder:
        """Set feedback collection (enabled unless ``enabled=False``)."""
        if config is None:
            fields.setdefault("enabled", True)
            config = make(fb.Config, **fields)
        return self._set("feedback", config)

    def with_monitoring(
        self, monitoring: rel.Monitoring | None = None, **fields: Any
    ) -> ReliabilityBuilder:
        """Set runtime monitoring."""
        return self._set("monitoring", monitoring or make(rel.Monitoring, **fields))

    def with_drift(
        self, drift: rel.DriftDetection | None = None, **fields: Any
    ) -> ReliabilityBuilder:
        """Set drift detection."""
        return self._set("drift", drift or make(rel.DriftDetection, **fields))

    def with_circuit_breaker(
        self, breaker: rel.CircuitBreaker | None = None, **fields: Any
    ) -> ReliabilityBuilder:
        """Set a circuit breaker."""
        return self._set("circuit_breaker", breaker or make(rel.CircuitBreaker, **fields))

    def with_rate_limiting(
        self, limit: rel.RateLimit | None = None, **fields: Any
    ) -> ReliabilityBuilder:
        """Set client-side rate limits."""
        return self._set("rate_limiting", limit or make(rel.RateLimit, **fields))

    def with_caching(self, cache: rel.Cache | None = None, **fields: Any) -> ReliabilityBuilder:
        """Set response caching."""
        return self._set("caching", cache or make(rel.Cache, **fields))

    # generic update / remove / merge

    def update(self, part: str, **changes: Any) -> ReliabilityBuilder:
        """Change fields of a part that is set: ``update("stats", alpha=0.01)``."""
        if part not in PARTS:
            raise InvalidArgumentError(f"no reliability part {part!r} (known: {', '.join(PARTS)})")
        return self._update(part, changes)

    def remove(self, part: str) -> ReliabilityBuilder:
        """Unset a part: ``remove("hedging")``."""
        if part not in PARTS:
            raise InvalidArgumentError(f"no reliability part {part!r} (known: {', '.join(PARTS)})")
        return self._set(part, None)

    def merge(self, other: rel.Config | ReliabilityBuilder) -> ReliabilityBuilder:
        """Take every part ``other`` sets, keep the others."""
        config = other.config if isinstance(other, ReliabilityBuilder) else other
        parts = {p: getattr(config, p) for p in PARTS if getattr(config, p) is not None}
        return replace(self, config=replace(self.config, **parts))

    def update_ensemble(self, **changes: Any) -> ReliabilityBuilder:
        return self._update("ensemble", changes)

    def update_hedging(self, **changes: Any) -> ReliabilityBuilder:
        return self._update("hedging", changes)

    def update_stats(self, **changes: Any) -> ReliabilityBuilder:
        return self._update("stats", changes)

    def update_fairness(self, **changes: Any) -> ReliabilityBuilder:
        return self._update("fairness", changes)

    def update_guardrails(self, **changes: Any) -> ReliabilityBuilder:
        return self._update("guardrails", changes)

    def update_feedback(self, **changes: Any) -> ReliabilityBuilder:
        return self._update("feedback", changes)

    def update_monitoring(self, **changes: Any) -> ReliabilityBuilder:
        return self._update("monitoring", changes)

    def remove_ensemble(self) -> ReliabilityBuilder:
        return self._set("ensemble", None)

    def remove_hedging(self) -> ReliabilityBuilder:
        return self._set("hedging", None)

    def remove_stats(self) -> ReliabilityBuilder:
        return self._set("stats", None)

    def remove_fairness(self) -> ReliabilityBuilder:
        return self._set("fairness", None)

    def remove_guardrails(self) -> ReliabilityBuilder:
        return self._set("guardrails", None)

    def remove_feedback(self) -> ReliabilityBuilder:
        return self._set("feedback", None)

    def remove_monitoring(self) -> ReliabilityBuilder:
        return self._set("monitoring", None)

    def is_empty(self) -> bool:
        """Whether no part is set."""
        return all(getattr(self.config, p) is None for p in PARTS)

    def errors(self) -> list[ErrorItem]:
        """Every error of the configuration built so far."""
        return validation_errors(self.config)

    def build(self) -> rel.Config:
        """The validated configuration; raises ValidationError listing every problem."""
        return validate(self.config)


def reliability_config() -> ReliabilityBuilder:
    """Start building a reliability configuration on its own."""
    return ReliabilityBuilder()
