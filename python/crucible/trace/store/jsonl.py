"""The append-only JSONL trace file: a flight recorder for one chain.

Line 1 is a header (``{"crucible_trace": 1, "chain": {...}}``), every further line one
sealed event, exactly as hashed. :class:`JsonlWriter` writes each append with one
``os.write`` of whole lines (no user-space buffer), so an event whose ``append`` returned
survives the process being killed; the ``fsync`` policy decides what survives a power cut:

* ``"always"``: fsync after every append (slowest, nothing acknowledged is ever lost);
* ``"interval"`` (default): fsync when ``fsync_interval`` seconds passed since the last one,
  and on close;
* ``"never"``: leave it to the operating system.

A crash can still leave a *torn* last line (a write cut short by a power cut or a full
disk). Readers report it (:attr:`JsonlReader.torn`) and keep every complete line before
it. A writer reopening such a file moves the fragment to ``<file>.torn`` (evidence is kept,
not deleted), cuts the file back to its last complete line, warns, and continues the hash
chain from there.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Literal

import msgspec

from crucible.errors import IntegrityError, SerializationError, StorageError
from crucible.trace.chain import Chain
from crucible.trace.event import Event, decode_event
from crucible.trace.integrity import GENESIS, Verification, seal_encoded, verify_docs
from crucible.trace.store.base import ChainHeader

__all__ = ["FsyncPolicy", "JsonlReader", "JsonlWriter", "TornTail", "TornTailWarning"]

FsyncPolicy = Literal["always", "interval", "never"]
FORMAT = 1
_CHUNK = 1 << 20


class TornTail(msgspec.Struct, frozen=True):
    """An incomplete last line: where it starts, how long it is, its first bytes."""

    offset: int
    length: int
    fragment: bytes


class TornTailWarning(RuntimeWarning):
    """A trace file ended in an incomplete line (a crash mid-write); it was set aside."""


class _Header(msgspec.Struct, frozen=True):
    crucible_trace: int
    chain: ChainHeader


def _lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """``(offset, line, complete)`` for each line, read in chunks (constant memory); the
    last item is incomplete if the file does not end in a newline."""
    with path.open("rb") as f:
        offset, rest = 0, b""
        while chunk := f.read(_CHUNK):
            parts = (rest + chunk).split(b"\n")
            rest = parts.pop()
            for line in parts:
                yield offset, line, True
                offset += len(line) + 1
        if rest:
            yield offset, rest, False


class JsonlReader:
    """Lazy reading and verification of a trace file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise StorageError(f"no trace file at {self.path}")
        self.header: ChainHeader | None = None
        self.torn: TornTail | None = None
        self._read_ends()

    def _read_ends(self) -> None:
        size = self.path.stat().st_size
        if size == 0:
            return
        with self.path.open("rb") as f:
            first = f.readline(16 << 20)
            if first.endswith(b"\n"):
                try:
                    self.header = msgspec.json.decode(first, type=_Header).chain
                except msgspec.DecodeError as exc:
                    raise SerializationError(f"{self.path}: bad trace header: {exc}") from exc
            f.seek(size - 1)
            if f.read(1) != b"\n":
                start = _last_newline(f, size) + 1
                f.seek(start)
                fragment = f.read(min(size - start, 256))
                self.torn = TornTail(start, size - start, fragment)

    def docs(self) -> Iterator[bytes]:
        """The stored event documents (complete lines after the header), lazily."""
        for i, (_, line, complete) in enumerate(_lines(self.path)):
            if i > 0 and complete:
                yield line

    def __iter__(self) -> Iterator[Event]:
        """The events, lazily. A damaged complete line raises
        :class:`~crucible.errors.SerializationError` naming it (use :meth:`verify` to
        check a file without stopping)."""
        for i, doc in enumerate(self.docs()):
            try:
                yield decode_event(doc)
            except SerializationError as exc:
                raise SerializationError(f"{self.path}: event {i}: {exc}") from exc

    def load(self) -> Chain:
        """The whole chain in memory (the torn tail, if any, left out)."""
        if self.header is None:
            raise SerializationError(f"{self.path} has no complete header line")
        return self.header.chain(list(self))

    def verify(self, *, batch: int = 50_000) -> Verification:
        """Check the hash chain in batches (constant memory for any file size). A torn
        tail is not a break: it was never acknowledged; see :attr:`torn`."""
        prev, seen, buffer = GENESIS, 0, []
        for doc in self.docs():
            buffer.append(doc)
            if len(buffer) == batch:
                result = verify_docs(buffer, prev, offset=seen)
                if not result.ok:
                    return msgspec.structs.replace(result, checked=seen + result.checked)
                prev, seen, buffer = result.head, seen + len(buffer), []
        result = verify_docs(buffer, prev, offset=seen)
        return msgspec.structs.replace(result, checked=seen + result.checked)


def _last_newline(f: BinaryIO, end: int) -> int:
    """Offset of the last ``\\n`` before ``end`` (``-1`` if none), reading backwards."""
    while end > 0:
        start = max(0, end - _CHUNK)
        f.seek(start)
        found = f.read(end - start).rfind(b"\n")
        if found >= 0:
            return start + found
        end = start
    return -1


class JsonlWriter:
    """Appends sealed events of one chain to a JSONL file (see the module docstring).

    Open a new file with a ``chain`` (its header is written first) or a ``name``; reopen
    an existing file with neither (or the same chain) to continue it. A new file starts
    at the genesis hash: for a chain that already holds events, ``append_many`` them
    first, then pass it new ones (as a :class:`~crucible.trace.tracer.Tracer` sink does).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        chain: Chain | None = None,
        name: str | None = None,
        fsync: FsyncPolicy = "interval",
        fsync_interval: float = 1.0,
    ) -> None:
        if fsync not in ("always", "interval", "never"):
            raise StorageError(f"unknown fsync policy {fsync!r}")
        self.path = Path(path)
        self.fsync: FsyncPolicy = fsync
        self.fsync_interval = fsync_interval
        self.recovered: TornTail | None = None
        self.appended = 0
        self._lock = threading.Lock()
        self._last_sync = time.monotonic()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        existing = self.path.exists() and self.path.stat().st_size > 0
        self.header, self.head = self._recover() if existing else (None, GENESIS)
        if self.header is None:
            fresh = chain if chain is not None else Chain(name=name or self.path.stem)
            self.header = ChainHeader.of(fresh)
            self._fd = self._open()
            self._write(msgspec.json.encode(_Header(FORMAT, self.header)) + b"\n")
        else:
            if chain is not None and chain.id != self.header.id:
                raise StorageError(f"{self.path} holds chain {self.header.id}, not {chain.id}")
            self._fd = self._open()

    def _open(self) -> int:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
        return os.open(self.path, flags, 0o644)

    def _recover(self) -> tuple[ChainHeader | None, str]:
        reader = JsonlReader(self.path)
        if reader.torn is not None:
            torn = reader.torn
            with self.path.open("rb") as f:
                f.seek(torn.offset)
                fragment = f.read()
            with open(f"{self.path}.torn", "ab") as side:
                side.write(fragment + b"\n")
            os.truncate(self.path, torn.offset)
            self.recovered = torn
            warnings.warn(
                f"{self.path}: torn last line ({torn.length} bytes at offset {torn.offset}) "
                f"moved to {self.path}.torn; continuing after the last complete event",
                TornTailWarning,
                stacklevel=3,
            )
            reader = JsonlReader(self.path)
        if reader.header is None:
            if self.path.stat().st_size == 0:
                return None, GENESIS
            raise SerializationError(f"{self.path}: no complete header line")
        with self.path.open("rb") as f:  # the file now ends in "\n": read its last line
            size = self.path.stat().st_size
            start = _last_newline(f, size - 1) + 1
            if start == 0:
                return reader.header, GENESIS  # only the header
            f.seek(start)
            last = f.read(size - 1 - start)
        try:
            head = msgspec.json.decode(last).get("hash")
        except (msgspec.DecodeError, AttributeError):
            head = None
        if not isinstance(head, str) or len(head) != 64:
            raise IntegrityError(f"{self.path}: the last stored event is damaged; verify the file")
        return reader.header, head

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        if self.fsync == "always" or (
            self.fsync == "interval" and time.monotonic() - self._last_sync >= self.fsync_interval
        ):
            self.sync()

    def sync(self) -> None:
        """Force everything written so far to stable storage."""
        os.fsync(self._fd)
        self._last_sync = time.monotonic()

    def append(self, event: Event) -> Event:
        """Seal ``event`` after the current head and write it; returns it sealed."""
        return self.append_many((event,))[0]

    def append_many(self, events: Iterable[Event]) -> list[Event]:
        """Seal and write events in one write (one hashing pass); returns them sealed."""
        with self._lock:
            if self._fd < 0:
                raise StorageError(f"{self.path}: writer is closed")
            sealed, docs = seal_encoded(list(events), self.head)
            if sealed:
                docs.append(b"")
                self._write(b"\n".join(docs))
                self.head = sealed[-1].hash or GENESIS
                self.appended += len(sealed)
            return sealed

    def write(self, chain: Chain, events: Sequence[Event]) -> None:
        """:class:`~crucible.trace.store.base.Sink`: events just added to ``chain``."""
        assert self.header is not None
        if chain.id != self.header.id:
            raise StorageError(f"{self.path} holds chain {self.header.id}, not {chain.id}")
        self.append_many(events)

    def close(self) -> None:
        """Sync (unless the policy is ``"never"``) and close; idempotent."""
        with self._lock:
            if self._fd >= 0:
                try:
                    if self.fsync != "never":
                        os.fsync(self._fd)
                finally:
                    os.close(self._fd)
                    self._fd = -1

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
