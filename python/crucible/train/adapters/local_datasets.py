"""A :class:`~crucible.train.ports.DatasetStore` over local JSONL and Parquet files.

Each line (or row) is a conversation (``{"messages": [...]}``) or a prompt/completion pair.
Parquet needs ``pyarrow`` (the ``parquet`` extra), imported when a Parquet file is read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from crucible.errors import ConfigurationError, NotFoundError
from crucible.train.datasets.examples import Example, example_from_record
from crucible.train.datasets.jsonl import jsonl_records
from crucible.train.datasets.order import epoch_order, split_indices

__all__ = ["LocalDatasetStore", "read_examples"]

_SUFFIXES = (".jsonl", ".parquet")


def _read_jsonl(path: Path) -> list[Example]:
    return [example_from_record(record, where) for record, where in jsonl_records(path)]


def _read_parquet(path: Path) -> list[Example]:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - depends on the environment
        raise ConfigurationError(
            "reading Parquet needs pyarrow: pip install 'crucible[parquet]'"
        ) from None
    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return [example_from_record(row, f"{path}#row{i}") for i, row in enumerate(rows)]


def read_examples(path: str | Path) -> list[Example]:
    """Every example in a ``.jsonl`` or ``.parquet`` file."""
    p = Path(path)
    if not p.is_file():
        raise NotFoundError(f"no data set file at {p}")
    if p.suffix == ".parquet":
        return _read_parquet(p)
    return _read_jsonl(p)


class LocalDatasetStore:
    """Data sets named by file stem: a directory of ``.jsonl``/``.parquet`` files, or an
    explicit ``{name: path}`` mapping. Files are read once and cached."""

    def __init__(self, source: str | Path | Mapping[str, str | Path]) -> None:
        if isinstance(source, Mapping):
            self._paths = {name: Path(p) for name, p in source.items()}
        else:
            root = Path(source)
            if not root.is_dir():
                raise NotFoundError(f"no data set directory at {root}")
            self._paths = {
                p.stem: p for p in sorted(root.iterdir()) if p.suffix in _SUFFIXES and p.is_file()
            }
        self._cache: dict[str, list[Example]] = {}

    def list_datasets(self) -> list[str]:
        return sorted(self._paths)

    def load(self, name: str) -> list[Example]:
        if name not in self._cache:
            if name not in self._paths:
                raise NotFoundError(f"no data set {name!r}; have {self.list_datasets()}")
            self._cache[name] = read_examples(self._paths[name])
        return list(self._cache[name])

    def count(self, name: str) -> int:
        return len(self.load(name))

    def get(self, name: str, index: int) -> Example:
        examples = self.load(name)
        if not -len(examples) <= index < len(examples):
            raise NotFoundError(f"data set {name!r} has no example {index}")
        return examples[index]

    def iter(self, name: str) -> Iterator[Example]:
        return iter(self.load(name))

    def split(
        self, name: str, val_fraction: float, seed: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        return split_indices(self.count(name), val_fraction, seed)

    def epoch_order(self, n: int, epoch: int, seed: int) -> Sequence[int]:
        return [int(i) for i in epoch_order(n, epoch, seed)]
