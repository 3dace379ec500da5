"""JSON in and out: documents, dicts, single fields and JSONL streams.

The JSON form is a contract. Keys are the snake_case field names, in definition order, and
every field is written (``null`` included), so a type's key set is fixed; golden files in
``tests/ir/golden`` pin it. Enums are written as their string values, date-times in RFC 3339
with the offset they were given, and map keys (``options``, ``metadata``) sorted.

Decoding applies the structural rules of the types (kinds, required fields, enum sets,
bounds); ``from_json(..., validate=True)`` applies the semantic rules too (in Rust, on the
input bytes), as :func:`crucible.ir.validate` does for an object. Malformed
JSON raises :class:`SerializationError`; well-formed JSON that does not fit the type raises
:class:`ValidationError` listing every problem with its JSON pointer.
"""

from __future__ import annotations

import functools
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, TypeVar

import msgspec

from crucible.errors import (
    ErrorItem,
    InvalidTypeError,
    NotFoundError,
    SerializationError,
    ValidationError,
)
from crucible.ir import validation
from crucible.ir.base import Document, IRStruct
from crucible.ir.migration import migrate
from crucible.ir.structure import join_pointer, structural_errors

__all__ = [
    "decode_jsonl",
    "encode_jsonl",
    "from_dict",
    "from_json",
    "peek",
    "pointer_from_msgspec_path",
    "schema",
    "to_dict",
    "to_json",
    "write_jsonl",
]

T = TypeVar("T", bound=IRStruct)
Buffer = bytes | bytearray | memoryview | str

_ENCODER = msgspec.json.Encoder(order="deterministic")
_MISSING: Any = object()


@functools.cache
def _decoder(tp: type[T]) -> msgspec.json.Decoder[T]:
    return msgspec.json.Decoder(tp)


# --- errors -------------------------------------------------------------------------------

_AT = re.compile(r"^(?P<message>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.DOTALL)
_TOKEN = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_FIELD = re.compile(r"field `([^`]+)`")


def pointer_from_msgspec_path(path: str) -> str:
    """Turn msgspec's error location (``$.pipeline[2].name``) into a JSON pointer
    (``/pipeline/2/name``). msgspec does not name map keys (``$.weights[...]``): the pointer
    stops at the map."""
    pointer = ""
    for match in _TOKEN.finditer(path.removeprefix("$")):
        key, index = match.groups()
        if index == "...":
            break
        pointer = join_pointer(pointer, key if key is not None else index)
    return pointer


def _code_of(message: str) -> str:
    if message.startswith("Object missing required field"):
        return "required"
    if message.startswith("Object contains unknown field"):
        return "unknown_field"
    if message.startswith("Invalid enum value"):
        return "enum"
    if "with a timezone" in message or "without a timezone" in message:
        return "timezone"
    if message.startswith("Invalid RFC3339"):
        return "format"
    if "matching regex" in message:
        return "pattern"
    if "of length" in message:
        return "length"
    if message.startswith("Number out of range") or re.search(r"` (>=|<=|>|<) ", message):
        return "range"
    return "type"


def item_from_msgspec(exc: msgspec.ValidationError) -> ErrorItem:
    """One :class:`ErrorItem` from a msgspec validation error."""
    match = _AT.match(str(exc))
    message = match.group("message") if match else str(exc)
    pointer = pointer_from_msgspec_path(match.group("path") or "$") if match else ""
    code = _code_of(message)
    if code in ("required", "unknown_field"):
        field = _FIELD.search(message)
        if field:
            pointer = join_pointer(pointer, field.group(1))
    return ErrorItem(pointer, code, message)


def _validation_error(exc: msgspec.ValidationError, doc: Any, tp: type[Any]) -> ValidationError:
    items: list[ErrorItem] = []
    if doc is not _MISSING:
        try:
            items = structural_errors(doc, tp)
        except RecursionError:
            items = []
    if not items:
        items = [item_from_msgspec(exc)]
    return ValidationError(items, f"document does not fit {tp.__name__}: {len(items)} error(s)")


def _decode_untyped(data: Buffer) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.ValidationError as exc:
        raise ValidationError([item_from_msgspec(exc)]) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise SerializationError(f"malformed JSON: {exc}") from None
    except RecursionError:
        raise SerializationError("document nested too deeply") from None


# --- documents ----------------------------------------------------------------------------


def to_json(obj: IRStruct) -> bytes:
    """Encode an IR object as compact JSON bytes."""
    try:
        return _ENCODER.encode(obj)
    except (TypeError, ValueError, OverflowError) as exc:
        raise SerializationError(f"{type(obj).__name__} cannot be encoded: {exc}") from None


def from_json(data: Buffer, tp: type[T], *, upgrade: bool = False, validate: bool = False) -> T:
    """Decode JSON ``data`` as an instance of ``tp``.

    With ``upgrade=True`` the document is first migrated from whatever schema version it was
    written in (v0.1 and v0.2 documents of the original CrucibleIR included); see
    :func:`crucible.ir.migrate`. With ``validate=True`` the semantic rules are applied too
    (as :func:`crucible.ir.validate` would), in Rust on the input bytes.
    """
    if upgrade:
        obj = from_dict(migrate(_decode_untyped(data), _document_type(tp)), tp)
        return validation.validate(obj) if validate else obj
    if validate:
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
        return _decode(raw, tp, lambda raw: validation.decode_checked(raw, tp, _decoder(tp).decode))
    return _decode(data, tp, _decoder(tp).decode)


def _decode(data: Any, tp: type[T], decode: Callable[[Any], T]) -> T:
    try:
        obj: T = decode(data)
    except msgspec.ValidationError as exc:
        try:
            doc = msgspec.json.decode(data)
        except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError):
            doc = _MISSING
        raise _validation_error(exc, doc, tp) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise SerializationError(f"malformed JSON: {exc}") from None
    except RecursionError:
        raise SerializationError("document nested too deeply") from None
    return obj


def to_dict(obj: IRStruct) -> dict[str, Any]:
    """The JSON-shaped ``dict`` of an IR object (what :func:`to_json` writes)."""
    try:
        out: dict[str, Any] = msgspec.to_builtins(obj, order="deterministic")
    except (TypeError, ValueError, OverflowError) as exc:
        raise SerializationError(f"{type(obj).__name__} cannot be encoded: {exc}") from None
    return out


def from_dict(data: Any, tp: type[T], *, upgrade: bool = False) -> T:
    """Build an instance of ``tp`` from a JSON-shaped dict (as :func:`from_json` would)."""
    if upgrade:
        data = migrate(data, _document_type(tp))
    try:
        obj: T = msgspec.convert(data, tp)
    except msgspec.ValidationError as exc:
        raise _validation_error(exc, data, tp) from None
    except RecursionError:
        raise SerializationError("document nested too deeply") from None
    return obj


def _document_type(tp: type[Any]) -> type[Document]:
    if not (isinstance(tp, type) and issubclass(tp, Document)):
        raise InvalidTypeError(f"upgrade needs a document type, not {tp!r}")
    return tp


def schema(tp: type[Any]) -> dict[str, Any]:
    """The JSON Schema (2020-12) of an IR type, generated from the type itself."""
    return msgspec.json.schema(tp)


# --- peek ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _peeker(tokens: tuple[str, ...]) -> type[msgspec.Struct]:
    inner: Any = Any
    for depth, token in enumerate(reversed(tokens)):
        inner = msgspec.defstruct(
            f"Peek{len(tokens) - depth}",
            [("value", inner, msgspec.UNSET)],
            rename={"value": token},
        )
    return inner  # type: ignore[no-any-return]


def _pointer_tokens(pointer: str) -> tuple[str, ...]:
    if not pointer.startswith("/"):
        return (pointer,)
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/"))


def peek(data: Buffer, pointer: str, default: Any = _MISSING) -> Any:
    """Read one field of a JSON document without decoding the rest.

    ``pointer`` is a top-level key (``"id"``) or a JSON pointer through objects
    (``"/backend/id"``). The other fields are skipped by the parser, not built. A missing field
    returns ``default``, or raises :class:`NotFoundError` when no default is given.
    """
    tokens = _pointer_tokens(pointer)
    try:
        node: Any = msgspec.json.decode(data, type=_peeker(tokens))
        for _ in tokens:
            node = node.value
            if node is msgspec.UNSET:
                break
    except msgspec.ValidationError:
        node = _walk(_decode_untyped(data), tokens)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise SerializationError(f"malformed JSON: {exc}") from None
    except RecursionError:
        raise SerializationError("document nested too deeply") from None
    if node is msgspec.UNSET:
        if default is _MISSING:
            raise NotFoundError(f"the document has no {pointer!r}")
        return default
    return node


def _walk(doc: Any, tokens: tuple[str, ...]) -> Any:
    node = doc
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return msgspec.UNSET
    return node


# --- JSONL --------------------------------------------------------------------------------


def encode_jsonl(items: Iterable[IRStruct]) -> Iterator[bytes]:
    """Yield one JSON line (newline included) per item."""
    for item in items:
        yield to_json(item) + b"\n"


def write_jsonl(items: Iterable[IRStruct], file: str | os.PathLike[str] | IO[bytes]) -> int:
    """Write items as JSON lines to a path or a binary file; return how many were written."""
    if isinstance(file, (str, os.PathLike)):
        with open(file, "wb") as handle:
            return write_jsonl(items, handle)
    count = 0
    buffer = bytearray()
    for line in encode_jsonl(items):
        buffer += line
        count += 1
        if len(buffer) >= 1 << 16:
            file.write(buffer)
            buffer.clear()
    if buffer:
        file.write(buffer)
    return count


def _lines(source: Any) -> Iterator[bytes | str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield from io.BytesIO(bytes(source))
    elif isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            yield from handle
    elif hasattr(source, "read") or isinstance(source, Iterable):
        yield from source
    else:
        raise InvalidTypeError(
            f"expected bytes, a path, a file or an iterable of lines, got {type(source).__name__}"
        )


def decode_jsonl(
    source: bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes] | Iterable[bytes],
    tp: type[T],
    *,
    upgrade: bool = False,
) -> Iterator[T]:
    """Yield one ``tp`` per non-blank line of a JSONL source, streaming.

    ``source`` is the bytes themselves, a path (read line by line, so files larger than memory
    are fine), a binary file or an iterable of lines. A bad line raises
    :class:`SerializationError` or :class:`ValidationError` whose message starts with
    ``line N:`` and whose ``line`` attribute is N (1-based).
    """
    decoder = _decoder(tp)
    for number, raw in enumerate(_lines(source), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            if upgrade:
                yield from_json(line, tp, upgrade=True)
            else:
                yield decoder.decode(line)
        except (msgspec.ValidationError, ValidationError) as exc:
            if isinstance(exc, msgspec.ValidationError):
                try:
                    doc = msgspec.json.decode(line)
                except (msgspec.MsgspecError, UnicodeDecodeError, RecursionError):
                    doc = _MISSING
                error = _validation_error(exc, doc, tp)
            else:
                error = exc
            summary = f"line {number}: document does not fit {tp.__name__}"
            raise _at_line(ValidationError(error.items, summary), number) from None
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise _at_line(
                SerializationError(f"line {number}: malformed JSON: {exc}"), number
            ) from None
        except SerializationError as exc:
            raise _at_line(SerializationError(f"line {number}: {exc}"), number) from None
        except RecursionError:
            raise _at_line(
                SerializationError(f"line {number}: nested too deeply"), number
            ) from None


def _at_line(error: Exception, number: int) -> Exception:
    error.line = number  # type: ignore[attr-defined]
    return error
