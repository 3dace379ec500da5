"""Hedged requests, simulated: how much tail latency a duplicate request buys, at what cost.

A request goes to the primary; if no answer has come back ``t_k`` ms after it was sent,
hedge ``k`` (a duplicate to the backup) is sent, and the request completes with whichever
answer arrives first. Over a sequence of requests with primary latencies ``P_i`` and
backup latencies ``B_ik``, the hedged latency is ``min(P_i, min_k(t_k + B_ik))`` over the
hedges actually fired, and each fired hedge costs one extra request.

Hedge times by strategy (the IR's :class:`~crucible.ir.enums.HedgingStrategy`):

- ``off``: never hedge (the baseline);
- ``fixed``: ``t_k = k * delay_ms``;
- ``percentile``: ``delay`` is the ``percentile`` quantile of all recorded primary latencies
  (an offline choice: the delay a tuned client would settle on), ``t_k = k * delay``;
- ``adaptive``: ``delay`` is the quantile of the last ``window`` primary latencies seen
  *before* this request (an online client tracking a drifting backend); during the first
  ``warmup`` requests it does not hedge;
- ``exponential_backoff``: ``t_k = delay_ms * factor**(k-1)`` (hedges ever further apart).

Budget: with ``budget_percent`` set, a hedge fires only while the hedges so far (this one
included) stay within that percentage of the requests so far, a running token budget as a
real client enforces it; denied hedges are counted.
"""

from __future__ import annotations

from typing import Literal

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError

__all__ = ["HedgePolicy", "HedgingOutcome", "SimulatedStrategy", "simulate", "summarize"]

SimulatedStrategy = Literal["off", "fixed", "percentile", "adaptive", "exponential_backoff"]
_Floats = npt.NDArray[np.float64]
QUANTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


class HedgePolicy(msgspec.Struct, frozen=True, kw_only=True):
    strategy: SimulatedStrategy
    delay_ms: float | None = None
    percentile: float = 0.95
    max_hedges: int = 1
    budget_percent: float | None = None
    window: int = 200
    warmup: int = 20
    backoff_factor: float = 2.0


class HedgingOutcome(msgspec.Struct, frozen=True, kw_only=True):
    baseline: _Floats
    hedged: _Floats
    delays: _Floats
    """The first hedge's delay per request (NaN when the policy had none)."""
    hedges_fired: int
    hedged_requests: int
    hedge_wins: int
    budget_denied: int


def _static_delay(policy: HedgePolicy, primary: _Floats) -> float | None:
    if policy.strategy in ("fixed", "exponential_backoff"):
        if policy.delay_ms is None:
            raise InvalidArgumentError(f"the {policy.strategy} strategy needs delay_ms")
        return policy.delay_ms
    if policy.strategy == "percentile":
        return float(np.quantile(primary, policy.percentile))
    return None


def _hedge_times(policy: HedgePolicy, delay: float) -> list[float]:
    if policy.strategy == "exponential_backoff":
        return [delay * policy.backoff_factor**k for k in range(policy.max_hedges)]
    return [delay * (k + 1) for k in range(policy.max_hedges)]


def simulate(primary: _Floats, backups: _Floats, policy: HedgePolicy) -> HedgingOutcome:
    """Run ``policy`` over the requests; ``backups`` has shape (requests, max_hedges)."""
    count = primary.shape[0]
    if backups.shape != (count, policy.max_hedges):
        raise InvalidArgumentError(
            f"backups must have shape ({count}, {policy.max_hedges}), not {backups.shape}"
        )
    hedged = primary.copy()
    delays = np.full(count, np.nan)
    static = _static_delay(policy, primary)
    fired = requests_hedged = wins = denied = 0
    for i in range(count):
        if policy.strategy == "off":
            break
        delay = static
        if policy.strategy == "adaptive":
            seen = primary[max(0, i - policy.window) : i]
            delay = (
                None
                if seen.shape[0] < policy.warmup
                else float(np.quantile(seen, policy.percentile))
            )
        if delay is None:
            continue
        delays[i] = delay
        done = primary[i]
        any_fired = False
        for k, at in enumerate(_hedge_times(policy, delay)):
            if at >= done:
                break  # an answer is already in: nothing left to hedge
            budget = policy.budget_percent
            if budget is not None and (fired + 1) * 100.0 > budget * (i + 1):
                denied += 1
                break
            fired += 1
            any_fired = True
            done = min(done, at + backups[i, k])
        requests_hedged += any_fired
        wins += bool(done < primary[i])
        hedged[i] = done
    return HedgingOutcome(
        baseline=primary,
        hedged=hedged,
        delays=delays,
        hedges_fired=fired,
        hedged_requests=requests_hedged,
        hedge_wins=wins,
        budget_denied=denied,
    )


def summarize(outcome: HedgingOutcome) -> dict[str, float]:
    """Percentiles before and after, their reduction in percent, and the cost."""
    count = float(outcome.baseline.shape[0])
    metrics: dict[str, float] = {}
    for name, q in QUANTILES.items():
        before = float(np.quantile(outcome.baseline, q))
        after = float(np.quantile(outcome.hedged, q))
        metrics[f"baseline/{name}_ms"] = before
        metrics[f"hedged/{name}_ms"] = after
        metrics[f"reduction/{name}_percent"] = (before - after) / before * 100.0 if before else 0.0
    metrics["baseline/mean_ms"] = float(np.mean(outcome.baseline))
    metrics["hedged/mean_ms"] = float(np.mean(outcome.hedged))
    metrics["hedge_rate"] = outcome.hedged_requests / count
    metrics["extra_cost"] = outcome.hedges_fired / count
    metrics["extra_cost_percent"] = outcome.hedges_fired / count * 100.0
    metrics["hedge_win_rate"] = (
        outcome.hedge_wins / outcome.hedged_requests if outcome.hedged_requests else 0.0
    )
    metrics["budget_denied"] = float(outcome.budget_denied)
    metrics["requests"] = count
    return metrics
