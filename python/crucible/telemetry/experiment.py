"""Experiments: capture bus events, enrich them, and keep them in a store.

::

    from crucible import telemetry

    with telemetry.start_experiment(
        "prompt-v2", hypothesis="v2 is faster", condition="treatment", tags=["llm"]
    ) as exp:
        run_workload()                  # emits crucible.* events on the bus
    telemetry.export(exp.store, exp.id, "prompt-v2.parquet")

Capture does the least it can in the emitting thread: the bus handler is a Rust
:class:`crucible._core.CaptureBuffer` that checks the scope, takes the timestamps (wall µs
and monotonic ns) and the correlation id, and snapshots measurements and metadata (an
emitter may reuse its dicts) as a shared key *shape* plus values, with no dict copy (readers
get dicts equal to a shallow copy taken at emit time). Every ``batch_size`` events, every
``flush_interval`` seconds (a background ticker) and on :meth:`Experiment.flush`, the buffer
is *finalised* (:mod:`crucible.telemetry.finalize`): validated against the catalogue
(``validation``), enriched (:mod:`crucible.telemetry.enrichment`) and numbered as one
columnar :class:`~crucible.telemetry.batch.CapturedBatch`, which the store receives as a
``Sequence[CapturedEvent]`` (the memory store keeps its columns). Errors never reach the
emitter: a failing store is reported (warning + :attr:`Experiment.stats`) and the events are
kept for the next flush, which raises :class:`~crucible.errors.StorageError` if they still
cannot be written.

Sampling: ``sampling`` is a callable ``sampler(candidate) -> weight | None`` called for each
matching event with a :class:`Candidate` (capture then runs in Python, around the sampler);
``None`` drops the event (counted in ``stats.sampled_out``), a number keeps it with that
``weight`` (the inverse of its inclusion probability, so weighted sums stay unbiased).
The samplers of :mod:`crucible.telemetry.sampling` have this shape.

Processes: each experiment handle writes one *stream* (``stream_id``) whose ``sequence``
numbers run 0, 1, 2, ... without gaps. A forked child continues the experiment on a new
stream, so several processes can capture into one experiment and store.
"""

from __future__ import annotations

import contextvars
import os
import secrets
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, NamedTuple

import msgspec

from crucible import events as bus
from crucible._core import CaptureBuffer
from crucible.errors import InvalidArgumentError, StorageError
from crucible.telemetry.background import TICKER
from crucible.telemetry.batch import CapturedBatch
from crucible.telemetry.catalog import ValidationMode
from crucible.telemetry.context import CORRELATION
from crucible.telemetry.cost import PriceTable, default_price_table
from crucible.telemetry.finalize import Finalizer, TelemetryValidationWarning
from crucible.telemetry.store.base import CapturedEvent, ExperimentRecord, Store
from crucible.telemetry.store.shared import default_store, open_store, resolve_store, store_from

__all__ = [
    "Candidate",
    "CaptureStats",
    "EventSelection",
    "Experiment",
    "Sampler",
    "TelemetryValidationWarning",
    "default_store",
    "node_id",
    "open_store",
    "start_experiment",
    "store_from",
]

NODE_ENV = "CRUCIBLE_NODE_ID"


class Candidate(NamedTuple):
    """What a sampler sees of an event before it is captured."""

    event_name: tuple[str, ...]
    measurements: Mapping[str, Any]
    metadata: Mapping[str, Any]
    wall_time_us: int
    monotonic_ns: int
    experiment_id: str
    condition: str | None


Sampler = Callable[[Candidate], "float | None"]
"""``sampler(candidate) -> weight | None``: None drops, a weight keeps."""

EventSelection = Sequence[Sequence[str]] | Literal["all", "crucible"] | None
"""Which events an experiment captures: ``None``/``"crucible"`` every ``("crucible", ...)``
event, ``"all"`` every event, or a list of names, where a name ending in ``"*"`` is a
prefix (``("myapp", "*")``)."""


class CaptureStats(msgspec.Struct, frozen=True, kw_only=True):
    """Counters of one experiment handle (this process)."""

    sampled_out: int  # dropped by the sampler
    rejected: int  # invalid, not stored (validation="strict")
    invalid: int  # invalid, stored anyway (validation="warn")
    captured: int  # handed to the store
    unsaved: int  # finalised but not yet accepted by the store (an error is pending)


def node_id() -> str:
    """This node's id: ``$CRUCIBLE_NODE_ID`` or the host name."""
    return os.environ.get(NODE_ENV) or socket.gethostname()


# --- scope and the background ticker ----------------------------------------------------------

_ACTIVE: contextvars.ContextVar[Experiment | None] = contextvars.ContextVar(
    "crucible_active_experiment", default=None
)


# --- the experiment handle --------------------------------------------------------------------


def _subscriptions(selection: EventSelection) -> list[tuple[tuple[tuple[str, ...], ...], bool]]:
    """[(names, prefix?)] to attach for an event selection."""
    if selection is None or selection == "crucible":
        return [((("crucible",),), True)]
    if selection == "all":
        return [(((),), True)]
    if isinstance(selection, str):
        raise InvalidArgumentError(
            f"events must be 'all', 'crucible' or a list of names, got {selection!r}"
        )
    exact: list[tuple[str, ...]] = []
    prefixes: list[tuple[str, ...]] = []
    for name in selection:
        if isinstance(name, str) or not all(isinstance(p, str) for p in name):
            raise InvalidArgumentError(f"event names are tuples of strings, got {name!r}")
        parts = tuple(name)
        if parts and parts[-1] == "*":
            prefixes.append(parts[:-1])
        else:
            exact.append(parts)
    out: list[tuple[tuple[tuple[str, ...], ...], bool]] = []
    if exact:
        out.append((tuple(exact), False))
    if prefixes:
        out.append((tuple(prefixes), True))
    if not out:
        raise InvalidArgumentError("events selects nothing")
    return out


_DRAIN_ROWS = 65_536  # most events finalised in one piece


class Experiment:
    """A running (or stopped) experiment; made by :func:`start_experiment`."""

    def __init__(
        self,
        record: ExperimentRecord,
        store: Store,
        *,
        owns_store: bool,
        selection: EventSelection,
        sampling: Sampler | None,
        validation: ValidationMode,
        scoped: bool,
        batch_size: int,
        flush_interval: float,
        prices: PriceTable | None,
    ) -> None:
        self.record = record
        self.store = store
        self._owns_store = owns_store
        self._sampler = sampling
        self.validation: ValidationMode = validation
        self.scoped = scoped
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._prices = prices if prices is not None else default_price_table()
        self._high_water = max(8 * batch_size, 65_536)
        self._subscriptions = _subscriptions(selection)
        self._handler_ids: list[str] = []
        self._stopped = False
        self._scope_tokens: list[contextvars.Token[Experiment | None]] = []
        self._store_error: BaseException | None = None
        self._buf = CaptureBuffer(
            self,
            CORRELATION,
            time.monotonic_ns,
            batch_size=batch_size,
            high_water=self._high_water,
            scope=_ACTIVE if scoped else None,
        )
        self._new_stream()

    def _new_stream(self) -> None:
        self.stream_id = secrets.token_hex(8)
        self._buf.clear()
        self._drain_lock = threading.Lock()
        self._seq = 0
        self._finalize = Finalizer(self.record.name, self.validation, self._prices)
        self._unsaved: list[CapturedBatch] = []
        self._last_drain = time.monotonic()
        self._count_lock = threading.Lock()
        self._sampled_out = 0
        self._captured = 0

    def _forked(self) -> None:
        """In a forked child: the buffered events are the parent's; continue on a new
        stream (the bus still calls the same buffer)."""
        self._new_stream()

    # -- identity -------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.record.experiment_id

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def condition(self) -> str | None:
        return self.record.condition

    @property
    def running(self) -> bool:
        return not self._stopped

    @property
    def stats(self) -> CaptureStats:
        return CaptureStats(
            sampled_out=self._sampled_out,
            rejected=self._finalize.rejected,
            invalid=self._finalize.invalid,
            captured=self._captured,
            unsaved=sum(map(len, self._unsaved)),
        )

    def __repr__(self) -> str:
        state = "running" if self.running else self.record.status
        return f"<Experiment {self.name!r} {self.id} {state}>"

    # -- capture (hot path) ---------------------------------------------------------------------

    def _attach(self) -> None:
        handler = self._buf.capture if self._sampler is None else self._capture_sampled
        for i, (names, prefix) in enumerate(self._subscriptions):
            handler_id = f"crucible.telemetry.experiment.{self.id}.{i}"
            bus.attach(handler_id, names, handler, None, prefix=prefix)
            self._handler_ids.append(handler_id)

    def _capture_sampled(
        self,
        event_name: tuple[str, ...],
        measurements: dict[str, Any],
        metadata: dict[str, Any],
        _config: Any,
    ) -> None:
        """The bus handler when a sampler decides which events to keep."""
        buf, sampler = self._buf, self._sampler
        if sampler is None or not buf.in_scope_now():
            return
        stamp = buf.now()
        w = sampler(Candidate(event_name, measurements, metadata, *stamp, self.id, self.condition))
        if w is None:
            with self._count_lock:
                self._sampled_out += 1
            return
        buf.push(event_name, measurements, metadata, stamp, float(w))

    # -- finalising ---------------------------------------------------------------------------

    def _drain(self, *, block: bool) -> None:
        """Finalise buffered events into the store. Never raises (runs in emitters)."""
        if not self._drain_lock.acquire(blocking=block):
            return
        try:
            self._last_drain = time.monotonic()
            rec = self.record
            stream, node = self.stream_id, rec.node_id
            header = (rec.experiment_id, rec.name, rec.condition, rec.tags, stream, node)
            while (raw := self._buf.take(_DRAIN_ROWS)) is not None:
                batch = self._finalize(raw, header, self._seq)
                self._seq += len(batch)
                self._deliver(batch)
        except Exception as exc:  # a bug or a sampler/price table failing: report, go on
            self._report_store_error(exc)
        finally:
            self._drain_lock.release()

    def _deliver(self, batch: CapturedBatch | None) -> None:
        """Hand batches to the store, oldest unsaved first (caller holds the drain lock)."""
        if batch is not None and len(batch):
            self._unsaved.append(batch)
        while self._unsaved:
            pending = self._unsaved[0]
            try:
                self.store.append(pending)
            except Exception as exc:
                self._report_store_error(exc)
                return
            del self._unsaved[0]
            self._captured += len(pending)
            self._store_error = None

    def _report_store_error(self, exc: BaseException) -> None:
        if self._store_error is None:
            warnings.warn(
                f"experiment {self.name!r}: telemetry store failed ({exc}); "
                "events are kept and retried on the next flush",
                RuntimeWarning,
                stacklevel=2,
            )
        self._store_error = exc

    # -- control --------------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> None:
        """Return once every event captured so far is durable in the store.

        Raises :class:`StorageError` if the store cannot take them (they are kept)."""
        self._drain(block=True)
        if self._unsaved or self._store_error is not None:
            with self._drain_lock:
                self._deliver(None)
            if self._unsaved:
                raise StorageError(
                    f"experiment {self.name!r}: {sum(map(len, self._unsaved))} events could not be "
                    f"stored ({self._store_error})"
                )
        self.store.flush(timeout)

    def stop(self) -> ExperimentRecord:
        """Stop capturing, flush, and record the stop; idempotent."""
        if self._stopped:
            return self.record
        for handler_id in self._handler_ids:
            bus.detach(handler_id)
        self._handler_ids.clear()
        self._stopped = True
        TICKER.remove(self)
        try:
            self.flush()
        finally:
            self._buf.release()  # the buffer no longer needs its owner: no cycle left
        self.record = msgspec.structs.replace(
            self.record, status="stopped", stopped_us=time.time_ns() // 1000
        )
        self.store.save_experiment(self.record)
        if self._owns_store:
            self.store.close()
        return self.record

    def archive(
        self,
        to: str | os.PathLike[str] | Store,
        *,
        format: Literal["csv", "jsonl", "parquet"] | None = None,
    ) -> ExperimentRecord:
        """Stop (if running), then copy the experiment to a file or another store; see
        :func:`crucible.telemetry.archive`."""
        from crucible.telemetry.export import archive

        self.stop()
        self.record = archive(self.store, self.id, to=to, format=format)
        return self.record

    def activate(self) -> _Scope:
        """Context manager marking the block (and tasks/threads bound to it) as this
        experiment's scope; scoped experiments capture only events emitted in scope."""
        return _Scope(self)

    def __enter__(self) -> Experiment:
        self._scope_tokens.append(_ACTIVE.set(self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._scope_tokens:
            _ACTIVE.reset(self._scope_tokens.pop())
        self.stop()

    # -- reading back ---------------------------------------------------------------------------

    def events(
        self,
        *,
        event_name: Sequence[str] | None = None,
        event_prefix: Sequence[str] | None = None,
        batch_size: int = 10_000,
    ) -> Iterator[CapturedEvent]:
        """The stored events of this experiment (flush first to include recent ones)."""
        for batch in self.store.query(
            experiment_id=self.id,
            event_name=event_name,
            event_prefix=event_prefix,
            batch_size=batch_size,
        ):
            yield from batch

    def count(
        self, *, event_name: Sequence[str] | None = None, event_prefix: Sequence[str] | None = None
    ) -> int:
        """Number of stored events of this experiment."""
        return self.store.count(
            experiment_id=self.id, event_name=event_name, event_prefix=event_prefix
        )


class _Scope:
    def __init__(self, exp: Experiment) -> None:
        self.exp = exp
        self.token: contextvars.Token[Experiment | None] | None = None

    def __enter__(self) -> Experiment:
        self.token = _ACTIVE.set(self.exp)
        return self.exp

    def __exit__(self, *exc: object) -> None:
        if self.token is not None:
            _ACTIVE.reset(self.token)


def start_experiment(
    name: str,
    *,
    hypothesis: str | None = None,
    condition: str | None = None,
    tags: Sequence[str] = (),
    sample_size: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    events: EventSelection = None,
    store: Store | str | os.PathLike[str] | None = None,
    sampling: Sampler | None = None,
    validation: ValidationMode = "warn",
    scoped: bool = False,
    batch_size: int = 1024,
    flush_interval: float = 0.5,
    prices: PriceTable | None = None,
    experiment_id: str | None = None,
) -> Experiment:
    """Start capturing events into a new experiment and return its handle.

    ``events``: which events (see :data:`EventSelection`; default every ``crucible.*``
    event). ``store``: a :class:`Store`, a SQLite file path, ``"memory"``, a
    ``postgresql://`` DSN, or None for the default SQLite file. ``sampling``: a
    :data:`Sampler`. ``validation``: ``"strict"``, ``"warn"`` or ``"off"`` (see
    :mod:`crucible.telemetry.catalog`). ``scoped``: capture only events emitted inside
    ``with exp:`` / ``exp.activate()`` (and tasks or bound threads started there), for
    experiments that run side by side in one process. ``batch_size``/``flush_interval``:
    how many events, or how many seconds, before buffered events go to the store.
    ``prices``: the LLM price table (default: the bundled one).
    """
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError("an experiment needs a non-empty name")
    if validation not in ("strict", "warn", "off"):
        raise InvalidArgumentError("validation must be 'strict', 'warn' or 'off'")
    if batch_size < 1 or flush_interval <= 0:
        raise InvalidArgumentError("batch_size must be >= 1 and flush_interval > 0")
    if sample_size is not None and sample_size < 0:
        raise InvalidArgumentError("sample_size must be >= 0")
    if sampling is not None and not callable(sampling):
        raise InvalidArgumentError("sampling must be a callable sampler(candidate) -> weight")
    resolved, owned = resolve_store(store)
    record = ExperimentRecord(
        experiment_id=experiment_id or uuid.uuid4().hex,
        name=name,
        hypothesis=hypothesis,
        condition=condition,
        tags=tuple(tags),
        sample_size=sample_size,
        metadata=dict(metadata or {}),
        status="running",
        started_us=time.time_ns() // 1000,
        node_id=node_id(),
    )
    exp = Experiment(
        record,
        resolved,
        owns_store=owned,
        selection=events,
        sampling=sampling,
        validation=validation,
        scoped=scoped,
        batch_size=batch_size,
        flush_interval=flush_interval,
        prices=prices,
    )
    resolved.save_experiment(record)
    exp._attach()
    TICKER.add(exp)
    return exp
