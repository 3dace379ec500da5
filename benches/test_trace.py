"""Trace hash chains and stores, each beside the plain-Python way of doing the same job.

* Build: 100,000 unsealed events -> sealed events (``prev_hash`` and ``hash`` set).
  crucible: ``seal`` (one msgspec encode of the batch; in Rust, off the GIL, streaming
  RFC 8785 canonicalization pipelined with the SHA-256 chain on a second thread; sealed
  copies). Reference: the same events as dicts, ``json.dumps(sort_keys=True)``
  + ``hashlib.sha256`` chained, sealed dict copies.
  A third row times only what ``seal`` must do while holding the GIL (the msgspec encode
  and the sealed copies, no hashing at all): no implementation that returns new ``Event``
  objects can be faster than it, so its ratio to the reference is the ceiling of ours.
* Verify: the 100,000 stored documents (bytes). crucible: ``verify_docs`` (Rust, off the
  GIL: streaming canonicalize + hash of every document on all cores, then the links in
  order). Reference: the chain it built
  itself, checked with ``json.loads``, drop the hash fields, ``json.dumps(sort_keys=True)``,
  ``hashlib.sha256``, compare (its sorted-keys JSON is not RFC 8785, so it cannot check
  ours, but it is the same work on the same content).
* Verify throughput: the same ``verify_docs`` against one raw ``hashlib.sha256`` over the
  concatenated bytes (what hashing alone costs); MB/s of both in ``extra_info``.
* Append 100,000 events to each store. JSONL: one ``JsonlWriter.append`` per event
  (streaming, one ``os.write`` each, fsync "never") vs a Python loop doing dumps + sha256 +
  ``file.write``; SQLite: ``SqliteStore.append`` in batches of 1,000 (indexes, FTS5 trigram
  text, one transaction per batch) vs ``sqlite3.executemany`` of (id, json) rows hashed in
  Python, no index. Events per second in ``extra_info``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
import pytest

from crucible.trace import (
    Chain,
    JsonlReader,
    JsonlWriter,
    SqliteStore,
    make_event,
    seal,
    verify_docs,
)
from crucible.trace.event import Event, encode_event, encode_event_array, with_links

N = 100_000
_TMP = Path(tempfile.mkdtemp(prefix="crucible-trace-bench-"))
_files = iter(range(10**9))
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _events(n: int) -> list[Event]:
    return [
        make_event(
            "loss_computed" if i % 3 else "hypothesis_formed",
            f"step {i}: keep learning rate at 3e-4",
            "validation loss still falling; a lower rate would slow convergence",
            id=f"ev-{i:08d}",
            timestamp=T0 + timedelta(microseconds=1000 * i),
            alternatives=["decay now", "warm restart"],
            confidence=0.5 + (i % 50) / 100,
            stage="train",
            experiment_id="exp-bench",
            tokens_in=120 + i % 7,
            tokens_out=40,
            latency_ms=1.25 + (i % 100) / 10,
            metadata={"epoch": i // 1000, "loss": 1.0 / (1 + i)},
        )
        for i in range(n)
    ]


EVENTS = _events(N)
DICTS = [msgspec.to_builtins(e) for e in EVENTS]
SEALED = seal(EVENTS)
DOCS = [encode_event(e) for e in SEALED]
MB = sum(map(len, DOCS)) / 1e6


def _dumps(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _rate(benchmark: Any, n: int) -> None:
    if benchmark.stats is None:  # --benchmark-disable smoke run: nothing was timed
        return
    benchmark.extra_info["events_per_second"] = round(n / benchmark.stats.stats.min)


# --- build -----------------------------------------------------------------------------------


def _crucible_build() -> None:
    sealed = seal(EVENTS)
    assert sealed[-1].hash == SEALED[-1].hash


def _python_chain() -> list[dict[str, Any]]:
    prev = bytes(32)
    out = []
    for doc in DICTS:
        digest = hashlib.sha256(prev + _dumps(doc)).digest()
        out.append({**doc, "prev_hash": prev.hex(), "hash": digest.hex()})
        prev = digest
    return out


def _python_build() -> None:
    assert len(_python_chain()) == N


PY_DOCS = [_dumps(doc) for doc in _python_chain()]  # the reference verifies its own chain


HASHES = [e.hash for e in SEALED]
PREVS = [e.prev_hash for e in SEALED]


def _floor_build() -> None:
    """What ``seal`` must do under the GIL whatever the hashing costs: encode the batch
    (msgspec) and make the sealed copies. Not a competitor: the ceiling of the ratio."""
    encode_event_array(EVENTS)
    assert with_links(EVENTS, PREVS, HASHES)[-1].hash == SEALED[-1].hash


BUILD = {
    "crucible": _crucible_build,
    "python-json-hashlib": _python_build,
    "floor-encode-and-copies-no-hashing": _floor_build,
}


@pytest.mark.parametrize("library", list(BUILD))
def test_build_chain(benchmark: Any, library: str) -> None:
    benchmark.group = "trace: build hash chain 1e5 events"
    benchmark.pedantic(BUILD[library], rounds=3, warmup_rounds=1)
    _rate(benchmark, N)


# --- verify ----------------------------------------------------------------------------------


def _crucible_verify() -> None:
    assert verify_docs(DOCS).ok


def _python_verify() -> None:
    prev = "0" * 64
    for raw in PY_DOCS:
        doc = json.loads(raw)
        stored, link = doc.pop("hash"), doc.pop("prev_hash")
        digest = hashlib.sha256(bytes.fromhex(link) + _dumps(doc)).hexdigest()
        assert link == prev
        assert digest == stored
        prev = stored


VERIFY = {"crucible": _crucible_verify, "python-json-hashlib": _python_verify}


@pytest.mark.parametrize("library", list(VERIFY))
def test_verify_chain(benchmark: Any, library: str) -> None:
    benchmark.group = "trace: verify hash chain 1e5 events"
    benchmark.pedantic(VERIFY[library], rounds=3, warmup_rounds=1)
    _rate(benchmark, N)


JOINED = b"".join(DOCS)
THROUGHPUT = {
    "crucible": _crucible_verify,
    "hashlib-sha256-raw": lambda: hashlib.sha256(JOINED).digest(),
}


@pytest.mark.parametrize("library", list(THROUGHPUT))
def test_verify_throughput(benchmark: Any, library: str) -> None:
    benchmark.group = f"trace: verify vs raw sha256 ({MB:.1f} MB)"
    benchmark.pedantic(THROUGHPUT[library], rounds=5, warmup_rounds=1)
    if benchmark.stats is not None:
        benchmark.extra_info["mb_per_second"] = round(MB / benchmark.stats.stats.min, 1)


# --- stores ----------------------------------------------------------------------------------


def _fresh(suffix: str) -> Path:
    return _TMP / f"store-{next(_files)}{suffix}"


def _crucible_jsonl(path: Path) -> None:
    with JsonlWriter(path, name="bench", fsync="never") as writer:
        append = writer.append
        for event in EVENTS:
            append(event)


def _python_jsonl(path: Path) -> None:
    prev = bytes(32)
    with path.open("wb") as f:
        for doc in DICTS:
            digest = hashlib.sha256(prev + _dumps(doc)).digest()
            f.write(_dumps({**doc, "prev_hash": prev.hex(), "hash": digest.hex()}) + b"\n")
            prev = digest


def _crucible_sqlite(path: Path) -> None:
    chain = Chain(name="bench")
    with SqliteStore(path) as store:
        for i in range(0, N, 1000):
            store.append(chain, EVENTS[i : i + 1000])


def _python_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT, doc BLOB)")
    prev = bytes(32)
    for start in range(0, N, 1000):
        rows = []
        for i in range(start, start + 1000):
            doc = DICTS[i]
            digest = hashlib.sha256(prev + _dumps(doc)).digest()
            sealed = {**doc, "prev_hash": prev.hex(), "hash": digest.hex()}
            rows.append((i, doc["id"], _dumps(sealed)))
            prev = digest
        conn.executemany("INSERT INTO events VALUES (?, ?, ?)", rows)
        conn.commit()
    conn.close()


STORES = {
    ("jsonl", "crucible"): (_crucible_jsonl, ".jsonl"),
    ("jsonl", "python-json-hashlib"): (_python_jsonl, ".jsonl"),
    ("sqlite", "crucible"): (_crucible_sqlite, ".sqlite3"),
    ("sqlite", "python-sqlite3"): (_python_sqlite, ".sqlite3"),
}


@pytest.mark.parametrize(("store", "library"), list(STORES))
def test_append_to_store(benchmark: Any, store: str, library: str) -> None:
    target, suffix = STORES[(store, library)]
    benchmark.group = f"trace: append 1e5 events to {store}"
    paths: list[Path] = []

    def setup() -> tuple[tuple[Path], dict[str, Any]]:
        paths.append(_fresh(suffix))
        return (paths[-1],), {}

    benchmark.pedantic(target, setup=setup, rounds=3, warmup_rounds=0)
    _rate(benchmark, N)
    if library == "crucible":
        if store == "sqlite":
            with SqliteStore(paths[-1]) as db:
                result = db.verify("bench")
        else:
            result = JsonlReader(paths[-1]).verify()
        assert result.ok
        assert result.checked == N
    for path in paths:
        for extra in ("", "-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
