"""Data bundled with crucible.train, so examples and tests run offline.

``conversations.jsonl``: 640 short English conversations written for this project by
``tools/make_conversations.py`` (facts, templates, a few multi-turn exchanges and system
prompts), small enough for the NumPy backend to learn in seconds.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUNDLED", "bundled_path"]

_DIR = Path(__file__).parent
BUNDLED = {"conversations": _DIR / "conversations.jsonl"}


def bundled_path(name: str = "conversations") -> Path:
    from crucible.errors import NotFoundError

    if name not in BUNDLED:
        raise NotFoundError(f"no bundled data set {name!r}; have {sorted(BUNDLED)}")
    return BUNDLED[name]
