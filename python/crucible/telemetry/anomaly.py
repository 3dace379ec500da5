"""Anomaly detection on telemetry series: offline on a stored series, online on the bus.

Offline (a whole series at once; NaN values get a NaN score and are never flagged):

* :func:`zscore` — ``(x - mean) / std``; flags ``|z| > threshold`` (3). Mean and standard
  deviation are themselves pulled by outliers, and with ``n`` points ``|z|`` can never
  exceed ``sqrt(n - 1)`` (``ddof=0``): with 10 points or fewer nothing passes 3. Prefer the
  next one.
* :func:`modified_zscore` — Iglewicz & Hoaglin's ``0.6745 (x - median) / MAD``; flags
  ``|M| > threshold`` (3.5). 0.6745 is the 0.75 quantile of the standard normal, so M is on
  the z scale for normal data. When the MAD is 0 (more than half the values equal) the mean
  absolute deviation scaled by 1.253314 (= sqrt(pi/2)) takes its place, as IBM SPSS does;
  when that is 0 too, every value equals the median and nothing is flagged.
* :func:`iqr` — Tukey's fences ``[Q1 - k IQR, Q3 + k IQR]`` (k = 1.5; 3 for "far out"),
  quartiles by NumPy's default (linear) method; the score is the distance beyond the nearer
  fence in IQR units (0 inside, ±inf beyond when the IQR is 0).
* :func:`ewma` — the streaming detector below run over the series.

Online (one value at a time, O(1) memory per series):

* :class:`EWMADetector` — exponentially weighted mean and variance (West 1979 / Finch
  2009 recurrences); each value is scored against the state *before* it, so a spike cannot
  hide itself; flags ``|z| > threshold`` after ``warmup`` values.
* :class:`RollingDetector` — any offline method over the last ``window`` values.
* :class:`AnomalyMonitor` — attaches a detector (one per group, e.g. per model) to bus
  events with :func:`crucible.events.attach` and executes :data:`ANOMALY_EVENT` for each
  anomalous value.
"""

from __future__ import annotations

import collections
import itertools
import math
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Literal, Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from crucible import events
from crucible.errors import InvalidArgumentError
from crucible.stats import quantile
from crucible.telemetry.catalog import ANOMALY_DETECTED

__all__ = [
    "ANOMALY_EVENT",
    "MAD_CONSTANT",
    "Anomalies",
    "AnomalyMonitor",
    "Detection",
    "EWMADetector",
    "OfflineMethod",
    "RollingDetector",
    "StreamingDetector",
    "detect",
    "ewma",
    "iqr",
    "modified_zscore",
    "zscore",
]

ANOMALY_EVENT: events.EventName = ANOMALY_DETECTED
"""Executed by :class:`AnomalyMonitor`. Measurements: ``value``, ``score``, ``center``,
``scale``, ``threshold``. Metadata: ``source_event`` (dotted name), ``measurement``,
``method``, ``group`` and, when the source event had them, ``correlation_id`` and
``experiment_id``."""

MAD_CONSTANT = 0.6745
"""Φ⁻¹(0.75), rounded as Iglewicz & Hoaglin (1993) give it."""
_MEAN_AD_CONSTANT = 1.253314  # sqrt(pi / 2): mean absolute deviation -> sigma for normal data

OfflineMethod = Literal["zscore", "modified_zscore", "iqr"]
_Floats = npt.NDArray[np.float64]


class Anomalies(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict on a series: a score per value, which values are anomalous, and the
    centre and scale the scores were measured against (for IQR: the fences)."""

    method: str
    scores: _Floats
    is_anomaly: npt.NDArray[np.bool_]
    threshold: float
    center: float
    scale: float
    lower: float | None = None
    upper: float | None = None

    @property
    def indices(self) -> npt.NDArray[np.intp]:
        """Positions of the anomalous values."""
        return np.flatnonzero(self.is_anomaly)

    @property
    def count(self) -> int:
        return int(self.is_anomaly.sum())


def _series(values: npt.ArrayLike) -> _Floats:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise InvalidArgumentError(f"expected a 1-D series, got shape {x.shape}")
    return x


def _positive(value: float, name: str) -> float:
    value = float(value)
    if not value > 0 or math.isinf(value):
        raise InvalidArgumentError(f"`{name}` must be a positive finite number, got {value!r}")
    return value


def _standardise(x: _Floats, center: float, scale: float) -> _Floats:
    diff = x - center
    if scale > 0:
        return diff / scale
    # No spread: every finite value equals the centre, so every score is 0.
    out: _Floats = np.where(np.isnan(diff), np.nan, 0.0)
    return out


def _ratio(diff: float, scale: float) -> float:
    """``diff / scale``, with 0 spread giving 0 for no difference and ±inf otherwise."""
    if scale > 0:
        return diff / scale
    return 0.0 if diff == 0 else math.copysign(math.inf, diff)


def _verdict(
    method: str, scores: _Floats, threshold: float, center: float, scale: float, **fences: float
) -> Anomalies:
    with np.errstate(invalid="ignore"):
        flags = np.abs(scores) > threshold
    return Anomalies(
        method=method,
        scores=scores,
        is_anomaly=flags,
        threshold=threshold,
        center=center,
        scale=scale,
        **fences,
    )


def zscore(values: npt.ArrayLike, *, threshold: float = 3.0, ddof: int = 0) -> Anomalies:
    """Standard scores ``(x - mean) / std(ddof)``; anomalous when ``|z| > threshold``."""
    threshold = _positive(threshold, "threshold")
    x = _series(values)
    finite = x[~np.isnan(x)]
    if finite.size <= ddof:
        return _verdict("zscore", np.full(x.shape, np.nan), threshold, math.nan, math.nan)
    center = float(np.mean(finite))
    scale = float(np.std(finite, ddof=ddof))
    return _verdict("zscore", _standardise(x, center, scale), threshold, center, scale)


def modified_zscore(values: npt.ArrayLike, *, threshold: float = 3.5) -> Anomalies:
    """Iglewicz-Hoaglin ``0.6745 (x - median) / MAD``; anomalous when ``|M| > threshold``.
    ``scale`` is the equivalent standard deviation (``MAD / 0.6745``, or the scaled mean
    absolute deviation when the MAD is 0)."""
    threshold = _positive(threshold, "threshold")
    x = _series(values)
    finite = x[~np.isnan(x)]
    if finite.size == 0:
        return _verdict("modified_zscore", np.full(x.shape, np.nan), threshold, math.nan, math.nan)
    center = float(np.median(finite))
    deviations = np.abs(finite - center)
    mad = float(np.median(deviations))
    scale = mad / MAD_CONSTANT if mad > 0 else _MEAN_AD_CONSTANT * float(np.mean(deviations))
    return _verdict("modified_zscore", _standardise(x, center, scale), threshold, center, scale)


def iqr(values: npt.ArrayLike, *, k: float = 1.5) -> Anomalies:
    """Tukey's fences; anomalous outside ``[Q1 - k IQR, Q3 + k IQR]``. ``center`` is the
    median, ``scale`` the IQR, ``threshold`` is 0 on the score (distance beyond the fence
    in IQR units)."""
    k = _positive(k, "k")
    x = _series(values)
    finite = x[~np.isnan(x)]
    if finite.size == 0:
        nan = np.full(x.shape, np.nan)
        return _verdict("iqr", nan, 0.0, math.nan, math.nan, lower=math.nan, upper=math.nan)
    q1, q2, q3 = (float(v) for v in quantile(finite, [0.25, 0.5, 0.75]))
    spread = q3 - q1
    lower, upper = q1 - k * spread, q3 + k * spread
    beyond = np.where(x > upper, x - upper, np.where(x < lower, x - lower, 0.0))
    if spread > 0:
        scores: _Floats = beyond / spread
    else:
        scores = np.sign(beyond) * np.where(beyond != 0, np.inf, 0.0)
    scores = np.where(np.isnan(x), np.nan, scores)
    return _verdict("iqr", scores, 0.0, q2, spread, lower=lower, upper=upper)


def ewma(
    values: npt.ArrayLike,
    *,
    alpha: float = 0.1,
    threshold: float = 3.0,
    warmup: int = 20,
    update_on_anomaly: bool = True,
) -> Anomalies:
    """:class:`EWMADetector` run over the series; ``center``/``scale`` are its final state."""
    x = _series(values)
    detector = EWMADetector(
        alpha=alpha, threshold=threshold, warmup=warmup, update_on_anomaly=update_on_anomaly
    )
    scores = np.empty(x.shape)
    flags = np.zeros(x.shape, dtype=np.bool_)
    for i, value in enumerate(x.tolist()):
        found = detector.update(value)
        scores[i] = found.score
        flags[i] = found.is_anomaly
    return Anomalies(
        method="ewma",
        scores=scores,
        is_anomaly=flags,
        threshold=detector.threshold,
        center=detector.mean,
        scale=math.sqrt(detector.variance),
    )


_OFFLINE: dict[str, Callable[..., Anomalies]] = {
    "zscore": zscore,
    "modified_zscore": modified_zscore,
    "iqr": iqr,
    "ewma": ewma,
}


def detect(values: npt.ArrayLike, method: str = "modified_zscore", **options: Any) -> Anomalies:
    """Run the named detector (``zscore``, ``modified_zscore``, ``iqr``, ``ewma``)."""
    fn = _OFFLINE.get(method)
    if fn is None:
        raise InvalidArgumentError(
            f"unknown anomaly method {method!r}; expected one of {', '.join(_OFFLINE)}"
        )
    return fn(values, **options)


# --- streaming ---------------------------------------------------------------------------------


class Detection(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict on one streamed value, against the state before it."""

    value: float
    score: float
    is_anomaly: bool
    center: float
    scale: float


class StreamingDetector(Protocol):
    """Scores values one at a time."""

    @property
    def method(self) -> str: ...

    @property
    def threshold(self) -> float: ...

    def update(self, value: float) -> Detection:
        """Score ``value`` against what came before, then learn from it."""
        ...


class EWMADetector:
    """Exponentially weighted moving mean and variance with a z-score alarm.

    For each value x: ``z = (x - mean) / sqrt(var)`` from the state before x; then
    ``d = x - mean; mean += alpha d; var = (1 - alpha) (var + alpha d²)``. The first value
    initialises the mean; nothing is flagged until ``warmup`` values have been seen. With
    ``update_on_anomaly=False`` flagged values do not move the state (a sustained level
    shift then keeps alarming instead of being absorbed). NaN is scored NaN and ignored.
    """

    method = "ewma"

    def __init__(
        self,
        *,
        alpha: float = 0.1,
        threshold: float = 3.0,
        warmup: int = 20,
        update_on_anomaly: bool = True,
    ) -> None:
        alpha = float(alpha)
        if not 0.0 < alpha <= 1.0:
            raise InvalidArgumentError(f"`alpha` must be in (0, 1], got {alpha!r}")
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 1:
            raise InvalidArgumentError("`warmup` must be a positive integer")
        self.alpha = alpha
        self.threshold = _positive(threshold, "threshold")
        self.warmup = warmup
        self.update_on_anomaly = bool(update_on_anomaly)
        self.count = 0
        self.mean = math.nan
        self.variance = 0.0

    def update(self, value: float) -> Detection:
        x = float(value)
        center, scale = self.mean, math.sqrt(self.variance)
        if math.isnan(x):
            return Detection(value=x, score=math.nan, is_anomaly=False, center=center, scale=scale)
        if self.count == 0:
            self.mean, self.count = x, 1
            return Detection(value=x, score=0.0, is_anomaly=False, center=x, scale=0.0)
        diff = x - center
        score = _ratio(diff, scale)
        flagged = self.count >= self.warmup and abs(score) > self.threshold
        if self.update_on_anomaly or not flagged:
            increment = self.alpha * diff
            self.mean = center + increment
            self.variance = (1.0 - self.alpha) * (self.variance + diff * increment)
            self.count += 1
        return Detection(value=x, score=score, is_anomaly=flagged, center=center, scale=scale)


class RollingDetector:
    """An offline method applied to the last ``window`` values: each new value is scored
    against the window *before* it (so it cannot mask itself), then joins the window.
    Nothing is flagged until ``min_history`` values are in the window."""

    def __init__(
        self,
        method: OfflineMethod = "modified_zscore",
        *,
        window: int = 100,
        threshold: float | None = None,
        min_history: int = 10,
    ) -> None:
        if method not in ("zscore", "modified_zscore", "iqr"):
            raise InvalidArgumentError(f"unknown rolling method {method!r}")
        for name, v in (("window", window), ("min_history", min_history)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InvalidArgumentError(f"`{name}` must be a positive integer")
        self.method = method
        self.window = window
        self.min_history = min(min_history, window)
        defaults = {"zscore": 3.0, "modified_zscore": 3.5, "iqr": 1.5}
        self.threshold = _positive(
            defaults[method] if threshold is None else threshold, "threshold"
        )
        self._values: collections.deque[float] = collections.deque(maxlen=window)

    def update(self, value: float) -> Detection:
        x = float(value)
        if math.isnan(x):
            return Detection(
                value=x, score=math.nan, is_anomaly=False, center=math.nan, scale=math.nan
            )
        history = np.fromiter(self._values, dtype=np.float64, count=len(self._values))
        self._values.append(x)
        if history.size == 0:
            return Detection(value=x, score=0.0, is_anomaly=False, center=x, scale=0.0)
        probe = np.append(history, x)
        score, center, scale = self._score(history, probe)
        flagged = history.size >= self.min_history and self._flag(score)
        return Detection(value=x, score=score, is_anomaly=flagged, center=center, scale=scale)

    def _score(self, history: _Floats, probe: _Floats) -> tuple[float, float, float]:
        if self.method == "iqr":
            ref = iqr(history, k=self.threshold)
            lower = math.nan if ref.lower is None else ref.lower
            upper = math.nan if ref.upper is None else ref.upper
            x = float(probe[-1])
            beyond = x - upper if x > upper else x - lower if x < lower else 0.0
            return _ratio(beyond, ref.scale), ref.center, ref.scale
        ref = zscore(history) if self.method == "zscore" else modified_zscore(history)
        return _ratio(float(probe[-1]) - ref.center, ref.scale), ref.center, ref.scale

    def _flag(self, score: float) -> bool:
        if self.method == "iqr":
            return score != 0.0
        return abs(score) > self.threshold


# --- online monitor -------------------------------------------------------------------------

ValueFn = Callable[[events.EventName, Mapping[str, Any], Mapping[str, Any]], float | None]
_monitor_ids = itertools.count(1)


def _measurement_value(key: str) -> ValueFn:
    def value(
        name: events.EventName, measurements: Mapping[str, Any], metadata: Mapping[str, Any]
    ) -> float | None:
        raw = measurements.get(key)
        if raw is None and key == "latency_ms" and "duration" in measurements:
            raw = measurements["duration"] / 1e6  # span durations are in nanoseconds
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            return None
        return float(raw)

    return value


class AnomalyMonitor:
    """Watches a measurement of bus events and executes :data:`ANOMALY_EVENT` on outliers.

    ``value`` names a measurement (``"latency_ms"`` also reads a span's ``duration`` in ns)
    or is a function ``(name, measurements, metadata) -> float | None``. ``group_by`` keeps a
    separate detector per value of that metadata key (per model, per node...). Detectors
    come from ``detector`` (a zero-argument factory; :class:`EWMADetector` by default).
    Events without a numeric value are ignored. Use as a context manager or call
    :meth:`attach`/:meth:`detach`.
    """

    def __init__(
        self,
        event_name: Sequence[str] | Sequence[Sequence[str]],
        value: str | ValueFn,
        *,
        detector: Callable[[], StreamingDetector] = EWMADetector,
        group_by: str | None = None,
        emit: events.EventName = ANOMALY_EVENT,
        handler_id: str | None = None,
        prefix: bool = False,
    ) -> None:
        self.event_name = event_name
        self.measurement = value if isinstance(value, str) else getattr(value, "__name__", "value")
        self._value = _measurement_value(value) if isinstance(value, str) else value
        self._factory = detector
        self.group_by = group_by
        self.emit = tuple(emit)
        self.prefix = prefix
        self.handler_id = handler_id or f"crucible.telemetry.anomaly.{next(_monitor_ids)}"
        self._detectors: dict[Hashable, StreamingDetector] = {}
        self._lock = threading.Lock()
        self.seen = 0
        self.anomalies = 0

    def detector(self, group: Hashable = None) -> StreamingDetector | None:
        """The detector of a group (``None`` without ``group_by``), once it has seen data."""
        return self._detectors.get(group)

    def attach(self) -> AnomalyMonitor:
        events.attach(self.handler_id, self.event_name, self._handle, prefix=self.prefix)
        return self

    def detach(self) -> None:
        events.detach(self.handler_id)

    def __enter__(self) -> AnomalyMonitor:
        return self.attach()

    def __exit__(self, *exc: object) -> None:
        self.detach()

    def _handle(
        self,
        name: events.EventName,
        measurements: dict[str, Any],
        metadata: dict[str, Any],
        config: Any,
    ) -> None:
        if name == self.emit:
            return  # never feed on our own output
        value = self._value(name, measurements, metadata)
        if value is None:
            return
        group: Hashable = None
        if self.group_by is not None:
            raw = metadata.get(self.group_by)
            group = raw if isinstance(raw, Hashable) else repr(raw)
        with self._lock:
            detector = self._detectors.get(group)
            if detector is None:
                detector = self._detectors[group] = self._factory()
            found = detector.update(value)
            self.seen += 1
            if found.is_anomaly:
                self.anomalies += 1
        if not found.is_anomaly:
            return
        meta: dict[str, Any] = {
            "source_event": ".".join(name),
            "measurement": self.measurement,
            "method": detector.method,
            "group": group,
        }
        for key in ("correlation_id", "experiment_id"):
            if key in metadata:
                meta[key] = metadata[key]
        events.execute(
            self.emit,
            {
                "value": found.value,
                "score": found.score,
                "center": found.center,
                "scale": found.scale,
                "threshold": detector.threshold,
            },
            meta,
        )
