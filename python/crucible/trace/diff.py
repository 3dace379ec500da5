"""What changed between two chains (two runs, two prompts, two versions of one chain).

Events are matched by id first; events left over are then matched by content (same type
and decision, in order of appearance), because two runs of the same pipeline mint new ids
for the same steps. Matched events are compared field by field, with the references of
content-matched events translated through the matching, so that a parent recorded under a
new id does not count as a change.
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any, Literal

import msgspec

from crucible.trace.chain import Chain
from crucible.trace.event import Event

__all__ = ["ChainDiff", "EventChange", "FieldChange", "diff"]

_NOT_COMPARED = frozenset({"id", "hash", "prev_hash"})
_FIELDS = [f for f in Event.__struct_fields__ if f not in _NOT_COMPARED]


class FieldChange(msgspec.Struct, frozen=True):
    field: str
    old: Any
    new: Any


class EventChange(msgspec.Struct, frozen=True, kw_only=True):
    """A matched pair of events that differ."""

    id_a: str
    id_b: str
    matched_by: Literal["id", "content"]
    changes: list[FieldChange]


class ChainDiff(msgspec.Struct, frozen=True, kw_only=True):
    """Events only in ``b`` (added), only in ``a`` (removed), matched but different
    (changed), matched and equal (``unchanged`` counts them); confidence deltas (b - a) of
    changed events by ``a``'s id; similarity = matched pairs / the longer chain's length."""

    added: list[Event]
    removed: list[Event]
    changed: list[EventChange]
    unchanged: int
    confidence_deltas: dict[str, float]
    similarity: float

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed)

    @property
    def summary(self) -> str:
        return f"{len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} changed"

    def to_text(self) -> str:
        """A plain-text report (what ``crucible trace diff`` prints)."""
        lines = [self.summary, f"similarity: {self.similarity * 100:.1f}%"]
        for sign, events in (("+", self.added), ("-", self.removed)):
            for e in events:
                lines.append(f"{sign} [{e.type}] {e.decision}  ({e.id})")
        for change in self.changed:
            lines.append(f"~ {change.id_a} -> {change.id_b} (by {change.matched_by})")
            for c in change.changes:
                lines.append(f"    {c.field}: {c.old!r} -> {c.new!r}")
        return "\n".join(lines)


def diff(
    a: Chain | list[Event],
    b: Chain | list[Event],
    *,
    ignore: tuple[str, ...] = ("timestamp",),
) -> ChainDiff:
    """Compare two chains (``ignore``: fields not compared; timestamps by default, since
    two runs never share them)."""
    ea = a.events if isinstance(a, Chain) else a
    eb = b.events if isinstance(b, Chain) else b
    by_id_b = {e.id: e for e in eb}
    pairs: list[tuple[Event, Event, Literal["id", "content"]]] = []
    left_a: list[Event] = []
    used_b: set[str] = set()
    for event in ea:
        other = by_id_b.get(event.id)
        if other is not None and other.id not in used_b:
            pairs.append((event, other, "id"))
            used_b.add(other.id)
        else:
            left_a.append(event)
    waiting: dict[tuple[str, str], deque[Event]] = defaultdict(deque)
    for event in eb:
        if event.id not in used_b:
            waiting[(event.type, event.decision)].append(event)
    removed: list[Event] = []
    for event in left_a:
        queue = waiting.get((event.type, event.decision))
        if queue:
            other = queue.popleft()
            pairs.append((event, other, "content"))
            used_b.add(other.id)
        else:
            removed.append(event)
    rename = {x.id: y.id for x, y, _ in pairs}
    fields = [f for f in _FIELDS if f not in ignore]
    changed: list[EventChange] = []
    deltas: dict[str, float] = {}
    for x, y, how in pairs:
        changes = _changes(x, y, fields, rename)
        if changes:
            changed.append(EventChange(id_a=x.id, id_b=y.id, matched_by=how, changes=changes))
            if x.confidence != y.confidence:
                deltas[x.id] = round(y.confidence - x.confidence, 6)
    longest = max(len(ea), len(eb))
    return ChainDiff(
        added=[e for e in eb if e.id not in used_b],
        removed=removed,
        changed=changed,
        unchanged=len(pairs) - len(changed),
        confidence_deltas=deltas,
        similarity=len(pairs) / longest if longest else 1.0,
    )


def _changes(x: Event, y: Event, fields: list[str], rename: dict[str, str]) -> list[FieldChange]:
    out = []
    for name in fields:
        old, new = getattr(x, name), getattr(y, name)
        if name == "parent_id" and old is not None:
            old = rename.get(old, old)
        elif name == "depends_on":
            old = tuple(rename.get(d, d) for d in old)
        if old != new:
            out.append(FieldChange(name, getattr(x, name), new))
    return out
