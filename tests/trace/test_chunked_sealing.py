"""Large batches are sealed chunk by chunk on a worker thread (``_core.ChainSealer``) while
Python encodes the next chunk: the answers must be those of sealing the batch at once."""

from __future__ import annotations

import itertools
import os
import time
from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from crucible import _core
from crucible.errors import IntegrityError, SerializationError
from crucible.trace import GENESIS, make_event, seal, verify_docs
from crucible.trace.event import Event, encode_event_array
from crucible.trace.integrity import _CHUNK, seal_encoded

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _events(n: int) -> list[Event]:
    return [
        make_event(
            "loss_computed",
            f"step {i}",
            "why\n" * (i % 3),
            id=f"e{i}",
            timestamp=T0 + timedelta(seconds=i),
            # unsorted metadata in some events: those take the general (sorting) path
            metadata={"loss": 1 / (1 + i), "epoch": i} if i % 5 else {"epoch": i, "x": 1.0},
        )
        for i in range(n)
    ]


EVENTS = _events(2 * _CHUNK + 123)
PREV = "ab" * 32


@pytest.mark.parametrize("prev", [GENESIS, PREV])
def test_chunked_sealing_equals_sealing_at_once(prev: str) -> None:
    whole = _core.trace_chain_seal(
        encode_event_array(EVENTS), None if prev == GENESIS else prev, True
    )
    sealed, docs = seal_encoded(EVENTS, prev)
    assert [e.hash for e in sealed] == whole[0]
    assert docs == whole[1]
    assert sealed[0].prev_hash == prev
    assert all(a.hash == b.prev_hash for a, b in itertools.pairwise(sealed))
    found = verify_docs(docs, prev)
    assert found.ok
    assert found.head == sealed[-1].hash
    assert [e.hash for e in seal(EVENTS, prev)] == whole[0]


def test_already_linked_events_in_later_chunks_are_checked_at_their_global_index() -> None:
    sealed = seal(EVENTS)
    again = seal(sealed)  # every event carries its own, correct link
    assert again == sealed
    tampered = list(sealed)
    i = _CHUNK + 7
    tampered[i] = msgspec.structs.replace(tampered[i], decision="edited")
    with pytest.raises(IntegrityError, match=f"event 'e{i}'"):
        seal(tampered)


def test_the_sealer_hands_back_each_chunk_then_the_documents() -> None:
    blobs = [encode_event_array(EVENTS[i : i + 100]) for i in range(0, 300, 100)]
    whole = _core.trace_chain_seal(encode_event_array(EVENTS[:300]), PREV, True)
    sealer = _core.ChainSealer(PREV, True)
    for blob in blobs:
        sealer.feed(blob)
    parts = []
    while (answer := sealer.next_hashes()) is not None:
        parts.append(answer)
    assert [h for hashes, _ in parts for h in hashes] == whole[0]
    assert [i for _, linked in parts for i in linked] == whole[2] == []
    assert sealer.finish() == whole[1]


def test_errors_name_the_event_in_the_whole_batch() -> None:
    sealer = _core.ChainSealer()
    sealer.feed(b"[{},{}]")
    sealer.feed(b'[{},{"a":1,"a":2}]')
    sealer.feed(b"[{}]")
    assert sealer.next_hashes() is not None
    with pytest.raises(SerializationError, match="event 3:"):
        sealer.next_hashes()
    with pytest.raises(RuntimeError, match="stopped"):
        sealer.finish()
    with pytest.raises(RuntimeError, match="finished"):
        sealer.feed(b"[{}]")


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_an_unencodable_event_fails_and_leaves_no_thread_behind() -> None:
    odd = Event(type="hypothesis_formed", decision="d", metadata={"x": object()})
    bad = [*EVENTS[: 2 * _CHUNK], odd]
    before = _threads()
    with pytest.raises(SerializationError):
        seal(bad)
    deadline = time.monotonic() + 10
    while _threads() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _threads() <= before
    empty = _core.ChainSealer(PREV)
    assert empty.next_hashes() is None
    assert empty.finish() is None
