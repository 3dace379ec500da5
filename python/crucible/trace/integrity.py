"""Tamper evidence: the SHA-256 hash chain over a trace's events, its check and its signature.

Event i's ``hash`` is SHA-256(raw ``prev_hash`` ‖ RFC 8785 canonical JSON of event i without
``hash`` and ``prev_hash``); the first event's ``prev_hash`` is 64 zeros (:data:`GENESIS`).
Editing an event changes its hash; removing, inserting or moving one breaks the next
``prev_hash`` link; so :func:`verify` finds the first place a stored chain was touched. A
chain rewritten from the edit onwards (all hashes recomputed) is still consistent, which is
what :func:`sign` is for: an HMAC-SHA256 of the head that only the key holder can redo.

All hashing runs in the Rust core (``crucible._core``) over whole batches, off the GIL:
sealing takes a batch as one JSON array (one msgspec call) and pipelines canonicalizing and
hashing over two threads; a large batch is encoded in chunks instead, each sealed on a
worker thread while the next is encoded and copied while later ones are sealed, since
encoding and copying cost about as much as hashing.
Events encode in canonical member order, so canonicalizing is one pass over each document
(the general path, which sorts, only runs for documents out of order, such as events with
unsorted ``metadata``). Verifying checks every document on all cores, then the links in
order. This module only encodes events, makes the sealed copies and interprets the answers.
Verification of stored chains works on the stored bytes themselves (:func:`verify_docs`),
never on events decoded and re-encoded, so what is checked is exactly what is on disk.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from typing import Literal, Protocol, cast

import msgspec

from crucible import _core
from crucible.errors import IntegrityError
from crucible.trace.event import (
    Event,
    encode_event,
    encode_event_array,
    encode_events,
    with_links,
)

__all__ = [
    "GENESIS",
    "BreakKind",
    "Verification",
    "seal",
    "seal_encoded",
    "sign",
    "verify",
    "verify_docs",
    "verify_signature",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of a chain's first event."""

BreakKind = Literal["link", "content", "missing", "malformed"]


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    """The result of checking a chain: ``ok``, or the first break's ``index``, ``kind`` and
    ``reason``. ``checked`` counts the events examined; ``head`` is the last verified hash
    (the chain's head when ``ok``)."""

    ok: bool
    checked: int
    head: str = GENESIS
    index: int | None = None
    kind: BreakKind | None = None
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.ok

    def raise_for_break(self) -> None:
        """Raise :class:`~crucible.errors.IntegrityError` unless the chain is intact."""
        if not self.ok:
            raise IntegrityError(f"trace chain broken at event {self.index}: {self.reason}")


def seal(events: Sequence[Event], prev: str = GENESIS) -> list[Event]:
    """The events with ``prev_hash`` and ``hash`` set, chained after ``prev`` (the head of
    the chain they extend).

    An event that already carries a hash must get the same hash here (same content, same
    position after the same head); otherwise it was sealed into a different chain or edited
    since, and :class:`~crucible.errors.IntegrityError` is raised rather than silently
    re-sealing it.
    """
    return _seal(events, prev, stored=False)[0]


def seal_encoded(events: Sequence[Event], prev: str = GENESIS) -> tuple[list[Event], list[bytes]]:
    """:func:`seal`, plus each sealed event's stored document (what stores write).

    The sealed document is the unsealed one with ``prev_hash`` and ``hash`` appended:
    they are the last fields of :class:`Event`, so this is byte for byte what encoding the
    sealed event gives (``tests/trace/test_integrity.py`` checks it), at a fraction of the
    cost of encoding every event twice. The Rust core writes them while the GIL is held
    only to allocate the bytes objects.
    """
    sealed, stored = _seal(events, prev, stored=True)
    return sealed, cast("list[bytes]", stored)


_CHUNK = 4096
"""Events per chunk of a large batch: small enough that the worker starts early and
finishes soon after the last chunk is encoded, large enough that a chunk costs far more
than handing it over."""


def _seal_chunked(
    events: Sequence[Event], prev: str, stored: bool
) -> tuple[list[str], list[Event], list[bytes] | None, list[int]]:
    """:func:`_seal` of a large batch: encoded chunk by chunk while a worker thread seals
    the chunks already encoded, then copied chunk by chunk as their hashes come back while
    it seals the rest. Returns the hashes, the sealed events, the stored documents (when
    ``stored``) and the indices of the events that already carried a link."""
    sealer = _core.ChainSealer(None if prev == GENESIS else prev, stored)
    for i in range(0, len(events), _CHUNK):
        sealer.feed(encode_event_array(events[i : i + _CHUNK]))
    hashes: list[str] = []
    sealed: list[Event] = []
    linked: list[int] = []
    while (answer := sealer.next_hashes()) is not None:
        part, found = answer
        done = len(hashes)
        chained = [hashes[-1] if hashes else prev, *part[:-1]]
        sealed += with_links(events[done : done + len(part)], chained, part)
        hashes += part
        linked += found
    return hashes, sealed, sealer.finish(), linked


def _seal(
    events: Sequence[Event], prev: str, *, stored: bool
) -> tuple[list[Event], list[bytes] | None]:
    if not events:
        return [], [] if stored else None
    start = None if prev == GENESIS else prev
    if len(events) < 2 * _CHUNK:
        hashes, docs, linked = _core.trace_chain_seal(encode_event_array(events), start, stored)
        sealed = with_links(events, [prev, *hashes[:-1]], hashes)
    else:
        hashes, sealed, docs, linked = _seal_chunked(events, prev, stored)
    prevs = [prev, *hashes[:-1]]
    for i in linked:  # events that already carried a link: rare, checked one by one
        event = events[i]
        if event.hash is None:  # a prev_hash alone: sealed like the others
            if docs is not None:
                docs[i] = encode_event(sealed[i])
        elif event.hash == hashes[i] and event.prev_hash == prevs[i]:
            sealed[i] = event  # its stored document is its own, unchanged
        else:
            raise IntegrityError(
                f"event {event.id!r} was sealed as {event.hash[:12]}... after "
                f"{(event.prev_hash or '')[:12]}... but hashes to {hashes[i][:12]}... after "
                f"{prevs[i][:12]}... here: it belongs to another chain position or was edited"
            )
    return sealed, docs


def verify_docs(docs: Sequence[bytes], prev: str = GENESIS, *, offset: int = 0) -> Verification:
    """Check stored event documents (JSON bytes carrying ``hash`` and ``prev_hash``) that
    should chain on from ``prev``. Indices in the answer are counted from ``offset``.

    A document that is not valid JSON (a flipped byte, a torn write) is a ``"malformed"``
    break at its index, reported only if no earlier break exists.
    """
    docs = docs if isinstance(docs, list) else list(docs)
    head, found = _core.trace_chain_verify(docs, None if prev == GENESIS else prev)
    if found is None:
        return Verification(ok=True, checked=len(docs), head=head)
    index, kind, reason = found
    return Verification(
        ok=False,
        checked=index + 1,
        head=head,
        index=offset + index,
        kind=cast("BreakKind", kind),
        reason=reason,
    )


class _HasEvents(Protocol):
    @property
    def events(self) -> Sequence[Event]: ...


def verify(chain: _HasEvents | Iterable[Event], prev: str = GENESIS) -> Verification:
    """Check a :class:`~crucible.trace.chain.Chain` (or its events) in memory: ``ok``, or
    the index, kind and reason of the first break. Events are encoded exactly as stores
    write them, so an event decoded from a store verifies as its stored bytes do."""
    events = chain.events if hasattr(chain, "events") else chain
    return verify_docs(
        encode_events(events if isinstance(events, Sequence) else list(events)), prev
    )


def sign(head: str, key: bytes) -> str:
    """HMAC-SHA256 (hex) of a chain head under ``key``."""
    return _core.trace_sign_head(head, key)


def verify_signature(head: str, key: bytes, signature: str) -> bool:
    """Whether ``signature`` is :func:`sign` of ``head`` under ``key`` (constant time)."""
    return hmac.compare_digest(sign(head, key), signature.lower())
