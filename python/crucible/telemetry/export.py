"""Export experiments to CSV, JSONL or Parquet, and read the files back; archive.

Exports stream: events are read from the store in batches and written batch by batch, so an
experiment of any size (10M events and more) is never held in memory. Files are written
under a temporary name and renamed into place when complete, so a failed export leaves no
partial file.

Formats (one row per :class:`CapturedEvent`, columns in field order):

* ``jsonl``: one msgspec JSON object per line, exactly the struct (``event_name`` and
  ``tags`` as arrays). Reads back identical.
* ``csv``: a header row, then one row per event; ``event_name`` dotted, ``tags``,
  ``measurements``, ``metadata`` and ``derived`` as JSON text, ``success`` as
  ``true``/``false``, missing values as empty fields, floats in shortest round-trip form.
  CSV cannot tell an empty string from a missing value: reading back, empty optional text
  is ``None``.
* ``parquet`` (needs ``pip install 'crucible[parquet]'``, pyarrow): typed columns (strings,
  int64, float64, bool; ``tags`` as list<string>; payloads as JSON strings), one row group
  per batch. Reads back identical.
"""

from __future__ import annotations

import csv
import importlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import msgspec

from crucible.errors import ConfigurationError, InvalidArgumentError, NotFoundError
from crucible.telemetry.store.base import CapturedEvent, ExperimentRecord, Store

__all__ = ["FORMATS", "ExportFormat", "archive", "export", "format_of", "read_export"]

ExportFormat = Literal["csv", "jsonl", "parquet"]
FORMATS: tuple[str, ...] = get_args(ExportFormat)
FIELDS: tuple[str, ...] = CapturedEvent.__struct_fields__
_JSON_FIELDS = frozenset({"tags", "measurements", "metadata", "derived"})
_INT_FIELDS = frozenset({"sequence", "wall_time_us", "monotonic_ns", "tokens_in", "tokens_out"})
_FLOAT_FIELDS = frozenset({"latency_ms", "cost_usd", "weight"})
_REQUIRED_TEXT = frozenset(
    {"event_id", "experiment_id", "experiment_name", "stream_id", "node_id", "category"}
)
_SUFFIX = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}

_encode = msgspec.json.Encoder()
_decode_any = msgspec.json.Decoder().decode
_decode_event = msgspec.json.Decoder(CapturedEvent)

Progress = Callable[[int], object]
"""Called with the number of events written so far, after each batch."""


def format_of(path: str | os.PathLike[str], format: str | None = None) -> ExportFormat:
    """The export format: ``format`` if given, else from the file suffix."""
    chosen = format or _SUFFIX.get(Path(path).suffix.lower())
    if chosen not in FORMATS:
        raise InvalidArgumentError(
            f"cannot tell the export format of {os.fspath(path)!r}; pass format= one of {FORMATS}"
        )
    return chosen  # type: ignore[return-value]


def _pyarrow() -> tuple[Any, Any]:
    try:
        pa = importlib.import_module("pyarrow")
        pq = importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise ConfigurationError(
            "Parquet export needs pyarrow: pip install 'crucible[parquet]'"
        ) from None
    return pa, pq


# --- writers ----------------------------------------------------------------------------------


def _csv_cell(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if name in _JSON_FIELDS:
        return _encode.encode(value).decode()
    if name == "event_name":
        return ".".join(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value  # str, int, float (csv writes repr: shortest round-trip)


class _CsvWriter:
    def __init__(self, path: Path) -> None:
        self.file = path.open("w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.file)
        self.writer.writerow(FIELDS)

    def write(self, batch: Sequence[CapturedEvent]) -> None:
        astuple = msgspec.structs.astuple
        self.writer.writerows(
            [_csv_cell(n, v) for n, v in zip(FIELDS, astuple(e), strict=True)] for e in batch
        )

    def close(self) -> None:
        self.file.close()


class _JsonlWriter:
    def __init__(self, path: Path) -> None:
        self.file = path.open("wb")

    def write(self, batch: Sequence[CapturedEvent]) -> None:
        self.file.write(_encode.encode_lines(batch))

    def close(self) -> None:
        self.file.close()


def _arrow_schema(pa: Any) -> Any:
    types: dict[str, Any] = {}
    for name in FIELDS:
        if name == "tags":
            types[name] = pa.list_(pa.string())
        elif name in _INT_FIELDS:
            types[name] = pa.int64()
        elif name in _FLOAT_FIELDS:
            types[name] = pa.float64()
        elif name == "success":
            types[name] = pa.bool_()
        else:
            types[name] = pa.string()
    return pa.schema([pa.field(n, t, nullable=True) for n, t in types.items()])


class _ParquetWriter:
    def __init__(self, path: Path) -> None:
        self.pa, pq = _pyarrow()
        self.schema = _arrow_schema(self.pa)
        self.writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")

    def write(self, batch: Sequence[CapturedEvent]) -> None:
        columns: list[list[Any]] = [
            list(c) for c in zip(*map(msgspec.structs.astuple, batch), strict=True)
        ]
        for i, name in enumerate(FIELDS):
            if name == "event_name":
                columns[i] = [".".join(v) for v in columns[i]]
            elif name == "tags":
                columns[i] = [list(v) for v in columns[i]]
            elif name in _JSON_FIELDS:
                columns[i] = [_encode.encode(v).decode() for v in columns[i]]
        arrays = [
            self.pa.array(col, type=field.type)
            for col, field in zip(columns, self.schema, strict=True)
        ]
        self.writer.write_table(self.pa.Table.from_arrays(arrays, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


_WRITERS: dict[str, Callable[[Path], _CsvWriter | _JsonlWriter | _ParquetWriter]] = {
    "csv": _CsvWriter,
    "jsonl": _JsonlWriter,
    "parquet": _ParquetWriter,
}


def _experiment_id(store: Store, experiment: str) -> str:
    try:
        return store.experiment(experiment).experiment_id
    except NotFoundError:
        if store.count(experiment_id=experiment) > 0:
            return experiment  # events without a record
        raise


def export(
    store: Store,
    experiment: str,
    path: str | os.PathLike[str],
    *,
    format: ExportFormat | None = None,
    event_name: Sequence[str] | None = None,
    event_prefix: Sequence[str] | None = None,
    since_us: int | None = None,
    until_us: int | None = None,
    batch_size: int = 50_000,
    progress: Progress | None = None,
) -> int:
    """Write an experiment's events (id or name; optional filters) to ``path``; returns the
    number of events written. The format comes from ``format`` or the suffix."""
    fmt = format_of(path, format)
    target = Path(path)
    exp_id = _experiment_id(store, experiment)
    if fmt == "parquet":
        _pyarrow()  # fail before creating anything
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    writer = _WRITERS[fmt](tmp)
    written = 0
    try:
        for batch in store.query(
            experiment_id=exp_id,
            event_name=event_name,
            event_prefix=event_prefix,
            since_us=since_us,
            until_us=until_us,
            batch_size=batch_size,
        ):
            writer.write(batch)
            written += len(batch)
            if progress is not None:
                progress(written)
        writer.close()
        os.replace(tmp, target)
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    return written


# --- readers ----------------------------------------------------------------------------------


def _csv_value(name: str, text: str) -> Any:
    if name in _JSON_FIELDS:
        value = _decode_any(text)
        return tuple(value) if name == "tags" else value
    if name == "event_name":
        return tuple(text.split(".")) if text else ()
    if text == "":
        return "" if name in _REQUIRED_TEXT else None
    if name in _INT_FIELDS:
        return int(text)
    if name in _FLOAT_FIELDS:
        return float(text)
    if name == "success":
        if text not in ("true", "false"):
            raise InvalidArgumentError(f"success must be true or false, got {text!r}")
        return text == "true"
    return text


def _read_csv(path: Path, batch_size: int) -> Iterator[list[CapturedEvent]]:
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        header = next(reader, None)
        if header is None or tuple(header) != FIELDS:
            raise InvalidArgumentError(f"{path} is not a crucible telemetry CSV export")
        batch: list[CapturedEvent] = []
        for line, row in enumerate(reader, start=2):
            if len(row) != len(FIELDS):
                raise InvalidArgumentError(f"{path}:{line}: expected {len(FIELDS)} fields")
            try:
                values = {n: _csv_value(n, t) for n, t in zip(FIELDS, row, strict=True)}
                batch.append(msgspec.convert(values, CapturedEvent))
            except (ValueError, msgspec.ValidationError) as exc:
                raise InvalidArgumentError(f"{path}:{line}: {exc}") from exc
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch


def _read_jsonl(path: Path, batch_size: int) -> Iterator[list[CapturedEvent]]:
    with path.open("rb") as file:
        lines: list[bytes] = []
        for line in file:
            lines.append(line)
            if len(lines) >= batch_size:
                yield _decode_lines(path, lines)
                lines = []
        if lines:
            yield _decode_lines(path, lines)


def _decode_lines(path: Path, lines: list[bytes]) -> list[CapturedEvent]:
    try:
        return _decode_event.decode_lines(b"".join(lines))
    except msgspec.DecodeError as exc:
        raise InvalidArgumentError(f"{path}: {exc}") from exc


def _read_parquet(path: Path, batch_size: int) -> Iterator[list[CapturedEvent]]:
    _, pq = _pyarrow()
    parquet = pq.ParquetFile(str(path))
    if tuple(parquet.schema_arrow.names) != FIELDS:
        raise InvalidArgumentError(f"{path} is not a crucible telemetry Parquet export")
    for record_batch in parquet.iter_batches(batch_size=batch_size):
        columns = [record_batch.column(i).to_pylist() for i in range(len(FIELDS))]
        batch = []
        for row in zip(*columns, strict=True):
            values = dict(zip(FIELDS, row, strict=True))
            values["event_name"] = tuple(values["event_name"].split("."))
            values["tags"] = tuple(values["tags"])
            for name in ("measurements", "metadata", "derived"):
                values[name] = _decode_any(values[name])
            batch.append(CapturedEvent(**values))
        yield batch


def read_export(
    path: str | os.PathLike[str],
    *,
    format: ExportFormat | None = None,
    batch_size: int = 50_000,
) -> Iterator[list[CapturedEvent]]:
    """Read an export back, in batches (streaming, like :func:`export`)."""
    fmt = format_of(path, format)
    source = Path(path)
    if fmt == "csv":
        return _read_csv(source, batch_size)
    if fmt == "jsonl":
        return _read_jsonl(source, batch_size)
    return _read_parquet(source, batch_size)


# --- archive ----------------------------------------------------------------------------------


def _copy(source: Store, exp_id: str, record: ExperimentRecord, target: Store) -> None:
    target.save_experiment(record)
    for batch in source.query(experiment_id=exp_id, batch_size=50_000):
        target.append(batch)
    target.flush()


def archive(
    store: Store,
    experiment: str,
    *,
    to: str | os.PathLike[str] | Store,
    format: ExportFormat | None = None,
) -> ExperimentRecord:
    """Copy a stopped experiment out of ``store`` and mark it archived there.

    ``to``: a file path (exported in ``format`` or by suffix; default JSONL for a path
    without a known suffix), ``"postgres"`` or a ``postgresql://`` DSN (the PostgreSQL
    store; ``"postgres"`` reads ``CRUCIBLE_POSTGRES_DSN``), or any :class:`Store`. The
    record in ``store`` gets ``status="archived"`` and ``archive_path``; the events stay
    (delete the source file or database yourself when the copy is verified)."""
    record = store.experiment(experiment)
    if record.status == "running":
        raise InvalidArgumentError(f"experiment {record.name!r} is running; stop it first")
    done = msgspec.structs.replace(record, status="archived")
    if isinstance(to, str) and (
        to == "postgres" or to.startswith(("postgres://", "postgresql://"))
    ):
        from crucible.telemetry.store.postgres import PostgresStore

        target = PostgresStore(None if to == "postgres" else to)
        try:
            _copy(store, record.experiment_id, done, target)
        finally:
            target.close()
        where = "postgres" if to == "postgres" else _redact(to)
    elif isinstance(to, (str, os.PathLike)):
        path = Path(to)
        fmt = format or _SUFFIX.get(path.suffix.lower(), "jsonl")
        export(store, record.experiment_id, path, format=fmt)  # type: ignore[arg-type]
        where = str(path.resolve())
    else:
        _copy(store, record.experiment_id, done, to)
        where = repr(to)
    done = msgspec.structs.replace(done, archive_path=where)
    store.save_experiment(done)
    return done


def _redact(dsn: str) -> str:
    """A DSN without its password."""
    head, sep, tail = dsn.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return dsn
    scheme, _, auth = head.partition("//")
    user = auth.split(":", 1)[0]
    return f"{scheme}//{user}:***@{tail}"
