"""A batch of finalised events kept as columns, readable as a sequence of CapturedEvent.

Finalisation (:mod:`crucible.telemetry.experiment`) produces one
:class:`crucible._core.CapturedColumns` per drained buffer: a compact row per event in Rust,
plus what the batch shares (experiment, stream, node, the distinct event names, payload
shapes and values: measurements and metadata become dicts when read). Building a
:class:`CapturedEvent` costs about as much as capturing the event in the first place, so
:class:`CapturedBatch` builds them only when someone iterates or indexes it (and then
once). Stores that understand columns (the memory store) keep the batch as it is and fold
its rollups from the columns (:meth:`CapturedBatch.rollups`); the SQLite store's segment
encoder, which wants the fields as columns anyway, takes :meth:`CapturedBatch.field_lists`
instead of events; every other store sees a plain ``Sequence[CapturedEvent]``, which is all
``Store.append`` asks for.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

from crucible._core import CapturedColumns
from crucible.telemetry.store.base import CapturedEvent, Rollup

__all__ = ["CapturedBatch"]

FIELDS: tuple[str, ...] = CapturedEvent.__struct_fields__


class CapturedBatch(Sequence[CapturedEvent]):
    """Finalised events of one stream (see the module docstring)."""

    __slots__ = ("_events", "columns")

    def __init__(self, columns: CapturedColumns) -> None:
        self.columns = columns
        self._events: list[CapturedEvent] | None = None

    @property
    def experiment_id(self) -> str:
        return str(self.columns.header[0])

    @property
    def stream_id(self) -> str:
        return str(self.columns.header[4])

    def events(self) -> list[CapturedEvent]:
        """Every event of the batch as :class:`CapturedEvent` (built once, then kept)."""
        if self._events is None:
            self._events = self.columns.events(None, CapturedEvent)
        return self._events

    def field_lists(self) -> dict[str, list[Any]]:
        """Each field of :class:`CapturedEvent` (in its order) as a list over the events:
        the values the events would hold, without building them."""
        return dict(zip(FIELDS, self.columns.field_lists(), strict=True))

    def __len__(self) -> int:
        return len(self.columns)

    @overload
    def __getitem__(self, index: int) -> CapturedEvent: ...

    @overload
    def __getitem__(self, index: slice) -> list[CapturedEvent]: ...

    def __getitem__(self, index: int | slice) -> CapturedEvent | list[CapturedEvent]:
        return self.events()[index]

    def __iter__(self) -> Iterator[CapturedEvent]:
        return iter(self.events())

    def __repr__(self) -> str:
        return f"<CapturedBatch of {len(self)} events, stream {self.stream_id}>"

    def tail(self, start: int) -> CapturedBatch:
        """The events from ``start`` on (what is left after evicting the head)."""
        out = CapturedBatch(self.columns.tail(start))
        if self._events is not None:
            out._events = self._events[start:]
        return out

    def rollups(self, window_us: int) -> list[Rollup]:
        """What :func:`~crucible.telemetry.store.base.rollups_of` gives for these events,
        computed from the columns."""
        experiment_id = self.experiment_id
        dotted = [".".join(name) for name in self.columns.names]
        groups = self.columns.rollups(window_us)
        return [_rollup(experiment_id, dotted, window_us, group) for group in groups]


def _rollup(experiment_id: str, dotted: list[str], window_us: int, g: tuple[Any, ...]) -> Rollup:
    (code, start, count, weights, ok, failed, n_lat, lat_sum, lat_sq, lat_min, lat_max, hist,
     cost, tokens_in, tokens_out) = g  # fmt: skip
    return Rollup(
        experiment_id=experiment_id,
        event_name=dotted[code],
        window_start_us=start,
        window_us=window_us,
        count=count,
        weight_sum=weights,
        success_count=ok,
        error_count=failed,
        latency_count=n_lat,
        latency_sum=lat_sum,
        latency_sum_sq=lat_sq,
        latency_min=lat_min,
        latency_max=lat_max,
        latency_hist=hist,
        cost_usd=cost,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
    )
