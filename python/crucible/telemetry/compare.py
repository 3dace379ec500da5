"""Comparing two experiments (or conditions) on one metric, with honest statistics.

:func:`compare` takes the values of ``metric`` in A (the baseline) and B and reports:

* the difference of means ``mean(B) - mean(A)``, relative to A, with a bootstrap confidence
  interval (``crucible.stats.bootstrap``, ``diff_means``, BCa; the number of resamples is cut
  for very large samples so that the work stays under ``bootstrap_budget`` draws, and above
  ``bootstrap_limit`` values in all the Welch t interval is used instead — at that size the
  two agree);
* Welch's t-test (unequal variances) and the Mann-Whitney U test (distributions, robust to
  outliers and skew), both from ``crucible.stats``;
* effect sizes: Cohen's d (standardised mean difference) and Cliff's δ (dominance), each
  with its conventional magnitude;
* a verdict in plain language, naming which is better when the metric has a direction
  (lower latency and cost are better, a higher success rate is better).

The difference is called significant when the confidence interval excludes 0. When Welch
and Mann-Whitney disagree the verdict says so: the means and the distributions tell
different stories (a few outliers, or a change of shape rather than location).

Metrics: any numeric column of the stores (``latency_ms``, ``cost_usd``, ``success`` as
0/1, ``tokens_in``, ``tokens_out``), or a measurement or derived field by name (``loss``,
``measurements.duration``, ``derived.accuracy``); events without a finite value are left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, cast

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.stats import (
    ConfidenceInterval,
    bootstrap,
    cohens_d,
    interpret_cliffs_delta,
    interpret_d,
    ttest_ind,
)
from crucible.stats.nonparametric import mannwhitneyu
from crucible.telemetry.experiment import Experiment
from crucible.telemetry.store.base import COLUMN_KINDS, CapturedEvent, Store

__all__ = ["Comparison", "GroupSummary", "compare", "metric_values"]

_Floats = npt.NDArray[np.float64]

LOWER_IS_BETTER = frozenset({"latency_ms", "cost_usd", "error", "errors", "loss", "duration"})
HIGHER_IS_BETTER = frozenset({"success", "accuracy", "throughput"})
_NUMERIC_COLUMNS = frozenset(k for k, kind in COLUMN_KINDS.items() if kind in ("f", "b", "i"))


class GroupSummary(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    n: int
    mean: float
    median: float
    std: float


class Comparison(msgspec.Struct, frozen=True, kw_only=True):
    """A against B on one metric. ``difference`` is ``mean(B) - mean(A)``."""

    metric: str
    a: GroupSummary
    b: GroupSummary
    difference: float
    relative_difference: float
    confidence_interval: ConfidenceInterval
    confidence_level: float
    ci_method: str
    n_resamples: int
    welch_statistic: float
    welch_df: float
    welch_pvalue: float
    mannwhitney_u: float
    mannwhitney_pvalue: float
    cohens_d: float | None
    cohens_d_magnitude: str | None
    cliffs_delta: float
    cliffs_delta_magnitude: str
    significant: bool
    better: str | None
    verdict: str


# --- values -----------------------------------------------------------------------------


def _field_value(event: CapturedEvent, metric: str) -> Any:
    if metric.startswith("measurements."):
        return event.measurements.get(metric.removeprefix("measurements."))
    if metric.startswith("derived."):
        return event.derived.get(metric.removeprefix("derived."))
    if metric in _NUMERIC_COLUMNS:
        return getattr(event, metric)
    if metric in event.measurements:
        return event.measurements[metric]
    return event.derived.get(metric)


def _finite(values: Iterable[Any]) -> _Floats:
    out = [
        float(v)
        for v in values
        if isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(float(v))
    ]
    return np.asarray(out, dtype=np.float64)


def metric_values(
    source: Experiment | str | Iterable[CapturedEvent] | npt.ArrayLike,
    metric: str = "latency_ms",
    *,
    store: Store | None = None,
    event_name: Sequence[str] | None = None,
    event_prefix: Sequence[str] | None = None,
) -> _Floats:
    """The finite values of ``metric`` in a source: an Experiment, an experiment id or name
    (with ``store``), captured events, or the numbers themselves."""
    if isinstance(source, Experiment):
        if source.running:
            source.flush()
        db, experiment_id = source.store, source.id
    elif isinstance(source, str):
        if store is None:
            raise InvalidArgumentError("an experiment id or name needs `store=`")
        db, experiment_id = store, store.experiment(source).experiment_id
    else:
        items = list(source) if isinstance(source, Iterable) else source
        if isinstance(items, list) and items and isinstance(items[0], CapturedEvent):
            events = cast("list[CapturedEvent]", items)
            name = tuple(event_name) if event_name is not None else None
            prefix = tuple(event_prefix) if event_prefix is not None else None
            return _finite(
                _field_value(e, metric)
                for e in events
                if (name is None or e.event_name == name)
                and (prefix is None or e.event_name[: len(prefix)] == prefix)
            )
        values = np.asarray(items, dtype=np.float64).ravel()
        return values[np.isfinite(values)]
    filters: dict[str, Any] = {
        "experiment_id": experiment_id,
        "event_name": event_name,
        "event_prefix": event_prefix,
    }
    if metric in _NUMERIC_COLUMNS:
        parts = [batch[metric] for batch in db.select([metric], **filters)]
        values = np.concatenate(parts).astype(np.float64) if parts else np.empty(0)
        return values[np.isfinite(values)]
    return _finite(_field_value(e, metric) for batch in db.query(**filters) for e in batch)


# --- the comparison ---------------------------------------------------------------------------


def _summary(label: str, x: _Floats) -> GroupSummary:
    return GroupSummary(
        label=label,
        n=int(x.size),
        mean=float(np.mean(x)),
        median=float(np.median(x)),
        std=float(np.std(x, ddof=1)) if x.size > 1 else math.nan,
    )


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:,.4g}"


def _p(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return "< 0.0001" if value < 1e-4 else f"= {value:.4f}"


def _direction(metric: str, higher_is_better: bool | None) -> bool | None:
    if higher_is_better is not None:
        return higher_is_better
    leaf = metric.rsplit(".", 1)[-1]
    if leaf in LOWER_IS_BETTER:
        return False
    if leaf in HIGHER_IS_BETTER:
        return True
    return None


def compare(
    a: Experiment | str | Iterable[CapturedEvent] | npt.ArrayLike,
    b: Experiment | str | Iterable[CapturedEvent] | npt.ArrayLike,
    metric: str = "latency_ms",
    *,
    store: Store | None = None,
    event_name: Sequence[str] | None = None,
    event_prefix: Sequence[str] | None = None,
    labels: tuple[str, str] = ("A", "B"),
    confidence_level: float = 0.95,
    n_resamples: int = 9999,
    seed: int | None = 0,
    higher_is_better: bool | None = None,
    bootstrap_budget: int = 50_000_000,
    bootstrap_limit: int = 200_000,
) -> Comparison:
    """Compare ``metric`` between A (the baseline) and B; see the module docstring.

    ``a``/``b``: experiments, experiment ids or names (with ``store``), captured events, or
    arrays of values. ``seed`` makes the bootstrap reproducible. ``higher_is_better``
    overrides the direction known for the metric (None: known metrics only).
    """
    if not 0.0 < confidence_level < 1.0:
        raise InvalidArgumentError("`confidence_level` must be in (0, 1)")
    x = metric_values(a, metric, store=store, event_name=event_name, event_prefix=event_prefix)
    y = metric_values(b, metric, store=store, event_name=event_name, event_prefix=event_prefix)
    for label, values in zip(labels, (x, y), strict=True):
        if values.size < 2:
            raise InvalidArgumentError(
                f"{label} has {values.size} finite value(s) of {metric!r}; at least 2 are needed"
            )
    sa, sb = _summary(labels[0], x), _summary(labels[1], y)
    difference = sb.mean - sa.mean
    welch = ttest_ind(y, x, equal_var=False, confidence_level=confidence_level)
    total = int(x.size + y.size)
    constant = bool(np.all(x == x[0]) and np.all(y == y[0]))
    if total <= bootstrap_limit and not constant:
        resamples = int(min(n_resamples, max(999, bootstrap_budget // total)))
        boot = bootstrap(
            (y, x),
            "diff_means",
            n_resamples=resamples,
            confidence_level=confidence_level,
            method="bca",
            rng=seed,
        )
        ci, ci_method = boot.confidence_interval, "bootstrap BCa"
        if not (math.isfinite(ci.low) and math.isfinite(ci.high)):  # degenerate BCa
            boot = bootstrap(
                (y, x),
                "diff_means",
                n_resamples=resamples,
                confidence_level=confidence_level,
                method="percentile",
                rng=seed,
            )
            ci, ci_method = boot.confidence_interval, "bootstrap percentile"
    else:
        resamples = 0
        ci, ci_method = welch.confidence_interval, "Welch t"
        if welch.standard_error == 0:  # no spread in either: the difference is exact
            ci = ConfidenceInterval(low=difference, high=difference)
    mw = mannwhitneyu(y, x)
    cliff = 0.0 - float(mw.effect_size)  # rank-biserial of (y, x) has the opposite sign
    try:
        d: float | None = float(cohens_d(y, x))
    except InvalidArgumentError:  # zero spread: no standardised difference
        d = None
    significant = not (ci.low <= 0.0 <= ci.high)
    direction = _direction(metric, higher_is_better)
    better: str | None = None
    if significant and direction is not None:
        better = labels[1] if (difference > 0) == direction else labels[0]
    comparison = Comparison(
        metric=metric,
        a=sa,
        b=sb,
        difference=difference,
        relative_difference=difference / sa.mean if sa.mean != 0 else math.nan,
        confidence_interval=ci,
        confidence_level=confidence_level,
        ci_method=ci_method,
        n_resamples=resamples,
        welch_statistic=float(welch.statistic),
        welch_df=float(welch.df),
        welch_pvalue=float(welch.pvalue),
        mannwhitney_u=float(mw.statistic),
        mannwhitney_pvalue=float(mw.pvalue),
        cohens_d=d,
        cohens_d_magnitude=interpret_d(d) if d is not None and math.isfinite(d) else None,
        cliffs_delta=cliff,
        cliffs_delta_magnitude=interpret_cliffs_delta(cliff) if math.isfinite(cliff) else "n/a",
        significant=significant,
        better=better,
        verdict="",
    )
    return msgspec.structs.replace(
        comparison, verdict=_verdict(comparison, direction, alpha=1.0 - confidence_level)
    )


def _verdict(c: Comparison, direction: bool | None, alpha: float) -> str:
    a, b, m = c.a.label, c.b.label, c.metric
    level = f"{c.confidence_level:.0%}"
    ci = f"{level} CI {_fmt(c.confidence_interval.low)} to {_fmt(c.confidence_interval.high)}"
    tests = f"Welch p {_p(c.welch_pvalue)}, Mann-Whitney p {_p(c.mannwhitney_pvalue)}"
    if c.significant:
        way = "higher" if c.difference > 0 else "lower"
        rel = f" ({c.relative_difference:+.1%})" if math.isfinite(c.relative_difference) else ""
        text = (
            f"{b}'s mean {m} is {_fmt(abs(c.difference))} {way} than {a}'s{rel}; "
            f"{ci} ({c.ci_method}). {tests}."
        )
    else:
        text = (
            f"No significant difference in mean {m} between {a} and {b}: "
            f"{b} - {a} = {_fmt(c.difference)}, {ci} includes 0 ({c.ci_method}). {tests}."
        )
    sizes = [f"Cliff's δ = {c.cliffs_delta:+.3f} ({c.cliffs_delta_magnitude})"]
    if c.cohens_d is not None:
        sizes.insert(0, f"Cohen's d = {c.cohens_d:+.3f} ({c.cohens_d_magnitude})")
    text += " Effect size: " + ", ".join(sizes) + "."
    welch_sig, mw_sig = c.welch_pvalue < alpha, c.mannwhitney_pvalue < alpha
    if welch_sig != mw_sig:
        text += " The tests disagree: " + (
            "the means differ but the distributions overlap (a few extreme values?)."
            if welch_sig
            else "the distributions differ though the means do not (a change of shape "
            "or of the typical value, not of the mean)."
        )
    if c.better is not None:
        worse = a if c.better == b else b
        goal = "higher" if direction else "lower"
        text += f" {goal.capitalize()} {m} is better, so {c.better} is better than {worse}."
    elif c.significant and direction is None:
        text += f" Whether higher or lower {m} is better is not known; pass higher_is_better."
    return text
