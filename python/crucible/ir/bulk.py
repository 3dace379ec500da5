"""Raw and bulk validation: JSON documents and JSON Lines checked from bytes.

:func:`validate_json` checks one document, :func:`validate_jsonl` a JSON Lines buffer or file
(streamed in blocks, so its size is unbounded, and checked on every core). Both reach the
verdicts of :func:`crucible.ir.document_errors` on the same bytes:

* the structural pass runs in Rust (``crucible._core.SchemaValidator``), compiled once per
  type from :func:`msgspec.json.schema` — the same type information
  :mod:`crucible.ir.structure` reads — so valid lines never become Python objects there;
* the semantic rules (:mod:`crucible.ir.rules`) run on the lines without a shape error, which
  are decoded for that purpose only.

Input that is not one JSON document (invalid UTF-8, truncated, nested too deeply) is reported
as an error with code ``json`` at pointer ``""``: a bulk validator reports, it does not raise.
(:func:`crucible.ir.document_errors` raises :class:`crucible.errors.SerializationError` for
the same input.) The rare lines on which the Rust parser and msgspec read numbers or nesting
differently (integers beyond 64 bits, nesting deeper than 128 levels) are re-checked by
:func:`crucible.ir.document_errors`, so that verdicts never depend on the engine.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple, TypeVar

import msgspec

from crucible import _core
from crucible.errors import ErrorItem, InvalidArgumentError, SerializationError
from crucible.ir.base import IRStruct
from crucible.ir.structure import SHAPE_CODES, build_lenient
from crucible.ir.validation import document_errors, semantic_errors

__all__ = ["LineError", "validate_json", "validate_jsonl"]

T = TypeVar("T", bound=IRStruct)

Progress = Callable[[int], object]
"""Called with the number of bytes read so far."""


class LineError(NamedTuple):
    """One problem of one line of a JSON Lines input (lines count from 1)."""

    line: int
    pointer: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.line}:{self.pointer or '/'}: {self.message} [{self.code}]"


@functools.cache
def _validator(tp: type[Any]) -> _core.SchemaValidator:
    """The compiled schema of ``tp`` (one per type)."""
    return _core.SchemaValidator(msgspec.json.encode(msgspec.json.schema(tp)))


def _reparse(item: tuple[str, str, str]) -> bool:
    """Whether a Rust finding may be read differently by msgspec: a parse failure (the Rust
    parser nests 128 levels deep and reads integers beyond 64 bits as doubles) or an integer
    field given such a double."""
    _, code, message = item
    return code == "json" or (code == "type" and message == "expected integer, got number")


def _python_verdict(data: bytes, tp: type[Any]) -> list[ErrorItem]:
    try:
        return document_errors(data, tp)
    except SerializationError as exc:
        return [ErrorItem("", "json", str(exc))]


def _semantic(data: bytes, tp: type[Any], clean: bool) -> list[ErrorItem]:
    """Semantic findings of a document with no shape error (``clean``: no error at all)."""
    try:
        if clean:
            try:
                obj = msgspec.json.decode(data, type=tp)
            except msgspec.ValidationError:
                return _python_verdict(data, tp)
        else:
            obj = build_lenient(msgspec.json.decode(data), tp)
        return semantic_errors(obj)
    except (msgspec.DecodeError, SerializationError, RecursionError) as exc:
        return [ErrorItem("", "json", str(exc))]


def _finish(data: bytes, tp: type[Any], found: list[tuple[str, str, str]]) -> list[ErrorItem]:
    if any(_reparse(item) for item in found):
        return _python_verdict(data, tp)
    items = [ErrorItem(*item) for item in found]
    if any(item.code in SHAPE_CODES for item in items):
        return items
    return items + _semantic(data, tp, not items)


def _as_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise InvalidArgumentError(f"expected JSON bytes or text, got {type(data).__name__}")


def validate_json(data: bytes | bytearray | memoryview | str, tp: type[T]) -> list[ErrorItem]:
    """Every error of one raw JSON document read as ``tp`` (empty when it is valid)."""
    raw = _as_bytes(data)
    return _finish(raw, tp, _validator(tp).validate(raw))


def _check_threads(threads: int | None) -> None:
    if threads is not None and (isinstance(threads, bool) or threads < 1):
        raise InvalidArgumentError(f"threads must be a positive integer, got {threads!r}")


def _by_line(
    found: list[tuple[int, str, str, str]],
) -> dict[int, list[tuple[str, str, str]]]:
    grouped: dict[int, list[tuple[str, str, str]]] = {}
    for line, pointer, code, message in found:
        grouped.setdefault(line, []).append((pointer, code, message))
    return grouped


def _line_errors(
    lines: Iterable[bytes], tp: type[Any], grouped: dict[int, list[tuple[str, str, str]]]
) -> Iterator[LineError]:
    """Structural findings plus the semantic pass, line by line, in line order."""
    for number, line in enumerate(lines, start=1):
        found = grouped.get(number)
        if found is None:
            if not line.strip():
                continue
            items = _semantic(line, tp, True)
        else:
            items = _finish(line.rstrip(b"\r\n"), tp, found)
        for item in items:
            yield LineError(number, item.path, item.code, item.message)


def validate_jsonl(
    source: bytes | bytearray | memoryview | str | os.PathLike[str],
    tp: type[T],
    threads: int | None = None,
    progress: Progress | None = None,
) -> list[LineError]:
    """Every error of every line of a JSON Lines input, each line read as ``tp``.

    ``source`` is the content (bytes) or a path (``str`` or path-like) to a file, which is
    streamed. Blank lines are skipped. ``threads`` bounds the structural pass's threads
    (default: every core); ``progress(bytes_read)`` is called as the input is read.
    """
    _check_threads(threads)
    validator = _validator(tp)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        grouped = _by_line(validator.validate_jsonl(data, threads))
        errors = list(_line_errors(data.split(b"\n"), tp, grouped))
        if progress is not None:
            progress(len(data))
        return errors
    if not isinstance(source, (str, os.PathLike)):
        raise InvalidArgumentError(f"expected bytes or a path, got {type(source).__name__}")
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise InvalidArgumentError(f"no such file: {path}")
    found, _ = validator.validate_file(path, threads, progress)
    with open(path, "rb") as handle:
        return list(_line_errors(handle, tp, _by_line(found)))
