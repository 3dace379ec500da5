"""The causal DAG: every problem reported with its path, traversals on the edge cases
(empty, single, diamond, forest, a chain far deeper than the recursion limit), and the
critical path by latency."""

from __future__ import annotations

import pytest

from crucible.errors import NotFoundError, ValidationError
from crucible.trace import Chain, Event, check, graph, make_event
from crucible.trace.graph import display_edges


def _e(id: str, parent: str | None = None, deps: tuple[str, ...] = (), ms: float | None = None):
    return make_event(
        "pattern_applied", id, id=id, parent_id=parent, depends_on=deps, latency_ms=ms
    )


def _ids(events: list[Event]) -> list[str]:
    return [e.id for e in events]


def test_empty_and_single() -> None:
    g = graph([])
    assert g.roots() == []
    assert g.topological_order() == []
    assert g.critical_path().events == []
    one = graph([_e("a", ms=3.0)])
    assert _ids(one.roots()) == _ids(one.leaves()) == ["a"]
    assert one.ancestors("a") == []
    assert one.critical_path().latency_ms == 3.0


def test_diamond() -> None:
    events = [_e("a", ms=1), _e("b", "a", ms=5), _e("c", "a", ms=2), _e("d", None, ("b", "c"))]
    g = graph(events)
    assert _ids(g.roots()) == ["a"]
    assert _ids(g.leaves()) == ["d"]
    assert _ids(g.ancestors("d")) == ["a", "b", "c"]
    assert _ids(g.descendants("a")) == ["b", "c", "d"]
    assert _ids(g.parents("d")) == ["b", "c"]
    assert _ids(g.children("a")) == ["b", "c"]
    assert _ids(g.topological_order()) == ["a", "b", "c", "d"]
    path = g.critical_path()
    assert _ids(path.events) == ["a", "b", "d"]
    assert path.latency_ms == 6.0
    assert {(e.source, e.target, e.kind) for e in g.edges} == {
        ("a", "b", "parent"),
        ("a", "c", "parent"),
        ("b", "d", "depends_on"),
        ("c", "d", "depends_on"),
    }
    with pytest.raises(NotFoundError):
        g.ancestors("zzz")


def test_topological_order_puts_causes_first_and_keeps_chain_order_otherwise() -> None:
    events = [_e("late", "early"), _e("x"), _e("early")]  # decoded chains may be out of order
    assert _ids(graph(events).topological_order()) == ["x", "early", "late"]


def test_forest_and_zero_latency_causes_stay_on_the_critical_path() -> None:
    events = [_e("r1"), _e("a", "r1", ms=4), _e("r2", ms=1), _e("b", "r2", ms=3)]
    g = graph(events)
    assert _ids(g.roots()) == ["r1", "r2"]
    assert _ids(g.critical_path().events) == ["r1", "a"]


def test_problems_are_all_reported_with_paths() -> None:
    events = [
        _e("a"),
        _e("a"),  # duplicate
        _e("b", "ghost"),  # dangling parent
        _e("c", None, ("a", "ghost2")),  # dangling dependency
    ]
    problems = {(p.path, p.code) for p in check(events)}
    assert problems == {
        ("/events/1/id", "duplicate"),
        ("/events/2/parent_id", "dangling"),
        ("/events/3/depends_on/1", "dangling"),
    }
    with pytest.raises(ValidationError):
        graph(events)


def test_cycles_are_named() -> None:
    events = [_e("a", "c"), _e("b", "a"), _e("c", "b"), _e("d", "c"), _e("x"), _e("y", "y2")]
    events[-1] = _e("y", None, ("z",))
    events.append(_e("z", None, ("y",)))
    problems = check(events)
    assert {p.code for p in problems} == {"cycle"}
    messages = sorted(p.message for p in problems)
    assert messages == ["cycle: a -> b -> c -> a", "cycle: y -> z -> y"]
    with pytest.raises(ValidationError, match="cycle"):
        graph(events)
    from crucible.trace.graph import Graph

    with pytest.raises(ValidationError):
        Graph(events).topological_order()


def test_a_chain_deeper_than_the_recursion_limit() -> None:
    n = 50_000
    events = [_e("n0", ms=1.0)] + [_e(f"n{i}", f"n{i - 1}", ms=1.0) for i in range(1, n)]
    g = graph(events)
    assert len(g.ancestors(f"n{n - 1}")) == n - 1
    assert len(g.descendants("n0")) == n - 1
    assert g.critical_path().latency_ms == n
    assert _ids(g.roots()) == ["n0"]


def test_chain_adds_cannot_make_cycles_or_dangling_references() -> None:
    chain = Chain(name="c")
    chain.add(_e("a"))
    with pytest.raises(ValidationError):
        chain.add(_e("b", "b2"))
    chain.add(_e("b", "a"))
    assert check(chain) == []


def test_display_edges() -> None:
    assert display_edges([_e("a"), _e("b"), _e("c")]) == [(0, 1, "sequence"), (1, 2, "sequence")]
    assert display_edges([_e("a"), _e("b", "a"), _e("c", None, ("a",))]) == [
        (0, 1, "parent"),
        (0, 2, "depends_on"),
    ]
    assert display_edges([_e("a", "ghost")]) == []  # relationships exist, none drawable
