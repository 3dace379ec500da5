"""``crucible ir``: validate IR documents, print a type's JSON Schema, migrate old documents.

``validate`` reads JSON documents and JSON Lines files (``.jsonl``/``.ndjson``; other names
are told apart by their content) and prints one ``path:line:pointer: message [code]`` line
per error. The document type is ``--type`` or guessed from the document's keys (the first
line of a JSON Lines file). Exit codes: 0 every document valid, 1 errors found, 2 a usage
error (an unreadable file, an unknown type).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from crucible.errors import CrucibleError
from crucible.ir import DOCUMENT_TYPES, detect_type, document_type, migrate, schema
from crucible.ir.base import Document
from crucible.ir.bulk import LineError, validate_json, validate_jsonl

app = typer.Typer(
    name="ir",
    help="IR documents: validate them, print a type's JSON Schema, migrate old ones.",
    no_args_is_help=True,
    add_completion=False,
)

_JSONL_SUFFIXES = {".jsonl", ".ndjson"}
_PROGRESS_BYTES = 32 << 20
"""Files at least this big get a progress bar."""
_SNIFF_BYTES = 64 << 20
"""Files of unknown kind up to this size are tried as one JSON document first."""

_TypeOption = Annotated[
    str | None,
    typer.Option(
        "--type",
        "-t",
        help=f"Document type ({', '.join(DOCUMENT_TYPES)}); guessed from the keys if omitted.",
    ),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    Console(stderr=True, highlight=False).print(f"[red]error:[/] {message}", markup=True)
    return typer.Exit(code)


def _type(name: str | None) -> type[Document] | None:
    if name is None:
        return None
    try:
        return document_type(name)
    except CrucibleError as exc:
        raise _fail(str(exc)) from None


def _guess(first: bytes, path: Path) -> type[Document]:
    try:
        doc = msgspec.json.decode(first)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        raise _fail(f"{path}: cannot guess the document type of malformed JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise _fail(f"{path}: cannot guess the type of a JSON {type(doc).__name__}; use --type")
    try:
        return detect_type(doc)
    except CrucibleError as exc:
        raise _fail(f"{path}: {exc}") from None


def _first_line(path: Path) -> bytes:
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                return line
    return b"{}"


def _is_jsonl(path: Path) -> bool:
    if path.suffix.lower() in _JSONL_SUFFIXES:
        return True
    if path.suffix.lower() == ".json":
        return False
    if path.stat().st_size > _SNIFF_BYTES:
        return True
    data = path.read_bytes()
    try:
        msgspec.json.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return data.strip().count(b"\n") > 0
    return False


def _validate_file(
    path: Path, tp: type[Document] | None, threads: int | None, console: Console
) -> list[LineError]:
    if _is_jsonl(path):
        tp = tp or _guess(_first_line(path), path)
        size = path.stat().st_size
        if size < _PROGRESS_BYTES or not console.is_terminal:
            return validate_jsonl(path, tp, threads=threads)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(f"validating {path.name}", total=size)
            return validate_jsonl(
                path, tp, threads=threads, progress=lambda done: bar.update(task, completed=done)
            )
    data = path.read_bytes()
    tp = tp or _guess(data, path)
    return [LineError(1, *item) for item in validate_json(data, tp)]


@app.command("validate")
def validate_command(
    files: Annotated[list[Path], typer.Argument(help="JSON or JSON Lines files.")],
    type_name: _TypeOption = None,
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, help="Threads (default: every core).")
    ] = None,
) -> None:
    """Validate IR documents: one ``path:line:pointer: message [code]`` line per error."""
    tp = _type(type_name)
    out = Console(highlight=False, soft_wrap=True, markup=False)
    err = Console(stderr=True, highlight=False)
    total = 0
    for path in files:
        if not path.is_file():
            raise _fail(f"no such file: {path}")
        try:
            found = _validate_file(path, tp, threads, err)
        except (CrucibleError, OSError) as exc:
            raise _fail(f"{path}: {exc}") from None
        for error in found:
            out.print(f"{path}:{error.line}:{error.pointer or '/'}: {error.message} [{error.code}]")
        total += len(found)
    noun = "file" if len(files) == 1 else "files"
    if total:
        err.print(f"{total} error(s) in {len(files)} {noun}", markup=False)
        raise typer.Exit(1)
    err.print(f"{len(files)} {noun} valid", markup=False)


@app.command("schema")
def schema_command(
    name: Annotated[str, typer.Argument(help=f"Document type: {', '.join(DOCUMENT_TYPES)}.")],
) -> None:
    """Print the JSON Schema of a document type."""
    tp = _type(name)
    assert tp is not None
    typer.echo(json.dumps(schema(tp), indent=2, ensure_ascii=False))


@app.command("migrate")
def migrate_command(
    file: Annotated[Path, typer.Argument(help="A JSON document of an older schema version.")],
    type_name: _TypeOption = None,
) -> None:
    """Print a document upgraded to the current schema version."""
    tp = _type(type_name)
    try:
        doc: Any = msgspec.json.decode(file.read_bytes())
    except OSError as exc:
        raise _fail(f"cannot read {file}: {os.strerror(exc.errno or 0) or exc}") from None
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        raise _fail(f"{file}: malformed JSON ({exc})") from None
    try:
        upgraded = migrate(doc, tp)
    except CrucibleError as exc:
        raise _fail(f"{file}: {exc}") from None
    typer.echo(json.dumps(upgraded, indent=2, ensure_ascii=False))
