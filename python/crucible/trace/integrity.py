"""Tamper evidence: the SHA-256 hash chain over a trace's events, its check and its signature.

Event i's ``hash`` is SHA-256(raw ``prev_hash`` ‖ RFC 8785 canonical JSON of event i without
``hash`` and ``prev_hash``); the first event's ``prev_hash`` is 64 zeros (:data:`GENESIS`).
Editing an event changes its hash; removing, inserting or moving one breaks the next
``prev_hash`` link; so :func:`verify` finds the first place a stored chain was touched. A
chain rewritten from the edit onwards (all hashes recomputed) is still consistent, which is
what :func:`sign` is for: an HMAC-SHA256 of the head that only the key holder can redo.

All hashing runs in the Rust core (``crucible._core``) over whole batches, off the GIL and
on all cores; this module only encodes events and interprets the answers. Verification of
stored chains works on the stored bytes themselves (:func:`verify_docs`), never on events
decoded and re-encoded, so what is checked is exactly what is on disk.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Sequence
from typing import Literal, Protocol

import msgspec

from crucible import _core
from crucible.errors import IntegrityError, SerializationError
from crucible.trace.event import Event, encode_event, with_link

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
    return seal_encoded(events, prev)[0]


def seal_encoded(events: Sequence[Event], prev: str = GENESIS) -> tuple[list[Event], list[bytes]]:
    """:func:`seal`, plus each sealed event's stored document (what stores write).

    The sealed document is the unsealed one with ``prev_hash`` and ``hash`` appended:
    they are the last fields of :class:`Event`, so this is byte for byte what encoding the
    sealed event gives (``tests/trace/test_integrity.py`` checks it), at a fraction of the
    cost of encoding every event twice.
    """
    if not events:
        return [], []
    docs = [encode_event(e) for e in events]
    hashes = _core.trace_chain_build(docs, None if prev == GENESIS else prev)
    out: list[Event] = []
    stored: list[bytes] = []
    for event, doc, digest in zip(events, docs, hashes, strict=True):
        if event.hash is None:
            out.append(with_link(event, prev, digest))
            stored.append(
                b'%s,"prev_hash":"%s","hash":"%s"}' % (doc[:-1], prev.encode(), digest.encode())
            )
        elif event.hash == digest and event.prev_hash == prev:
            out.append(event)
            stored.append(doc)
        else:
            raise IntegrityError(
                f"event {event.id!r} was sealed as {event.hash[:12]}... after "
                f"{(event.prev_hash or '')[:12]}... but hashes to {digest[:12]}... after "
                f"{prev[:12]}... here: it belongs to another chain position or was edited"
            )
        prev = digest
    return out, stored


_EVENT_INDEX = re.compile(r"event (\d+):")


def verify_docs(docs: Sequence[bytes], prev: str = GENESIS, *, offset: int = 0) -> Verification:
    """Check stored event documents (JSON bytes carrying ``hash`` and ``prev_hash``) that
    should chain on from ``prev``. Indices in the answer are counted from ``offset``.

    A document that is not valid JSON (a flipped byte, a torn write) is a ``"malformed"``
    break at its index, reported only if no earlier break exists.
    """
    docs = list(docs)
    malformed: int | None = None
    while True:
        try:
            found = _core.trace_chain_verify(docs, None if prev == GENESIS else prev)
            break
        except SerializationError as exc:
            bad = _first_unparsable(docs, exc)
            malformed = bad
            docs = docs[:bad]
    if found is not None:
        index, kind, reason = found
        return Verification(
            ok=False,
            checked=index + 1,
            head=_head_of(docs[index - 1]) if index else prev,
            index=offset + index,
            kind=kind,  # type: ignore[arg-type]
            reason=reason,
        )
    head = _head_of(docs[-1]) if docs else prev
    if malformed is not None:
        return Verification(
            ok=False,
            checked=malformed + 1,
            head=head,
            index=offset + malformed,
            kind="malformed",
            reason="the stored event is not valid JSON (damaged or torn)",
        )
    return Verification(ok=True, checked=len(docs), head=head)


def _first_unparsable(docs: list[bytes], exc: SerializationError) -> int:
    """The index of an unparsable document: the one the Rust error names (with many bad
    documents, parallel parsing may name any of them; the caller then retries the prefix)."""
    match = _EVENT_INDEX.match(str(exc))
    if match is not None and int(match.group(1)) < len(docs):
        return int(match.group(1))
    for i, doc in enumerate(docs):  # unexpected message: find it the slow way
        try:
            _core.canonical_json(doc)
        except SerializationError:
            return i
    raise exc


def _head_of(doc: bytes) -> str:
    try:
        value = msgspec.json.decode(doc)
    except msgspec.DecodeError:
        return GENESIS
    found = value.get("hash") if isinstance(value, dict) else None
    return found if isinstance(found, str) else GENESIS


class _HasEvents(Protocol):
    @property
    def events(self) -> Sequence[Event]: ...


def verify(chain: _HasEvents | Iterable[Event], prev: str = GENESIS) -> Verification:
    """Check a :class:`~crucible.trace.chain.Chain` (or its events) in memory: ``ok``, or
    the index, kind and reason of the first break. Events are encoded exactly as stores
    write them, so an event decoded from a store verifies as its stored bytes do."""
    events = chain.events if hasattr(chain, "events") else chain
    return verify_docs([encode_event(e) for e in events], prev)


def sign(head: str, key: bytes) -> str:
    """HMAC-SHA256 (hex) of a chain head under ``key``."""
    return _core.trace_sign_head(head, key)


def verify_signature(head: str, key: bytes, signature: str) -> bool:
    """Whether ``signature`` is :func:`sign` of ``head`` under ``key`` (constant time)."""
    return hmac.compare_digest(sign(head, key), signature.lower())
