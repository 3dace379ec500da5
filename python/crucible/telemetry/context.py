"""Correlation ids and experiment scope, carried by :mod:`contextvars`.

A correlation id ties together the events of one logical operation across components (a
request, a training step, a pipeline stage): every event captured while it is set carries it
in ``CapturedEvent.correlation_id``::

    with correlation() as cid:      # a fresh id (or correlation("req-42"))
        handle_request()            # events emitted here, and in asyncio tasks it creates,
                                    # carry cid

asyncio tasks copy the context when they are created, so ids propagate to them natively.
Threads do not inherit the context: wrap the target with :func:`bind_context` (it
snapshots the caller's context), e.g. ``executor.submit(bind_context(work), item)`` or
``threading.Thread(target=bind_context(work))``.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

__all__ = ["bind_context", "correlation", "correlation_id", "new_correlation_id"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

CORRELATION: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "crucible_correlation_id", default=None
)


def new_correlation_id() -> str:
    """A fresh random id (32 hex digits)."""
    return uuid.uuid4().hex


def correlation_id() -> str | None:
    """The correlation id of the current context, if any."""
    return CORRELATION.get()


@contextmanager
def correlation(cid: str | None = None) -> Iterator[str]:
    """Set the correlation id (a fresh one when ``cid`` is None) for the block."""
    value = cid if cid is not None else new_correlation_id()
    token = CORRELATION.set(value)
    try:
        yield value
    finally:
        CORRELATION.reset(token)


def bind_context(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """``fn`` bound to a snapshot of the current context: each call runs in its own copy of
    the snapshot, so the wrapper may be called from several threads at once."""
    snapshot = contextvars.copy_context()

    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        return snapshot.copy().run(fn, *args, **kwargs)

    run.__name__ = getattr(fn, "__name__", "bound")
    run.__doc__ = fn.__doc__
    return run
