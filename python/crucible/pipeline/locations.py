"""Where a JSON pointer lands in an experiment file: its line number, for error messages.

* JSON and YAML: exact. The text is composed into a node tree (``yaml.compose``; JSON's
  syntax is read by the YAML parser too) whose nodes carry their line; a pointer at a key
  that is missing resolves to the nearest enclosing node that exists.
* TOML: no parser reports positions, so :class:`KeySearchLocator` searches the text: an
  array index selects the n-th ``[[table]]`` header of that path, a key the first line
  after the current position that assigns it (``key =``) or opens it as a table header.
  Good for the common layouts, approximate in general (``approximate`` is True, and
  messages say so).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

__all__ = ["KeySearchLocator", "Locator", "NodeLocator", "split_pointer"]


def split_pointer(pointer: str) -> list[str]:
    """A JSON pointer's reference tokens, unescaped (``/a~1b/0`` -> ``["a/b", "0"]``)."""
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.lstrip("/").split("/")]


class Locator(Protocol):
    approximate: bool

    def line_of(self, pointer: str) -> int | None:
        """The 1-based line of the value at ``pointer`` (or its nearest existing parent)."""
        ...


class NodeLocator:
    """Exact lines from a composed YAML node tree (JSON files are composed the same way)."""

    approximate = False

    def __init__(self, root: Any) -> None:
        self.root = root

    def line_of(self, pointer: str) -> int | None:
        import yaml  # type: ignore[import-untyped,unused-ignore]

        node = self.root
        if node is None:
            return None
        line: int = node.start_mark.line + 1
        for token in split_pointer(pointer):
            if isinstance(node, yaml.MappingNode):
                match = next((kv for kv in node.value if kv[0].value == token), None)
                if match is None:
                    return line
                line = match[0].start_mark.line + 1
                node = match[1]
            elif isinstance(node, yaml.SequenceNode) and token.isdigit():
                if int(token) >= len(node.value):
                    return line
                node = node.value[int(token)]
                line = node.start_mark.line + 1
            else:
                return line
        return line


class KeySearchLocator:
    """Heuristic lines for TOML (and unparseable JSON): see the module docstring."""

    approximate = True

    def __init__(self, text: str, *, quoted_keys: bool = False) -> None:
        self.lines = text.splitlines()
        self.quoted_keys = quoted_keys

    def _key_pattern(self, key: str, path: list[str]) -> re.Pattern[str]:
        k = re.escape(key)
        if self.quoted_keys:  # JSON: "key":
            return re.compile(rf'"{k}"\s*:')
        header = r"\.".join(re.escape(p) for p in [*path, key])
        return re.compile(
            rf"^\s*(?:\[\[?\s*{header}\s*\]\]?|(?:[\w\-\"'.]+\.)?[\"']?{k}[\"']?\s*=)"
        )

    def _header_occurrence(self, path: list[str], n: int) -> int | None:
        header = re.compile(r"^\s*\[\[\s*" + r"\.".join(re.escape(p) for p in path) + r"\s*\]\]")
        seen = -1
        for number, line in enumerate(self.lines):
            if header.match(line):
                seen += 1
                if seen == n:
                    return number
        return None

    def line_of(self, pointer: str) -> int | None:
        if not self.lines:
            return None
        position = 0
        path: list[str] = []
        keys: list[str] = []  # path without array indices, for TOML headers
        for token in split_pointer(pointer):
            if token.isdigit() and path and not self.quoted_keys:
                found = self._header_occurrence(keys, int(token))
                if found is not None:
                    position = found
            elif not token.isdigit():
                pattern = self._key_pattern(token, keys)
                for number in range(position, len(self.lines)):
                    if pattern.search(self.lines[number]):
                        position = number
                        break
                keys.append(token)
            path.append(token)
        return position + 1
