"""The JSONL flight recorder: round trips, continuation after reopening, torn last lines
found and set aside, and a writer killed with SIGKILL mid-run losing nothing it had
acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest
from trace_samples import sample_chain

from crucible.errors import IntegrityError, SerializationError, StorageError
from crucible.trace import Chain, JsonlReader, JsonlWriter, make_event
from crucible.trace.store.jsonl import TornTailWarning


def test_round_trip(tmp_path: Path, chain: Chain) -> None:
    path = tmp_path / "run.jsonl"
    with JsonlWriter(path, chain=chain, fsync="always") as writer:
        sealed = writer.append_many(chain.events)
    assert sealed == chain.events
    reader = JsonlReader(path)
    assert reader.torn is None
    assert reader.header is not None
    assert reader.header.name == chain.name
    loaded = reader.load()
    assert loaded.events == chain.events
    assert loaded.id == chain.id
    assert reader.verify().ok
    assert reader.verify().checked == len(chain.events)


def test_streaming_and_reopening_continue_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    with JsonlWriter(path, name="stream", fsync="never") as w:
        for i in range(5):
            w.append(make_event("batch_processed", f"batch {i}"))
    with JsonlWriter(path, fsync="interval", fsync_interval=0.0) as w:
        assert w.header is not None
        assert w.header.name == "stream"
        w.append_many([make_event("epoch_completed", "epoch 1")])
    reader = JsonlReader(path)
    assert [e.decision for e in reader][-1] == "epoch 1"
    assert reader.verify().ok
    assert reader.verify().checked == 6
    with pytest.raises(StorageError):
        JsonlWriter(path, chain=Chain(name="another"))
    with pytest.raises(StorageError):
        JsonlWriter(path, fsync="sometimes")  # type: ignore[arg-type]


def test_writer_sink_checks_the_chain(tmp_path: Path) -> None:
    chain = Chain(name="c")
    w = JsonlWriter(tmp_path / "c.jsonl", chain=chain)
    e = chain.record("hypothesis_formed", "h")
    w.write(chain, [e])
    with pytest.raises(StorageError):
        w.write(Chain(name="other"), [e])
    other = Chain(name="c2", id=chain.id)
    stray = other.record("hypothesis_formed", "not after the head")
    with pytest.raises(IntegrityError):
        w.write(other, [stray])
    w.close()
    w.close()
    with pytest.raises(StorageError):
        w.append(make_event("hypothesis_formed", "closed"))


@pytest.mark.parametrize("cut", [1, 10, 57, -1])
def test_torn_last_line_is_reported_and_set_aside(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "t.jsonl"
    chain = sample_chain(4)
    with JsonlWriter(path, chain=chain) as w:
        w.append_many(chain.events)
    data = path.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    end = len(data) - 1 if cut == -1 else last_start + cut  # -1: only the newline lost
    path.write_bytes(data[:end])
    reader = JsonlReader(path)
    assert reader.torn is not None
    assert reader.torn.offset == last_start
    assert [e.id for e in reader] == ["e0", "e1", "e2"]  # earlier events kept
    assert reader.verify().ok
    with pytest.warns(TornTailWarning):
        w = JsonlWriter(path)
    assert w.recovered == reader.torn
    assert Path(f"{path}.torn").read_bytes() == data[last_start:end] + b"\n"
    w.append(make_event("state_recovered", "resumed after a crash"))
    w.close()
    again = JsonlReader(path)
    assert again.torn is None
    assert again.verify().ok
    assert [e.decision for e in again][-1] == "resumed after a crash"


def test_damage_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"not a header\n")
    with pytest.raises(SerializationError):
        JsonlReader(path)
    with pytest.raises(StorageError):
        JsonlReader(tmp_path / "missing.jsonl")
    chain = sample_chain(3)
    good = tmp_path / "g.jsonl"
    with JsonlWriter(good, chain=chain) as w:
        w.append_many(chain.events)
    lines = good.read_bytes().split(b"\n")
    lines[2] = b"{garbage"
    good.write_bytes(b"\n".join(lines))
    result = JsonlReader(good).verify()
    assert (result.index, result.kind) == (1, "malformed")
    with pytest.raises(SerializationError, match="event 1"):
        list(JsonlReader(good))
    lines[2], lines[3] = lines[3], b"{garbage"  # now the *last* complete line is damaged
    good.write_bytes(b"\n".join(lines[:4]) + b"\n")
    with pytest.raises(IntegrityError):
        JsonlWriter(good)


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    empty = tmp_path / "e.jsonl"
    empty.touch()
    assert JsonlReader(empty).header is None
    with JsonlWriter(empty, name="fresh") as w:
        w.append(make_event("hypothesis_formed", "first"))
    assert JsonlReader(empty).verify().ok
    torn_header = tmp_path / "h.jsonl"
    torn_header.write_bytes(b'{"crucible_trace":1,"chain":{"id":"x"')
    with pytest.warns(TornTailWarning):
        JsonlWriter(torn_header, name="again").close()
    reader = JsonlReader(torn_header)
    assert reader.header is not None
    assert reader.header.name == "again"


CHILD = textwrap.dedent(
    """
    import sys
    from crucible.trace import JsonlWriter, make_event
    w = JsonlWriter(sys.argv[1], name="crash", fsync="never")
    pad = "x" * 20000  # big lines: the kill lands mid-write often
    i = 0
    while True:
        w.append(make_event("batch_processed", f"batch {i}", pad))
        i += 1
        print(i, flush=True)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_writer_killed_mid_write_loses_nothing_acknowledged(tmp_path: Path) -> None:
    for attempt in range(3):
        path = tmp_path / f"crash{attempt}.jsonl"
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        acknowledged = 0
        deadline = time.monotonic() + 60
        while acknowledged < 50 + 37 * attempt and time.monotonic() < deadline:
            acknowledged = int(child.stdout.readline() or 0) or acknowledged
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        reader = JsonlReader(path)
        result = reader.verify()
        assert result.ok, result
        assert result.checked >= acknowledged  # every acknowledged append is on disk
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TornTailWarning)
            w = JsonlWriter(path)  # recovers (a torn line, if the kill landed mid-write)
        w.append(make_event("state_recovered", "after the kill"))
        w.close()
        assert JsonlReader(path).verify().ok
        assert JsonlReader(path).torn is None
