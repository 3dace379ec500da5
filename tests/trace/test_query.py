"""Queries: each predicate, the combinators, the regex guard, and the same answers from a
chain in memory and from the SQLite store (where SQL prefilters and FTS5 do the work)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trace_samples import T0, sample_chain

from crucible.errors import InvalidArgumentError
from crucible.trace import Chain, SqliteStore, make_event
from crucible.trace import query as q
from crucible.trace.query import Query, to_sql
from crucible.trace.regex_guard import compile_guarded


def _ids(query: Query, chain: Chain) -> list[str]:
    return [e.id for e in query.select(chain)]


def test_predicates(chain: Chain) -> None:
    assert _ids(q.content("decision 3"), chain) == ["e3"]
    assert _ids(q.content("Decision 3", case_sensitive=True), chain) == ["e3"]
    assert _ids(q.content("decision 3", case_sensitive=True), chain) == []
    assert _ids(q.content("ALT 4B"), chain) == ["e4"]
    assert _ids(q.types("loss_computed"), chain) == ["e3", "e7"]
    assert _ids(q.confidence(min=0.8), chain) == ["e6", "e7"]
    assert _ids(q.confidence(max=0.55), chain) == ["e0", "e1"]
    window = q.time_range(T0 + timedelta(milliseconds=500), T0 + timedelta(milliseconds=750))
    assert _ids(window, chain) == ["e2", "e3"]
    assert _ids(q.time_range(since=T0.replace(tzinfo=None) + timedelta(seconds=1.5)), chain) == [
        "e6",
        "e7",
    ]
    assert _ids(q.stage("train"), chain) == ["e4", "e5", "e6", "e7"]
    assert _ids(q.stage(None), chain) == []
    assert q.experiment("exp-1").count(chain) == 8
    assert _ids(q.event_ids("e1", "e5"), chain) == ["e1", "e5"]
    assert _ids(q.regex(r"option [25]>"), chain) == ["e2", "e5"]
    assert _ids(q.matching(lambda e: e.id.endswith("7")), chain) == ["e7"]


def test_combinators(chain: Chain) -> None:
    query = (q.types("loss_computed") | q.content("decision 1")) & ~q.stage("train")
    assert _ids(query, chain) == ["e1", "e3"]
    assert _ids(~(q.confidence(min=0.6)), chain) == ["e0", "e1"]
    assert "types" in repr(query)
    assert chain.filter(query) == query.select(chain)


def test_sql_prefilters() -> None:
    part, exact = to_sql(q.types("a") & q.confidence(min=0.5))
    assert part is not None
    assert exact
    assert part[1] == ["a", 0.5]
    assert to_sql(q.regex("x"))[0] is None
    assert to_sql(q.types("a") | q.regex("x"))[0] is None  # a branch could match anything
    assert to_sql(~q.content("x"))[0] is None  # negated superset is no prefilter
    assert to_sql(~q.types("a"))[0] is not None


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)+$", r"(a*)*b", r"(\w+\s?)+$", r"(a|ab)+c", r"(a|a)*", r"(x)\1", r"(?:a{1,100})+"],
)
def test_regex_guard_rejects_catastrophic_patterns(pattern: str) -> None:
    with pytest.raises(InvalidArgumentError):
        q.regex(pattern)


def test_regex_guard_bounds_work() -> None:
    assert compile_guarded(r"error").max_chars == 65_536
    assert compile_guarded(r"error.*timeout").max_chars < 65_536
    assert compile_guarded(r".*.*.*x").max_chars <= 200
    assert compile_guarded(r"(get|put)+ ").unbounded == 1
    assert compile_guarded(r"a++").unbounded == 0
    with pytest.raises(InvalidArgumentError):
        compile_guarded("[")
    with pytest.raises(InvalidArgumentError):
        compile_guarded("a" * 3000)
    import time

    hostile = make_event("custom:x", "a" * 100_000)
    start = time.perf_counter()
    assert not q.regex(r".*.*.*x")(hostile)
    assert not q.regex(r"\w+\s+\w+x")(hostile)
    assert time.perf_counter() - start < 10.0


def test_store_answers_match_memory(tmp_path: Path, chain: Chain) -> None:
    other = sample_chain(5, name="other")
    with SqliteStore(tmp_path / "q.sqlite3") as store:
        store.save(chain)
        store.save(other)
        queries = [
            q.content("decision 3"),
            q.content("ALT"),
            q.content("%"),
            q.content("_"),
            q.content("de"),
            q.types("loss_computed") | q.confidence(max=0.5),
            ~q.stage("plan"),
            ~q.content("quote"),
            q.regex(r"step [0-2]$") & q.experiment("exp-1"),
            q.time_range(until=T0 + timedelta(milliseconds=500)),
        ]
        for query in queries:
            want = sorted((c.id, e.id) for c in (chain, other) for e in query.select(c))
            got = sorted((cid, e.id) for cid, e in store.search(query))
            assert got == want, query
        assert [e.id for _, e in store.search(q.types("loss_computed"), chain="other")] == ["e3"]
        assert len(list(store.search(q.content("decision"), limit=3))) == 3


_TEXT = st.text(alphabet="abcAB %_é\u00df\u212a\u0130\u023a\u2c65 ", max_size=8)


@settings(max_examples=80, deadline=None)
@given(texts=st.lists(_TEXT, min_size=1, max_size=6), needle=_TEXT)
def test_content_search_agrees_between_memory_and_fts(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str], needle: str
) -> None:
    chain = Chain(name="h")
    for i, text in enumerate(texts):
        chain.add(make_event("custom:t", text or "-", f"r{i}"))
    path = tmp_path_factory.mktemp("fts") / "s.sqlite3"
    with SqliteStore(path) as store:
        store.save(chain)
        for query in (q.content(needle), q.content(needle, case_sensitive=True)):
            got = sorted(e.id for _, e in store.search(query))
            assert got == sorted(e.id for e in query.select(chain))
