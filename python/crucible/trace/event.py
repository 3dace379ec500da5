"""The trace event: one decision (or one step of a run) and why it was made.

An :class:`Event` is the unit a trace is made of. It keeps the original CrucibleTrace fields
(what was decided, the alternatives, the reasoning, a confidence), the relationships that
make a chain a DAG (``parent_id``, ``depends_on``), where it happened (``experiment_id``,
``stage``), what it cost (``model``, tokens, latency, dollars) and its place in the hash
chain (``prev_hash``, ``hash``, filled in when the event is added to a chain or a store).

Events are frozen: once hashed, an event must not change, and a frozen struct makes an
accidental edit an error instead of a silent integrity break.

Event types are strings so that traces stay readable JSON and new kinds of events need no
release: the known types are listed in :class:`~crucible.trace.catalog.EventType`, and
anything else must be namespaced (``"myteam:prompt_rewritten"``) so it can never collide
with a type added later.
"""

from __future__ import annotations

import copy
import itertools
import math
import os
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from itertools import repeat
from typing import Annotated, Any, NoReturn

import msgspec

from crucible.errors import ErrorItem, SerializationError, ValidationError
from crucible.trace.catalog import (
    CATEGORIES,
    KNOWN_TYPES,
    EventType,
    category_of,
    is_valid_type,
)

__all__ = [
    "CATEGORIES",
    "Event",
    "EventType",
    "category_of",
    "decode_event",
    "encode_event",
    "encode_event_array",
    "encode_events",
    "from_us",
    "is_valid_type",
    "new_id",
    "to_us",
    "utc_now",
    "with_link",
    "with_links",
]


_id_prefix = ""
_id_counter = itertools.count()


def _reseed_ids() -> None:
    global _id_prefix, _id_counter
    _id_prefix = os.urandom(8).hex()
    _id_counter = itertools.count()


_reseed_ids()
os.register_at_fork(after_in_child=_reseed_ids)


def new_id() -> str:
    """A fresh event id: 32 lower-case hex digits, as the original's are.

    A random 64-bit per-process prefix (drawn again in a forked child) and a counter,
    rather than a ``uuid4`` per event: ids are minted for every event on the hot path, and
    a system-random draw each time costs more than the rest of building an event.
    """
    return f"{_id_prefix}{next(_id_counter):016x}"


def utc_now() -> datetime:
    """The current time, timezone-aware (UTC), as every event timestamp is."""
    return datetime.now(timezone.utc)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch, exactly (no float rounding): how stores index
    time, since ISO strings with and without a fraction do not sort as text."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // _US


def from_us(us: int) -> datetime:
    """Inverse of :func:`to_us` (UTC)."""
    return _EPOCH + timedelta(microseconds=us)


NonNegInt = Annotated[int, msgspec.Meta(ge=0)]
NonNegFloat = Annotated[float, msgspec.Meta(ge=0)]
Confidence = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]


class Event(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    omit_defaults=True,
    gc=False,
):
    """One trace event. ``type`` and ``decision`` are required; everything else has a
    default (a fresh id, the current UTC time, confidence 1.0).

    Events are not tracked by the garbage collector (``gc=False``): a run records millions
    of them, and scanning them on every collection costs more than hashing them. Do not put
    an event (or anything holding it) inside its own ``metadata``.

    Fields are declared in RFC 8785 order (the two hash fields last), so an encoded event
    is already in canonical member order and hashing or verifying it takes Rust's one-pass
    path; keep new fields in that order.

    Constructing an event validates it (type, confidence in [0, 1], an aware timestamp,
    non-negative counts, no self-reference), as decoding one does, and raises
    :class:`~crucible.errors.ValidationError` listing every problem.
    """

    alternatives: tuple[str, ...] = ()
    code_section: str | None = None
    confidence: Confidence = 1.0
    cost_usd: NonNegFloat | None = None
    decision: str
    depends_on: tuple[str, ...] = ()
    experiment_id: str | None = None
    id: str = msgspec.field(default_factory=new_id)
    latency_ms: NonNegFloat | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    model: str | None = None
    parent_id: str | None = None
    reasoning: str = ""
    spec_reference: str | None = None
    stage: str | None = None
    timestamp: datetime = msgspec.field(default_factory=utc_now)
    tokens_in: NonNegInt | None = None
    tokens_out: NonNegInt | None = None
    type: str
    prev_hash: str | None = None
    hash: str | None = None

    def __post_init__(self) -> None:
        if not _looks_valid(self):
            raise ValidationError(_problems(self), f"invalid trace event {self.id!r}")

    @property
    def sealed(self) -> bool:
        """Whether the event carries its place in a hash chain."""
        return self.hash is not None


_OPTIONAL_TEXT = (
    "code_section",
    "spec_reference",
    "parent_id",
    "experiment_id",
    "stage",
    "model",
    "prev_hash",
    "hash",
)
_AMOUNTS = ("tokens_in", "tokens_out", "latency_ms", "cost_usd")


def _looks_valid(e: Event) -> bool:
    """One quick pass over every rule (construction does not check types or constraints
    by itself, only decoding does); on False, :func:`_problems` says what is wrong."""
    conf = e.confidence
    ts = e.timestamp
    if not (
        type(e.type) is str
        and (e.type in KNOWN_TYPES or is_valid_type(e.type))
        and type(e.decision) is str
        and type(e.reasoning) is str
        and type(e.id) is str
        and e.id
        and (type(conf) is float or type(conf) is int)
        and 0.0 <= conf <= 1.0
        and type(ts) is datetime
        and ts.tzinfo is not None
        and type(e.metadata) is dict
        and type(e.alternatives) is tuple
        and type(e.depends_on) is tuple
    ):
        return False
    for name in _OPTIONAL_TEXT:
        value = getattr(e, name)
        if value is not None and type(value) is not str:
            return False
    for name in _AMOUNTS:
        value = getattr(e, name)
        if value is not None and not _amount_ok(name, value):
            return False
    return (
        all(type(a) is str for a in e.alternatives)
        and all(type(d) is str for d in e.depends_on)
        and e.parent_id != e.id
        and e.id not in e.depends_on
    )


def _amount_ok(name: str, value: object) -> bool:
    if name.startswith("tokens"):
        return type(value) is int and value >= 0
    return (type(value) is float or type(value) is int) and math.isfinite(value) and value >= 0


def _problems(e: Event) -> list[ErrorItem]:
    """Everything wrong with an event, as JSON-pointer paths and messages."""
    out: list[ErrorItem] = []

    def bad(path: str, code: str, message: str) -> None:
        out.append(ErrorItem(path, code, message))

    if not isinstance(e.type, str) or not is_valid_type(e.type):
        bad("/type", "unknown_type", f"unknown event type {e.type!r} (use ns:name)")
    for name in ("decision", "reasoning", "id"):
        if not isinstance(getattr(e, name), str):
            bad(f"/{name}", "type", f"{name} must be a string")
    if e.id == "":
        bad("/id", "empty", "id must not be empty")
    conf = e.confidence
    if isinstance(conf, bool) or not isinstance(conf, (int, float)) or not 0.0 <= conf <= 1.0:
        bad("/confidence", "range", f"confidence must be a float in [0, 1], got {conf!r}")
    if not isinstance(e.timestamp, datetime) or e.timestamp.tzinfo is None:
        bad("/timestamp", "naive", "timestamp must be a timezone-aware datetime")
    if not isinstance(e.metadata, dict):
        bad("/metadata", "type", "metadata must be a dict")
    for name in ("alternatives", "depends_on"):
        value = getattr(e, name)
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            bad(f"/{name}", "type", f"{name} must be a tuple of strings")
    for name in _OPTIONAL_TEXT:
        value = getattr(e, name)
        if value is not None and not isinstance(value, str):
            bad(f"/{name}", "type", f"{name} must be a string or None")
    for name in _AMOUNTS:
        value = getattr(e, name)
        if value is not None and not _amount_ok(name, value):
            kind = "an int" if name.startswith("tokens") else "a finite number"
            bad(f"/{name}", "range", f"{name} must be {kind} >= 0, got {value!r}")
    if e.parent_id is not None and e.parent_id == e.id:
        bad("/parent_id", "self", "an event cannot be its own parent")
    if isinstance(e.depends_on, tuple) and e.id in e.depends_on:
        bad("/depends_on", "self", "an event cannot depend on itself")
    return out


def with_link(event: Event, prev_hash: str, hash: str) -> Event:
    """A copy of ``event`` with its place in a hash chain set.

    Sealing copies every event of a chain, so this skips what ``msgspec.structs.replace``
    would redo (``__post_init__`` validation, four times the cost of the copy): the event
    was validated when it was built, and only two hex strings from the Rust core change.
    """
    linked = copy.copy(event)  # Struct.__copy__: fields only, no __post_init__
    msgspec.structs.force_setattr(linked, "prev_hash", prev_hash)
    msgspec.structs.force_setattr(linked, "hash", hash)
    return linked


def with_links(
    events: Sequence[Event], prev_hashes: Sequence[str], hashes: Sequence[str]
) -> list[Event]:
    """:func:`with_link` for a whole batch, in three C-level passes (copy, then set each
    field) instead of a Python call per event: a third of the cost for large batches."""
    linked = list(map(_copy_struct, events))
    deque(map(_force_setattr, linked, repeat("prev_hash"), prev_hashes), maxlen=0)
    deque(map(_force_setattr, linked, repeat("hash"), hashes), maxlen=0)
    return linked


# Struct.__copy__ copies the fields only (no __post_init__); msgspec's stubs omit it.
_copy_struct: Callable[[Event], Event] = msgspec.Struct.__copy__  # type: ignore[attr-defined]
_force_setattr = msgspec.structs.force_setattr
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Event)


def encode_event(event: Event) -> bytes:
    """The event's JSON document, as stored and hashed.

    Fields equal to their default are left out, so a field added to :class:`Event` later
    (with a default) does not change the hash of any event recorded before it existed.
    """
    try:
        return _encoder.encode(event)
    except (TypeError, ValueError, OverflowError) as exc:
        raise SerializationError(f"event {event.id!r} cannot be encoded: {exc}") from exc


def encode_event_array(events: Sequence[Event]) -> bytes:
    """The events' documents as one JSON array (each element exactly :func:`encode_event`
    of its event): one encoder call for a whole batch, half the cost of one per event."""
    try:
        return _encoder.encode(events if isinstance(events, (list, tuple)) else list(events))
    except (TypeError, ValueError, OverflowError) as exc:
        _raise_for_first_bad(events, exc)


def encode_events(events: Sequence[Event]) -> list[bytes]:
    """:func:`encode_event` of each event."""
    try:
        return list(map(_encoder.encode, events))
    except (TypeError, ValueError, OverflowError) as exc:
        _raise_for_first_bad(events, exc)


def _raise_for_first_bad(events: Sequence[Event], exc: Exception) -> NoReturn:
    for event in events:
        encode_event(event)  # raises SerializationError naming the event
    raise SerializationError(f"events cannot be encoded: {exc}") from exc


def decode_event(doc: bytes | str) -> Event:
    """An event from its JSON document; :class:`~crucible.errors.SerializationError` if the
    document is not a valid event."""
    try:
        return _decoder.decode(doc)
    except ValidationError as exc:
        raise SerializationError(str(exc)) from exc
    except (msgspec.DecodeError, RecursionError) as exc:
        raise SerializationError(f"not a trace event: {exc}") from exc
