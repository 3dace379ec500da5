"""The report as one self-contained HTML file: inline CSS, images embedded as base64 PNG
data URIs, every text escaped. It opens anywhere, offline, and can be mailed as is."""

from __future__ import annotations

import base64
import html

from crucible.pipeline.report.sections import Image, Link, Paragraph, Section, Table

__all__ = ["to_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:72rem;
color:#111827;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;border-bottom:2px solid #e5e7eb;padding-bottom:.4rem}
h2{font-size:1.2rem;margin-top:2rem;color:#1f2937}
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem}
th,td{border:1px solid #e5e7eb;padding:.3rem .55rem;text-align:left;vertical-align:top}
th{background:#f3f4f6}
tr:nth-child(even) td{background:#fafafa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;border:1px solid #e5e7eb;border-radius:4px;margin:.4rem 0}
.sev-error{color:#b91c1c;font-weight:600}.sev-warning{color:#b45309;font-weight:600}
a{color:#2563eb}
"""


def _is_number(text: str) -> bool:
    try:
        float(text.replace("%", ""))
    except ValueError:
        return False
    return True


def _cell(text: str, tag: str = "td") -> str:
    css = ""
    if tag == "td" and _is_number(text):
        css = ' class="num"'
    elif tag == "td" and text in ("error", "warning"):
        css = f' class="sev-{text}"'
    return f"<{tag}{css}>{html.escape(text)}</{tag}>"


def _table(table: Table) -> str:
    head = ""
    if any(table.headers):
        head = "<thead><tr>" + "".join(_cell(h, "th") for h in table.headers) + "</tr></thead>"
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in table.rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"


def _image(image: Image) -> str:
    data = base64.b64encode(image.png).decode("ascii")
    alt = html.escape(image.alt, quote=True)
    return f'<figure><img alt="{alt}" src="data:image/png;base64,{data}"></figure>'


def to_html(title: str, sections: list[Section]) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for section in sections:
        parts.append(f"<section><h2>{html.escape(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, Paragraph):
                parts.append(f"<p>{html.escape(block.text)}</p>")
            elif isinstance(block, Link):
                href = html.escape(block.href, quote=True)
                parts.append(f'<p><a href="{href}">{html.escape(block.text)}</a></p>')
            elif isinstance(block, Table):
                parts.append(_table(block))
            elif isinstance(block, Image):
                parts.append(_image(block))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
