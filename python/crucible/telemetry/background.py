"""What runs behind experiments' backs: one daemon thread per process that finalises
capture buffers every ``flush_interval``, the flush of every live experiment at exit (before
the stores close) and the restart of both in a forked child (which continues its parent's
experiments on new streams).
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import os
import threading
import time
import warnings
import weakref
from typing import TYPE_CHECKING

# The stores register their own exit and fork hooks on import; ours must come after them
# (atexit runs last-in, first-out: buffers are flushed before the stores close).
import crucible.telemetry.store.shared
import crucible.telemetry.store.sqlite  # noqa: F401

if TYPE_CHECKING:
    from crucible.telemetry.experiment import Experiment

__all__ = ["TICKER"]


class Ticker:
    """One daemon thread per process that finalises experiment buffers periodically."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.live: weakref.WeakSet[Experiment] = weakref.WeakSet()
        self.thread: threading.Thread | None = None
        self.pid = 0

    def add(self, exp: Experiment) -> None:
        with self.lock:
            self.live.add(exp)
            if self.thread is None or self.pid != os.getpid() or not self.thread.is_alive():
                self.pid = os.getpid()
                self.thread = threading.Thread(
                    target=self._run, name="crucible-telemetry-ticker", daemon=True
                )
                self.thread.start()

    def remove(self, exp: Experiment) -> None:
        with self.lock:
            self.live.discard(exp)

    def snapshot(self) -> list[Experiment]:
        with self.lock:
            return list(self.live)

    def _run(self) -> None:
        while True:
            time.sleep(0.05)
            now = time.monotonic()
            for exp in self.snapshot():
                if len(exp._buf) and now - exp._last_drain >= exp.flush_interval:
                    exp._drain(block=False)


TICKER = Ticker()


def _flush_all_at_exit() -> None:
    for exp in TICKER.snapshot():
        try:
            exp.flush()
        except Exception as exc:  # report and carry on with the others
            warnings.warn(f"experiment {exp.name!r} could not flush at exit: {exc}", stacklevel=1)


# Registered after the SQLite store module registered its own hook (imported above), so it
# runs first: buffers go to the stores before the stores close. Children of
# multiprocessing leave through os._exit and run the Finalize hooks instead (higher
# exitpriority first).
atexit.register(_flush_all_at_exit)


def _register_exit_hook(_: object = None) -> None:
    multiprocessing.util.Finalize(None, _flush_all_at_exit, exitpriority=20)  # before stores


_register_exit_hook()
multiprocessing.util.register_after_fork(TICKER, _register_exit_hook)


def _after_fork_in_child() -> None:
    TICKER.lock = threading.Lock()  # another thread may have held it at the fork
    TICKER.thread = None  # not running here; restarted by the next experiment
    for exp in list(TICKER.live):
        exp._forked()
    if TICKER.live:
        TICKER.add(next(iter(TICKER.live)))  # flush periodically in the child too


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
