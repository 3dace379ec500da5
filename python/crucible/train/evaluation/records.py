"""Per-sample results and the append-only JSONL journal that makes evaluation resumable.

One :class:`SampleRecord` per (model, sample), in the shape the pipeline contract gives
``samples.jsonl``. The runner appends each chunk's records as soon as they are scored and
flushes them to disk, so a killed evaluation loses at most the chunk in flight. Reopening
the journal reads what is there: every record is written as one line ending in a newline,
so a last line without one is a write cut short; it is dropped (the file is truncated back
to the last whole line) and the sample is evaluated again. A whole line that does not parse
is damage, not a torn write, and is reported rather than skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import msgspec

from crucible.errors import SerializationError, StorageError

__all__ = ["SampleJournal", "SampleRecord"]


class SampleRecord(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    index: int
    id: str
    prompt: str
    reference: str
    prediction: str
    scores: dict[str, float]
    group: dict[str, str] = msgspec.field(default_factory=dict)


_decoder = msgspec.json.Decoder(SampleRecord)
_encoder = msgspec.json.Encoder()


class SampleJournal:
    """The records of one JSONL file; :meth:`load` first, then :meth:`append`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.repaired_bytes = 0
        """How many bytes of a torn last line :meth:`load` cut off (0 when none)."""

    def load(self) -> list[SampleRecord]:
        """Every whole record, in file order; truncates a torn last line."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            self._truncate(end, len(data) - end)
        records = []
        for lineno, line in enumerate(data[:end].splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(_decoder.decode(line))
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise SerializationError(f"{self.path}:{lineno}: {exc}") from None
        return records

    def _truncate(self, size: int, torn: int) -> None:
        try:
            with self.path.open("r+b") as f:
                f.truncate(size)
        except OSError as exc:
            raise StorageError(f"cannot repair {self.path}: {exc}") from exc
        self.repaired_bytes = torn

    def append(self, records: Iterable[SampleRecord]) -> None:
        """Write ``records`` at the end, one line each, and push them to disk."""
        payload = b"".join(_encoder.encode(r) + b"\n" for r in records)
        if not payload:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.path.open("ab") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise StorageError(f"cannot write {self.path}: {exc}") from exc
