"""Deterministic trace samples (fixed ids and times, so hashes and pictures are
reproducible), shared by the trace tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crucible.trace import Chain, make_event

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def sample_chain(n: int = 8, *, name: str = "sample") -> Chain:
    """A small chain with every kind of field and a DAG: e0 <- e1 <- e2, e3 depends on e1
    and e2, the rest in a line."""
    chain = Chain(name=name, id=f"chain-{name}", created_at=T0, updated_at=T0)
    kinds = ["hypothesis_formed", "alternative_rejected", "pattern_applied", "loss_computed"]
    for i in range(n):
        fields: dict[str, object] = {
            "id": f"e{i}",
            "timestamp": T0 + timedelta(milliseconds=250 * i),
            "confidence": round(0.5 + 0.05 * (i % 10), 2),
            "alternatives": [f"alt {i}a", f"alt {i}b"] if i % 2 == 0 else [],
            "stage": "plan" if i < 4 else "train",
            "experiment_id": "exp-1",
            "latency_ms": float(10 * (i + 1)),
            "tokens_in": 100 + i,
            "tokens_out": 20 + i,
            "cost_usd": 0.001 * (i + 1),
            "metadata": {"i": i, "tags": ["a", "b"], "nested": {"x": 1.5}},
        }
        if i in (1, 2):
            fields["parent_id"] = f"e{i - 1}"
        elif i == 3:
            fields["depends_on"] = ["e1", "e2"]
        elif i > 3:
            fields["parent_id"] = f"e{i - 1}"
        chain.add(
            make_event(
                kinds[i % len(kinds)],
                f'Decision {i}: use <option {i}> & "quote" #{i}',
                f"Reasoning for step {i}",
                **fields,
            )
        )
    chain.updated_at = T0
    return chain
