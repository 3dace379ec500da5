"""The SQLite trace store: many chains, indexed, searchable, versioned, in one file.

Each event row keeps the exact bytes that were hashed (``doc``), so :meth:`SqliteStore.verify`
checks what is on disk, plus the columns queries filter on (type, time in integer
microseconds, confidence, stage, experiment), each indexed; an FTS5 table with the trigram
tokenizer indexes the searchable text so content queries (substrings, any language) use an
index. Reads page through rows by sequence number and never hold a whole chain, so chains
larger than memory stream.

Versions: a chain's events belong to a version. :meth:`~SqliteStore.append` grows the
latest one (a run recording as it goes); :meth:`~SqliteStore.save` stores a chain as a new
version; :meth:`~SqliteStore.rollback` makes an old version current again by saving a copy
of it as the newest, so history is only ever added to, never rewritten.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

from crucible.errors import NotFoundError, StorageError
from crucible.trace.chain import Chain
from crucible.trace.event import Event, decode_event, from_us, to_us, utc_now
from crucible.trace.integrity import GENESIS, Verification, seal_encoded, verify_docs
from crucible.trace.query import Query, searchable_text, to_sql
from crucible.trace.store.base import ChainHeader, ChainInfo, VersionInfo, default_db
from crucible.trace.store.sql import SCHEMA, Transaction, copy_version_sql

__all__ = ["SqliteStore"]


class SqliteStore:
    """Trace chains in a SQLite file (default: ``<CRUCIBLE_HOME or ./.crucible>/trace.sqlite3``)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_db()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open trace store {self.path}: {exc}") from exc
        self._lock = threading.RLock()

    # --- plumbing -----------------------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StorageError(f"{self.path}: {exc}") from exc

    def _transaction(self) -> Transaction:
        return Transaction(self._db, self._lock, self.path)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- chains and versions ------------------------------------------------------------------

    def resolve(self, ref: str) -> str:
        """A chain id from an id, a name (the latest chain so named) or a unique id prefix."""
        if self._rows("SELECT 1 FROM chains WHERE id = ?", (ref,)):
            return ref
        named = self._rows(
            "SELECT id FROM chains WHERE name = ? ORDER BY created_us DESC LIMIT 1", (ref,)
        )
        if named:
            return str(named[0][0])
        if len(ref) >= 4:
            pattern = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            found = self._rows(
                "SELECT id FROM chains WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (pattern,)
            )
            if len(found) == 1:
                return str(found[0][0])
        raise NotFoundError(f"no trace chain {ref!r} in {self.path}")

    def _current(self, chain_id: str) -> tuple[int, int, str]:
        """(version, events, head) of the latest version."""
        rows = self._rows(
            "SELECT v.version, v.events, v.head FROM chains c JOIN versions v "
            "ON v.chain_id = c.id AND v.version = c.version WHERE c.id = ?",
            (chain_id,),
        )
        if not rows:
            raise NotFoundError(f"no trace chain {chain_id!r} in {self.path}")
        return int(rows[0][0]), int(rows[0][1]), str(rows[0][2])

    def _version(self, chain_id: str, version: int | None) -> int:
        if version is None:
            return self._current(chain_id)[0]
        if not self._rows(
            "SELECT 1 FROM versions WHERE chain_id = ? AND version = ?", (chain_id, version)
        ):
            raise NotFoundError(f"chain {chain_id!r} has no version {version}")
        return version

    def chains(self) -> list[ChainInfo]:
        """Every chain, newest first, as of its latest version."""
        rows = self._rows(
            "SELECT c.id, c.name, c.description, c.created_us, v.updated_us, v.version, "
            "v.events, v.head FROM chains c JOIN versions v ON v.chain_id = c.id "
            "AND v.version = c.version ORDER BY c.created_us DESC, c.id"
        )
        return [
            ChainInfo(
                id=r[0],
                name=r[1],
                description=r[2],
                created_at=from_us(r[3]),
                updated_at=from_us(r[4]),
                version=r[5],
                events=r[6],
                head=r[7],
            )
            for r in rows
        ]

    def versions(self, ref: str) -> list[VersionInfo]:
        """The saved versions of a chain, oldest first."""
        rows = self._rows(
            "SELECT version, created_us, events, head, note FROM versions WHERE chain_id = ? "
            "ORDER BY version",
            (self.resolve(ref),),
        )
        return [
            VersionInfo(version=r[0], created_at=from_us(r[1]), events=r[2], head=r[3], note=r[4])
            for r in rows
        ]

    def header(self, ref: str) -> ChainHeader:
        """A chain's name, description, creation time and metadata."""
        chain_id = self.resolve(ref)
        row = self._rows(
            "SELECT name, description, created_us, metadata FROM chains WHERE id = ?", (chain_id,)
        )[0]
        return ChainHeader(
            id=chain_id,
            name=row[0],
            description=row[1],
            created_at=from_us(row[2]),
            metadata=msgspec.json.decode(row[3]),
        )

    # --- writing ------------------------------------------------------------------------------

    def _ensure_chain(self, header: ChainHeader) -> None:
        """Create the chain with an empty version 1 if it is new (inside a transaction)."""
        now = to_us(utc_now())
        self._db.execute(
            "INSERT OR IGNORE INTO chains(id, name, description, created_us, metadata, version) "
            "VALUES (?, ?, ?, ?, ?, 1)",
            (
                header.id,
                header.name,
                header.description,
                to_us(header.created_at),
                msgspec.json.encode(header.metadata),
            ),
        )
        self._db.execute(
            "INSERT OR IGNORE INTO versions(chain_id, version, created_us, updated_us, events, "
            "head, note) VALUES (?, 1, ?, ?, 0, ?, '')",
            (header.id, now, now, GENESIS),
        )

    def _insert(
        self,
        chain_id: str,
        version: int,
        start: int,
        events: Sequence[Event],
        docs: Sequence[bytes],
    ) -> None:
        """Insert sealed events at ``seq = start, start + 1, ...`` (inside a transaction,
        which holds the write lock, so the rowids chosen here stay free)."""
        base = self._db.execute("SELECT COALESCE(MAX(rowid), 0) + 1 FROM events").fetchone()[0]
        rows = [
            (
                base + i,
                chain_id,
                version,
                start + i,
                e.id,
                e.type,
                to_us(e.timestamp),
                float(e.confidence),
                e.stage,
                e.experiment_id,
                doc,
            )
            for i, (e, doc) in enumerate(zip(events, docs, strict=True))
        ]
        self._db.executemany(
            "INSERT INTO events(rowid, chain_id, version, seq, id, type, ts_us, confidence, "
            "stage, experiment_id, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        self._db.executemany(
            "INSERT INTO events_fts(rowid, text) VALUES (?, ?)",
            ((base + i, searchable_text(e)) for i, e in enumerate(events)),
        )

    def append(self, ref_or_chain: str | Chain, events: Iterable[Event]) -> list[Event]:
        """Seal ``events`` after the latest version's head and store them; returns them
        sealed. A :class:`Chain` argument creates the chain if it is new."""
        with self._transaction():
            if isinstance(ref_or_chain, Chain):
                self._ensure_chain(ChainHeader.of(ref_or_chain))
                chain_id = ref_or_chain.id
            else:
                chain_id = self.resolve(ref_or_chain)
            version, count, head = self._current(chain_id)
            sealed, docs = seal_encoded(list(events), head)
            if sealed:
                self._insert(chain_id, version, count, sealed, docs)
                self._db.execute(
                    "UPDATE versions SET events = ?, head = ?, updated_us = ? "
                    "WHERE chain_id = ? AND version = ?",
                    (count + len(sealed), sealed[-1].hash, to_us(utc_now()), chain_id, version),
                )
            return sealed

    def write(self, chain: Chain, events: Sequence[Event]) -> None:
        """:class:`~crucible.trace.store.base.Sink`: events just added to ``chain``."""
        self.append(chain, events)

    def save(self, chain: Chain, *, note: str = "") -> int:
        """Store ``chain`` as a new version (version 1 if the chain is new); returns the
        version number. Its events must form a valid hash chain from the start (they are
        re-hashed, and :class:`~crucible.errors.IntegrityError` is raised if they do not)."""
        sealed, docs = seal_encoded(chain.events)
        header = ChainHeader.of(chain)
        with self._transaction():
            fresh = not self._db.execute(
                "SELECT 1 FROM chains WHERE id = ?", (chain.id,)
            ).fetchone()
            self._ensure_chain(header)
            version = 1 if fresh else self._current(chain.id)[0] + 1
            self._new_version(chain.id, version, sealed, note)
            self._insert(chain.id, version, 0, sealed, docs)
            self._db.execute(
                "UPDATE chains SET name = ?, description = ?, metadata = ? WHERE id = ?",
                (chain.name, chain.description, msgspec.json.encode(chain.metadata), chain.id),
            )
            return version

    def _new_version(self, chain_id: str, version: int, events: Sequence[Event], note: str) -> None:
        now = to_us(utc_now())
        head = (events[-1].hash or GENESIS) if events else GENESIS
        self._db.execute(
            "INSERT OR REPLACE INTO versions(chain_id, version, created_us, updated_us, events, "
            "head, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (chain_id, version, now, now, len(events), head, note),
        )
        self._db.execute("UPDATE chains SET version = ? WHERE id = ?", (version, chain_id))

    def rollback(self, ref: str, version: int, *, note: str | None = None) -> int:
        """Make ``version`` current again, by saving a copy of it as a new version (the
        versions after it stay in the history); returns the new version number."""
        chain_id = self.resolve(ref)
        with self._transaction():
            old = self._version(chain_id, version)
            current = self._current(chain_id)[0]
            new = current + 1
            count, head = self._db.execute(
                "SELECT events, head FROM versions WHERE chain_id = ? AND version = ?",
                (chain_id, old),
            ).fetchone()
            self._db.execute(
                "INSERT INTO versions(chain_id, version, created_us, updated_us, events, head, "
                "note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    chain_id,
                    new,
                    to_us(utc_now()),
                    to_us(utc_now()),
                    count,
                    head,
                    note if note is not None else f"rollback to version {old}",
                ),
            )
            self._db.execute("UPDATE chains SET version = ? WHERE id = ?", (new, chain_id))
            for sql in copy_version_sql():
                self._db.execute(sql, {"chain": chain_id, "old": old, "new": new})
            return new

    def delete(self, ref: str) -> None:
        """Remove a chain, all its versions and events."""
        chain_id = self.resolve(ref)
        with self._transaction():
            self._db.execute(
                "DELETE FROM events_fts WHERE rowid IN "
                "(SELECT rowid FROM events WHERE chain_id = ?)",
                (chain_id,),
            )
            for table, column in (
                ("events", "chain_id"),
                ("versions", "chain_id"),
                ("chains", "id"),
            ):
                self._db.execute(f"DELETE FROM {table} WHERE {column} = ?", (chain_id,))

    # --- reading ------------------------------------------------------------------------------

    def docs(self, ref: str, version: int | None = None, *, batch: int = 10_000) -> Iterator[bytes]:
        """The stored event documents of a chain version, in order, page by page."""
        chain_id = self.resolve(ref)
        version = self._version(chain_id, version)
        seq = -1
        while True:
            rows = self._rows(
                # CAST: a doc tampered with as TEXT still comes back as its exact bytes
                "SELECT seq, CAST(doc AS BLOB) FROM events WHERE chain_id = ? AND version = ? "
                "AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (chain_id, version, seq, batch),
            )
            for row in rows:
                yield bytes(row[1])
            if len(rows) < batch:
                return
            seq = rows[-1][0]

    def events(
        self, ref: str, version: int | None = None, *, batch: int = 10_000
    ) -> Iterator[Event]:
        """The events of a chain version, lazily (for chains larger than memory)."""
        for doc in self.docs(ref, version, batch=batch):
            yield decode_event(doc)

    def load(self, ref: str, version: int | None = None) -> Chain:
        """A whole chain version in memory."""
        return self.header(ref).chain(list(self.events(ref, version)))

    def verify(self, ref: str, version: int | None = None, *, batch: int = 50_000) -> Verification:
        """Check the stored bytes of a chain version, in batches (constant memory)."""
        prev, seen, buffer = GENESIS, 0, []
        for doc in self.docs(ref, version, batch=batch):
            buffer.append(doc)
            if len(buffer) == batch:
                result = verify_docs(buffer, prev, offset=seen)
                if not result.ok:
                    return msgspec.structs.replace(result, checked=seen + result.checked)
                prev, seen, buffer = result.head, seen + batch, []
        result = verify_docs(buffer, prev, offset=seen)
        return msgspec.structs.replace(result, checked=seen + result.checked)

    def search(
        self,
        query: Query,
        *,
        chain: str | None = None,
        version: int | None = None,
        limit: int | None = None,
        batch: int = 5_000,
    ) -> Iterator[tuple[str, Event]]:
        """``(chain_id, event)`` for each event matching ``query``, in the latest version
        of each chain (or of ``chain``, or its ``version``), lazily. The query's SQL
        prefilter picks candidates through the indexes; the query itself decides."""
        where, params = ["1"], []
        if chain is not None:
            chain_id = self.resolve(chain)
            where.append("e.chain_id = ? AND e.version = ?")
            params += [chain_id, self._version(chain_id, version)]
        else:
            where.append("e.version = (SELECT version FROM chains c WHERE c.id = e.chain_id)")
        prefilter, _exact = to_sql(query)
        if prefilter is not None:
            where.append(f"({prefilter[0]})")
            params += prefilter[1]
        found, last = 0, -1
        while True:
            rows = self._rows(
                f"SELECT e.rowid, e.chain_id, CAST(e.doc AS BLOB) FROM events e "
                f"WHERE {' AND '.join(where)} "
                "AND e.rowid > ? ORDER BY e.rowid LIMIT ?",
                [*params, last, batch],
            )
            for _, chain_id, doc in rows:
                event = decode_event(doc)
                if query(event):
                    yield chain_id, event
                    found += 1
                    if limit is not None and found >= limit:
                        return
            if len(rows) < batch:
                return
            last = rows[-1][0]

    def diff(self, ref: str, a: int, b: int) -> Any:
        """:func:`~crucible.trace.diff.diff` of two versions of a chain."""
        from crucible.trace.diff import diff

        return diff(self.load(ref, a), self.load(ref, b))
