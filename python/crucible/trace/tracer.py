"""The tracer: what a run holds to record its trace as it goes.

A :class:`Tracer` owns a :class:`~crucible.trace.chain.Chain`, fills in what every event
of the run shares (experiment, model, the current stage and its start event as parent),
and passes each sealed event to its sinks (a JSONL flight recorder, a SQLite store) in
recording order, under a lock, so events from several threads still form one valid chain.

:meth:`Tracer.stage` is how the experiment runner marks its stages::

    with tracer.stage("train", epochs=3):
        tracer.record("loss_computed", "loss 0.41", latency_ms=12.5)

records ``stage_started``, then the block's events (children of the start event), then
``stage_completed`` with the stage's wall time in ``latency_ms``, or ``stage_failed`` with
the exception's type and message before the exception propagates. Stages nest; the current
stage lives in a context variable, so threads and asyncio tasks each see their own.

A tracer may be given a ``clock`` (returning aware datetimes) and an ``id_factory``: the
events it builds then take their timestamps and ids from them, and stage latencies are
measured on that clock. The experiment runner passes a logical clock and ids derived from
the run's seed, so the same run recorded twice has the same trace, hash for hash.
"""

from __future__ import annotations

import contextvars
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import msgspec

from crucible.trace.chain import Chain, make_event
from crucible.trace.event import Event
from crucible.trace.store.base import Sink

__all__ = ["StageScope", "Tracer"]

_tracer_ids = itertools.count()


class StageScope(msgspec.Struct, frozen=True):
    """The stage a block runs in: its name and its ``stage_started`` event."""

    name: str
    started: Event


class Tracer:
    """Records a run's events into a chain and its sinks (see the module docstring)."""

    def __init__(
        self,
        chain: Chain | str | None = None,
        *,
        sinks: Sequence[Sink] = (),
        experiment_id: str | None = None,
        model: str | None = None,
        clock: Callable[[], datetime] | None = None,
        id_factory: Callable[[], str] | None = None,
    ) -> None:
        self.chain = chain if isinstance(chain, Chain) else Chain(name=chain or "trace")
        self.sinks: list[Sink] = list(sinks)
        self.experiment_id = experiment_id
        self.model = model
        self.clock = clock
        self.id_factory = id_factory
        self._lock = threading.RLock()
        self._stages: contextvars.ContextVar[tuple[StageScope, ...]] = contextvars.ContextVar(
            f"crucible.trace.stages.{next(_tracer_ids)}", default=()
        )

    @property
    def current_stage(self) -> StageScope | None:
        """The innermost stage of the calling thread or task, if any."""
        stages = self._stages.get()
        return stages[-1] if stages else None

    def add(self, event: Event) -> Event:
        """Add an event as given (no defaults filled in); returns it sealed."""
        return self.add_events((event,))[0]

    def add_events(self, events: Iterable[Event]) -> list[Event]:
        """Add events in order, then hand them to every sink; returns them sealed. A sink
        that fails raises here, after the chain took the events: fix the sink and
        re-sync it from ``self.chain`` before recording more."""
        with self._lock:
            sealed = self.chain.add_events(events)
            for sink in self.sinks:
                sink.write(self.chain, sealed)
            return sealed

    def record(self, type: str, decision: str, reasoning: str = "", **fields: Any) -> Event:
        """Build an event with the run's defaults (experiment, model, current stage, the
        stage's start event as parent) and add it. Explicit fields win."""
        stage = self.current_stage
        if self.id_factory is not None and "id" not in fields:
            fields["id"] = self.id_factory()
        if self.clock is not None and "timestamp" not in fields:
            fields["timestamp"] = self.clock()
        if self.experiment_id is not None:
            fields.setdefault("experiment_id", self.experiment_id)
        if self.model is not None:
            fields.setdefault("model", self.model)
        if stage is not None:
            fields.setdefault("stage", stage.name)
            fields.setdefault("parent_id", stage.started.id)
        return self.add(make_event(type, decision, reasoning, **fields))

    @contextmanager
    def stage(self, name: str, **metadata: Any) -> Iterator[StageScope]:
        """Record a stage around a block (see the module docstring); ``metadata`` goes on
        the ``stage_started`` event."""
        outer = self.current_stage
        fields: dict[str, Any] = {"stage": name, "metadata": metadata}
        if outer is not None:
            fields["parent_id"] = outer.started.id
        started = self.record("stage_started", f"stage {name} started", **fields)
        scope = StageScope(name, started)
        token = self._stages.set((*self._stages.get(), scope))
        began = time.perf_counter()
        try:
            yield scope
        except BaseException as exc:
            self._stages.reset(token)
            elapsed, end = self._elapsed_ms(began, started)
            self.record(
                "stage_failed",
                f"stage {name} failed: {type(exc).__name__}",
                str(exc)[:4000],
                stage=name,
                parent_id=started.id,
                latency_ms=elapsed,
                confidence=0.0,
                metadata={"error_type": type(exc).__name__},
                **end,
            )
            raise
        self._stages.reset(token)
        elapsed, end = self._elapsed_ms(began, started)
        self.record(
            "stage_completed",
            f"stage {name} completed",
            stage=name,
            parent_id=started.id,
            latency_ms=elapsed,
            **end,
        )

    def _elapsed_ms(self, began: float, started: Event) -> tuple[float, dict[str, Any]]:
        """A stage's latency: on the tracer's clock when it has one (and the end event's
        timestamp, so the two agree), else on the performance counter."""
        if self.clock is None:
            return (time.perf_counter() - began) * 1000.0, {}
        now = self.clock()
        elapsed = max((now - started.timestamp).total_seconds() * 1000.0, 0.0)
        return elapsed, {"timestamp": now}
