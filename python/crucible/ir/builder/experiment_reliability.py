"""The reliability steps of :class:`~crucible.ir.builder.experiment.ExperimentBuilder`, as a
mixin: each one runs the same step of a :class:`ReliabilityBuilder` on the experiment's
current configuration, so the two builders cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import msgspec
from msgspec.structs import replace

from crucible.ir import feedback as fb
from crucible.ir import reliability as rel
from crucible.ir.builder.reliability import ReliabilityBuilder
from crucible.ir.enums import EnsembleStrategy, HedgingStrategy, StatTest

__all__ = ["ReliabilitySteps"]

B = TypeVar("B", bound="ReliabilitySteps")


class ReliabilitySteps:
    """Mixed into a frozen struct with a ``reliability: rel.Config | None`` field."""

    __slots__ = ()
    reliability: rel.Config | None

    def _set_reliability(self: B, config: rel.Config | None) -> B:
        return cast(B, replace(cast(msgspec.Struct, self), reliability=config))

    def _reliability(self: B, step: Callable[[ReliabilityBuilder], ReliabilityBuilder]) -> B:
        current = ReliabilityBuilder(config=self.reliability or rel.Config())
        result = step(current)
        return self._set_reliability(None if result.is_empty() else result.config)

    def with_reliability(self: B, config: rel.Config | ReliabilityBuilder) -> B:
        """Replace the whole reliability configuration."""
        if isinstance(config, ReliabilityBuilder):
            config = config.config
        return self._set_reliability(config)

    def merge_reliability(self: B, config: rel.Config | ReliabilityBuilder) -> B:
        """Take every part ``config`` sets, keep the others."""
        return self._reliability(lambda r: r.merge(config))

    def remove_reliability(self: B) -> B:
        return self._set_reliability(None)

    def with_ensemble(
        self: B, strategy: rel.Ensemble | EnsembleStrategy | str = "none", **fields: Any
    ) -> B:
        return self._reliability(lambda r: r.with_ensemble(strategy, **fields))

    def with_hedging(
        self: B, strategy: rel.Hedging | HedgingStrategy | str = "off", **fields: Any
    ) -> B:
        return self._reliability(lambda r: r.with_hedging(strategy, **fields))

    def with_stats(
        self: B, tests: rel.Stats | Sequence[StatTest | str] | None = None, **fields: Any
    ) -> B:
        return self._reliability(lambda r: r.with_stats(tests, **fields))

    def with_fairness(self: B, fairness: rel.Fairness | None = None, **fields: Any) -> B:
        return self._reliability(lambda r: r.with_fairness(fairness, **fields))

    def with_guardrails(self: B, guardrail: rel.Guardrail | None = None, **fields: Any) -> B:
        return self._reliability(lambda r: r.with_guardrails(guardrail, **fields))

    def with_feedback(self: B, config: fb.Config | None = None, **fields: Any) -> B:
        return self._reliability(lambda r: r.with_feedback(config, **fields))

    def with_monitoring(self: B, monitoring: rel.Monitoring | None = None, **fields: Any) -> B:
        return self._reliability(lambda r: r.with_monitoring(monitoring, **fields))

    def with_drift(self: B, drift: rel.DriftDetection | None = None, **fields: Any) -> B:
        return self._reliability(lambda r: r.with_drift(drift, **fields))

    def with_circuit_breaker(
        self: B, breaker: rel.CircuitBreaker | None = None, **fields: Any
    ) -> B:
        return self._reliability(lambda r: r.with_circuit_breaker(breaker, **fields))

    def with_rate_limiting(self: B, limit: rel.RateLimit | None = None, **fields: Any) -> B:
        return self._reliability(lambda r: r.with_rate_limiting(limit, **fields))

    def with_caching(self: B, cache: rel.Cache | None = None, **fields: Any) -> B:
        return self._reliability(lambda r: r.with_caching(cache, **fields))

    def update_reliability(self: B, part: str, **changes: Any) -> B:
        """Change fields of a reliability part: ``update_reliability("stats", alpha=0.01)``."""
        return self._reliability(lambda r: r.update(part, **changes))

    def remove_reliability_part(self: B, part: str) -> B:
        return self._reliability(lambda r: r.remove(part))

    def update_ensemble(self: B, **changes: Any) -> B:
        return self.update_reliability("ensemble", **changes)

    def update_hedging(self: B, **changes: Any) -> B:
        return self.update_reliability("hedging", **changes)

    def update_stats(self: B, **changes: Any) -> B:
        return self.update_reliability("stats", **changes)

    def update_fairness(self: B, **changes: Any) -> B:
        return self.update_reliability("fairness", **changes)

    def update_guardrails(self: B, **changes: Any) -> B:
        return self.update_reliability("guardrails", **changes)

    def update_feedback(self: B, **changes: Any) -> B:
        return self.update_reliability("feedback", **changes)

    def update_monitoring(self: B, **changes: Any) -> B:
        return self.update_reliability("monitoring", **changes)

    def remove_ensemble(self: B) -> B:
        return self.remove_reliability_part("ensemble")

    def remove_hedging(self: B) -> B:
        return self.remove_reliability_part("hedging")

    def remove_stats(self: B) -> B:
        return self.remove_reliability_part("stats")

    def remove_fairness(self: B) -> B:
        return self.remove_reliability_part("fairness")

    def remove_guardrails(self: B) -> B:
        return self.remove_reliability_part("guardrails")

    def remove_feedback(self: B) -> B:
        return self.remove_reliability_part("feedback")

    def remove_monitoring(self: B) -> B:
        return self.remove_reliability_part("monitoring")
