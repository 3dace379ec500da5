"""Dataset references.

:class:`DatasetRef` lives in its own module because experiments, training configurations and
model lineage all point at datasets; :mod:`crucible.ir.experiment` re-exports it.
"""

from __future__ import annotations

from typing import Any

from crucible.ir.base import Id, IRStruct, JsonObject
from crucible.ir.enums import CachePolicy, DatasetFormat, DatasetProvider, DatasetSplit

__all__ = ["DatasetRef", "schema_columns"]


class DatasetRef(IRStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A dataset to evaluate or train on.

    ``schema`` describes the columns, in any of three spellings (see :func:`schema_columns`):
    a map of column name to type (``{"text": "string", "label": "int64"}``), a JSON Schema
    object (``{"properties": {...}}``) or a field list (``{"fields": ["id", "text"]}`` or
    ``{"fields": [{"name": "id", ...}]}``).
    """

    name: Id
    provider: DatasetProvider = DatasetProvider.CRUCIBLE_DATASETS
    split: DatasetSplit = DatasetSplit.TRAIN
    options: JsonObject | None = None
    # v0.2
    version: str | None = None
    format: DatasetFormat | None = None
    schema: JsonObject | None = None
    # v0.3
    validation_rules: list[JsonObject] | None = None
    preprocessing: list[Id] | None = None
    cache_policy: CachePolicy | None = None


def schema_columns(schema: JsonObject) -> set[str] | None:
    """The column names a dataset ``schema`` declares, or None if it declares none readably.

    ``{"properties": {...}}`` (JSON Schema) gives the property names; ``{"fields": [...]}``
    gives the listed names (strings, or objects with a ``name``); any other map gives its keys.
    """
    properties: Any = schema.get("properties")
    if isinstance(properties, dict):
        return set(properties)
    fields: Any = schema.get("fields")
    if isinstance(fields, list):
        names: set[str] = set()
        for field in fields:
            if isinstance(field, str):
                names.add(field)
            elif isinstance(field, dict) and isinstance(field.get("name"), str):
                names.add(field["name"])
            else:
                return None
        return names
    return set(schema)
