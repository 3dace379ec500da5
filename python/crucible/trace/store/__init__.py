"""Where traces are kept: an append-only JSONL file per chain, or a SQLite store of many."""

from __future__ import annotations

from crucible.trace.store.base import (
    ChainHeader,
    ChainInfo,
    Sink,
    VersionInfo,
    crucible_home,
    default_db,
)
from crucible.trace.store.jsonl import (
    FsyncPolicy,
    JsonlReader,
    JsonlWriter,
    TornTail,
    TornTailWarning,
)
from crucible.trace.store.sqlite import SqliteStore

__all__ = [
    "ChainHeader",
    "ChainInfo",
    "FsyncPolicy",
    "JsonlReader",
    "JsonlWriter",
    "Sink",
    "SqliteStore",
    "TornTail",
    "TornTailWarning",
    "VersionInfo",
    "crucible_home",
    "default_db",
]
