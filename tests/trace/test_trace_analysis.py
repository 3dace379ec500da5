"""Statistics and diffs of chains."""

from __future__ import annotations

import msgspec
import pytest
from trace_samples import sample_chain

from crucible.trace import Chain, diff, make_event, statistics


def test_statistics(chain: Chain) -> None:
    stats = statistics(chain)
    assert stats.total_events == 8
    assert stats.counts_by_type == {
        "hypothesis_formed": 2,
        "alternative_rejected": 2,
        "pattern_applied": 2,
        "loss_computed": 2,
    }
    assert stats.counts_by_category == {"reasoning": 6, "training": 2}
    assert stats.confidence is not None
    assert stats.confidence.mean == pytest.approx(0.675)
    assert (stats.confidence.min, stats.confidence.max) == (0.5, 0.85)
    assert stats.confidence.median == pytest.approx(0.675)
    assert stats.confidence.below_0_7 == 4
    assert sum(stats.confidence.histogram) == 8
    assert stats.duration_seconds == pytest.approx(1.75)
    assert stats.totals.tokens_in == sum(100 + i for i in range(8))
    assert stats.totals.latency_ms == pytest.approx(sum(10.0 * (i + 1) for i in range(8)))
    assert stats.by_stage["plan"].events == 4
    assert stats.by_type["loss_computed"].cost_usd == pytest.approx(0.004 + 0.008)
    assert msgspec.json.decode(msgspec.json.encode(stats))["total_events"] == 8


def test_statistics_of_nothing_and_of_an_iterator() -> None:
    empty = statistics(Chain(name="e"))
    assert empty.total_events == 0
    assert empty.confidence is None
    assert empty.duration_seconds is None
    c = Chain(name="s")
    c.record("stage_started", "s", stage="fit")
    c.record("stage_completed", "s", stage="fit", latency_ms=12.0)
    c.record("stage_failed", "s", stage="eval", latency_ms=3.0)
    assert statistics(iter(c.events)).stage_durations_ms == {"fit": 12.0, "eval": 3.0}


def test_diff_by_id() -> None:
    a = sample_chain(5)
    b = Chain.of(
        "b",
        [
            *[msgspec.structs.replace(e, prev_hash=None, hash=None) for e in a.events[:3]],
            msgspec.structs.replace(
                a.events[3], confidence=0.9, reasoning="changed", prev_hash=None, hash=None
            ),
            make_event("metric_recorded", "new one", id="new"),
        ],
    )
    d = diff(a, b)
    assert [e.id for e in d.added] == ["new"]
    assert [e.id for e in d.removed] == ["e4"]
    [change] = d.changed
    assert (change.id_a, change.matched_by) == ("e3", "id")
    assert {c.field for c in change.changes} == {"confidence", "reasoning"}
    assert d.confidence_deltas == {"e3": pytest.approx(0.25)}
    assert d.unchanged == 3
    assert d.similarity == pytest.approx(4 / 5)
    assert d.summary == "1 added, 1 removed, 1 changed"
    text = d.to_text()
    assert "+ [metric_recorded] new one" in text
    assert "confidence: 0.65 -> 0.9" in text


def test_diff_by_content_translates_references() -> None:
    def run(prefix: str, last: str) -> Chain:
        c = Chain(name=prefix)
        h = c.record("hypothesis_formed", "plan", id=f"{prefix}1")
        c.record("pattern_applied", "apply", id=f"{prefix}2", parent_id=h.id)
        c.record("loss_computed", last, id=f"{prefix}3", parent_id=h.id)
        return c

    d = diff(run("a", "loss 0.5"), run("b", "loss 0.4"))
    assert d.changed == []  # parents matched through the content matching
    assert [e.decision for e in d.removed] == ["loss 0.5"]
    assert [e.decision for e in d.added] == ["loss 0.4"]
    assert diff(Chain(name="x"), Chain(name="y")).similarity == 1.0
    assert diff(run("a", "x"), run("a", "x")).identical
