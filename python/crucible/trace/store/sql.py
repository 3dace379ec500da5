"""The SQLite trace store's schema, its larger statements and its write transactions.

WAL mode lets readers (a CLI listing chains, a live view) run while a run is appending;
``synchronous=NORMAL`` in WAL mode loses at most the last transactions on a power cut,
never corrupts the file. The trigram FTS5 table indexes every substring of three or more
characters, so content queries need no word boundaries and work in any script; its
``LIKE`` is case-insensitive for ASCII, as :func:`crucible.trace.query.content` is.
``columnsize = 0`` drops per-row token counts (only ranking uses them). Do not set
``detail = 'none'`` or ``'column'``: with them SQLite 3.40's trigram ``LIKE`` crashes the
process on some case-folded input (seen with U+0130, U+212A); the full detail is safe.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from crucible.errors import StorageError

__all__ = ["SCHEMA", "Transaction", "copy_version_sql"]

SCHEMA = """
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA busy_timeout = 10000;
CREATE TABLE IF NOT EXISTS chains (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    created_us  INTEGER NOT NULL,
    metadata    BLOB NOT NULL,
    version     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chains_name ON chains(name, created_us);
CREATE TABLE IF NOT EXISTS versions (
    chain_id    TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_us  INTEGER NOT NULL,
    updated_us  INTEGER NOT NULL,
    events      INTEGER NOT NULL,
    head        TEXT NOT NULL,
    note        TEXT NOT NULL,
    PRIMARY KEY (chain_id, version)
);
CREATE TABLE IF NOT EXISTS events (
    rowid         INTEGER PRIMARY KEY,
    chain_id      TEXT NOT NULL,
    version       INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    id            TEXT NOT NULL,
    type          TEXT NOT NULL,
    ts_us         INTEGER NOT NULL,
    confidence    REAL NOT NULL,
    stage         TEXT,
    experiment_id TEXT,
    doc           BLOB NOT NULL,
    UNIQUE (chain_id, version, seq)
);
CREATE INDEX IF NOT EXISTS events_type ON events(type);
CREATE INDEX IF NOT EXISTS events_time ON events(ts_us);
CREATE INDEX IF NOT EXISTS events_stage ON events(stage);
CREATE INDEX IF NOT EXISTS events_experiment ON events(experiment_id);
CREATE INDEX IF NOT EXISTS events_id ON events(id);
CREATE VIRTUAL TABLE IF NOT EXISTS events_fts
    USING fts5(text, tokenize = 'trigram', columnsize = 0);
"""


def copy_version_sql() -> tuple[str, ...]:
    """Statements copying the events of version ``:old`` of chain ``:chain`` to version
    ``:new``, with their full-text rows (named parameters)."""
    return (
        "INSERT INTO events(chain_id, version, seq, id, type, ts_us, confidence, stage, "
        "experiment_id, doc) SELECT chain_id, :new, seq, id, type, ts_us, confidence, stage, "
        "experiment_id, doc FROM events WHERE chain_id = :chain AND version = :old ORDER BY seq",
        "INSERT INTO events_fts(rowid, text) SELECT n.rowid, f.text FROM events o "
        "JOIN events n ON n.chain_id = o.chain_id AND n.version = :new AND n.seq = o.seq "
        "JOIN events_fts f ON f.rowid = o.rowid WHERE o.chain_id = :chain AND o.version = :old",
    )


class Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) under a lock: IMMEDIATE
    takes SQLite's write lock up front, so two writers (threads or processes) queue instead
    of failing half-way with "database is locked"."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock, path: Path) -> None:
        self.db, self.lock, self.path = db, lock, path

    def __enter__(self) -> None:
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self.lock.release()
            raise StorageError(f"{self.path}: {exc}") from exc

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
        finally:
            self.lock.release()
        if isinstance(exc, sqlite3.Error):
            raise StorageError(f"{self.path}: {exc}") from exc
