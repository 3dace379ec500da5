"""Rules every document shares: the schema version."""

from __future__ import annotations

from collections.abc import Iterator

from crucible.ir.base import CURRENT_SCHEMA_VERSION, Document
from crucible.ir.documents import DOCUMENT_TYPES
from crucible.ir.rules.registry import Finding, pointer, rule


def _major_minor(version: str) -> tuple[int, int] | None:
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


@rule("schema_version.unsupported", *DOCUMENT_TYPES.values())
def _schema_version(doc: Document) -> Iterator[Finding]:
    """A document must be of the current schema version (same major and minor); older
    documents go through :func:`crucible.ir.migrate` first."""
    if _major_minor(doc.schema_version) != _major_minor(CURRENT_SCHEMA_VERSION):
        yield (
            pointer("schema_version"),
            f"schema version {doc.schema_version} is not {CURRENT_SCHEMA_VERSION}; "
            "migrate the document first",
        )
