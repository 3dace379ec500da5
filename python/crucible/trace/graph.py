"""The causal DAG of a chain: ``parent_id`` and ``depends_on`` as edges.

An edge runs from the referenced event to the one that references it (cause to effect), so
roots are events that depend on nothing and leaves are conclusions nothing builds on. A
chain grown with :meth:`~crucible.trace.chain.Chain.add` cannot hold a cycle or a dangling
reference, but chains decoded from files, stores or model output can, so :func:`graph`
checks all of it and reports every problem at once, with the JSON-pointer path of the
offending field.

Every traversal is iterative: a training run can produce a parent chain hundreds of
thousands of events deep, far beyond Python's recursion limit.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Literal

import msgspec

from crucible.errors import ErrorItem, NotFoundError, ValidationError
from crucible.trace.chain import Chain, events_of
from crucible.trace.event import Event

__all__ = ["CriticalPath", "Edge", "Graph", "check", "display_edges", "graph"]

EdgeKind = Literal["parent", "depends_on"]


class Edge(msgspec.Struct, frozen=True):
    """``source`` (the cause) -> ``target`` (the event that references it)."""

    source: str
    target: str
    kind: EdgeKind


class CriticalPath(msgspec.Struct, frozen=True, kw_only=True):
    """The path through the DAG with the largest total ``latency_ms`` (missing latencies
    count as 0): what bounds the wall time of the work the chain describes."""

    events: list[Event]
    latency_ms: float


class Graph:
    """The relationships of a list of events (build with :func:`graph`)."""

    def __init__(self, events: Sequence[Event]) -> None:
        self.events: list[Event] = list(events)
        self.index: dict[str, int] = {e.id: i for i, e in enumerate(self.events)}
        self.edges: list[Edge] = []
        self._in: list[list[int]] = [[] for _ in self.events]
        self._out: list[list[int]] = [[] for _ in self.events]
        for i, event in enumerate(self.events):
            for source, kind in _references(event):
                j = self.index.get(source)
                if j is not None and j not in self._in[i]:
                    self.edges.append(Edge(source, event.id, kind))
                    self._in[i].append(j)
                    self._out[j].append(i)

    def _position(self, event_id: str) -> int:
        try:
            return self.index[event_id]
        except KeyError:
            raise NotFoundError(f"no event {event_id!r} in the chain") from None

    def _reach(self, start: int, edges: list[list[int]]) -> list[Event]:
        seen = {start}
        todo = deque([start])
        while todo:
            for nxt in edges[todo.popleft()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        seen.discard(start)
        return [self.events[i] for i in sorted(seen)]

    def ancestors(self, event_id: str) -> list[Event]:
        """Every event ``event_id`` transitively references, in chain order."""
        return self._reach(self._position(event_id), self._in)

    def descendants(self, event_id: str) -> list[Event]:
        """Every event transitively referencing ``event_id``, in chain order."""
        return self._reach(self._position(event_id), self._out)

    def parents(self, event_id: str) -> list[Event]:
        """The direct causes of ``event_id`` (its parent and dependencies)."""
        return [self.events[j] for j in sorted(self._in[self._position(event_id)])]

    def children(self, event_id: str) -> list[Event]:
        """The events directly referencing ``event_id``."""
        return [self.events[j] for j in sorted(self._out[self._position(event_id)])]

    def roots(self) -> list[Event]:
        """Events referencing nothing in the chain."""
        return [e for e, ins in zip(self.events, self._in, strict=True) if not ins]

    def leaves(self) -> list[Event]:
        """Events nothing in the chain references."""
        return [e for e, outs in zip(self.events, self._out, strict=True) if not outs]

    def topological_order(self) -> list[Event]:
        """Causes before effects; among events free at the same time, chain order first (so
        an already-ordered chain comes back unchanged). Raises
        :class:`~crucible.errors.ValidationError` on a cycle."""
        order = self._kahn()
        if len(order) < len(self.events):
            raise ValidationError(self._cycle_problems(order), "the trace graph has a cycle")
        return [self.events[i] for i in order]

    def _kahn(self) -> list[int]:
        pending = [len(ins) for ins in self._in]
        ready = [i for i, n in enumerate(pending) if n == 0]
        heapq.heapify(ready)
        order: list[int] = []
        while ready:
            i = heapq.heappop(ready)
            order.append(i)
            for j in self._out[i]:
                pending[j] -= 1
                if pending[j] == 0:
                    heapq.heappush(ready, j)
        return order

    def _cycle_problems(self, order: list[int]) -> list[ErrorItem]:
        """One item per cycle found among the events Kahn's algorithm could not order."""
        left = set(range(len(self.events))) - set(order)
        problems: list[ErrorItem] = []
        while left:
            # walk backwards along in-edges inside the leftover set until a node repeats
            node = min(left)
            path: list[int] = []
            on_path: dict[int, int] = {}
            while node not in on_path:
                on_path[node] = len(path)
                path.append(node)
                node = next(j for j in self._in[node] if j in left)
            cycle = path[on_path[node] :][::-1]
            first = cycle.index(min(cycle))  # start at the earliest event: stable messages
            cycle = cycle[first:] + cycle[:first]
            names = " -> ".join(self.events[i].id for i in [*cycle, cycle[0]])
            problems.append(ErrorItem(f"/events/{cycle[0]}", "cycle", f"cycle: {names}"))
            left -= set(self._reach_within(cycle, left))
        return problems

    def _reach_within(self, cycle: list[int], left: set[int]) -> set[int]:
        """The cycle plus everything downstream of it (those cannot be ordered either)."""
        seen = set(cycle)
        todo = deque(cycle)
        while todo:
            for j in self._out[todo.popleft()]:
                if j in left and j not in seen:
                    seen.add(j)
                    todo.append(j)
        return seen

    def critical_path(self) -> CriticalPath:
        """The heaviest path by ``latency_ms``; among equally heavy paths the one with the
        most events (so zero-latency causes stay on it), then the earliest-ending."""
        if not self.events:
            return CriticalPath(events=[], latency_ms=0.0)
        order = [self.index[e.id] for e in self.topological_order()]
        weight = [float(e.latency_ms or 0.0) for e in self.events]
        best: list[tuple[float, int]] = [(w, 1) for w in weight]  # (latency, events)
        came_from: list[int | None] = [None] * len(self.events)
        for i in order:
            for j in self._out[i]:
                candidate = (best[i][0] + weight[j], best[i][1] + 1)
                if candidate > best[j]:
                    best[j] = candidate
                    came_from[j] = i
        end = max(range(len(best)), key=lambda i: (best[i], -i))
        path: list[int] = []
        node: int | None = end
        while node is not None:
            path.append(node)
            node = came_from[node]
        events = [self.events[i] for i in reversed(path)]
        return CriticalPath(events=events, latency_ms=best[end][0])


def _references(event: Event) -> Iterable[tuple[str, EdgeKind]]:
    if event.parent_id is not None:
        yield event.parent_id, "parent"
    for dep in event.depends_on:
        yield dep, "depends_on"


def check(chain: Chain | Sequence[Event]) -> list[ErrorItem]:
    """Every relationship problem: duplicate ids, dangling references, cycles."""
    events = events_of(chain)
    problems: list[ErrorItem] = []
    first: dict[str, int] = {}
    for i, event in enumerate(events):
        if event.id in first:
            problems.append(
                ErrorItem(
                    f"/events/{i}/id",
                    "duplicate",
                    f"id {event.id!r} already used by event {first[event.id]}",
                )
            )
        else:
            first[event.id] = i
    for i, event in enumerate(events):
        if event.parent_id is not None and event.parent_id not in first:
            problems.append(
                ErrorItem(f"/events/{i}/parent_id", "dangling", f"no event {event.parent_id!r}")
            )
        for j, dep in enumerate(event.depends_on):
            if dep not in first:
                problems.append(
                    ErrorItem(f"/events/{i}/depends_on/{j}", "dangling", f"no event {dep!r}")
                )
    if not problems:
        g = Graph(events)
        order = g._kahn()
        if len(order) < len(events):
            problems.extend(g._cycle_problems(order))
    return problems


def graph(chain: Chain | Sequence[Event]) -> Graph:
    """The DAG of a chain; :class:`~crucible.errors.ValidationError` listing every duplicate
    id, dangling reference and cycle if it is not one."""
    problems = check(chain)
    if problems:
        raise ValidationError(problems, "the trace is not a valid DAG")
    return Graph(events_of(chain))


def display_edges(events: Sequence[Event]) -> list[tuple[int, int, str]]:
    """The edges a picture of the chain draws, as ``(from index, to index, kind)``: the DAG
    edges (``"parent"``, ``"depends_on"``) when any event has a relationship, else the
    recording order (``"sequence"``), as the original's flowchart does. References to
    events not in ``events`` are left out, so a damaged chain still draws."""
    index: dict[str, int] = {}
    for i, event in enumerate(events):
        index.setdefault(event.id, i)
    edges: list[tuple[int, int, str]] = [
        (index[source], i, kind)
        for i, event in enumerate(events)
        for source, kind in _references(event)
        if source in index
    ]
    if edges or any(e.parent_id or e.depends_on for e in events):
        return edges
    return [(i, i + 1, "sequence") for i in range(len(events) - 1)]
