"""Sampling strategies that keep long experiments affordable without biasing their results.

Every sampler that decides event by event implements :class:`Sampler`: ``decide(name,
measurements, metadata)`` returns ``None`` to drop the event or the event's *weight*, the
inverse of the probability with which it was kept. Captured events carry that weight
(``CapturedEvent.weight``), so a weighted sum (:func:`horvitz_thompson_total`) estimates the
total over *all* events without bias, whatever the sampler did.

* :class:`UniformSampler` — keep each event with probability ``rate``.
* :class:`StratifiedSampler` — a rate per stratum, the stratum read from a metadata key.
* :class:`AdaptiveSampler` — adjusts the rate window by window so that about
  ``target_per_second`` events are kept however fast they arrive.
* :class:`ImportanceSampler` — a probability per event from a function of the event (keep
  all errors and slow requests, a few of the rest); weights undo it.
* :class:`Reservoir` (Vitter/Li's Algorithm L) and :class:`StratifiedReservoir` keep a
  fixed-size simple random sample of a stream of unknown length; each kept item stands for
  ``seen / k`` items of its stratum.

Randomness comes from :func:`crucible.prng.default_rng`: the same seed and the same stream
of events give the same decisions. Uniforms are drawn in blocks, so a decision costs no
call into the generator. Samplers are thread-safe; with several threads the decisions still
follow the seed, but which event meets which uniform depends on the interleaving.
"""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError
from crucible.prng import Generator, SeedLike, SeedSequence, default_rng

__all__ = [
    "AdaptiveSampler",
    "Candidate",
    "Estimate",
    "ImportanceSampler",
    "Reservoir",
    "Sampler",
    "StratifiedReservoir",
    "StratifiedSampler",
    "UniformSampler",
    "hajek_mean",
    "horvitz_thompson_total",
    "reservoir_sample",
]

T = TypeVar("T")
EventName = tuple[str, ...]
ProbabilityFn = Callable[[EventName, Mapping[str, Any], Mapping[str, Any]], float]

_BLOCK = 1024
_MISSING = "<missing>"


class Candidate(Protocol):
    """What a sampler sees of an event (``crucible.telemetry.experiment.Candidate``)."""

    @property
    def event_name(self) -> tuple[str, ...]: ...
    @property
    def measurements(self) -> Mapping[str, Any]: ...
    @property
    def metadata(self) -> Mapping[str, Any]: ...
    @property
    def monotonic_ns(self) -> int: ...


@runtime_checkable
class Sampler(Protocol):
    """Decides, event by event, whether to keep it. Calling the sampler with a
    :class:`Candidate` (as :func:`crucible.telemetry.start_experiment` does) is the same as
    ``decide`` on its parts."""

    def decide(
        self, name: EventName, measurements: Mapping[str, Any], metadata: Mapping[str, Any]
    ) -> float | None:
        """``None`` to drop the event, else its weight ``1 / P(kept)`` (>= 1)."""
        ...

    def __call__(self, candidate: Candidate) -> float | None: ...


class _Callable(ABC):
    """``sampler(candidate)`` for the experiment's capture path."""

    @abstractmethod
    def decide(
        self, name: EventName, measurements: Mapping[str, Any], metadata: Mapping[str, Any]
    ) -> float | None: ...

    def __call__(self, candidate: Candidate) -> float | None:
        return self.decide(candidate.event_name, candidate.measurements, candidate.metadata)


class _Uniforms:
    """Uniform [0, 1) floats from a seeded generator, drawn a block at a time."""

    def __init__(self, seed: SeedLike) -> None:
        self.rng: Generator = default_rng(seed)
        self._block: list[float] = []
        self._next = 0

    def __call__(self) -> float:
        if self._next >= len(self._block):
            self._block = self.rng.random(_BLOCK).tolist()
            self._next = 0
        value = self._block[self._next]
        self._next += 1
        return value


def _check_probability(value: float, name: str, *, allow_zero: bool = False) -> float:
    value = float(value)
    low_ok = value >= 0.0 if allow_zero else value > 0.0
    if not (low_ok and value <= 1.0):
        bound = "[0, 1]" if allow_zero else "(0, 1]"
        raise InvalidArgumentError(f"`{name}` must be in {bound}, got {value!r}")
    return value


def _stratum(metadata: Mapping[str, Any], key: str) -> Hashable:
    value = metadata.get(key, _MISSING)
    return value if isinstance(value, Hashable) else repr(value)


class UniformSampler(_Callable):
    """Keeps each event independently with probability ``rate`` (weight ``1/rate``)."""

    def __init__(self, rate: float, *, seed: SeedLike = 0) -> None:
        self.rate = _check_probability(rate, "rate")
        self._weight = 1.0 / self.rate
        self._uniform = _Uniforms(seed)
        self._lock = threading.Lock()

    def decide(
        self, name: EventName, measurements: Mapping[str, Any], metadata: Mapping[str, Any]
    ) -> float | None:
        if self.rate >= 1.0:
            return 1.0
        with self._lock:
            u = self._uniform()
        return self._weight if u < self.rate else None


class StratifiedSampler(_Callable):
    """Bernoulli sampling with a rate per stratum; the stratum is ``metadata[key]``.

    Strata not in ``rates`` use ``default_rate``; a missing key is the stratum
    ``"<missing>"``. A rate of 0 drops a stratum entirely (its total is then not
    estimable: only use it for strata you do not want to analyse).
    """

    def __init__(
        self,
        key: str,
        rates: Mapping[Hashable, float],
        *,
        default_rate: float = 1.0,
        seed: SeedLike = 0,
    ) -> None:
        self.key = key
        self.rates = {
            k: _check_probability(v, f"rates[{k!r}]", allow_zero=True) for k, v in rates.items()
        }
        self.default_rate = _check_probability(default_rate, "default_rate", allow_zero=True)
        self._uniform = _Uniforms(seed)
        self._lock = threading.Lock()
        self.seen: dict[Hashable, int] = {}
        self.kept: dict[Hashable, int] = {}

    def decide(
        self, name: EventName, measurements: Mapping[str, Any], metadata: Mapping[str, Any]
    ) -> float | None:
        stratum = _stratum(metadata, self.key)
        rate = self.rates.get(stratum, self.default_rate)
        with self._lock:
            self.seen[stratum] = self.seen.get(stratum, 0) + 1
            if rate <= 0.0:
                return None
            if rate < 1.0 and self._uniform() >= rate:
                return None
            self.kept[stratum] = self.kept.get(stratum, 0) + 1
        return 1.0 / rate


class AdaptiveSampler(_Callable):
    """Keeps about ``target_per_second`` events per second under any load.

    Arrivals are counted per window of ``window_seconds``; at the end of each window the
    arrival rate is smoothed (EWMA with weight ``smoothing`` on the newest window) and the
    keep probability for the next window becomes ``min(1, target / rate)``, never below
    ``min_rate``. Within a window the probability is fixed and known before the event
    arrives, so ``1/p`` weights keep weighted totals unbiased.

    Time: called with a :class:`Candidate`, the sampler uses the event's own monotonic
    timestamp, so a replay of the same events makes the same decisions; ``decide`` reads
    ``clock`` (seconds, monotonic; replaceable for simulations and tests).
    """

    def __init__(
        self,
        target_per_second: float,
        *,
        window_seconds: float = 1.0,
        smoothing: float = 0.5,
        min_rate: float = 1e-4,
        seed: SeedLike = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not target_per_second > 0:
            raise InvalidArgumentError("`target_per_second` must be > 0")
        if not window_seconds > 0:
            raise InvalidArgumentError("`window_seconds` must be > 0")
        self.target = float(target_per_second)
        self.window = float(window_seconds)
        self.smoothing = _check_probability(smoothing, "smoothing")
        self.min_rate = _check_probability(min_rate, "min_rate")
        self._clock = clock
        self._uniform = _Uniforms(seed)
        self._lock = threading.Lock()
        self._window_start: float | None = None  # set by the first event
        self._arrivals = 0
        self._arrival_rate: float | None = None
        self.rate = 1.0

    def _roll(self, now: float, start: float) -> None:
        elapsed = now - start
        observed = self._arrivals / elapsed
        previous = self._arrival_rate
        self._arrival_rate = (
            observed
            if previous is None
            else self.smoothing * observed + (1.0 - self.smoothing) * previous
        )
        rate = self.target / self._arrival_rate if self._arrival_rate > 0 else 1.0
        self.rate = min(1.0, max(self.min_rate, rate))
        self._window_start = now
        self._arrivals = 0

    def __call__(self, candidate: Candidate) -> float | None:
        return self.decide(
            candidate.event_name,
            candidate.measurements,
            candidate.metadata,
            now=candidate.monotonic_ns * 1e-9,
        )

    @property
    def arrival_rate(self) -> float | None:
        """The smoothed arrival rate (events/s) after the last full window."""
        return self._arrival_rate

    def decide(
        self,
        name: EventName,
        measurements: Mapping[str, Any],
        metadata: Mapping[str, Any],
        now: float | None = None,
    ) -> float | None:
        """As :meth:`Sampler.decide`; ``now`` (seconds) overrides the clock."""
        if now is None:
            now = self._clock()
        with self._lock:
            start = self._window_start
            if start is None:
                self._window_start = now
            elif now - start >= self.window:
                self._roll(now, start)
            self._arrivals += 1
            rate = self.rate
            if rate < 1.0 and self._uniform() >= rate:
                return None
        return 1.0 / rate


class ImportanceSampler(_Callable):
    """Keeps an event with a probability computed from the event itself.

    ``probability(name, measurements, metadata)`` returns the keep probability; values are
    clipped to ``[min_probability, 1]`` (a zero probability would make totals
    inestimable). Use it to keep every failure and the slow tail while thinning the routine
    bulk: the weights ``1/p`` undo the over-representation in every estimate.
    """

    def __init__(
        self,
        probability: ProbabilityFn,
        *,
        min_probability: float = 1e-6,
        seed: SeedLike = 0,
    ) -> None:
        self.probability = probability
        self.min_probability = _check_probability(min_probability, "min_probability")
        self._uniform = _Uniforms(seed)
        self._lock = threading.Lock()

    @classmethod
    def proportional(
        cls,
        measurement: str,
        scale: float,
        *,
        min_probability: float = 1e-3,
        seed: SeedLike = 0,
    ) -> ImportanceSampler:
        """Probability proportional to size: ``p = min(1, value / scale)`` for the named
        measurement (missing or non-numeric values get ``min_probability``). Events at
        least ``scale`` large are always kept."""
        if not scale > 0:
            raise InvalidArgumentError("`scale` must be > 0")

        def probability(
            name: EventName, measurements: Mapping[str, Any], metadata: Mapping[str, Any]
        ) -> float:
            value = measurements.get(measurement)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return 0.0
            return abs(float(value)) / scale

        return cls(probability, min_probability=min_probability, seed=seed)

    def decide(
        self, name: EventName, measurements: Mapping[str, Any], metadata: Mapping[str, Any]
    ) -> float | None:
        p = float(self.probability(name, measurements, metadata))
        if math.isnan(p) or p >= 1.0:  # NaN: no opinion, keep the event
            return 1.0
        p = max(self.min_probability, p)
        with self._lock:
            u = self._uniform()
        return 1.0 / p if u < p else None


class Reservoir(Generic[T]):
    """A uniform sample of ``k`` items from a stream of unknown length (Algorithm L,
    Li 1994): after ``n`` offers every ``k``-subset of the ``n`` items is equally likely,
    and the stream is skipped in geometric jumps, so the cost is O(k (1 + log(n/k)))
    random draws rather than one per item."""

    def __init__(self, k: int, *, seed: SeedLike = 0) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InvalidArgumentError("`k` must be a positive integer")
        self.k = k
        self._items: list[T] = []
        self._seen = 0
        self._uniform = _Uniforms(seed)
        self._w = 1.0
        # 0-based index of the next item to enter; each skip adds floor(log u / log(1-w)) + 1
        # to the index of the last item taken, starting from the last one of the first fill.
        self._next_index = k - 1
        self._lock = threading.Lock()

    def _u(self) -> float:
        u = self._uniform()
        while u == 0.0:  # log(0) guard; [0, 1) uniforms hit 0 with probability 2**-53
            u = self._uniform()
        return u

    def _skip(self) -> None:
        self._w *= math.exp(math.log(self._u()) / self.k)
        if self._w >= 1.0:  # underflow of log1p(-w) guard
            self._next_index += 1
            return
        self._next_index += math.floor(math.log(self._u()) / math.log1p(-self._w)) + 1

    def offer(self, item: T) -> bool:
        """Show the reservoir one item; True if it was taken in (it may leave later)."""
        with self._lock:
            index = self._seen
            self._seen += 1
            if index < self.k:
                self._items.append(item)
                if index == self.k - 1:
                    self._skip()
                return True
            if index != self._next_index:
                return False
            slot = min(int(self._uniform() * self.k), self.k - 1)
            self._items[slot] = item
            self._skip()
            return True

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.offer(item)

    @property
    def seen(self) -> int:
        """How many items were offered."""
        return self._seen

    @property
    def items(self) -> list[T]:
        """The current sample (in reservoir order, not stream order)."""
        return list(self._items)

    @property
    def weight(self) -> float:
        """How many offered items each sampled item stands for: ``seen / len(items)``."""
        return self._seen / len(self._items) if self._items else 0.0

    def __len__(self) -> int:
        return len(self._items)


def reservoir_sample(items: Iterable[T], k: int, *, seed: SeedLike = 0) -> list[T]:
    """A uniform random sample of ``k`` items (all of them when there are fewer)."""
    reservoir: Reservoir[T] = Reservoir(k, seed=seed)
    reservoir.extend(items)
    return reservoir.items


class StratifiedReservoir(Generic[T]):
    """One :class:`Reservoir` of ``k`` items per stratum; ``key`` maps an item to its
    stratum. Each stratum's generator is spawned from ``seed`` in order of first
    appearance, so the sample is reproducible for a given stream."""

    def __init__(self, key: Callable[[T], Hashable], k: int, *, seed: int | None = 0) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InvalidArgumentError("`k` must be a positive integer")
        self.key = key
        self.k = k
        self._seeds = SeedSequence(seed) if seed is not None else None
        self._reservoirs: dict[Hashable, Reservoir[T]] = {}

    def offer(self, item: T) -> bool:
        stratum = self.key(item)
        reservoir = self._reservoirs.get(stratum)
        if reservoir is None:
            seed = None if self._seeds is None else self._seeds.spawn(1)[0]
            reservoir = Reservoir(self.k, seed=seed)
            self._reservoirs[stratum] = reservoir
        return reservoir.offer(item)

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.offer(item)

    @property
    def strata(self) -> dict[Hashable, Reservoir[T]]:
        return dict(self._reservoirs)

    def weighted_items(self) -> list[tuple[T, float]]:
        """Every sampled item with its weight ``seen_h / k_h`` (stratum ``h``)."""
        return [(item, r.weight) for r in self._reservoirs.values() for item in r.items]


# --- estimators ------------------------------------------------------------------------------


class Estimate(msgspec.Struct, frozen=True, kw_only=True):
    """A design-based estimate and its estimated standard error (Poisson sampling)."""

    value: float
    standard_error: float
    n: int


def _weighted(
    values: npt.ArrayLike, weights: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    y = np.asarray(values, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).ravel()
    if y.shape != w.shape:
        raise InvalidArgumentError("`values` and `weights` must have the same length")
    if w.size and not (np.all(np.isfinite(w)) and np.all(w >= 1.0)):
        raise InvalidArgumentError("weights must be finite and >= 1 (inverse probabilities)")
    if not np.all(np.isfinite(y)):
        raise InvalidArgumentError("`values` must be finite; drop missing values first")
    return y, w


def horvitz_thompson_total(values: npt.ArrayLike, weights: npt.ArrayLike) -> Estimate:
    """Σ wᵢ yᵢ: the unbiased estimate of the population total of ``y`` from a sample kept
    with independent probabilities πᵢ = 1/wᵢ, with the unbiased variance estimate
    Σ (1 - πᵢ)/πᵢ² yᵢ² = Σ wᵢ (wᵢ - 1) yᵢ². Pass ``values=1`` per event to estimate a
    count."""
    y, w = _weighted(values, weights)
    total = float(np.dot(w, y))
    variance = float(np.dot(w * (w - 1.0), y * y))
    return Estimate(value=total, standard_error=math.sqrt(variance), n=int(y.size))


def hajek_mean(values: npt.ArrayLike, weights: npt.ArrayLike) -> Estimate:
    """Σ wᵢ yᵢ / Σ wᵢ: the ratio (Hájek) estimate of the population mean, nearly unbiased
    and more stable than the total divided by a known N; standard error by linearisation."""
    y, w = _weighted(values, weights)
    if y.size == 0:
        return Estimate(value=math.nan, standard_error=math.nan, n=0)
    n_hat = float(w.sum())
    mean = float(np.dot(w, y) / n_hat)
    resid = y - mean
    variance = float(np.dot(w * (w - 1.0), resid * resid)) / (n_hat * n_hat)
    return Estimate(value=mean, standard_error=math.sqrt(variance), n=int(y.size))
