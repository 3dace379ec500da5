"""Where hedging simulations get their latencies: recorded values or a seeded model.

The NumPy backend answers in-process, with no network and so no tail worth hedging; a
hedging analysis therefore runs on latencies recorded elsewhere (an option list, a file,
``latency_ms`` fields of sample rows) or on a model of a backend's latency. The model is
log-normal, the usual shape of service latency: ``median_ms * exp(sigma * Z)`` with Z
standard normal, so ``median_ms`` is the median and ``sigma`` sets the tail (p99 is
``median * exp(2.326 * sigma)``). Draws come from the stage's seeded generator, so the
same seed gives the same latencies.

A hedge is a second, independent request: its latency is drawn from the backup backend's
model, or resampled (with replacement) from the recorded primary latencies when those are
all there is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
import numpy as np
import numpy.typing as npt

from crucible.errors import InvalidArgumentError, NotFoundError, SerializationError

__all__ = ["LognormalLatency", "draw_lognormal", "load_latency_file", "resample", "validated"]

_Floats = npt.NDArray[np.float64]


class LognormalLatency(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A backend's latency model: log-normal with this median and log-scale spread."""

    median_ms: Annotated[float, msgspec.Meta(gt=0.0)] = 100.0
    sigma: Annotated[float, msgspec.Meta(ge=0.0, le=5.0)] = 0.6


def validated(values: Any, what: str) -> _Floats:
    """``values`` as a 1-D float array of finite, non-negative latencies."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.shape[0] == 0:
        raise InvalidArgumentError(f"{what}: expected a non-empty list of latencies")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise InvalidArgumentError(f"{what}: latencies must be finite and non-negative")
    return array


def draw_lognormal(model: LognormalLatency, count: int, rng: Any) -> _Floats:
    normal = np.asarray(rng.standard_normal(count), dtype=np.float64)
    return model.median_ms * np.exp(model.sigma * normal)


def resample(values: _Floats, count: int, rng: Any) -> _Floats:
    """``count`` independent draws from the empirical distribution of ``values``."""
    picks = np.asarray(rng.integers(0, values.shape[0], size=count), dtype=np.int64)
    return values[picks]


def load_latency_file(path: Path) -> _Floats:
    """Latencies in milliseconds from ``.json`` (a list, or an object with a
    ``latencies_ms`` list) or ``.jsonl`` (rows with a ``latency_ms`` field)."""
    if not path.is_file():
        raise NotFoundError(f"latency file {path} does not exist")
    try:
        if path.suffix == ".jsonl":
            rows = [
                msgspec.json.decode(line) for line in path.read_bytes().splitlines() if line.strip()
            ]
            values: Any = [row["latency_ms"] for row in rows]
        else:
            document = msgspec.json.decode(path.read_bytes())
            values = document["latencies_ms"] if isinstance(document, dict) else document
    except (msgspec.DecodeError, KeyError, TypeError) as exc:
        raise SerializationError(f"{path}: not a latency file ({exc})") from None
    return validated(values, str(path))
