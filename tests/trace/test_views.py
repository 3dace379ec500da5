"""Mermaid and HTML views against golden files (``CRUCIBLE_REGEN_GOLDEN=1`` rewrites
them), plus the properties the goldens cannot show: escaping, no network, big chains."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from trace_samples import sample_chain

from crucible.trace import Chain, make_event, save_html, to_html, to_mermaid
from crucible.trace.mermaid import escape_label

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("CRUCIBLE_REGEN_GOLDEN") == "1"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def _sequence_chain() -> Chain:
    chain = sample_chain(3, name="sequence")
    plain = Chain(name="plain", id="chain-plain", created_at=chain.created_at)
    for e in chain.events:
        plain.add(make_event(e.type, e.decision, e.reasoning, id=e.id, timestamp=e.timestamp))
    plain.add(make_event("myteam:custom_step", "custom", id="c", timestamp=e.timestamp))
    return plain


def test_mermaid_golden(chain: Chain) -> None:
    _golden("sample.mmd", to_mermaid(chain))
    _golden("sample_confidence_lr.mmd", to_mermaid(chain, include_confidence=True, direction="LR"))
    _golden("sequence.mmd", to_mermaid(_sequence_chain(), color_by_type=False, max_label=8))
    assert to_mermaid(Chain(name="e")) == 'flowchart TD\n    empty["No events in chain"]\n'
    with pytest.raises(ValueError, match="direction"):
        to_mermaid(chain, direction="XX")


def test_mermaid_labels_cannot_break_out() -> None:
    hostile = 'a"]\nclick E0 "http://x" ;%% <script>#{}|`'
    label = escape_label(hostile)
    assert not set(re.sub(r"#\d+;", "", label)) & set('"[]<>{}|`;#\n')
    assert label.startswith("a#34;#93; click E0 #34;http://x#34; #59;")
    line = to_mermaid([make_event("custom:x", hostile)]).splitlines()[1]
    assert re.fullmatch(r'    E0\["[^"\n]*"\]:::custom', line)


def test_html_golden(chain: Chain) -> None:
    _golden("sample.html", to_html(chain))
    _golden("sequence.html", to_html(_sequence_chain(), title="A <b>title</b>"))


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    chain = Chain(name="x")
    chain.record("custom:x", "<script>alert(1)</script>", 'onload="bad"')
    page = save_html(chain, tmp_path / "v.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"(src|href)\s*=", page)
    assert "http://" not in page
    assert "https://" not in page
    assert "@import" not in page
    assert "hash chain intact" in page


def test_html_of_a_broken_and_a_large_chain() -> None:
    chain = sample_chain(3)
    chain.events[1] = chain.events[2]
    assert "hash chain broken at event 1" in to_html(chain)
    big = Chain(name="big")
    big.add_events([make_event("batch_processed", f"b{i}") for i in range(1200)])
    page = to_html(big, max_events=100)
    assert "Showing the first 100 of 1200 events." in page
    assert page.count("<details>") == 100


def test_the_dag_drawing_is_well_formed_svg(chain: Chain) -> None:
    import xml.etree.ElementTree as ET

    page = to_html(chain)
    svg = page[page.index("<svg") : page.index("</svg>") + len("</svg>")]
    root = ET.fromstring(svg)
    assert len(root.findall("g")) == len(chain.events)
    assert len(root.findall("line")) == 8  # the DAG edges of the sample
