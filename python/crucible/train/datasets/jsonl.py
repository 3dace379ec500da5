"""Reading JSONL data files one JSON object per line, for every record format crucible
takes (conversations, preference pairs, evaluation items).

Each record comes with its ``path:line`` location, so the format-specific decoders raise
errors that point at the offending line; blank lines are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from crucible.errors import SerializationError

__all__ = ["jsonl_records"]


def jsonl_records(path: Path) -> Iterator[tuple[dict[str, Any], str]]:
    """``(record, "path:line")`` for each non-blank line of ``path``; a line that is not a
    JSON object raises :class:`~crucible.errors.SerializationError` naming it."""
    with path.open("rb") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                record = msgspec.json.decode(line)
            except msgspec.DecodeError as exc:
                raise SerializationError(f"{where}: {exc}") from None
            if not isinstance(record, dict):
                raise SerializationError(f"{where}: expected a JSON object")
            yield record, where
