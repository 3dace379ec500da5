"""Tamper evidence: the hash chain matches its definition, and verification finds every
kind of tampering at the right index: edited (any byte of any stored event), removed,
swapped and inserted events, in memory, in JSONL files and in the SQLite store."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trace_samples import sample_chain

from crucible import _core
from crucible.trace import GENESIS, Chain, SqliteStore, verify_docs
from crucible.trace.event import encode_event
from crucible.trace.integrity import seal_encoded, sign, verify_signature
from crucible.trace.store.jsonl import JsonlReader, JsonlWriter


def _docs(chain: Chain) -> list[bytes]:
    return [encode_event(e) for e in chain.events]


def test_hashes_follow_the_definition(chain: Chain) -> None:
    prev = bytes(32)
    for event in chain.events:
        canonical = _core.canonical_json(encode_event(event), ["hash", "prev_hash"])
        digest = hashlib.sha256(prev + canonical).digest()
        assert event.prev_hash == prev.hex()
        assert event.hash == digest.hex()
        prev = digest


def test_intact_chain(chain: Chain) -> None:
    result = verify_docs(_docs(chain))
    assert result.ok
    assert result.checked == len(chain.events)
    assert result.head == chain.head
    assert verify_docs([]).ok
    assert verify_docs([]).head == GENESIS
    result.raise_for_break()


@pytest.mark.parametrize(
    ("tamper", "index", "kind"),
    [
        (lambda d: d[:3] + d[4:], 3, "link"),  # removed
        (lambda d: [d[0], d[2], d[1], *d[3:]], 1, "link"),  # swapped
        (lambda d: [*d[:5], d[2], *d[5:]], 5, "link"),  # inserted (a copy)
        (lambda d: d[1:], 0, "link"),  # first removed
        (lambda d: d[:-1], None, None),  # last removed: only a signature can tell
        (lambda d: [*d[:4], d[4].replace(b"Decision 4", b"Decision 5"), *d[5:]], 4, "content"),
        (lambda d: [*d[:2], d[2].replace(b'"hash":"', b'"hash":"x'), *d[3:]], 2, "missing"),
        (lambda d: [*d[:6], d[6][:-1], *d[7:]], 6, "malformed"),
    ],
)
def test_each_kind_of_tampering(
    chain: Chain, tamper: object, index: int | None, kind: str | None
) -> None:
    docs = tamper(_docs(chain))  # type: ignore[operator]
    result = verify_docs(docs)
    assert result.index == index
    assert result.kind == kind
    assert result.ok is (index is None)
    if not result.ok:
        assert result.reason
        with pytest.raises(Exception, match="broken at event"):
            result.raise_for_break()


def test_truncation_is_caught_by_the_signature(chain: Chain) -> None:
    signature = sign(chain.head, b"k")
    shorter = verify_docs(_docs(chain)[:-1])
    assert shorter.ok
    assert not verify_signature(shorter.head, b"k", signature)
    assert verify_signature(chain.head, b"k", signature.upper())


MASKS = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)


def test_flipping_any_bit_of_any_stored_event_is_caught() -> None:
    """Every byte of every event, every single-bit flip (stored hashes are lower-case hex
    only, so even the a-f/A-F case flip is a break)."""
    small = sample_chain(3)
    docs = _docs(small)
    for i, doc in enumerate(docs):
        for pos in range(len(doc)):
            for mask in MASKS:
                damaged = bytearray(doc)
                damaged[pos] ^= mask
                result = verify_docs([*docs[:i], bytes(damaged), *docs[i + 1 :]])
                assert (result.ok, result.index) == (False, i), (i, pos, mask, bytes(damaged))


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_random_corruption_is_caught_at_the_corrupted_event(data: st.DataObject) -> None:
    chain = sample_chain(6)
    docs = _docs(chain)
    i = data.draw(st.integers(0, len(docs) - 1))
    pos = data.draw(st.integers(0, len(docs[i]) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != docs[i][pos]))
    damaged = bytearray(docs[i])
    damaged[pos] = new
    result = verify_docs([*docs[:i], bytes(damaged), *docs[i + 1 :]])
    assert not result.ok
    assert result.index == i


def test_tampering_in_a_jsonl_file_is_found(tmp_path: Path, chain: Chain) -> None:
    path = tmp_path / "t.jsonl"
    with JsonlWriter(path, chain=chain) as writer:
        writer.append_many(chain.events)
    assert JsonlReader(path).verify().ok
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"Reasoning for step 2", b"Reasoning for step X")
    path.write_bytes(b"\n".join(lines))
    result = JsonlReader(path).verify()
    assert (result.index, result.kind) == (2, "content")
    del lines[3]  # now event 2 is gone instead
    path.write_bytes(b"\n".join(lines))
    result = JsonlReader(path).verify()
    assert (result.index, result.kind) == (2, "link")


def test_every_byte_flip_in_the_sqlite_store_is_found(tmp_path: Path) -> None:
    db_path = tmp_path / "t.sqlite3"
    chain = sample_chain(3)
    with SqliteStore(db_path) as store:
        store.save(chain)
        docs = list(store.docs(chain.id))
    raw = sqlite3.connect(db_path)
    for i, doc in enumerate(docs):
        for pos in range(0, len(doc), 7):
            damaged = bytearray(doc)
            damaged[pos] ^= 0x01
            raw.execute("UPDATE events SET doc = ? WHERE seq = ?", (bytes(damaged), i))
            raw.commit()
            with SqliteStore(db_path) as store:
                result = store.verify(chain.id)
            assert (result.ok, result.index) == (False, i), (i, pos)
        raw.execute("UPDATE events SET doc = ? WHERE seq = ?", (doc, i))
        raw.commit()
    # drop, swap, insert rows
    with SqliteStore(db_path) as store:
        assert store.verify(chain.id).ok
    raw.execute("UPDATE events SET seq = 10 WHERE seq = 1")
    raw.commit()
    with SqliteStore(db_path) as store:
        assert (store.verify(chain.id).index, store.verify(chain.id).kind) == (1, "link")
    raw.close()


def test_batched_verification_crosses_batch_boundaries(tmp_path: Path) -> None:
    chain = sample_chain(25)
    with SqliteStore(tmp_path / "s.sqlite3") as store:
        store.save(chain)
        assert store.verify(chain.id, batch=4).ok
        assert store.verify(chain.id, batch=4).checked == 25
    docs = _docs(chain)
    edited = msgspec.json.decode(docs[13])
    edited["confidence"] = 0.01
    docs[13] = msgspec.json.encode(edited)
    prev, seen = GENESIS, 0
    for start in range(0, 25, 4):
        result = verify_docs(docs[start : start + 4], prev, offset=start)
        if not result.ok:
            assert (result.index, result.kind) == (13, "content")
            break
        prev, seen = result.head, seen + 4
    else:
        pytest.fail("the edit was not found")


def test_sealed_documents_are_the_encoding_of_the_sealed_events() -> None:
    chain = sample_chain(6)
    fresh = [msgspec.structs.replace(e, prev_hash=None, hash=None) for e in chain.events]
    sealed, docs = seal_encoded(fresh)
    assert sealed == chain.events
    assert docs == [encode_event(e) for e in chain.events]
    again, same = seal_encoded(chain.events)  # already sealed: kept as they are
    assert again == chain.events
    assert same == docs


def test_verify_takes_a_chain_or_its_events(chain: Chain) -> None:
    from crucible.trace import verify

    assert verify(chain).ok
    assert verify(chain.events).ok
    assert verify(iter(chain.events)).checked == len(chain.events)
    chain.events[2], chain.events[3] = chain.events[3], chain.events[2]
    assert (verify(chain).index, verify(chain).kind) == (2, "link")
