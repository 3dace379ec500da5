"""The two ways into the Rust canonicalizer agree on every vector and on generated
documents: JSON text parsed in Rust (``_core.canonical_json``: fingerprints of raw documents,
trace hash chains) and Python values walked object by object (``crucible.ir.canonicalize``)."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from ir_examples import DOCUMENT_EXAMPLES
from ir_strategies import json_values

import crucible.ir as ir
from crucible import _core
from crucible.errors import SerializationError
from crucible.ir.canonical import canonicalize

CASES = json.loads((Path(__file__).parent / "canonical_cases.json").read_text("utf-8"))


@pytest.mark.parametrize(("bits", "text"), CASES["numbers"], ids=[b for b, _ in CASES["numbers"]])
def test_number_vectors(bits: str, text: str) -> None:
    value = struct.unpack(">d", bytes.fromhex(bits.rjust(16, "0")))[0]
    assert _core.canonical_json(f"[{value!r}]".encode()) == f"[{text}]".encode()


@pytest.mark.parametrize("case", CASES["documents"], ids=[c["name"] for c in CASES["documents"]])
def test_document_vectors(case: dict[str, str]) -> None:
    assert _core.canonical_json(case["input"].encode()) == case["output"].encode("utf-8")


@pytest.mark.parametrize("case", CASES["invalid"], ids=[c["name"] for c in CASES["invalid"]])
def test_invalid_vectors(case: dict[str, str]) -> None:
    with pytest.raises(SerializationError):
        _core.canonical_json(case["input"].encode())


def _fits(value: Any) -> bool:
    """Within what both sides write the same way: 64-bit integers, finite floats."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**64
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_fits(v) for v in value.values())
    return all(_fits(v) for v in value)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(value=json_values(max_leaves=12).filter(_fits))
def test_generated_documents_agree(value: Any) -> None:
    try:
        want = canonicalize(value)
    except SerializationError:
        return  # lone surrogates: no UTF-8 text to hand to Rust either
    assert _core.canonical_json(msgspec.json.encode(value)) == want


@pytest.mark.parametrize("name", sorted(DOCUMENT_EXAMPLES))
def test_fingerprints_agree(name: str) -> None:
    obj = DOCUMENT_EXAMPLES[name]()
    assert _core.fingerprint(ir.to_json(obj)) == ir.fingerprint(obj)
