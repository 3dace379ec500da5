"""The hash chain's streaming canonicalizer against the reference one.

Sealing and verifying canonicalize events with a streaming writer of their own
(``rust/trace/canon.rs``), not with ``crucible.ir``'s tree-based canonical JSON. These tests
hold them to the definition on generated documents: every hash must be SHA-256 of the
previous hash and ``_core.canonical_json(doc, ["hash", "prev_hash"])``, for any key order,
spelling of strings (escapes, ``ensure_ascii``, non-ASCII) and numbers, nesting and
whitespace; and a document the reference refuses (damaged bytes, duplicate names, nesting
too deep) must be refused too, as a typed error, never a crash.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crucible import _core
from crucible.errors import SerializationError
from crucible.trace import GENESIS, verify_docs

HASH_FIELDS = ["hash", "prev_hash"]

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(
        ["hash", "prev_hash", "\u2028", "\ue000", "\U0001f600", '"\\/\b\f\n\r\t\x00\x1f']
    )
)
_keys = st.text(max_size=8) | st.sampled_from(["hash", "prev_hash", "id", "\ue000", "\U00010000"])
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=25,
)
_objects = st.dictionaries(_keys, _values, max_size=8)


@st.composite
def _spelled(draw: st.DrawFn, value: Any) -> bytes:
    """One of the many JSON spellings of ``value``."""
    indent = draw(st.sampled_from([None, 0, 2]))
    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")]))
    text = json.dumps(
        value,
        ensure_ascii=draw(st.booleans()),
        sort_keys=draw(st.booleans()),
        indent=indent,
        separators=separators,
    )
    return text.encode()


def _reference_chain(docs: list[bytes], prev: bytes) -> list[str]:
    out = []
    for doc in docs:
        prev = hashlib.sha256(prev + _core.canonical_json(doc, HASH_FIELDS)).digest()
        out.append(prev.hex())
    return out


def _array(docs: list[bytes], gap: bytes = b"") -> bytes:
    return b"[" + gap + (b"," + gap).join(docs) + gap + b"]"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), objects=st.lists(_objects, min_size=1, max_size=6))
def test_seal_hashes_match_the_reference_canonical_json(
    data: st.DataObject, objects: list[Any]
) -> None:
    docs = [data.draw(_spelled(obj)) for obj in objects]
    prev = data.draw(st.binary(min_size=32, max_size=32))
    gap = data.draw(st.sampled_from([b"", b" ", b"\n\t"]))
    try:
        want = _reference_chain(docs, prev)
    except SerializationError:  # a value the reference refuses (beyond a double, say)
        with pytest.raises(SerializationError):
            _core.trace_chain_seal(_array(docs, gap), prev.hex())
        return
    hashes, stored, linked = _core.trace_chain_seal(_array(docs, gap), prev.hex(), True)
    assert hashes == want
    assert stored is not None
    assert linked == [i for i, o in enumerate(objects) if "hash" in o or "prev_hash" in o]
    # Stored documents of unlinked events verify; linked ones are returned unchanged.
    for i, doc in enumerate(stored):
        if i in linked:
            assert doc == docs[i]
        else:
            assert json.loads(doc) == {
                **objects[i],
                "prev_hash": [prev.hex(), *hashes][i],
                "hash": hashes[i],
            }
    if not linked:
        assert verify_docs(stored, prev.hex()).ok


@settings(max_examples=300, deadline=None)
@given(data=st.data(), obj=_objects)
def test_damaged_documents_are_refused_exactly_when_the_reference_refuses(
    data: st.DataObject, obj: Any
) -> None:
    doc = bytearray(data.draw(_spelled(obj)))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, max(len(doc) - 1, 0)))
        junk = data.draw(st.sampled_from(list(b'"\\{}[],:0-.eE \xff\xc3\x00u')))
        match data.draw(st.integers(0, 2)):
            case 0 if doc:
                doc[at] = junk
            case 1 if doc:
                del doc[at]
            case _:
                doc.insert(at, junk)
    damaged = bytes(doc)
    try:
        canonical = _core.canonical_json(damaged, HASH_FIELDS)
    except SerializationError:
        # Stored, it is a "malformed" break, not an exception.
        found = verify_docs([damaged])
        assert (found.ok, found.kind) == (False, "malformed")
        return
    assert verify_docs([damaged]).kind != "malformed"
    if damaged.lstrip().startswith(b"{"):  # one object: sealable, to the same hash
        hashes, _, _ = _core.trace_chain_seal(_array([damaged]))
        assert hashes == [hashlib.sha256(bytes(32) + canonical).hexdigest()]


_NUMBERS = st.sampled_from(
    [
        "0",
        "-0",
        "1.50",
        "1E+2",
        "1e-7",
        "0.0000010",
        "0.000001",
        "-0.0",
        "100.000",
        "123456789012345.6",
        "1234567890123456.7",
        "0.1000000000000000055511151231257827",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775809",
        "1e21",
        "5e-324",
    ]
)


@settings(max_examples=100, deadline=None)
@given(
    numbers=st.lists(
        _NUMBERS | st.decimals(allow_nan=False, allow_infinity=False).map(str),
        min_size=1,
        max_size=8,
    )
)
def test_every_spelling_of_a_number(numbers: list[str]) -> None:
    """Numbers as written in the document (trailing zeros, exponents, beyond 64 bits)."""
    spelled = [n for n in numbers if "E" not in n.upper() or n[-1].isdigit()]
    doc = ('{"n":[' + ",".join(spelled or ["0"]) + '],"m":' + (spelled or ["1"])[0] + "}").encode()
    try:
        canonical = _core.canonical_json(doc, HASH_FIELDS)
    except SerializationError:
        with pytest.raises(SerializationError):
            _core.trace_chain_seal(_array([doc]))
        return
    hashes, _, _ = _core.trace_chain_seal(_array([doc]))
    assert hashes == [hashlib.sha256(bytes(32) + canonical).hexdigest()]


def test_large_batches_take_the_pipelined_path_and_agree() -> None:
    docs = [
        json.dumps(
            {
                "z": i,
                "msg": f"événement {i} \U0001f600",
                "x": i / 7,
                "n": {"b": [i, 1e300], "a": None},
            },
            ensure_ascii=i % 2 == 0,
        ).encode()
        for i in range(4000)
    ]
    blob = _array(docs)
    assert len(blob) > 256 * 1024  # above the size sealing pipelines over two threads
    hashes, stored, linked = _core.trace_chain_seal(blob, None, True)
    assert hashes == _reference_chain(docs, bytes(32))
    assert linked == []
    assert stored is not None
    assert verify_docs(stored).ok
    assert verify_docs(stored).head == hashes[-1]


@pytest.mark.parametrize(
    ("doc", "kind"),
    [
        (b"\xff", "malformed"),
        (b'{"a":"\xc3"}', "malformed"),
        (b'{"a":"\\ud800"}', "malformed"),
        (b'{"a":' * 600 + b"1" + b"}" * 600, "malformed"),
        (b'{"a":' + b"[" * 1_000_000, "malformed"),
        (b'{"a":1e400}', "malformed"),
        (b"{} {}", "malformed"),
        # Well-formed JSON but not canonicalizable: stored hashes are looked for first.
        (b'{"a":1,"a":2}', "missing"),
    ],
)
def test_hostile_documents_are_typed_errors(doc: bytes, kind: str) -> None:
    with pytest.raises(SerializationError):
        _core.canonical_json(doc)
    with pytest.raises(SerializationError, match=r"event 1|UTF-8"):
        _core.trace_chain_seal(_array([b"{}", doc]))
    found = verify_docs([doc])
    assert (found.ok, found.index, found.kind, found.head) == (False, 0, kind, GENESIS)


def test_seal_refuses_what_is_not_an_array_of_objects() -> None:
    for blob, message in [
        (b"{}", "array"),
        (b"[1]", "not a JSON object"),
        (b"[{}", "expected"),
        (b"[{}] x", "trailing"),
    ]:
        with pytest.raises(SerializationError, match=message):
            _core.trace_chain_seal(blob)
    assert _core.trace_chain_seal(b" [ ] ") == ([], None, [])
