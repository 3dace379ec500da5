"""A self-contained HTML page of a chain: summary, DAG, timeline and every event.

One file with inline CSS and inline SVG, no script and no link to anything, so it opens
offline, can be mailed or attached to a report, and cannot leak what it shows. All chain
text is HTML-escaped. The DAG is laid out in layers (each event one layer below the
deepest event it references) and drawn as SVG; the timeline places each event at its
offset from the first one, as wide as its latency. Large chains are cut at ``max_events``
for the drawings and the list, and the page says so.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path

from crucible.trace.analysis import statistics
from crucible.trace.chain import Chain
from crucible.trace.event import Event, category_of
from crucible.trace.graph import display_edges
from crucible.trace.mermaid import STYLES, truncate

__all__ = ["save_html", "to_html"]

_W, _H, _GAP_X, _GAP_Y = 190, 46, 24, 44


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _colors(event_type: str) -> tuple[str, str]:
    style = STYLES.get(event_type) or STYLES[category_of(event_type)]
    parts = dict(p.split(":", 1) for p in style.split(","))
    return parts["fill"], parts["stroke"]


def _layers(n: int, edges: list[tuple[int, int, str]]) -> list[int]:
    """Layer of each node: one below its deepest referenced node (back edges ignored)."""
    incoming: list[list[int]] = [[] for _ in range(n)]
    for s, t, _ in edges:
        incoming[t].append(s)
    layer = [0] * n
    done = [False] * n
    for i in range(n):  # display edges from damaged chains may point forwards: ignore those
        layer[i] = max((layer[s] + 1 for s in incoming[i] if done[s]), default=0)
        done[i] = True
    return layer


def _dag_svg(events: Sequence[Event]) -> str:
    edges = display_edges(events)
    layer = _layers(len(events), edges)
    slots: dict[int, int] = {}
    pos: list[tuple[int, int]] = []
    for depth in layer:
        col = slots.get(depth, 0)
        slots[depth] = col + 1
        pos.append((10 + col * (_W + _GAP_X), 10 + depth * (_H + _GAP_Y)))
    width = 20 + max(slots.values(), default=1) * (_W + _GAP_X)
    height = 20 + (max(layer, default=0) + 1) * (_H + _GAP_Y)
    out = [
        f'<svg class="dag" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="event DAG">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        'fill="#607d8b"/></marker></defs>',
    ]
    for s, t, kind in edges:
        (x1, y1), (x2, y2) = pos[s], pos[t]
        dash = ' stroke-dasharray="5 4"' if kind == "depends_on" else ""
        out.append(
            f'<line x1="{x1 + _W // 2}" y1="{y1 + _H}" x2="{x2 + _W // 2}" y2="{y2}" '
            f'stroke="#607d8b" stroke-width="1.4"{dash} marker-end="url(#arrow)"/>'
        )
    for i, (event, (x, y)) in enumerate(zip(events, pos, strict=True)):
        fill, stroke = _colors(event.type)
        out.append(
            f"<g><title>{_esc(event.type)}: {_esc(event.decision)}</title>"
            f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="6" fill="{fill}" '
            f'stroke="{stroke}"/><text x="{x + 8}" y="{y + 18}" class="d">'
            f"{_esc(truncate(event.decision, 26))}</text>"
            f'<text x="{x + 8}" y="{y + 36}" class="t">#{i} {_esc(event.type)}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _timeline(events: Sequence[Event]) -> str:
    ordered = sorted(events, key=lambda e: e.timestamp)
    if not ordered:
        return "<p>No events.</p>"
    start = ordered[0].timestamp
    span = max((ordered[-1].timestamp - start).total_seconds() * 1000.0, 1e-9)
    rows = []
    for e in ordered:
        offset = (e.timestamp - start).total_seconds() * 1000.0
        left = 100.0 * offset / span if span > 1e-9 else 0.0
        width = max(100.0 * (e.latency_ms or 0.0) / span if span > 1e-9 else 0.0, 0.4)
        fill, stroke = _colors(e.type)
        rows.append(
            f'<div class="row"><span class="off">+{offset / 1000.0:.3f}s</span>'
            f'<span class="bar"><i style="left:{min(left, 99.6):.2f}%;'
            f'width:{min(width, 100.0 - min(left, 99.6)):.2f}%;background:{stroke}"></i></span>'
            f'<span class="lbl" style="border-color:{stroke};background:{fill}">'
            f"{_esc(e.type)}</span> {_esc(truncate(e.decision, 80))}</div>"
        )
    return "\n".join(rows)


def _event_details(i: int, e: Event) -> str:
    fields = [
        ("id", e.id),
        ("time", e.timestamp.isoformat()),
        ("confidence", e.confidence),
        ("reasoning", e.reasoning),
        ("alternatives", ", ".join(e.alternatives)),
        ("parent", e.parent_id),
        ("depends on", ", ".join(e.depends_on)),
        ("stage", e.stage),
        ("experiment", e.experiment_id),
        ("model", e.model),
        ("tokens in/out", f"{e.tokens_in}/{e.tokens_out}" if e.tokens_in or e.tokens_out else ""),
        ("latency ms", e.latency_ms),
        ("cost usd", e.cost_usd),
        ("code section", e.code_section),
        ("spec reference", e.spec_reference),
        ("hash", e.hash),
    ]
    rows = "".join(
        f"<tr><th>{k}</th><td>{_esc(v)}</td></tr>" for k, v in fields if v not in (None, "")
    )
    return (
        f"<details><summary>#{i} <b>{_esc(e.type)}</b> {_esc(truncate(e.decision, 100))}"
        f"</summary><table>{rows}</table></details>"
    )


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;
background:#f5f6f8;color:#222}
main{max-width:1200px;margin:0 auto;padding:20px}
section{background:#fff;border-radius:8px;padding:16px 20px;margin:0 0 16px;
box-shadow:0 1px 3px #0002}
h1{margin:0 0 4px}h2{margin:0 0 10px;font-size:17px}code{font-size:12px}
.ok{color:#2e7d32}.bad{color:#c62828}
table{border-collapse:collapse}th,td{text-align:left;padding:2px 10px 2px 0;vertical-align:top}
.scroll{overflow:auto;max-height:640px}
.dag text.d{font-size:12px;fill:#111}.dag text.t{font-size:10px;fill:#555}
.row{display:flex;align-items:center;gap:8px;margin:2px 0;white-space:nowrap}
.off{width:80px;text-align:right;font-family:monospace;font-size:12px}
.bar{position:relative;width:320px;height:10px;background:#eceff1;border-radius:3px}
.bar i{position:absolute;top:0;height:10px;border-radius:3px}
.lbl{border:1px solid;border-radius:4px;padding:0 5px;font-size:11px}
details{border-bottom:1px solid #eee;padding:4px 0}
"""


def to_html(chain: Chain, *, title: str | None = None, max_events: int = 500) -> str:
    """The page as a string (see the module docstring)."""
    events = chain.events[:max_events]
    cut = len(chain.events) - len(events)
    stats = statistics(chain)
    check = chain.verify()
    status = (
        f'<span class="ok">hash chain intact</span> (head <code>{_esc(chain.head)}</code>)'
        if check.ok
        else f'<span class="bad">hash chain broken at event {check.index}: '
        f"{_esc(check.reason)}</span>"
    )
    conf = stats.confidence
    summary = [
        ("events", stats.total_events),
        ("average confidence", f"{conf.mean:.3f}" if conf else "-"),
        (
            "duration",
            f"{stats.duration_seconds:.3f} s" if stats.duration_seconds is not None else "-",
        ),
        ("tokens in / out", f"{stats.totals.tokens_in} / {stats.totals.tokens_out}"),
        ("latency", f"{stats.totals.latency_ms:.1f} ms"),
        ("cost", f"${stats.totals.cost_usd:.4f}"),
    ]
    by_type = "".join(
        f"<tr><td>{_esc(t)}</td><td>{n}</td></tr>"
        for t, n in sorted(stats.counts_by_type.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    note = f"<p>Showing the first {len(events)} of {len(chain.events)} events.</p>" if cut else ""
    heading = _esc(title or chain.name)
    details = "".join(_event_details(i, e) for i, e in enumerate(events))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{heading}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<section>
<h1>{heading}</h1>
<p>{_esc(chain.description)}</p>
<p>chain <code>{_esc(chain.id)}</code> &middot; {status}</p>
<table>{"".join(f"<tr><th>{k}</th><td>{_esc(v)}</td></tr>" for k, v in summary)}</table>
</section>
<section><h2>Event types</h2><table>{by_type}</table></section>
<section><h2>Decision graph</h2>{note}<div class="scroll">{_dag_svg(events)}</div></section>
<section><h2>Timeline</h2>{note}<div class="scroll">{_timeline(events)}</div></section>
<section><h2>Events</h2>{note}{details}</section>
</main>
</body>
</html>
"""


def save_html(
    chain: Chain, path: str | os.PathLike[str], *, title: str | None = None, max_events: int = 500
) -> Path:
    """Write :func:`to_html` to ``path`` (UTF-8); returns the path."""
    target = Path(path)
    target.write_text(to_html(chain, title=title, max_events=max_events), encoding="utf-8")
    return target
