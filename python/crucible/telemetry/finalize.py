"""Finalising captured events: validation, enrichment and numbering, a batch at a time.

The capture handler (:class:`crucible._core.CaptureBuffer`) only records what has to be
taken when the event happens. A :class:`Finalizer` turns a drained buffer into a
:class:`~crucible.telemetry.batch.CapturedBatch`: what depends on the event *name* (its
catalogue category, whether it is catalogued, the fields its category lifts) is worked out
here once per name and cached; validation against the catalogue (``strict``/``warn``) runs
in Python for catalogued names only; the per-event work — the derived fields of
:mod:`crucible.telemetry.enrichment`, the lifted fields, sequence numbers — runs in Rust
over the whole batch (``RawBatch.finalize``), asking :meth:`Finalizer.rates` once per model
for its token prices. Events rejected by ``strict`` validation take no sequence number, so
a stream's stored sequence numbers stay gapless.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from crucible._core import RawBatch
from crucible.telemetry.batch import CapturedBatch
from crucible.telemetry.catalog import ValidationMode, category_of, event_info, validate
from crucible.telemetry.cost import PriceTable
from crucible.telemetry.enrichment import LIFTED

__all__ = ["Finalizer", "Rates", "TelemetryValidationWarning"]

Rates = tuple[float, float, "float | None", "tuple[int, float, float, float | None] | None"]
"""(input, output, cached_input, long context (above_input_tokens, input, output,
cached_input)) in USD per 1,000,000 tokens: a :class:`~crucible.telemetry.cost.ModelPrice`
as the Rust side reads it."""


class TelemetryValidationWarning(UserWarning):
    """A captured event does not match its catalogue schema (reported once per name)."""


class _Kind:
    __slots__ = ("catalogued", "category", "lifted")

    def __init__(self, name: tuple[str, ...]) -> None:
        self.category = category_of(name)
        self.catalogued = event_info(name) is not None
        self.lifted: tuple[str, ...] = LIFTED.get(self.category, ())


class Finalizer:
    """Finalises the drained buffers of one experiment stream (see the module docstring)."""

    def __init__(self, experiment_name: str, validation: ValidationMode, prices: PriceTable):
        self.experiment_name = experiment_name
        self.validation: ValidationMode = validation
        self.prices = prices
        self.rejected = 0  # invalid, not stored ("strict")
        self.invalid = 0  # invalid, stored anyway ("warn")
        self._kinds: dict[tuple[str, ...], _Kind] = {}
        self._reported: set[tuple[str, ...]] = set()

    def __call__(self, raw: RawBatch, header: tuple[Any, ...], seq_start: int) -> CapturedBatch:
        """The finalised batch; its events are numbered from ``seq_start``."""
        names: list[tuple[str, ...]] = raw.names()
        kinds = [self._kind(name) for name in names]
        rejected: list[int] = []
        if self.validation != "off":
            for code, kind in enumerate(kinds):
                if kind.catalogued:
                    rejected.extend(self._validate(raw, code, names[code]))
            rejected.sort()
        columns = raw.finalize(
            header,
            [k.category for k in kinds],
            [k.lifted for k in kinds],
            rejected,
            seq_start,
            self.rates,
        )
        return CapturedBatch(columns)

    def _kind(self, name: tuple[str, ...]) -> _Kind:
        kind = self._kinds.get(name)
        if kind is None:
            kind = self._kinds[name] = _Kind(name)
        return kind

    def _validate(self, raw: RawBatch, code: int, name: tuple[str, ...]) -> list[int]:
        """Rows of ``name`` to reject (``strict``); counts and reports the invalid ones."""
        rejected: list[int] = []
        for row, m, md in raw.payloads(code):
            problems = validate(name, m, md)
            if problems:
                self._report(name, problems)
                if self.validation == "strict":
                    self.rejected += 1
                    rejected.append(row)
                else:
                    self.invalid += 1
        return rejected

    def _report(self, name: tuple[str, ...], problems: Sequence[Any]) -> None:
        if name in self._reported:
            return
        self._reported.add(name)
        action = "rejected" if self.validation == "strict" else "stored anyway"
        detail = "; ".join(str(p) for p in problems)
        warnings.warn(
            f"experiment {self.experiment_name!r}: {'.'.join(name)} does not match its schema "
            f"({detail}); {action} (reported once per event name)",
            TelemetryValidationWarning,
            stacklevel=2,
        )

    def rates(self, model: str) -> Rates | None:
        """The token prices of ``model`` (the table's fallback for unknown models), or None
        when it has none (or cannot be looked up: the event then has no cost)."""
        try:
            price = self.prices.lookup(model) or self.prices.fallback
        except Exception:  # a malformed name: unpriced, like an unknown model
            return None
        if price is None:
            return None
        tier = price.long_context
        long = None
        if tier is not None:
            long = (tier.above_input_tokens, tier.input, tier.output, tier.cached_input)
        return (price.input, price.output, price.cached_input, long)
