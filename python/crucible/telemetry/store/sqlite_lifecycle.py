"""Process life of the SQLite stores: flushed at interpreter exit, and safe across fork().

Why here: these hooks are process-wide (``atexit``, ``os.register_at_fork``,
multiprocessing finalizers) and concern every open store at once, not one store's logic.

* At exit, every open store is closed (flushed); a store that cannot flush warns instead of
  hiding the error. multiprocessing children leave through ``os._exit``, skipping atexit,
  so the same hook is registered as a ``multiprocessing.util.Finalize`` in each process.
* fork() copies only the forking thread: a child whose parent had another thread inside
  SQLite (holding SQLite's own mutexes) deadlocks on its first SQLite call. So every use of
  SQLite by the stores holds the store's ``io`` lock, and fork() waits for all of them;
  in the child, open stores restart their writer (:meth:`Tracked.forked`).
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import os
import threading
import warnings
import weakref
from pathlib import Path
from typing import Protocol

from crucible.errors import StorageError

__all__ = ["Tracked", "forget", "track"]


class Tracked(Protocol):
    """What the hooks need of a store."""

    io: threading.Lock
    path: Path

    def close(self) -> None: ...

    def forked(self) -> None: ...


_open: weakref.WeakSet[Tracked] = weakref.WeakSet()  # closed at exit
_all: weakref.WeakSet[Tracked] = weakref.WeakSet()  # quiesced around fork()
_held: list[Tracked] = []


def track(store: Tracked, *, opened: bool) -> None:
    """Quiesce ``store`` around fork(); once ``opened``, also close it at exit."""
    _all.add(store)
    if opened:
        _open.add(store)


def forget(store: Tracked) -> None:
    """The store is closed: nothing to do at exit."""
    _open.discard(store)


def _close_all_at_exit() -> None:
    for store in list(_open):
        try:
            store.close()
        except StorageError as exc:  # report, but let the other stores close
            warnings.warn(f"telemetry store {store.path} could not flush: {exc}", stacklevel=1)


def _register_exit_hook(_: object = None) -> None:
    multiprocessing.util.Finalize(None, _close_all_at_exit, exitpriority=10)


def _before_fork() -> None:
    _held[:] = list(_all)
    for store in _held:
        store.io.acquire()


def _after_fork_in_parent() -> None:
    for store in _held:
        store.io.release()
    _held.clear()


def _after_fork_in_child() -> None:
    for store in _held:  # the child's copies, held by this (its only) thread
        store.io.release()
    _held.clear()
    for store in list(_open):
        store.forked()


atexit.register(_close_all_at_exit)
_register_exit_hook()
multiprocessing.util.register_after_fork(_open, _register_exit_hook)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
