"""Golden JSON files: the keys of every document type are a contract.

``golden/<type>.json`` holds the complete example of each document type (every optional
field set somewhere). The encoding must match the file byte for byte (up to indentation), so
a renamed, added, removed or reordered key fails here. Regenerate only on purpose, after
deciding that the contract changes (and bumping the schema version if it does)::

    CRUCIBLE_REGEN_GOLDEN=1 pytest tests/ir/test_golden.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import msgspec
import pytest
from ir_examples import DOCUMENT_EXAMPLES

import crucible.ir as ir

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("CRUCIBLE_REGEN_GOLDEN") == "1"


def _pretty(data: bytes) -> bytes:
    return msgspec.json.format(data, indent=2) + b"\n"


def _key_paths(value: Any, prefix: str = "") -> set[str]:
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            paths.add(f"{prefix}/{key}")
            paths |= _key_paths(item, f"{prefix}/{key}")
    elif isinstance(value, list):
        for item in value:
            paths |= _key_paths(item, f"{prefix}/*")
    return paths


@pytest.mark.parametrize("name", list(DOCUMENT_EXAMPLES))
def test_golden_file(name: str) -> None:
    path = GOLDEN / f"{name}.json"
    obj = DOCUMENT_EXAMPLES[name]()
    encoded = _pretty(ir.to_json(obj))
    if REGENERATE:
        path.write_bytes(encoded)
    golden = path.read_bytes()
    assert encoded == golden, f"{name}: the JSON contract changed (see module docstring)"
    assert ir.from_json(golden, ir.DOCUMENT_TYPES[name]) == obj
    assert ir.errors(obj) == []


@pytest.mark.parametrize("name", list(DOCUMENT_EXAMPLES))
def test_golden_files_cover_every_field(name: str) -> None:
    """Every field of every struct reachable from the document appears in its golden file
    (except fields whose only values are structs already shown elsewhere in the file)."""
    golden = json.loads((GOLDEN / f"{name}.json").read_text())
    keys = {p.rsplit("/", 1)[-1] for p in _key_paths(golden)}
    info = ir.structure.type_info(ir.DOCUMENT_TYPES[name])
    missing = _field_names(info) - keys
    assert not missing, f"{name}: fields never shown: {sorted(missing)}"


def _field_names(info: Any, seen: set[type] | None = None) -> set[str]:
    import msgspec.inspect as mi

    seen = set() if seen is None else seen
    names: set[str] = set()
    stack = [info]
    while stack:
        t = stack.pop()
        while isinstance(t, mi.Metadata):
            t = t.type
        if isinstance(t, mi.StructType):
            if t.cls in seen:
                continue
            seen.add(t.cls)
            for field in t.fields:
                names.add(field.encode_name)
                stack.append(field.type)
        elif isinstance(t, mi.UnionType):
            stack.extend(t.types)
        elif isinstance(t, mi.ListType):
            stack.append(t.item_type)
        elif isinstance(t, mi.DictType):
            stack.append(t.value_type)
    return names


def test_golden_directory_has_no_strays() -> None:
    assert {p.stem for p in GOLDEN.glob("*.json")} == set(DOCUMENT_EXAMPLES)
    assert set(DOCUMENT_EXAMPLES) == set(ir.DOCUMENT_TYPES)
