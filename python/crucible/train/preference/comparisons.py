"""Preference data as stored: a prompt conversation and a chosen and a rejected completion.

A JSONL line is ``{"prompt", "chosen", "rejected"}``, each either a string (a user turn for
the prompt, an assistant turn for a completion) or a list of messages; tinker-cookbook's
labelled shape ``{"prompt_conversation", "completion_A", "completion_B", "label"}`` is read
too (``label`` "A" or "B" names the preferred one; ties carry no preference and are
skipped). ``bundled:NAME`` names a file shipped in ``crucible.train.data``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from crucible.errors import NotFoundError, SerializationError
from crucible.train.datasets.jsonl import jsonl_records
from crucible.train.renderers.messages import Message

__all__ = [
    "BUNDLED_PREFERENCES",
    "Comparison",
    "comparison_from_record",
    "load_comparisons",
    "read_comparisons",
    "write_comparisons",
]

_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
BUNDLED_PREFERENCES = {"preferences": _DATA_DIR / "preferences.jsonl"}


class Comparison(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One preference: after ``prompt``, ``chosen`` is better than ``rejected``."""

    prompt: list[Message]
    chosen: list[Message]
    rejected: list[Message]
    id: str = ""


def _messages(value: Any, role: str, where: str) -> list[Message]:
    if isinstance(value, str):
        return [Message(role=role, content=value)]
    try:
        messages = msgspec.convert(value, list[Message])
    except msgspec.ValidationError as exc:
        raise SerializationError(f"{where}: {exc}") from None
    if not messages:
        raise SerializationError(f"{where}: needs at least one message")
    return messages


def comparison_from_record(record: Mapping[str, Any], where: str = "") -> Comparison | None:
    """A comparison from a decoded JSON object (``None`` for a labelled tie)."""
    ident = str(record.get("id", ""))
    if {"prompt", "chosen", "rejected"} <= record.keys():
        return Comparison(
            prompt=_messages(record["prompt"], "user", f"{where}/prompt"),
            chosen=_messages(record["chosen"], "assistant", f"{where}/chosen"),
            rejected=_messages(record["rejected"], "assistant", f"{where}/rejected"),
            id=ident,
        )
    if {"prompt_conversation", "completion_A", "completion_B", "label"} <= record.keys():
        label = record["label"]
        if label not in ("A", "B", "Tie"):
            raise SerializationError(f"{where}/label: expected 'A', 'B' or 'Tie', got {label!r}")
        if label == "Tie":
            return None
        a = _messages(record["completion_A"], "assistant", f"{where}/completion_A")
        b = _messages(record["completion_B"], "assistant", f"{where}/completion_B")
        prompt = _messages(record["prompt_conversation"], "user", f"{where}/prompt_conversation")
        chosen, rejected = (a, b) if label == "A" else (b, a)
        return Comparison(prompt=prompt, chosen=chosen, rejected=rejected, id=ident)
    raise SerializationError(
        f"{where}: expected 'prompt', 'chosen' and 'rejected' "
        "(or 'prompt_conversation', 'completion_A', 'completion_B' and 'label')"
    )


def read_comparisons(path: str | Path) -> list[Comparison]:
    """Every comparison in a JSONL file (ties dropped)."""
    p = Path(path)
    if not p.is_file():
        raise NotFoundError(f"no preference data file at {p}")
    out = []
    for record, where in jsonl_records(p):
        comparison = comparison_from_record(record, where)
        if comparison is not None:
            out.append(comparison)
    return out


def load_comparisons(spec: str) -> list[Comparison]:
    """``bundled:NAME`` for a preference set shipped with crucible, else a JSONL path."""
    if spec.startswith("bundled:"):
        name = spec.removeprefix("bundled:")
        if name not in BUNDLED_PREFERENCES:
            raise NotFoundError(
                f"no bundled preference set {name!r}; have {sorted(BUNDLED_PREFERENCES)}"
            )
        return read_comparisons(BUNDLED_PREFERENCES[name])
    return read_comparisons(spec)


def write_comparisons(comparisons: list[Comparison], path: str | Path) -> None:
    """One JSON object per line, in the ``prompt``/``chosen``/``rejected`` shape."""
    encoder = msgspec.json.Encoder()
    with Path(path).open("wb") as f:
        for c in comparisons:
            f.write(encoder.encode(c) + b"\n")
