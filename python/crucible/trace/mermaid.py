"""Mermaid flowcharts of a chain, for Markdown renderers (GitHub, GitLab, Obsidian...).

Nodes are events (labelled with their decision, truncated), edges the DAG (solid for a
parent, dotted for a dependency) or, in a chain without relationships, the recording
order. Each node is styled by its type: the six reasoning types keep the original's
colours, other types take their category's colour. Labels are quoted and every character
Mermaid would interpret is written as an entity, so no decision text can break the diagram
or inject markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from crucible.trace.chain import Chain
from crucible.trace.event import Event, category_of
from crucible.trace.graph import display_edges

__all__ = ["STYLES", "escape_label", "to_mermaid", "truncate"]

STYLES: dict[str, str] = {
    # the original's six reasoning types
    "hypothesis_formed": "fill:#e8f5e9,stroke:#2e7d32,stroke-width:2px",
    "alternative_rejected": "fill:#ffebee,stroke:#c62828,stroke-width:2px",
    "constraint_evaluated": "fill:#fff3e0,stroke:#ef6c00,stroke-width:2px",
    "pattern_applied": "fill:#e3f2fd,stroke:#1565c0,stroke-width:2px",
    "ambiguity_flagged": "fill:#fff9c4,stroke:#f57f17,stroke-width:2px",
    "confidence_updated": "fill:#f3e5f5,stroke:#6a1b9a,stroke-width:2px",
    # categories, for every other type
    "training": "fill:#e0f7fa,stroke:#00838f,stroke-width:1px",
    "checkpoint": "fill:#ede7f6,stroke:#4527a0,stroke-width:1px",
    "deployment": "fill:#e8eaf6,stroke:#283593,stroke-width:1px",
    "feedback": "fill:#fce4ec,stroke:#ad1457,stroke-width:1px",
    "distributed": "fill:#efebe9,stroke:#4e342e,stroke-width:1px",
    "stage": "fill:#eceff1,stroke:#37474f,stroke-width:1px",
    "custom": "fill:#fafafa,stroke:#616161,stroke-width:1px,stroke-dasharray:3 3",
}
_ARROWS = {"parent": "-->", "depends_on": "-.->", "sequence": "-->"}
_ENTITIES = {c: f"#{ord(c)};" for c in '#"<>&`|{}[];'}
_SPECIAL = re.compile("[" + re.escape("".join(_ENTITIES)) + "]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters plus ``...`` if longer."""
    return text if len(text) <= limit else text[:limit] + "..."


def escape_label(text: str) -> str:
    """Text safe inside a quoted Mermaid label: special characters as Mermaid's numeric
    entities (``#34;`` for ``"``...), line breaks and other control characters as spaces."""
    return _SPECIAL.sub(lambda m: _ENTITIES[m.group()], _CONTROL.sub(" ", text))


def _style_class(event_type: str) -> str:
    return event_type if event_type in STYLES else category_of(event_type)


def to_mermaid(
    chain: Chain | Sequence[Event],
    *,
    max_label: int = 60,
    include_confidence: bool = False,
    color_by_type: bool = True,
    direction: str = "TD",
) -> str:
    """The chain as a ``flowchart`` (see the module docstring)."""
    events = chain.events if isinstance(chain, Chain) else list(chain)
    if direction not in ("TD", "TB", "BT", "LR", "RL"):
        raise ValueError(f"unknown flowchart direction {direction!r}")
    lines = [f"flowchart {direction}"]
    if not events:
        lines.append('    empty["No events in chain"]')
        return "\n".join(lines) + "\n"
    used: dict[str, None] = {}
    for i, event in enumerate(events):
        label = truncate(event.decision, max_label)
        if include_confidence:
            label += f" ({round(float(event.confidence), 2)})"
        node = f'    E{i}["{escape_label(label)}"]'
        if color_by_type:
            style = _style_class(event.type)
            used[style] = None
            node += f":::{style}"
        lines.append(node)
    for source, target, kind in display_edges(events):
        lines.append(f"    E{source} {_ARROWS[kind]} E{target}")
    for style in used:
        lines.append(f"    classDef {style} {STYLES[style]}")
    return "\n".join(lines) + "\n"
