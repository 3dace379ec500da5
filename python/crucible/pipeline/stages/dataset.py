"""The ``dataset`` stage: one data set, read once, split train/val/test for every later
stage.

The source is ``options.source`` (``"bundled:NAME"`` or a ``.jsonl``/``.parquet`` path,
relative to the working directory), else the experiment's ``dataset`` (provider
``crucible_datasets``: a bundled set by name; ``local``: ``options.path``). Records are kept
as they are (extra fields such as group attributes survive for fairness checks), each must
be a conversation or a prompt/completion pair, and each gets an ``id`` (its position in the
source) when it has none.

The split is a permutation drawn from the stage's seed: the same run seed gives the same
split, and it does not depend on any other stage. Outputs::

    {"source": "bundled:conversations",
     "splits": {"train": "stages/data/train.jsonl", "val": ..., "test": ...},
     "counts": {"train": 512, "val": 64, "test": 64}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar

import msgspec

from crucible.errors import ConfigurationError, CrucibleError, ErrorItem, SerializationError
from crucible.ir.enums import DatasetProvider
from crucible.pipeline.stage import StageContext, StageResult
from crucible.prng import default_rng
from crucible.train.data import bundled_path
from crucible.train.datasets import example_from_record

__all__ = ["SPLITS", "DatasetStage", "read_records", "resolve_source", "split_files"]

SPLITS = ("train", "val", "test")
Fraction = Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)]


class DatasetOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    source: str | None = None
    limit: Annotated[int, msgspec.Meta(ge=1)] | None = None
    val_fraction: Fraction = 0.1
    test_fraction: Fraction = 0.1


def resolve_source(options_source: str | None, ctx: StageContext) -> tuple[str, str]:
    """``(source, pointer)``: the data set to read, and where the experiment names it."""
    if options_source is not None:
        return options_source, f"{ctx.pointer}/options/source"
    ref = ctx.experiment.dataset
    if ref is None:
        raise ConfigurationError(
            "no data set: give the stage's options.source or the experiment's [dataset]"
        )
    if ref.provider == DatasetProvider.CRUCIBLE_DATASETS:
        return f"bundled:{ref.name}", "/dataset/name"
    if ref.provider == DatasetProvider.LOCAL:
        path = (ref.options or {}).get("path")
        if not isinstance(path, str):
            raise ConfigurationError(
                "a local dataset needs options.path (a .jsonl or .parquet file)"
            )
        return path, "/dataset/options/path"
    raise ConfigurationError(
        f"the dataset stage reads bundled and local data sets, not provider "
        f"{ref.provider.value!r}; export it to JSONL and use provider 'local'"
    )


def _source_path(source: str) -> Path:
    if source.startswith("bundled:"):
        return bundled_path(source.removeprefix("bundled:"))
    path = Path(source)
    if path.suffix not in (".jsonl", ".parquet"):
        raise ConfigurationError(f"data set {source!r}: expected a .jsonl or .parquet file")
    if not path.is_file():
        raise ConfigurationError(f"no data set file at {path.resolve()}")
    return path


def read_records(source: str) -> list[dict[str, Any]]:
    """The records of ``source``, each checked to be a usable example."""
    path = _source_path(source)
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq  # type: ignore[import-untyped]
        except ImportError:
            raise ConfigurationError(
                "reading Parquet needs pyarrow: pip install 'crucible[parquet]'"
            ) from None
        rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
        places = [f"{path}#row{i}" for i in range(len(rows))]
    else:
        rows, places = [], []
        with path.open("rb") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = msgspec.json.decode(line)
                except msgspec.DecodeError as exc:
                    raise SerializationError(f"{path}:{number}: {exc}") from None
                if not isinstance(row, dict):
                    raise SerializationError(f"{path}:{number}: expected a JSON object")
                rows.append(row)
                places.append(f"{path}:{number}")
    for row, where in zip(rows, places, strict=True):
        example_from_record(row, where)
    return rows


def _sizes(n: int, val: float, test: float) -> tuple[int, int, int]:
    n_test, n_val = round(n * test), round(n * val)
    if n_test + n_val >= n:
        raise ConfigurationError(
            f"{n} examples leave none for training with val_fraction={val}, test_fraction={test}"
        )
    return n - n_val - n_test, n_val, n_test


class DatasetStage:
    """Reads, identifies and splits a data set (see the module docstring)."""

    name: ClassVar[str] = "dataset"
    Options: ClassVar[type[msgspec.Struct]] = DatasetOptions

    def __init__(self, options: DatasetOptions) -> None:
        self.options = options
        if options.val_fraction + options.test_fraction >= 1.0:
            raise ConfigurationError("val_fraction + test_fraction must be below 1")

    def check(self, ctx: StageContext) -> list[ErrorItem]:
        try:
            source, pointer = resolve_source(self.options.source, ctx)
        except ConfigurationError as exc:
            return [ErrorItem(f"{ctx.pointer}/options/source", "dataset.source", str(exc))]
        try:
            _source_path(source)
        except CrucibleError as exc:
            return [ErrorItem(pointer, "dataset.source", str(exc))]
        return []

    def run(self, ctx: StageContext) -> StageResult:
        source, _ = resolve_source(self.options.source, ctx)
        records = read_records(source)
        order = default_rng(ctx.seed).permutation(len(records)).tolist()
        if self.options.limit is not None:
            order = order[: self.options.limit]
        n_train, n_val, _ = _sizes(
            len(order), self.options.val_fraction, self.options.test_fraction
        )
        parts = {
            "train": sorted(order[:n_train]),
            "val": sorted(order[n_train : n_train + n_val]),
            "test": sorted(order[n_train + n_val :]),
        }
        stem = Path(source.removeprefix("bundled:")).stem
        splits: dict[str, str] = {}
        for split, indices in parts.items():
            path = ctx.stage_dir / f"{split}.jsonl"
            with path.open("wb") as f:
                for i in indices:
                    record = {"id": f"{stem}-{i}", **records[i]}
                    f.write(msgspec.json.encode(record) + b"\n")
            splits[split] = path.relative_to(ctx.run_dir).as_posix()
            ctx.report_progress(len(splits), len(SPLITS))
        counts = {split: len(indices) for split, indices in parts.items()}
        ctx.tracer.record(
            "pattern_applied",
            f"split {len(order)} examples of {source} into "
            f"{counts['train']}/{counts['val']}/{counts['test']}",
            "a seeded permutation, so the split is the same for the same run seed",
            metadata={"source": source, "counts": counts, "total": len(records)},
        )
        metrics = {"examples/total": float(len(order))}
        metrics.update({f"examples/{k}": float(v) for k, v in counts.items()})
        return StageResult(
            metrics=metrics,
            outputs={"source": source, "splits": splits, "counts": counts},
            files=sorted(splits.values()),
        )


def split_files(ctx: StageContext, name: str | None) -> dict[str, Path] | None:
    """The split files (absolute, in train/val/test order) of the earlier stage ``name``
    if it made any: how later stages read a ``dataset`` stage's output."""
    result = ctx.results.get(name) if name is not None else None
    splits = result.outputs.get("splits") if result is not None else None
    if not isinstance(splits, dict):
        return None
    return {k: ctx.run_dir / v for k, v in splits.items() if isinstance(v, str)}
