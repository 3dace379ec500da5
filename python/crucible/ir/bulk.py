"""Raw and bulk validation: JSON documents and JSON Lines checked from bytes.

:func:`validate_json` checks one document, :func:`validate_jsonl` a JSON Lines buffer or file
(streamed in blocks, so its size is unbounded, and checked on every core). Both reach the
verdicts of :func:`crucible.ir.document_errors` on the same bytes: the structural pass and
the semantic rules both run in Rust (``crucible._core.SchemaValidator``), inside the parallel
loop for JSON Lines, so valid lines never become Python objects.

Input that is not one JSON document (invalid UTF-8, truncated) is reported as an error with
code ``json`` at pointer ``""``: a bulk validator reports, it does not raise.
(:func:`crucible.ir.document_errors` raises :class:`crucible.errors.SerializationError` for
the same input.) The rare lines on which the Rust parser and msgspec read numbers or nesting
differently (integers beyond 64 bits, nesting deeper than 512 levels) are re-checked by
:func:`crucible.ir.document_errors`, so that verdicts never depend on the engine.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple, TypeVar

from crucible.errors import ErrorItem, InvalidArgumentError, SerializationError
from crucible.ir.base import IRStruct
from crucible.ir.validation import document_errors, needs_python_reading, schema_validator

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


def _verdict(data: bytes, tp: type[Any]) -> list[ErrorItem]:
    """:func:`document_errors`, with input that is not JSON as one ``json`` error."""
    try:
        return document_errors(data, tp)
    except SerializationError as exc:
        return [ErrorItem("", "json", str(exc))]


def _as_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise InvalidArgumentError(f"expected JSON bytes or text, got {type(data).__name__}")


def validate_json(data: bytes | bytearray | memoryview | str, tp: type[T]) -> list[ErrorItem]:
    """Every error of one raw JSON document read as ``tp`` (empty when it is valid)."""
    return _verdict(_as_bytes(data), tp)


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
    grouped: dict[int, list[tuple[str, str, str]]],
    tp: type[Any],
    lines: Callable[[], Iterable[bytes]],
) -> list[LineError]:
    """The Rust findings in line order, with the lines that need msgspec's reading
    re-checked (``lines()`` gives every line again, read only when there are such lines)."""
    recheck = {number for number, found in grouped.items() if needs_python_reading(found)}
    again: dict[int, list[ErrorItem]] = {}
    if recheck:
        for number, line in enumerate(lines(), start=1):
            if number in recheck:
                again[number] = _verdict(line.rstrip(b"\r\n"), tp)
    out: list[LineError] = []
    for number in sorted(grouped):
        if number in again:
            out.extend(LineError(number, e.path, e.code, e.message) for e in again[number])
        else:
            out.extend(LineError(number, *item) for item in grouped[number])
    return out


def validate_jsonl(
    source: bytes | bytearray | memoryview | str | os.PathLike[str],
    tp: type[T],
    threads: int | None = None,
    progress: Progress | None = None,
) -> list[LineError]:
    """Every error of every line of a JSON Lines input, each line read as ``tp``.

    ``source`` is the content (bytes) or a path (``str`` or path-like) to a file, which is
    streamed. Blank lines are skipped. ``threads`` bounds the threads (default: every core);
    ``progress(bytes_read)`` is called as the input is read.
    """
    _check_threads(threads)
    validator = schema_validator(tp)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        grouped = _by_line(validator.validate_jsonl(data, threads))
        errors = _line_errors(grouped, tp, lambda: data.split(b"\n"))
        if progress is not None:
            progress(len(data))
        return errors
    if not isinstance(source, (str, os.PathLike)):
        raise InvalidArgumentError(f"expected bytes or a path, got {type(source).__name__}")
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise InvalidArgumentError(f"no such file: {path}")
    found, _ = validator.validate_file(path, threads, progress)

    def lines() -> Iterator[bytes]:
        with open(path, "rb") as handle:
            yield from handle

    return _line_errors(_by_line(found), tp, lines)
