"""A chain: the ordered, hash-linked events of one trace, with the original's lookups.

Adding events is the only way a chain grows, and it does three things at once: checks the
relationships (no duplicate ids, no reference to an event the chain does not hold, so a
chain built by :meth:`Chain.add` is always a DAG), seals the events into the hash chain,
and announces each one on the event bus as ``("crucible", "trace", "event", "created")``,
which is how telemetry, live views and stores learn about it without the chain knowing them.

A chain is a mutable struct (unlike :class:`~crucible.trace.event.Event`): it grows, and
copying it on every append would make recording a long run quadratic. Treat ``events`` as
read-only; edit nothing in place (verification would, rightly, report it). A chain is not
locked: threads recording into one share a :class:`~crucible.trace.tracer.Tracer`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from crucible import events as bus
from crucible.errors import ErrorItem, SerializationError, ValidationError
from crucible.trace.event import Event, new_id, utc_now
from crucible.trace.integrity import GENESIS, Verification, seal, sign, verify, verify_signature

__all__ = ["TRACE_EVENT", "Chain", "emit", "events_of", "make_event"]

TRACE_EVENT: bus.EventName = ("crucible", "trace", "event", "created")
"""Executed once per event added to any chain: measurements hold the event's confidence and
whichever of tokens_in, tokens_out, latency_ms, cost_usd it has; metadata holds
``chain_id``, ``event_type``, ``event_id`` and the sealed ``event`` itself."""

_MEASURED = ("tokens_in", "tokens_out", "latency_ms", "cost_usd")


def emit(chain_id: str, event: Event) -> None:
    """Announce an added event on the bus (cheap when nothing listens)."""
    measurements: dict[str, Any] = {"confidence": event.confidence}
    for name in _MEASURED:
        value = getattr(event, name)
        if value is not None:
            measurements[name] = value
    bus.execute(
        TRACE_EVENT,
        measurements,
        {"chain_id": chain_id, "event_type": event.type, "event_id": event.id, "event": event},
    )


class Chain(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, dict=True):
    """A named, ordered, hash-linked list of events."""

    name: str
    id: str = msgspec.field(default_factory=new_id)
    description: str = ""
    events: list[Event] = msgspec.field(default_factory=list)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    created_at: datetime = msgspec.field(default_factory=utc_now)
    updated_at: datetime = msgspec.field(default_factory=utc_now)
    signature: str | None = None

    # --- growing ------------------------------------------------------------------------------

    @classmethod
    def of(cls, name: str, events: Iterable[Event] = (), **fields: Any) -> Chain:
        """A new chain holding ``events`` (sealed as they are added)."""
        chain = cls(name=name, **fields)
        chain.add_events(events)
        return chain

    def add(self, event: Event) -> Event:
        """Add one event; returns it sealed (with ``prev_hash`` and ``hash``)."""
        return self.add_events((event,))[0]

    def add_events(self, events: Iterable[Event]) -> list[Event]:
        """Add events in order (one hashing pass for the whole batch); returns them sealed.

        Raises :class:`~crucible.errors.ValidationError` (nothing added) on a duplicate id or
        a ``parent_id``/``depends_on`` naming an event that is neither in the chain nor
        earlier in the batch.
        """
        batch = list(events)
        if not batch:
            return []
        ids = self._ids()
        problems: list[ErrorItem] = []
        fresh: set[str] = set()
        base = len(self.events)
        for i, event in enumerate(batch):
            path = f"/events/{base + i}"
            if event.id in ids or event.id in fresh:
                problems.append(ErrorItem(f"{path}/id", "duplicate", f"duplicate id {event.id!r}"))
            refs = [("parent_id", event.parent_id)] if event.parent_id is not None else []
            refs += [(f"depends_on/{j}", d) for j, d in enumerate(event.depends_on)]
            for where, ref in refs:
                if ref not in ids and ref not in fresh:
                    problems.append(
                        ErrorItem(f"{path}/{where}", "dangling", f"no earlier event {ref!r}")
                    )
            fresh.add(event.id)
        if problems:
            raise ValidationError(problems, f"cannot add {len(batch)} event(s) to {self.name!r}")
        sealed = seal(batch, self.head)
        self.events.extend(sealed)
        ids.update(fresh)
        self.updated_at = utc_now()
        for event in sealed:
            emit(self.id, event)
        return sealed

    def record(self, type: str, decision: str, reasoning: str = "", **fields: Any) -> Event:
        """Build an event (lists accepted for ``alternatives``/``depends_on``) and add it."""
        return self.add(make_event(type, decision, reasoning, **fields))

    def _ids(self) -> set[str]:
        """The set of event ids, cached on the instance and rebuilt if ``events`` changed
        length behind the chain's back."""
        cached: set[str] | None = self.__dict__.get("_id_cache")
        if cached is None or len(cached) != len(self.events):
            cached = {e.id for e in self.events}
            self.__dict__["_id_cache"] = cached
        return cached

    # --- integrity ----------------------------------------------------------------------------

    @property
    def head(self) -> str:
        """The last event's hash (:data:`~crucible.trace.integrity.GENESIS` when empty)."""
        return (self.events[-1].hash or GENESIS) if self.events else GENESIS

    def verify(self) -> Verification:
        """Check the hash chain; ``ok`` or the first break's index and reason."""
        return verify(self.events)

    def sign(self, key: bytes) -> str:
        """Sign the head with ``key`` (HMAC-SHA256), store and return the signature."""
        self.signature = sign(self.head, key)
        return self.signature

    def signature_valid(self, key: bytes) -> bool:
        """Whether the stored signature matches the current head under ``key``."""
        return self.signature is not None and verify_signature(self.head, key, self.signature)

    # --- lookups (the original's Chain API) ---------------------------------------------------

    def get(self, event_id: str) -> Event | None:
        """The event with this id, or None."""
        return next((e for e in self.events if e.id == event_id), None)

    def by_type(self, *types: str) -> list[Event]:
        """Events of any of the given types."""
        wanted = set(types)
        return [e for e in self.events if e.type in wanted]

    def in_range(self, start: datetime, end: datetime) -> list[Event]:
        """Events with ``start <= timestamp <= end``."""
        return [e for e in self.events if start <= e.timestamp <= end]

    def filter(self, predicate: Callable[[Event], bool]) -> list[Event]:
        """Events for which ``predicate`` holds (a :mod:`~crucible.trace.query` works too)."""
        return [e for e in self.events if predicate(e)]

    def sorted_by_time(self, *, descending: bool = False) -> list[Event]:
        """Events by timestamp (stable, so chain order breaks ties)."""
        return sorted(self.events, key=lambda e: e.timestamp, reverse=descending)

    def children(self, event_id: str) -> list[Event]:
        """Events whose parent is ``event_id``."""
        return [e for e in self.events if e.parent_id == event_id]

    def parent(self, event_id: str) -> Event | None:
        """The parent of ``event_id``, or None."""
        event = self.get(event_id)
        return self.get(event.parent_id) if event and event.parent_id else None

    def decision_points(self) -> list[Event]:
        """Hypotheses formed and alternatives rejected: where the reasoning branched."""
        return self.by_type("hypothesis_formed", "alternative_rejected")

    def low_confidence(self, threshold: float = 0.7) -> list[Event]:
        """Events with confidence below ``threshold``."""
        return [e for e in self.events if e.confidence < threshold]

    def merge(self, other: Chain, *, name: str | None = None) -> Chain:
        """A new chain with the events of both by timestamp (an id in both is kept once,
        from ``self``), re-sealed: merging rewrites history, so it gets a new hash chain."""
        seen: set[str] = set()
        merged: list[Event] = []
        for event in sorted([*self.events, *other.events], key=lambda e: e.timestamp):
            if event.id not in seen:
                seen.add(event.id)
                merged.append(msgspec.structs.replace(event, prev_hash=None, hash=None))
        ordered = _parents_first(merged)
        return Chain.of(name or f"{self.name}+{other.name}", ordered, metadata=dict(self.metadata))

    # --- serialization ------------------------------------------------------------------------

    def to_json(self) -> bytes:
        """The chain as one JSON document."""
        return msgspec.json.encode(self)

    @classmethod
    def from_json(cls, doc: bytes | str) -> Chain:
        """A chain from :meth:`to_json` output (events are not re-sealed: verify it)."""
        try:
            return msgspec.json.decode(doc, type=cls)
        except (msgspec.DecodeError, RecursionError) as exc:
            raise SerializationError(f"not a trace chain: {exc}") from exc


def _parents_first(events: list[Event]) -> list[Event]:
    """Events reordered, as little as possible, so each comes after what it references
    (references to events missing from the list stay as they are: adding reports them)."""
    ids = {e.id for e in events}
    placed: set[str] = set()
    out: list[Event] = []
    pending = events
    while pending:
        waiting: list[Event] = []
        for event in pending:
            refs = ([event.parent_id] if event.parent_id else []) + list(event.depends_on)
            if all(r in placed or r not in ids for r in refs):
                out.append(event)
                placed.add(event.id)
            else:
                waiting.append(event)
        if len(waiting) == len(pending):  # a cycle: leave the rest in order, add reports it
            out.extend(waiting)
            break
        pending = waiting
    return out


def make_event(type: str, decision: str, reasoning: str = "", **fields: Any) -> Event:
    """An :class:`Event`, accepting any sequence for ``alternatives`` and ``depends_on``."""
    for name in ("alternatives", "depends_on"):
        if name in fields and not isinstance(fields[name], tuple):
            fields[name] = tuple(fields[name])
    return Event(type=type, decision=decision, reasoning=reasoning, **fields)


def events_of(chain_or_events: Chain | Sequence[Event]) -> Sequence[Event]:
    """The events of a chain, or the sequence itself (for functions taking either)."""
    return chain_or_events.events if isinstance(chain_or_events, Chain) else chain_or_events
