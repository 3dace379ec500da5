"""Stores shared by experiments: one process-wide :class:`SQLiteStore` per file (one
writer thread per file, closed at exit), and the way the command line and
``start_experiment(store=...)`` name a store (a PostgreSQL DSN, ``"memory"``, a path, or
``None`` for the default file).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from crucible.errors import InvalidArgumentError, NotFoundError
from crucible.telemetry.store.base import Store
from crucible.telemetry.store.memory import MemoryStore
from crucible.telemetry.store.sqlite import SQLiteStore, default_path

__all__ = ["default_store", "open_store", "resolve_store", "store_from"]

_stores_lock = threading.Lock()
_shared_stores: dict[Path, SQLiteStore] = {}


def open_store(path: str | os.PathLike[str] | None = None) -> SQLiteStore:
    """The process-wide SQLite store of a file (one writer thread per file), opened on first
    use and closed at exit. ``None``: :func:`default_path`."""
    resolved = Path(path if path is not None else default_path()).resolve()
    with _stores_lock:
        store = _shared_stores.get(resolved)
        if store is None or store._closed:
            store = _shared_stores[resolved] = SQLiteStore(resolved)
        return store


def default_store() -> SQLiteStore:
    """The shared store at :func:`default_path` (``$CRUCIBLE_HOME`` or ``./.crucible``)."""
    return open_store(None)


def store_from(spec: str | os.PathLike[str] | None, *, must_exist: bool = False) -> Store:
    """A store named the way the command line names it: a ``postgresql://`` DSN (a new
    :class:`PostgresStore`), ``"memory"`` (a new :class:`MemoryStore`), a SQLite file path,
    or ``None`` for the default file (both shared, see :func:`open_store`).

    ``must_exist``: raise :class:`NotFoundError` instead of creating a missing SQLite file."""
    if isinstance(spec, str) and spec.startswith(("postgres://", "postgresql://")):
        from crucible.telemetry.store.postgres import PostgresStore

        return PostgresStore(spec)
    if spec == "memory":
        return MemoryStore()
    path = Path(spec) if spec is not None else default_path()
    if must_exist and not path.is_file():
        raise NotFoundError(f"no telemetry store at {path}")
    return open_store(path)


def resolve_store(store: Store | str | os.PathLike[str] | None) -> tuple[Store, bool]:
    """(store, owned): owned stores are closed when the experiment stops."""
    if store is None or isinstance(store, (str, os.PathLike)):
        resolved = store_from(store)
        return resolved, not isinstance(resolved, (SQLiteStore, MemoryStore))
    if not isinstance(store, Store):
        raise InvalidArgumentError(f"not a telemetry store: {store!r}")
    return store, False


def _after_fork_in_child() -> None:
    global _stores_lock
    _stores_lock = threading.Lock()  # another thread may have held it at the fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
