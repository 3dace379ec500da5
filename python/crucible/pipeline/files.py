"""Experiment files: TOML, JSON or YAML on disk to a validated :class:`Experiment`.

The file is parsed into a dict, checked by the IR's validator (the structural pass in
Rust, then the semantic rules) and built. Every problem is reported, each as
``file:line: pointer: message``, lines coming from :mod:`crucible.pipeline.locations`
(exact for JSON and YAML, searched for TOML). The :class:`ExperimentFile` is kept by
callers (the CLI) so that problems found later — stage options, a stage's ``check`` — are
shown with lines as well.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from crucible.errors import ErrorItem, NotFoundError, SerializationError, ValidationError
from crucible.ir import from_dict, validate_json
from crucible.ir.experiment import Experiment
from crucible.pipeline.locations import KeySearchLocator, Locator, NodeLocator

__all__ = [
    "SUFFIXES",
    "ExperimentFile",
    "ExperimentFileError",
    "load_experiment",
    "read_experiment_file",
]

SUFFIXES = (".toml", ".json", ".yaml", ".yml")
TOML_NOTE = "note: TOML line numbers are found by searching for keys and may be approximate"


@dataclass(frozen=True)
class ExperimentFile:
    """A parsed experiment file: its data and how to find a pointer's line in it."""

    path: Path
    data: dict[str, Any]
    locator: Locator

    def describe(self, item: ErrorItem) -> str:
        """``file:line: pointer: message [code]`` (no line when none can be found)."""
        line = self.locator.line_of(item.path)
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        return f"{where}: {item.path or '/'}: {item.message} [{item.code}]"

    def describe_all(self, items: list[ErrorItem]) -> list[str]:
        lines = [self.describe(item) for item in items]
        if lines and self.locator.approximate:
            lines.append(TOML_NOTE)
        return lines

    def experiment(self) -> Experiment:
        """The validated experiment; :class:`ExperimentFileError` lists every problem."""
        try:
            encoded = msgspec.json.encode(self.data)
        except (TypeError, ValueError, OverflowError) as exc:
            raise SerializationError(f"{self.path}: cannot be read as JSON data: {exc}") from None
        problems = validate_json(encoded, Experiment)
        if problems:
            raise ExperimentFileError(self, problems)
        try:
            return from_dict(self.data, Experiment)
        except ValidationError as exc:
            raise ExperimentFileError(self, exc.items) from None


class ExperimentFileError(ValidationError):
    """Problems of an experiment file, shown as ``file:line: pointer: message``."""

    def __init__(self, source: ExperimentFile, items: list[ErrorItem]) -> None:
        self.source = source
        self.lines = source.describe_all(list(items))
        super().__init__(items, f"{source.path}: {len(items)} problem(s)")

    def __str__(self) -> str:
        return "\n".join([f"{self.source.path}: {len(self.items)} problem(s)", *self.lines])


_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def _parse_toml(path: Path, text: str) -> tuple[Any, Locator]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_AT.search(str(exc))
        line = f":{found.group(1)}" if found else ""
        message = _TOML_AT.sub("", str(exc)).strip()
        raise SerializationError(f"{path}{line}: invalid TOML: {message}") from None
    return data, KeySearchLocator(text)


def _yaml_locator(text: str) -> Locator | None:
    import yaml  # type: ignore[import-untyped,unused-ignore]

    try:
        return NodeLocator(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return None


def _parse_json(path: Path, text: str) -> tuple[Any, Locator]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SerializationError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    return data, _yaml_locator(text) or KeySearchLocator(text, quoted_keys=True)


def _parse_yaml(path: Path, text: str) -> tuple[Any, Locator]:
    import yaml  # type: ignore[import-untyped,unused-ignore]

    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise SerializationError(f"{path}{line}: invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise SerializationError(f"{path}: invalid YAML: {exc}") from None
    return data, NodeLocator(root)


_PARSERS = {".toml": _parse_toml, ".json": _parse_json, ".yaml": _parse_yaml, ".yml": _parse_yaml}


def read_experiment_file(path: str | os.PathLike[str]) -> ExperimentFile:
    """Parse an experiment file (format by suffix) without validating it."""
    p = Path(path)
    parser = _PARSERS.get(p.suffix.lower())
    if parser is None:
        raise SerializationError(
            f"{p}: unknown experiment file type {p.suffix!r} (use {', '.join(SUFFIXES)})"
        )
    if not p.is_file():
        raise NotFoundError(f"no experiment file at {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SerializationError(f"{p}: not UTF-8 text: {exc}") from None
    data, locator = parser(p, text)
    if not isinstance(data, dict):
        raise SerializationError(f"{p}: an experiment file holds one table/object at the top")
    return ExperimentFile(p, data, locator)


def load_experiment(path: str | os.PathLike[str]) -> Experiment:
    """The validated :class:`Experiment` in a TOML, JSON or YAML file."""
    return read_experiment_file(path).experiment()
