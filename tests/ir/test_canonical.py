"""Canonical JSON (RFC 8785) and fingerprints.

The vectors live in ``canonical_cases.json`` so that the Rust port runs the same cases.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ir_examples import DOCUMENT_EXAMPLES, experiment
from ir_strategies import json_values

import crucible.ir as ir
from crucible.errors import InvalidTypeError, SerializationError
from crucible.ir.canonical import canonicalize, format_number
from crucible.ir.experiment import StageDef

CASES = json.loads((Path(__file__).parent / "canonical_cases.json").read_text("utf-8"))


def _double(bits: str) -> float:
    return float(struct.unpack(">d", bytes.fromhex(bits.rjust(16, "0")))[0])


@pytest.mark.parametrize(("bits", "text"), CASES["numbers"], ids=[b for b, _ in CASES["numbers"]])
def test_number_vectors(bits: str, text: str) -> None:
    assert format_number(_double(bits)) == text
    assert canonicalize([_double(bits)]) == f"[{text}]".encode()


@pytest.mark.parametrize("case", CASES["documents"], ids=[c["name"] for c in CASES["documents"]])
def test_document_vectors(case: dict[str, str]) -> None:
    assert ir.canonical_json(case["input"].encode()) == case["output"].encode("utf-8")


@pytest.mark.parametrize("case", CASES["invalid"], ids=[c["name"] for c in CASES["invalid"]])
def test_invalid_vectors(case: dict[str, str]) -> None:
    with pytest.raises(SerializationError):
        ir.canonical_json(case["input"].encode())


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_have_no_form(value: float) -> None:
    with pytest.raises(SerializationError):
        canonicalize({"x": value})
    with pytest.raises(SerializationError):
        format_number(value)


def test_integers_are_exact() -> None:
    assert canonicalize(2**64 + 1) == b"18446744073709551617"
    assert canonicalize(-(2**70)) == str(-(2**70)).encode()
    assert canonicalize(True) == b"true"  # bool is not an int here
    assert canonicalize([1, 1.0, -0.0, 0]) == b"[1,1,0,0]"


def test_python_strings_with_lone_surrogates_are_rejected() -> None:
    with pytest.raises(SerializationError):
        canonicalize("\ud800")
    with pytest.raises(SerializationError):
        canonicalize({"\udc00": 1})


def test_non_json_values_are_rejected() -> None:
    with pytest.raises(SerializationError):
        canonicalize({1: "a"})
    with pytest.raises(InvalidTypeError):
        canonicalize({"a": {1, 2}})
    with pytest.raises(InvalidTypeError):
        canonicalize(object())


def test_tuples_are_arrays() -> None:
    assert canonicalize((1, "a")) == b'[1,"a"]'


def test_depth_limit() -> None:
    deep: Any = []
    for _ in range(600):
        deep = [deep]
    with pytest.raises(SerializationError):
        canonicalize(deep)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_numbers_match_javascript() -> None:
    rng = random.Random(8785)
    values = []
    while len(values) < 20_000:
        value = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if math.isfinite(value):
            values.append(value)
    values += [rng.randint(-(10**6), 10**6) / 10 ** rng.randint(0, 12) for _ in range(5_000)]
    script = (
        "const l=require('fs').readFileSync(0,'utf8').trim().split('\\n');"
        "process.stdout.write(l.map(h=>String(Buffer.from(h,'hex').readDoubleBE(0))).join('\\n'))"
    )
    hexes = "\n".join(struct.pack(">d", v).hex() for v in values)
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, "-e", script], input=hexes, capture_output=True, text=True, check=True
    )
    expected = ["0" if s == "-0" else s for s in result.stdout.split("\n")]
    assert [format_number(v) for v in values] == expected


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_round_trip(value: float) -> None:
    text = format_number(value)
    assert float(text) == value
    assert float(json.loads(text)) == value
    assert " " not in text


@settings(max_examples=200, deadline=None)
@given(json_values(max_leaves=20))
def test_canonical_form_is_valid_idempotent_json(value: Any) -> None:
    once = canonicalize(value)
    parsed = json.loads(once)
    assert canonicalize(parsed) == once
    assert ir.canonical_json(once) == once


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(), json_values(), max_size=8), st.randoms())
def test_key_order_does_not_matter(value: dict[str, Any], rnd: random.Random) -> None:
    items = list(value.items())
    rnd.shuffle(items)
    assert canonicalize(dict(items)) == canonicalize(value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), min_size=2, max_size=6, unique=True))
def test_keys_sort_by_utf16_code_units(keys: list[str]) -> None:
    data = json.loads(canonicalize({k: 0 for k in keys}))
    assert list(data) == sorted(keys, key=lambda k: k.encode("utf-16-be"))


def test_utf16_order_differs_from_code_point_order() -> None:
    # U+FB33 sorts after U+1F600 by code point, before it by UTF-16 code unit (0xD83D).
    assert canonicalize({"\U0001f600": 1, "\ufb33": 2}) == '{"\U0001f600":1,"\ufb33":2}'.encode()


# --- fingerprints -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(DOCUMENT_EXAMPLES))
def test_fingerprint_is_stable(name: str) -> None:
    obj = DOCUMENT_EXAMPLES[name]()
    digest = ir.fingerprint(obj)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert ir.fingerprint(ir.from_json(ir.to_json(obj), type(obj))) == digest
    assert ir.fingerprint(ir.to_json(obj)) == digest
    assert ir.fingerprint(ir.to_dict(obj)) == digest


def test_fingerprint_ignores_map_order_but_not_content() -> None:
    a = StageDef(name="s", options={"x": 1, "y": [1, 2]})
    b = StageDef(name="s", options={"y": [1, 2], "x": 1})
    assert ir.fingerprint(a) == ir.fingerprint(b)
    assert ir.fingerprint(a) != ir.fingerprint(StageDef(name="s", options={"x": 1, "y": [2, 1]}))
    assert ir.fingerprint(a) != ir.fingerprint(StageDef(name="s", options={"x": 1.5, "y": [1, 2]}))


def test_fingerprint_of_reformatted_json() -> None:
    data = ir.to_json(experiment())
    pretty = msgspec.json.format(data, indent=4)
    assert ir.fingerprint(pretty) == ir.fingerprint(data)


def test_fingerprint_known_value() -> None:
    """Pinned: a change here changes every stored fingerprint."""
    assert ir.canonical_json(StageDef(name="run")) == (
        b'{"enabled":true,"module":null,"name":"run","options":null}'
    )
    assert ir.fingerprint(StageDef(name="run")) == (
        "baa536c4d91c05b5542d60d04a085184f59dab33c3d348c1a342a6db4e00aec6"
    )
