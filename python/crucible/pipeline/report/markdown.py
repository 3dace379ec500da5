"""The report as Markdown: tables in pipe syntax, images as files under ``plots/``."""

from __future__ import annotations

from crucible.pipeline.report.sections import Image, Link, Paragraph, Section, Table

__all__ = ["to_markdown"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(table: Table) -> list[str]:
    headers = [_cell(h) or " " for h in table.headers]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return lines


def to_markdown(title: str, sections: list[Section], plots_dir: str = "plots") -> str:
    """Markdown text; images are referenced as ``{plots_dir}/<name>`` (the caller writes
    them there)."""
    lines = [f"# {title}", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Paragraph):
                lines.append(block.text)
            elif isinstance(block, Link):
                lines.append(f"[{block.text}]({block.href})")
            elif isinstance(block, Table):
                lines += _table(block)
            elif isinstance(block, Image):
                lines.append(f"![{block.alt}]({plots_dir}/{block.name})")
            lines.append("")
    return "\n".join(lines)
