"""Checking an event's payload against its catalogued schema, with JSON-pointer errors."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from crucible.errors import ErrorItem
from crucible.telemetry.catalog.names import _BY_NAME
from crucible.telemetry.catalog.schemas import _Empty

_AT = re.compile(r" - at `\$(.*)`$")
_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def _items(exc: msgspec.ValidationError, root: str) -> list[ErrorItem]:
    message = str(exc)
    match = _AT.search(message)
    path = root
    if match:
        message = message[: match.start()]
        path += "".join("/" + (m.group(1) or m.group(2)) for m in _PART.finditer(match.group(1)))
    code = "missing" if message.startswith("Object missing required field") else "type"
    return [ErrorItem(path, code, message)]


def validate(
    name: Sequence[str], measurements: Mapping[str, Any], metadata: Mapping[str, Any]
) -> list[ErrorItem]:
    """Problems of an event against its schema (``[]`` when valid or not catalogued).

    Paths are JSON pointers under ``/measurements`` or ``/metadata``; each schema reports
    its first problem."""
    info = _BY_NAME.get(tuple(name))
    if info is None:
        return []
    items: list[ErrorItem] = []
    for part, value, schema in (
        ("/measurements", measurements, info.measurements),
        ("/metadata", metadata, info.metadata),
    ):
        if schema is _Empty:
            continue
        try:
            msgspec.convert(value, schema)
        except msgspec.ValidationError as exc:
            items.extend(_items(exc, part))
    return items
