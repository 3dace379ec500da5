"""The SQLite store: round trips, lazy paging, appends that continue the chain, versions
(save, list, diff, roll back), lookups by id, name and prefix, and the default home."""

from __future__ import annotations

from pathlib import Path

import pytest
from trace_samples import sample_chain

from crucible.errors import IntegrityError, NotFoundError
from crucible.trace import Chain, SqliteStore, Tracer, make_event
from crucible.trace import query as q


def test_round_trip(tmp_path: Path, chain: Chain) -> None:
    with SqliteStore(tmp_path / "s.sqlite3") as store:
        assert store.save(chain) == 1
        loaded = store.load(chain.id)
        assert loaded.events == chain.events
        assert (loaded.id, loaded.name, loaded.metadata) == (chain.id, chain.name, chain.metadata)
        assert store.verify(chain.id).ok
        [info] = store.chains()
        assert (info.id, info.events, info.version, info.head) == (chain.id, 8, 1, chain.head)
    with SqliteStore(tmp_path / "s.sqlite3") as store:  # reopened
        assert [e.id for e in store.events("sample")] == [e.id for e in chain.events]


def test_lazy_paging(tmp_path: Path) -> None:
    chain = sample_chain(23)
    with SqliteStore(tmp_path / "s.sqlite3") as store:
        store.save(chain)
        pages = store.events(chain.id, batch=5)
        assert next(pages).id == "e0"  # a generator: nothing else read yet
        assert [e.id for e in pages] == [f"e{i}" for i in range(1, 23)]
        assert store.verify(chain.id, batch=5).checked == 23


def test_append_continues_the_latest_version(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.sqlite3") as store:
        chain = Chain(name="live")
        first = store.append(chain, [make_event("training_started", "go")])
        more = store.append("live", [make_event("epoch_completed", f"epoch {i}") for i in range(3)])
        assert more[0].prev_hash == first[0].hash
        assert store.verify("live").ok
        assert store.chains()[0].events == 4
        with pytest.raises(IntegrityError):
            store.append("live", [first[0]])  # sealed for another position


def test_tracer_sink(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.sqlite3") as store:
        tracer = Tracer("run", sinks=[store])
        with tracer.stage("s"):
            tracer.record("hypothesis_formed", "h")
        assert store.load(tracer.chain.id).events == tracer.chain.events


def test_versions(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.sqlite3") as store:
        v1 = sample_chain(4)
        assert store.save(v1, note="first") == 1
        v2 = Chain.of(v1.name, [make_event("hypothesis_formed", "new start", id="n0")], id=v1.id)
        assert store.save(v2, note="rewrite") == 2
        store.append(v1.id, [make_event("metric_recorded", "appended to v2")])
        versions = store.versions(v1.id)
        assert [(v.version, v.events, v.note) for v in versions] == [
            (1, 4, "first"),
            (2, 2, "rewrite"),
        ]
        diff = store.diff(v1.id, 1, 2)
        assert len(diff.removed) == 4
        assert len(diff.added) == 2
        assert store.rollback(v1.id, 1) == 3
        assert [e.id for e in store.load(v1.id).events] == ["e0", "e1", "e2", "e3"]
        assert store.load(v1.id, 2).events[0].id == "n0"
        assert store.verify(v1.id).ok
        assert store.versions(v1.id)[-1].note == "rollback to version 1"
        assert [e.id for _, e in store.search(q.content("decision 2"))] == ["e2"]  # latest only
        assert store.diff(v1.id, 1, 3).identical
        with pytest.raises(NotFoundError):
            store.load(v1.id, 9)


def test_resolve_and_delete(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.sqlite3") as store:
        a = sample_chain(2, name="alpha")
        store.save(a)
        store.save(Chain(name="al%_pha", id="zz%_id"))
        assert store.resolve("alpha") == a.id
        assert store.resolve(a.id[:8]) == a.id
        assert store.resolve("zz%_") == "zz%_id"
        for ref in ("nope", "ch", "zz__"):
            with pytest.raises(NotFoundError):
                store.resolve(ref)
        store.delete("alpha")
        assert [c.name for c in store.chains()] == ["al%_pha"]
        assert list(store.search(q.content("Decision"))) == []


def test_default_location(home: Path) -> None:
    with SqliteStore() as store:
        store.save(sample_chain(1))
    assert (home / "trace.sqlite3").exists()
