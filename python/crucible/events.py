"""The in-process event bus, after Erlang's ``:telemetry``.

Code that does something worth measuring *executes* an event; code that wants to know
*attaches* a handler to the event's name::

    from crucible import events

    def on_epoch(event_name, measurements, metadata, config):
        print(event_name, measurements["loss"], config)

    events.attach("printer", ("crucible", "train", "epoch", "stop"), on_epoch, config="cfg")
    events.execute(("crucible", "train", "epoch", "stop"), {"loss": 0.25}, {"epoch": 3})
    events.detach("printer")

Event names are tuples of strings. Handlers are called synchronously, in the caller's thread,
as ``fn(event_name, measurements, metadata, config)``, in the order they were attached.

* **Isolation**: a handler that raises is detached and reported once (a
  :class:`HandlerDetachedWarning`, a log record on the ``crucible.events`` logger with the
  traceback, and a ``("crucible", "events", "handler", "failure")`` event); the caller of
  ``execute`` never sees the exception and the other handlers still run.
* **Threads**: attach/detach take a lock and publish a new, immutable dispatch table
  (copy-on-write); ``execute`` reads the current table without locking. A handler detached
  while another thread is dispatching may be called once more by that dispatch.
* **Cost**: ``execute`` of a name without handlers is one dictionary lookup (see
  ``tests/test_events.py`` and ``benches/test_telemetry.py`` for the measured figure).
* **Prefixes**: ``attach(..., prefix=True)`` subscribes to every event whose name starts
  with the given parts (``()`` for all events); the handlers of each new name are resolved
  once and cached.

:func:`span` times a block or a function, emitting ``prefix + ("start",)``, then
``prefix + ("stop",)`` or ``prefix + ("exception",)`` with a monotonic ``duration`` in
nanoseconds, as ``:telemetry.span`` does.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import logging
import os
import threading
import time
import traceback
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, NamedTuple, ParamSpec, TypeVar, cast

from crucible.errors import InvalidArgumentError, InvalidTypeError

__all__ = [
    "HANDLER_FAILURE",
    "EventName",
    "Handler",
    "HandlerDetachedWarning",
    "HandlerInfo",
    "Span",
    "attach",
    "detach",
    "execute",
    "has_handlers",
    "list_handlers",
    "span",
]

EventName = tuple[str, ...]
Handler = Callable[[EventName, dict[str, Any], dict[str, Any], Any], object]
"""``fn(event_name, measurements, metadata, config)``; the return value is ignored."""

HANDLER_FAILURE: EventName = ("crucible", "events", "handler", "failure")
"""Executed after a handler raised and was detached; metadata: ``handler_id``,
``event_name``, ``kind`` (exception class name), ``reason`` (its message), ``stacktrace``."""

_log = logging.getLogger("crucible.events")


class HandlerDetachedWarning(RuntimeWarning):
    """A handler raised, so it was detached (reported once per handler)."""


class HandlerInfo(NamedTuple):
    """One attachment, as :func:`list_handlers` reports it."""

    handler_id: str
    event_name: EventName
    function: Handler
    config: Any
    prefix: bool


class _Attachment(NamedTuple):
    handler_id: str
    names: tuple[EventName, ...]
    function: Handler
    config: Any
    prefix: bool
    order: int


# --- the dispatch table -----------------------------------------------------------------------
#
# Readers (execute) only ever read the module globals ``_dispatch`` and ``_has_prefix``;
# writers hold ``_lock`` and replace ``_dispatch`` with a new dict, never mutating one a
# reader may hold. ``_dispatch`` maps an event name to the tuple of (function, config,
# attachment) to call; for prefix attachments it also caches resolved names (possibly to an
# empty tuple) up to ``_CACHE_LIMIT`` entries, beyond which names are resolved per call.

_Target = tuple[Handler, Any, _Attachment]

_lock = threading.Lock()
_attachments: dict[str, _Attachment] = {}
_dispatch: dict[EventName, tuple[_Target, ...]] = {}
_has_prefix = False
_order = itertools.count()
_CACHE_LIMIT = 10_000


def _reset_lock_after_fork() -> None:  # another thread may have held it at the fork
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_lock_after_fork)


def _targets_for(name: EventName) -> tuple[_Target, ...]:
    """The handlers of ``name`` from the attachments (caller holds the lock)."""
    found: list[_Attachment] = []
    for att in _attachments.values():
        if att.prefix:
            if any(name[: len(p)] == p for p in att.names):
                found.append(att)
        elif name in att.names:
            found.append(att)
    found.sort(key=lambda a: a.order)
    return tuple((a.function, a.config, a) for a in found)


def _rebuild() -> None:
    """Publish a fresh dispatch table (caller holds the lock)."""
    global _dispatch, _has_prefix
    exact: set[EventName] = set()
    for att in _attachments.values():
        if not att.prefix:
            exact.update(att.names)
    _has_prefix = any(att.prefix for att in _attachments.values())
    _dispatch = {name: _targets_for(name) for name in exact}


def _resolve(name: EventName) -> tuple[_Target, ...]:
    """Handlers of a name not in the table yet (only when prefix handlers exist)."""
    global _dispatch
    with _lock:
        table = _dispatch
        if name in table:
            return table[name]
        targets = _targets_for(name)
        if len(table) < _CACHE_LIMIT:
            new = dict(table)
            new[name] = targets
            _dispatch = new
        return targets


def _as_name(name: Sequence[str], what: str = "event name") -> EventName:
    if isinstance(name, str) or not all(isinstance(part, str) for part in name):
        raise InvalidTypeError(f"{what} must be a tuple of strings, got {name!r}")
    return tuple(name)


def _as_names(names: Sequence[str] | Iterable[Sequence[str]]) -> tuple[EventName, ...]:
    """One name (a tuple of str) or several (a list of tuples)."""
    if isinstance(names, str):
        raise InvalidTypeError(f"event name must be a tuple of strings, got {names!r}")
    items = list(names)
    if items and all(isinstance(part, str) for part in items):
        return (_as_name(cast("Sequence[str]", items)),)
    if not items and isinstance(names, tuple):
        return ((),)  # the empty name: only useful as a prefix (every event)
    out = tuple(_as_name(n) for n in items)
    if not out:
        raise InvalidArgumentError("attach needs at least one event name")
    return out


# --- public API -------------------------------------------------------------------------------


def attach(
    handler_id: str,
    event_name: Sequence[str] | Iterable[Sequence[str]],
    function: Handler,
    config: Any = None,
    *,
    prefix: bool = False,
) -> None:
    """Call ``function(event_name, measurements, metadata, config)`` on each matching event.

    ``event_name`` is one name (a tuple of strings) or a list of names; with
    ``prefix=True`` they are prefixes (``()`` matches everything). ``handler_id`` must be
    unique: attaching an id already attached raises :class:`InvalidArgumentError`.
    """
    if not isinstance(handler_id, str) or not handler_id:
        raise InvalidTypeError("handler_id must be a non-empty string")
    if not callable(function):
        raise InvalidTypeError(f"handler function must be callable, got {function!r}")
    names = _as_names(event_name)
    if not prefix and () in names:
        raise InvalidArgumentError("the empty event name matches nothing; use prefix=True")
    with _lock:
        if handler_id in _attachments:
            raise InvalidArgumentError(f"handler {handler_id!r} is already attached")
        _attachments[handler_id] = _Attachment(
            handler_id, names, function, config, prefix, next(_order)
        )
        _rebuild()


def detach(handler_id: str) -> bool:
    """Detach a handler; ``True`` if it was attached."""
    with _lock:
        if _attachments.pop(handler_id, None) is None:
            return False
        _rebuild()
        return True


def list_handlers(prefix: Sequence[str] = ()) -> list[HandlerInfo]:
    """Attachments whose event name starts with ``prefix`` (all of them for ``()``), one
    entry per (handler, name), in attachment order."""
    pre = _as_name(prefix, "prefix")
    with _lock:
        atts = sorted(_attachments.values(), key=lambda a: a.order)
    return [
        HandlerInfo(a.handler_id, name, a.function, a.config, a.prefix)
        for a in atts
        for name in a.names
        if name[: len(pre)] == pre
    ]


def has_handlers(event_name: Sequence[str]) -> bool:
    """Whether executing ``event_name`` would call any handler (lets emitters skip building
    an expensive payload)."""
    if not isinstance(event_name, tuple):
        event_name = _as_name(event_name)
    targets = _dispatch.get(event_name)
    if targets is None:
        if not _has_prefix:
            return False
        targets = _resolve(_as_name(event_name))
    return bool(targets)


def execute(
    event_name: EventName,
    measurements: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Emit an event to its handlers (synchronously, in this thread). ``measurements`` and
    ``metadata`` default to empty dicts; handlers must not mutate them."""
    try:
        targets = _dispatch.get(event_name)
    except TypeError:  # a list, most likely
        event_name = _as_name(event_name)
        targets = _dispatch.get(event_name)
    if targets is None:
        if not _has_prefix:
            return
        event_name = _as_name(event_name)
        targets = _resolve(event_name)
    if not targets:
        return
    if measurements is None:
        measurements = {}
    if metadata is None:
        metadata = {}
    for function, config, att in targets:
        try:
            function(event_name, measurements, metadata, config)
        except Exception as exc:
            _handler_failed(att, event_name, exc)


def _handler_failed(att: _Attachment, event_name: EventName, exc: Exception) -> None:
    with _lock:
        if _attachments.get(att.handler_id) is not att:
            return  # already detached (and reported) by another thread
        del _attachments[att.handler_id]
        _rebuild()
    reason = f"{type(exc).__name__}: {exc}"
    _log.error(
        "telemetry handler %r failed on %r and was detached: %s",
        att.handler_id,
        event_name,
        reason,
        exc_info=exc,
    )
    warnings.warn(
        f"telemetry handler {att.handler_id!r} raised on {event_name!r} and was detached "
        f"({reason})",
        HandlerDetachedWarning,
        stacklevel=3,
    )
    if event_name != HANDLER_FAILURE:
        execute(
            HANDLER_FAILURE,
            {},
            {
                "handler_id": att.handler_id,
                "event_name": event_name,
                "kind": type(exc).__name__,
                "reason": str(exc),
                "stacktrace": "".join(traceback.format_exception(exc)),
            },
        )


# --- spans ------------------------------------------------------------------------------------

_P = ParamSpec("_P")
_R = TypeVar("_R")
_span_ids = itertools.count(1)


class Span:
    """Times a block (``with``) or every call of a function (as a decorator).

    On entry: ``prefix + ("start",)`` with measurements ``monotonic_time`` and
    ``system_time`` (ns). On normal exit: ``prefix + ("stop",)`` with ``duration`` and
    ``monotonic_time``. On an exception: ``prefix + ("exception",)`` with ``duration`` and
    metadata ``kind``, ``reason`` and ``stacktrace``; the exception propagates. All three
    carry the start metadata plus ``span_id`` (shared by the events of one span);
    :attr:`metadata` and :attr:`measurements` may be extended inside the block to add to the
    stop/exception event. Used as a decorator, each call gets a span of its own (coroutine
    functions are timed until they complete).
    """

    __slots__ = ("_start", "measurements", "metadata", "prefix", "start_metadata")

    def __init__(self, prefix: Sequence[str], metadata: Mapping[str, Any] | None = None) -> None:
        self.prefix: EventName = _as_name(prefix, "span prefix")
        self.start_metadata: dict[str, Any] = dict(metadata or {})
        self.metadata: dict[str, Any] = {}
        self.measurements: dict[str, Any] = {}
        self._start = 0

    def __enter__(self) -> Span:
        self.metadata = dict(self.start_metadata)
        self.metadata["span_id"] = next(_span_ids)
        self.measurements = {}
        self._start = time.monotonic_ns()
        execute(
            (*self.prefix, "start"),
            {"monotonic_time": self._start, "system_time": time.time_ns()},
            dict(self.metadata),
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        now = time.monotonic_ns()
        measurements = {**self.measurements, "duration": now - self._start, "monotonic_time": now}
        if exc is None:
            execute((*self.prefix, "stop"), measurements, self.metadata)
        else:
            meta = {
                **self.metadata,
                "kind": type(exc).__name__,
                "reason": str(exc),
                "stacktrace": "".join(traceback.format_exception(exc)),
            }
            execute((*self.prefix, "exception"), measurements, meta)

    def __call__(self, fn: Callable[_P, _R]) -> Callable[_P, _R]:
        prefix, start_metadata = self.prefix, self.start_metadata
        if inspect.iscoroutinefunction(fn):
            afn = cast("Callable[_P, Awaitable[Any]]", fn)

            @functools.wraps(fn)
            async def run_async(*args: _P.args, **kwargs: _P.kwargs) -> Any:
                with Span(prefix, start_metadata):
                    return await afn(*args, **kwargs)

            return cast("Callable[_P, _R]", run_async)

        @functools.wraps(fn)
        def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            with Span(prefix, start_metadata):
                return fn(*args, **kwargs)

        return run


def span(prefix: Sequence[str], metadata: Mapping[str, Any] | None = None) -> Span:
    """A :class:`Span` over ``prefix``: ``with span(("app", "job")): ...`` or
    ``@span(("app", "job"))``."""
    return Span(prefix, metadata)
