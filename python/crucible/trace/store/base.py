"""What trace stores share: where they live, what they describe, what they accept.

Two stores keep traces: :class:`~crucible.trace.store.jsonl.JsonlWriter` streams one chain
to an append-only file as it happens (the flight recorder), and
:class:`~crucible.trace.store.sqlite.SqliteStore` keeps many chains, indexed and searchable,
with versions (the archive). Both accept events through the :class:`Sink` protocol, so a
:class:`~crucible.trace.tracer.Tracer` can write to either or both.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import msgspec

from crucible.trace.chain import Chain
from crucible.trace.event import Event, utc_now

__all__ = ["ChainHeader", "ChainInfo", "Sink", "VersionInfo", "crucible_home", "default_db"]


def crucible_home() -> Path:
    """``$CRUCIBLE_HOME`` if set, else ``./.crucible`` (shared with telemetry)."""
    return Path(os.environ.get("CRUCIBLE_HOME") or Path.cwd() / ".crucible")


def default_db() -> Path:
    """The default SQLite trace store: ``<home>/trace.sqlite3`` (beside telemetry's
    ``telemetry.sqlite3``)."""
    return crucible_home() / "trace.sqlite3"


class ChainHeader(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A chain without its events: what a JSONL file's first line records."""

    id: str
    name: str
    description: str = ""
    created_at: datetime = msgspec.field(default_factory=utc_now)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)

    @classmethod
    def of(cls, chain: Chain) -> ChainHeader:
        return cls(
            id=chain.id,
            name=chain.name,
            description=chain.description,
            created_at=chain.created_at,
            metadata=dict(chain.metadata),
        )

    def chain(self, events: Sequence[Event] = ()) -> Chain:
        """A :class:`Chain` with this header and ``events`` (as stored, not re-sealed)."""
        return Chain(
            id=self.id,
            name=self.name,
            description=self.description,
            created_at=self.created_at,
            metadata=dict(self.metadata),
            events=list(events),
            updated_at=events[-1].timestamp if events else self.created_at,
        )


class ChainInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A stored chain as listed by a store (its latest version)."""

    id: str
    name: str
    description: str
    created_at: datetime
    updated_at: datetime
    version: int
    events: int
    head: str


class VersionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One saved version of a chain."""

    version: int
    created_at: datetime
    events: int
    head: str
    note: str = ""


@runtime_checkable
class Sink(Protocol):
    """Somewhere sealed events go as they are recorded."""

    def write(self, chain: Chain, events: Sequence[Event]) -> None:
        """Store ``events`` (just added to ``chain``, already sealed) after those stored
        before; raise :class:`~crucible.errors.IntegrityError` if they do not follow on."""
        ...
