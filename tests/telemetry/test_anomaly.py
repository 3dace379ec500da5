"""Anomaly detectors against known data, offline and online on the event bus."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crucible import events
from crucible.errors import InvalidArgumentError
from crucible.telemetry.anomaly import (
    ANOMALY_EVENT,
    MAD_CONSTANT,
    AnomalyMonitor,
    EWMADetector,
    RollingDetector,
    detect,
    ewma,
    iqr,
    modified_zscore,
    zscore,
)

SERIES = [10.0, 12.0, 11.0, 13.0, 12.0, 11.0, 10.0, 12.0, 11.0, 13.0, 12.0, 11.0, 95.0, 12.0]


# --- offline -----------------------------------------------------------------------------------


def test_zscore_known_values() -> None:
    x = np.array(SERIES)
    got = zscore(x, threshold=3.0)
    want = (x - x.mean()) / x.std()
    np.testing.assert_allclose(got.scores, want, rtol=1e-12)
    assert got.indices.tolist() == [12]
    assert got.center == pytest.approx(x.mean())
    assert got.scale == pytest.approx(x.std())
    assert zscore(x, ddof=1).scale == pytest.approx(x.std(ddof=1))


def test_zscore_cannot_flag_in_tiny_samples_but_mad_can() -> None:
    x = [0.0] * 8 + [1000.0]  # |z| <= sqrt(n - 1) = 2.83 < 3 (population std)
    assert zscore(x).count == 0
    assert max(abs(zscore(x).scores)) == pytest.approx(math.sqrt(8))
    assert modified_zscore([1.0, 2.0, 1.5, 2.5, 1.0, 2.0, 1.5, 2.5, 1000.0]).indices.tolist() == [8]


def test_modified_zscore_known_values() -> None:
    x = np.array(SERIES)
    med = np.median(x)
    mad = np.median(np.abs(x - med))
    got = modified_zscore(x)
    np.testing.assert_allclose(got.scores, MAD_CONSTANT * (x - med) / mad, rtol=1e-12)
    assert got.indices.tolist() == [12]
    assert got.center == med
    assert got.scale == pytest.approx(mad / 0.6745)


def test_modified_zscore_when_the_mad_is_zero() -> None:
    x = np.array([5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 9.0])
    got = modified_zscore(x)
    mean_ad = np.mean(np.abs(x - 5.0))
    np.testing.assert_allclose(got.scores, (x - 5.0) / (1.253314 * mean_ad))
    assert got.indices.tolist() == [6]
    flat = modified_zscore([3.0] * 5)
    assert flat.count == 0
    assert flat.scores.tolist() == [0.0] * 5


def test_iqr_fences() -> None:
    x = np.arange(1.0, 21.0)  # Q1 = 5.75, Q3 = 15.25 (linear), IQR = 9.5
    x = np.append(x, [40.0, -20.0])
    got = iqr(x)
    q1, q3 = np.percentile(x, [25, 75])
    spread = q3 - q1
    assert got.lower == pytest.approx(q1 - 1.5 * spread)
    assert got.upper == pytest.approx(q3 + 1.5 * spread)
    assert got.indices.tolist() == [20, 21]
    assert got.scores[20] == pytest.approx((40.0 - got.upper) / spread)
    assert got.scores[21] == pytest.approx((-20.0 - got.lower) / spread)
    assert np.all(got.scores[:20] == 0.0)
    far = iqr(x, k=3.0)
    assert far.upper == pytest.approx(q3 + 3 * spread)
    zero_spread = iqr([1.0, 1.0, 1.0, 1.0, 2.0])
    assert zero_spread.indices.tolist() == [4]
    assert zero_spread.scores[4] == math.inf


def test_nan_is_scored_nan_and_ignored() -> None:
    x = [1.0, 2.0, math.nan, 1.5, 2.5, 1.0, 2.0, 1.5, 2.5, 60.0]
    for method in ("zscore", "modified_zscore", "iqr", "ewma"):
        got = detect(x, method)
        assert math.isnan(got.scores[2]), method
        assert not got.is_anomaly[2]
    clean = [v for v in x if not math.isnan(v)]
    assert zscore(x).center == pytest.approx(np.mean(clean))
    empty = zscore([math.nan, math.nan])
    assert empty.count == 0
    assert math.isnan(empty.center)


def test_detect_checks_its_arguments() -> None:
    with pytest.raises(InvalidArgumentError):
        detect([1.0], "magic")
    with pytest.raises(InvalidArgumentError):
        zscore([[1.0, 2.0]])
    with pytest.raises(InvalidArgumentError):
        zscore([1.0], threshold=0)
    with pytest.raises(InvalidArgumentError):
        EWMADetector(alpha=0)
    with pytest.raises(InvalidArgumentError):
        RollingDetector("ewma")  # type: ignore[arg-type]


# --- streaming ------------------------------------------------------------------------------


def test_ewma_recurrences() -> None:
    det = EWMADetector(alpha=0.5, warmup=1)
    first = det.update(10.0)
    assert (first.score, det.mean, det.variance) == (0.0, 10.0, 0.0)
    second = det.update(12.0)  # against mean 10, variance 0
    assert second.score == math.inf
    assert second.is_anomaly
    assert det.mean == 11.0
    assert det.variance == pytest.approx(0.5 * (0 + 2.0 * 1.0))  # (1-a)(var + d * a d)
    third = det.update(11.0)
    assert third.score == pytest.approx(0.0)
    assert third.center == 11.0


def test_ewma_finds_a_spike_after_warmup_only() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(100.0, 5.0, 300)
    x[5] = 400.0  # during warm-up: not flagged
    x[200] = 160.0
    got = ewma(x, alpha=0.05, threshold=4.0, warmup=30)
    assert got.indices.tolist() == [200]


def test_ewma_level_shift_absorbed_or_not() -> None:
    x = [10.0 + 0.1 * (i % 3) for i in range(60)] + [20.0] * 30
    absorbing = ewma(x, alpha=0.2, warmup=10)
    stubborn = ewma(x, alpha=0.2, warmup=10, update_on_anomaly=False)
    assert absorbing.is_anomaly[60]
    assert absorbing.count < 10  # the new level becomes normal
    assert stubborn.count == 30  # the state never learns it


def test_rolling_scores_against_the_previous_window() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 1.0, 80)
    x[50] = 9.0
    for method in ("zscore", "modified_zscore", "iqr"):
        det = RollingDetector(method, window=20, min_history=10)
        found = [det.update(v) for v in x]
        for i in (30, 50, 79):
            ref = detect(x[i - 20 : i], method)
            if method == "iqr":
                assert found[i].is_anomaly == bool(x[i] > ref.upper or x[i] < ref.lower)
            else:
                assert found[i].score == pytest.approx((x[i] - ref.center) / ref.scale)
        assert found[50].is_anomaly, method
        assert not any(f.is_anomaly for f in found[:10])  # min_history


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(st.integers(min_value=-(10**6), max_value=10**6), min_size=2, max_size=60),
    scale=st.sampled_from([0.25, 0.5, 2.0, 3.0, 10.0, 1024.0]),
    shift=st.integers(min_value=-1000, max_value=1000),
)
def test_offline_detectors_are_affine_invariant(
    values: list[int], scale: float, shift: int
) -> None:
    """Changing units (a positive scale) or the origin changes no score and no verdict.
    Integer data and power-of-two-ish scales keep the transform itself exact."""
    x = np.array(values, dtype=np.float64)
    assume(np.ptp(x) > 0)
    y = x * scale + shift
    for method in ("zscore", "modified_zscore", "iqr"):
        a, b = detect(x, method), detect(y, method)
        finite = np.isfinite(a.scores) & (np.abs(a.scores) < 1e6)
        np.testing.assert_allclose(b.scores[finite], a.scores[finite], rtol=1e-6, atol=1e-6)
        near = np.abs(np.abs(a.scores) - a.threshold) < 1e-6  # ties at the threshold aside
        assert np.array_equal(a.is_anomaly[~near], b.is_anomaly[~near])


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(min_value=-1e3, max_value=1e3), min_size=1, max_size=80))
def test_offline_detectors_are_permutation_equivariant(values: list[float]) -> None:
    x = np.array(values)
    order = np.random.default_rng(len(values)).permutation(x.size)
    for method in ("zscore", "modified_zscore", "iqr"):
        a, b = detect(x, method), detect(x[order], method)
        np.testing.assert_allclose(b.scores, a.scores[order], rtol=1e-9, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(min_value=-1e3, max_value=1e3) | st.just(math.nan), max_size=80),
    alpha=st.floats(min_value=0.01, max_value=1.0),
)
def test_streaming_ewma_equals_the_offline_run(values: list[float], alpha: float) -> None:
    offline = ewma(values, alpha=alpha, warmup=3)
    det = EWMADetector(alpha=alpha, warmup=3)
    online = [det.update(v) for v in values]
    np.testing.assert_array_equal(offline.scores, [d.score for d in online])
    assert offline.is_anomaly.tolist() == [d.is_anomaly for d in online]


# --- online, on the bus ---------------------------------------------------------------------


@pytest.fixture
def alarms() -> Any:
    seen: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def on_alarm(name: Any, measurements: Any, metadata: Any, config: Any) -> None:
        seen.append((measurements, metadata))

    events.attach("test-anomaly-alarms", ANOMALY_EVENT, on_alarm)
    yield seen
    events.detach("test-anomaly-alarms")


def test_monitor_emits_anomaly_events(alarms: list[Any]) -> None:
    name = ("crucible", "llm", "request", "stop")
    factory = lambda: EWMADetector(alpha=0.1, warmup=20)  # noqa: E731
    with AnomalyMonitor(name, "latency_ms", detector=factory) as monitor:
        for i in range(100):
            latency = 500.0 if i == 60 else 50.0 + (i % 5)
            events.execute(name, {"latency_ms": latency}, {"correlation_id": f"c{i}"})
        events.execute(name, {"latency_ms": "fast"}, {})  # not a number: ignored
        events.execute(name, {}, {})
    events.execute(name, {"latency_ms": 9999.0}, {})  # detached: not watched
    assert monitor.seen == 100
    assert monitor.anomalies == 1
    assert len(alarms) == 1
    measurements, metadata = alarms[0]
    assert measurements["value"] == 500.0
    assert measurements["score"] > 3.0
    assert metadata == {
        "source_event": "crucible.llm.request.stop",
        "measurement": "latency_ms",
        "method": "ewma",
        "group": None,
        "correlation_id": "c60",
    }


def test_monitor_keeps_a_detector_per_group_and_reads_span_durations(alarms: list[Any]) -> None:
    prefix = ("crucible", "deployment", "inference")
    monitor = AnomalyMonitor(
        (*prefix, "stop"),
        "latency_ms",
        detector=lambda: RollingDetector("modified_zscore", window=50),
        group_by="model",
    ).attach()
    try:
        for i in range(60):
            # model a is slow, model b is fast: each normal for itself
            for model, base in (("a", 400.0), ("b", 20.0)):
                # as events.span stops: a monotonic duration in nanoseconds
                duration = int((base + i % 3) * 1e6)
                events.execute((*prefix, "stop"), {"duration": duration}, {"model": model})
        events.execute((*prefix, "stop"), {"duration": int(100e6)}, {"model": "b"})
    finally:
        monitor.detach()
    assert monitor.seen == 121
    assert len(alarms) == 1  # 100 ms is normal for neither model, but only b sees it
    assert alarms[0][1]["group"] == "b"
    assert alarms[0][0]["value"] == pytest.approx(100.0)
    detector_a = monitor.detector("a")
    assert detector_a is not None
    assert monitor.detector("zzz") is None
